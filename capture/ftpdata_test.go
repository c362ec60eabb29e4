package capture

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/types"
)

// timed is a packet and its time from the start of the capture.
type timed struct {
	at   time.Duration
	data []byte
}

// writeFTPCapture writes the packets to a pcap file, in order.
func writeFTPCapture(t *testing.T, pkts []timed) string {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1700000000, 0)
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(p.at), CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "ftp.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// every spaces packets a millisecond apart from at.
func every(at time.Duration, pkts ...[]byte) []timed {
	out := make([]timed, len(pkts))
	for i, p := range pkts {
		out[i] = timed{at + time.Duration(i)*time.Millisecond, p}
	}
	return out
}

// connectionsAcrossWorkers runs the capture at 1, 2, 3 and 8 workers and
// fails unless the Connection records are the same at every count and the
// connection of each of ports is one record. It returns the records of 1
// worker.
func connectionsAcrossWorkers(t *testing.T, path string, opts decoder.Options, ports ...[2]int32) []*types.Connection {
	t.Helper()
	var want []proto.Message
	for _, workers := range []int{1, 2, 3, 8} {
		dir, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: workers, Options: opts}})
		got := readRecords(t, dir)["Connection"]
		for _, p := range ports {
			n := 0
			for _, m := range got {
				c := m.(*types.Connection)
				if c.SrcPort == p[0] && c.DstPort == p[1] || c.SrcPort == p[1] && c.DstPort == p[0] {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d workers: connection %d-%d is %d Connection records, want 1", workers, p[0], p[1], n)
			}
		}
		if workers == 1 {
			want = got
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%d workers: %d Connection records, 1 worker: %d", workers, len(got), len(want))
			continue
		}
		for i := range want {
			if !proto.Equal(got[i], want[i]) {
				t.Errorf("%d workers: Connection %d differs:\n%v\n1 worker:\n%v", workers, i, got[i], want[i])
			}
		}
	}
	out := make([]*types.Connection, len(want))
	for i, m := range want {
		out[i] = m.(*types.Connection)
	}
	return out
}

func findConn(conns []*types.Connection, a, b int32) *types.Connection {
	for _, c := range conns {
		if c.SrcPort == a && c.DstPort == b || c.SrcPort == b && c.DstPort == a {
			return c
		}
	}
	return nil
}

// TestFTPAnnouncementMidStream: a PASV reply announcing the port of a
// connection that is already running between the same hosts must not move
// the rest of that connection to the control's worker: the connection
// stays one record, whatever the number of workers, and is not a data
// connection (it began before the announcement).
func TestFTPAnnouncementMidStream(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	var pkts [][]byte
	pkts = append(pkts, ctl.Open()...)
	pkts = append(pkts, ctl.Send(false, "220 FTP ready\r\n"))
	// Eight connections to server ports, each announced in the middle.
	var ports [][2]int32
	for i := 0; i < 8; i++ {
		port := uint16(50000 + i*7)
		x := testutil.NewTCPConn(t, cli, srv, uint16(41000+i), port)
		pkts = append(pkts, x.Open()...)
		pkts = append(pkts, x.Send(true, "hello\r\n"), x.Send(false, "hi\r\n"))
		pkts = append(pkts, ctl.Send(true, "PASV\r\n"), ctl.Send(false, fmt.Sprintf("227 Entering Passive Mode (10,0,0,2,%d,%d).\r\n", port/256, port%256)))
		pkts = append(pkts, x.Send(true, "more\r\n"), x.Send(false, "more\r\n"))
		pkts = append(pkts, x.Close(true)...)
		ports = append(ports, [2]int32{int32(41000 + i), int32(port)})
	}
	pkts = append(pkts, ctl.Close(true)...)
	conns := connectionsAcrossWorkers(t, writeFTPCapture(t, every(0, pkts...)), decoder.Options{}, ports...)
	for _, p := range ports {
		if c := findConn(conns, p[0], p[1]); c != nil && (c.Parent != "" || c.ApplicationProto == "FTP-DATA") {
			t.Errorf("connection %v, begun before the announcement, tied: parent %q application %q", p, c.Parent, c.ApplicationProto)
		}
	}
}

// TestFTPDataReannounced: the server announces the port of a data
// connection again (a narrow passive range) before the last packets of
// that connection: they stay with it, and the next data connection to the
// port is tied.
func TestFTPDataReannounced(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"))
	var ports [][2]int32
	pasv := func() [][]byte {
		return [][]byte{ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,80).\r\n")}
	}
	pkts = append(pkts, pasv()...)
	for i := 0; i < 6; i++ {
		d := testutil.NewTCPConn(t, cli, srv, uint16(41000+i), 50000)
		pkts = append(pkts, d.Open()...)
		pkts = append(pkts, ctl.Send(true, fmt.Sprintf("RETR f%d\r\n", i)), d.Send(false, strings.Repeat("x", 100)))
		fin := d.Close(false)
		pkts = append(pkts, fin[0], fin[1])
		// The next PASV is answered, with the same port, before the data
		// connection's last ACK.
		pkts = append(pkts, pasv()...)
		pkts = append(pkts, fin[2], ctl.Send(false, "226 Transfer complete.\r\n"))
		ports = append(ports, [2]int32{int32(41000 + i), 50000})
	}
	pkts = append(pkts, ctl.Close(true)...)
	conns := connectionsAcrossWorkers(t, writeFTPCapture(t, every(0, pkts...)), decoder.Options{}, ports...)
	control := findConn(conns, 40000, 21)
	for _, p := range ports {
		if c := findConn(conns, p[0], p[1]); c != nil && (control == nil || c.Parent != control.UID) {
			t.Errorf("data connection %v not tied: parent %q", p, c.Parent)
		}
	}
}

// TestFTPDataKeptAtBound: announcements beyond the table's bound (a flood
// of EPSV replies) while data connections run never drop a running one,
// which would send the rest of it to another worker: every data connection
// stays one record, tied, at any number of workers.
func TestFTPDataKeptAtBound(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"))
	var flood strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&flood, "229 Entering Extended Passive Mode (|||%d|)\r\n", 60000+i)
	}
	var ports [][2]int32
	for i := 0; i < 6; i++ {
		port := uint16(50000 + i*7)
		d := testutil.NewTCPConn(t, cli, srv, uint16(41000+i), port)
		pkts = append(pkts, ctl.Send(true, "PASV\r\n"), ctl.Send(false, fmt.Sprintf("227 Entering Passive Mode (10,0,0,2,%d,%d).\r\n", port/256, port%256)))
		pkts = append(pkts, d.Open()...)
		pkts = append(pkts, ctl.Send(true, fmt.Sprintf("RETR f%d\r\n", i)), d.Send(false, strings.Repeat("x", 100)))
		pkts = append(pkts, ctl.Send(true, "EPSV\r\n"), ctl.Send(false, flood.String()))
		pkts = append(pkts, d.Send(false, strings.Repeat("y", 100)))
		pkts = append(pkts, d.Close(false)...)
		ports = append(ports, [2]int32{int32(41000 + i), int32(port)})
	}
	pkts = append(pkts, ctl.Close(true)...)
	opts := decoder.DefaultOptions()
	opts.MaxExpected = 4
	conns := connectionsAcrossWorkers(t, writeFTPCapture(t, every(0, pkts...)), opts, ports...)
	control := findConn(conns, 40000, 21)
	for _, p := range ports {
		if c := findConn(conns, p[0], p[1]); c != nil && (control == nil || c.Parent != control.UID) {
			t.Errorf("data connection %v not tied: parent %q", p, c.Parent)
		}
	}
}

// TestFTPDataPause: a data connection that pauses for a little longer than
// the connection timeout gives the same records at any number of workers
// (the connection table ends idle connections at its next sweep, up to a
// second later; the reader must not route the rest elsewhere before).
// Each pauses 10 s and 125 ms more than the one before, with the control
// busy meanwhile.
func TestFTPDataPause(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	var pkts []timed
	at := time.Duration(0)
	add := func(p ...[]byte) {
		for _, b := range p {
			pkts = append(pkts, timed{at, b})
			at += time.Millisecond
		}
	}
	add(ctl.Open()...)
	add(ctl.Send(false, "220 FTP ready\r\n"))
	for i := 0; i < 8; i++ {
		port := uint16(50000 + i*7)
		d := testutil.NewTCPConn(t, cli, srv, uint16(41000+i), port)
		add(ctl.Send(true, "PASV\r\n"), ctl.Send(false, fmt.Sprintf("227 Entering Passive Mode (10,0,0,2,%d,%d).\r\n", port/256, port%256)))
		add(d.Open()...)
		add(ctl.Send(true, fmt.Sprintf("RETR f%d\r\n", i)), d.Send(false, strings.Repeat("x", 100)))
		// The control's packets during the pause move the clock, so the
		// table's sweeps fall anywhere in it.
		end := at + 10*time.Second + time.Duration(i)*125*time.Millisecond
		for at+370*time.Millisecond < end {
			at += 370 * time.Millisecond
			add(ctl.Send(true, "NOOP\r\n"))
		}
		at = end
		add(d.Send(false, strings.Repeat("y", 100)))
		add(d.Close(false)...)
	}
	add(ctl.Close(true)...)
	opts := decoder.DefaultOptions()
	opts.ConnTimeout = 10 * time.Second
	connectionsAcrossWorkers(t, writeFTPCapture(t, pkts), opts)
}
