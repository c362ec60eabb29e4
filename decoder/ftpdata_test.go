package decoder

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netcap/netcap/internal/flowhash"
	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/types"
)

// ftpRun decodes the packets with a decoder used on its own (its own
// Expectations) and returns the Connection, FTP and File records.
func ftpRun(t *testing.T, pkts [][]byte) (conns []*types.Connection, ftps []*types.FTP, files []*types.File) {
	t.Helper()
	opts := DefaultOptions()
	opts.Files = &FileStore{MaxSize: 1 << 20}
	d := NewPacketDecoder(func(tt types.Type) bool {
		return tt == types.Type_NC_Connection || tt == types.Type_NC_FTP || tt == types.Type_NC_File
	}, opts)
	s := &recordSink{}
	decodeFrames(t, d, pkts, s)
	// Every connection ended: no data connection's link is left behind.
	if n := len(d.conns.links); n != 0 {
		t.Errorf("%d data connection links held after every connection ended", n)
	}
	for _, m := range s.recs {
		switch r := m.(type) {
		case *types.Connection:
			conns = append(conns, r)
		case *types.FTP:
			ftps = append(ftps, r)
		case *types.File:
			files = append(files, r)
		}
	}
	return conns, ftps, files
}

func connByPorts(conns []*types.Connection, a, b int32) *types.Connection {
	for _, c := range conns {
		if c.SrcPort == a && c.DstPort == b || c.SrcPort == b && c.DstPort == a {
			return c
		}
	}
	return nil
}

// TestFTPDataTied: passive and active transfers, as a client and a server
// send them, tie each data connection to its control, name its file and
// hash its content; a listing is no file; holes, a RST and a missing FIN
// make a file incomplete, with the reason.
func TestFTPDataTied(t *testing.T) {
	content := strings.Repeat("netcap ftp data\n", 300)
	const cli, srv = "10.0.0.1", "10.0.0.2"
	type want struct {
		name, reason string
		complete     bool
	}
	for _, c := range []struct {
		name  string
		build func(t *testing.T, ctl *testutil.TCPConn) [][]byte
		port  [2]int32 // the data connection's ports
		want  *want    // nil: no File record
	}{
		{"passive RETR", func(t *testing.T, ctl *testutil.TCPConn) [][]byte {
			d := testutil.NewTCPConn(t, cli, srv, 40001, 50000)
			p := [][]byte{ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,80).\r\n")}
			p = append(p, d.Open()...)
			p = append(p, ctl.Send(true, "RETR pub/report.txt\r\n"), ctl.Send(false, "150 Opening BINARY mode data connection (4800 bytes).\r\n"))
			p = append(p, d.Send(false, content[:2000]), d.Send(false, content[2000:]))
			p = append(p, d.Close(false)...)
			return append(p, ctl.Send(false, "226 Transfer complete.\r\n"))
		}, [2]int32{40001, 50000}, &want{name: "pub/report.txt", complete: true}},
		{"active STOR", func(t *testing.T, ctl *testutil.TCPConn) [][]byte {
			d := testutil.NewTCPConn(t, srv, cli, 20, 50001) // the server connects
			p := [][]byte{ctl.Send(true, "EPRT |1|10.0.0.1|50001|\r\n"), ctl.Send(false, "200 EPRT command successful.\r\n"),
				ctl.Send(true, "STOR up.bin\r\n"), ctl.Send(false, "150 Ok to send data.\r\n")}
			p = append(p, d.Open()...)
			p = append(p, d.Send(false, content))
			p = append(p, d.Close(false)...)
			return append(p, ctl.Send(false, "226 Transfer complete.\r\n"))
		}, [2]int32{20, 50001}, &want{name: "up.bin", complete: true}},
		{"listing", func(t *testing.T, ctl *testutil.TCPConn) [][]byte {
			d := testutil.NewTCPConn(t, cli, srv, 40002, 50002)
			p := [][]byte{ctl.Send(true, "EPSV\r\n"), ctl.Send(false, "229 Entering Extended Passive Mode (|||50002|)\r\n")}
			p = append(p, d.Open()...)
			p = append(p, ctl.Send(true, "LIST\r\n"), d.Send(false, "-rw-r--r-- 1 ftp ftp 4800 Jan 1 report.txt\r\n"))
			return append(p, d.Close(false)...)
		}, [2]int32{40002, 50002}, nil},
		{"hole", func(t *testing.T, ctl *testutil.TCPConn) [][]byte {
			d := testutil.NewTCPConn(t, cli, srv, 40003, 50003)
			p := [][]byte{ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,83).\r\n")}
			p = append(p, d.Open()...)
			p = append(p, ctl.Send(true, "RETR a.txt\r\n"), d.Send(false, content[:100]))
			d.Send(false, content[100:200]) // not captured
			p = append(p, d.Send(false, content[200:]))
			return append(p, d.Close(false)...)
		}, [2]int32{40003, 50003}, &want{name: "a.txt", reason: "100 bytes not captured after byte 100 of the transfer"}},
		{"reset", func(t *testing.T, ctl *testutil.TCPConn) [][]byte {
			d := testutil.NewTCPConn(t, cli, srv, 40004, 50004)
			p := [][]byte{ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,84).\r\n")}
			p = append(p, d.Open()...)
			p = append(p, ctl.Send(true, "RETR b.txt\r\n"), d.Send(false, content[:100]), d.Packet(true, "RA", nil))
			return p
		}, [2]int32{40004, 50004}, &want{name: "b.txt", reason: "the data connection ended without the sender's FIN"}},
		{"cut capture", func(t *testing.T, ctl *testutil.TCPConn) [][]byte {
			d := testutil.NewTCPConn(t, cli, srv, 40005, 50005)
			p := [][]byte{ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,85).\r\n")}
			p = append(p, d.Open()...)
			return append(p, ctl.Send(true, "RETR c.txt\r\n"), d.Send(false, content[:100]))
		}, [2]int32{40005, 50005}, &want{name: "c.txt", reason: "the data connection ended without the sender's FIN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
			pkts := append(ctl.Open(), ctl.Send(false, "220 (vsFTPd 3.0.3)\r\n"))
			pkts = append(pkts, c.build(t, ctl)...)
			pkts = append(pkts, ctl.Close(true)...)
			conns, ftps, files := ftpRun(t, pkts)
			control, data := connByPorts(conns, 40000, 21), connByPorts(conns, c.port[0], c.port[1])
			if control == nil || data == nil || len(ftps) != 1 {
				t.Fatalf("control %v, data %v, %d FTP records", control, data, len(ftps))
			}
			if data.ApplicationProto != "FTP-DATA" || data.Parent != control.UID || control.Parent != "" || control.ApplicationProto != "FTP" {
				t.Errorf("data connection %q parent %q, control %q parent %q (UID %s)", data.ApplicationProto, data.Parent, control.ApplicationProto, control.Parent, control.UID)
			}
			if tr := ftps[0].Transfers; len(tr) != 1 || tr[0].DataFlowID != data.UID {
				t.Errorf("transfers %v, want one with DataFlowID %s", tr, data.UID)
			}
			if c.want == nil {
				if len(files) != 0 {
					t.Errorf("a listing made File records: %v", files)
				}
				return
			}
			if len(files) != 1 {
				t.Fatalf("%d File records, want 1", len(files))
			}
			f := files[0]
			if f.Name != c.want.name || f.Source != "FTP" || f.FlowID != data.UID || f.Complete != c.want.complete || f.Reason != c.want.reason {
				t.Errorf("file %q %s flow %s complete %v reason %q, want %q FTP %s %v %q", f.Name, f.Source, f.FlowID, f.Complete, f.Reason, c.want.name, data.UID, c.want.complete, c.want.reason)
			}
			if c.want.complete && (f.SHA256 != sha256Hex([]byte(content)) || f.Length != int64(len(content))) {
				t.Errorf("file %d bytes %s, sent %d bytes %s", f.Length, f.SHA256, len(content), sha256Hex([]byte(content)))
			}
			if f.SrcPort != data.DstPort && f.SrcPort != data.SrcPort || f.SrcIP != srv && c.name != "active STOR" {
				t.Errorf("file sent by %s:%d", f.SrcIP, f.SrcPort)
			}
		})
	}
}

// TestFTPDataHostile: announcements a peer controls must not tie what they
// do not name: the control connection's own port, a second connection to
// an announced port, an announcement on another port than 21.
func TestFTPDataHostile(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	d1 := testutil.NewTCPConn(t, cli, srv, 40001, 50000)
	d2 := testutil.NewTCPConn(t, cli, srv, 40002, 50000) // the same announced port
	other := testutil.NewTCPConn(t, cli, srv, 40003, 2121)
	d3 := testutil.NewTCPConn(t, cli, srv, 40004, 50009)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"),
		ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,0,21).\r\n"), // the control's own port
		ctl.Send(true, "NOOP\r\n"), ctl.Send(false, "200 NOOP ok.\r\n"),
		ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,80).\r\n"))
	pkts = append(pkts, d1.Open()...)
	pkts = append(pkts, d2.Open()...)
	pkts = append(pkts, other.Open()...)
	pkts = append(pkts, other.Send(false, "227 Entering Passive Mode (10,0,0,2,195,89).\r\n"))
	pkts = append(pkts, d3.Open()...)
	conns, _, _ := ftpRun(t, pkts)
	for _, c := range []struct {
		ports  [2]int32
		parent bool
	}{{[2]int32{40000, 21}, false}, {[2]int32{40001, 50000}, true}, {[2]int32{40002, 50000}, false}, {[2]int32{40003, 2121}, false}, {[2]int32{40004, 50009}, false}} {
		cn := connByPorts(conns, c.ports[0], c.ports[1])
		if cn == nil {
			t.Fatalf("no connection %v", c.ports)
		}
		if (cn.Parent != "") != c.parent || (cn.ApplicationProto == "FTP-DATA") != c.parent {
			t.Errorf("connection %v: parent %q application %q, want tied %v", c.ports, cn.Parent, cn.ApplicationProto, c.parent)
		}
	}
}

// TestFTPDataIPv6: over IPv6, an EPSV reply (passive) and an EPRT command
// naming an IPv6 address (active) each tie their data connection and name
// its file.
func TestFTPDataIPv6(t *testing.T) {
	const cli, srv = "2001:db8::1", "2001:db8::2"
	content := strings.Repeat("v6 data\n", 100)
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	pasv := testutil.NewTCPConn(t, cli, srv, 40001, 50000)
	active := testutil.NewTCPConn(t, srv, cli, 20, 50001)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"),
		ctl.Send(true, "EPSV\r\n"), ctl.Send(false, "229 Entering Extended Passive Mode (|||50000|)\r\n"))
	pkts = append(pkts, pasv.Open()...)
	pkts = append(pkts, ctl.Send(true, "RETR down.txt\r\n"), pasv.Send(false, content))
	pkts = append(pkts, pasv.Close(false)...)
	pkts = append(pkts, ctl.Send(false, "226 Transfer complete.\r\n"),
		ctl.Send(true, "EPRT |2|2001:db8::1|50001|\r\n"), ctl.Send(false, "200 EPRT command successful.\r\n"),
		ctl.Send(true, "STOR up.txt\r\n"))
	pkts = append(pkts, active.Open()...)
	pkts = append(pkts, active.Send(false, content))
	pkts = append(pkts, active.Close(false)...)
	pkts = append(pkts, ctl.Send(false, "226 Transfer complete.\r\n"))
	pkts = append(pkts, ctl.Close(true)...)
	conns, ftps, files := ftpRun(t, pkts)
	control := connByPorts(conns, 40000, 21)
	if control == nil || len(ftps) != 1 {
		t.Fatalf("control %v, %d FTP records", control, len(ftps))
	}
	names := map[string]string{}
	for _, f := range files {
		names[f.FlowID] = f.Name
		if f.SHA256 != sha256Hex([]byte(content)) || !f.Complete {
			t.Errorf("file %q: %s complete %v %q", f.Name, f.SHA256, f.Complete, f.Reason)
		}
	}
	for _, c := range []struct {
		ports [2]int32
		name  string
	}{{[2]int32{40001, 50000}, "down.txt"}, {[2]int32{20, 50001}, "up.txt"}} {
		d := connByPorts(conns, c.ports[0], c.ports[1])
		if d == nil {
			t.Fatalf("no data connection %v", c.ports)
		}
		if d.Parent != control.UID || d.ApplicationProto != "FTP-DATA" || names[d.UID] != c.name {
			t.Errorf("data connection %v: parent %q application %q file %q, want %s FTP-DATA %q", c.ports, d.Parent, d.ApplicationProto, names[d.UID], control.UID, c.name)
		}
	}
}

// TestFTPDataAfterAuthTLS: after the server accepts AUTH TLS, the control's
// bytes are TLS: a "227" line in them (ciphertext that happens to read so,
// or a peer that lies) announces nothing, and the connection to its port
// is not tied.
func TestFTPDataAfterAuthTLS(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	d := testutil.NewTCPConn(t, cli, srv, 40001, 50000)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"),
		ctl.Send(true, "AUTH TLS\r\n"), ctl.Send(false, "234 Proceed with negotiation.\r\n"),
		ctl.Send(true, "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"),
		ctl.Send(false, "\x17\x03\x03\x00\x40\n227 Entering Passive Mode (10,0,0,2,195,80).\r\n"))
	pkts = append(pkts, d.Open()...)
	pkts = append(pkts, d.Send(false, "secret"))
	pkts = append(pkts, d.Close(false)...)
	pkts = append(pkts, ctl.Close(true)...)
	conns, ftps, files := ftpRun(t, pkts)
	control, data := connByPorts(conns, 40000, 21), connByPorts(conns, 40001, 50000)
	if control == nil || data == nil || len(ftps) != 1 || !ftps[0].AuthTLS {
		t.Fatalf("control %v, data %v, %d FTP records", control, data, len(ftps))
	}
	if data.Parent != "" || data.ApplicationProto == "FTP-DATA" || len(files) != 0 {
		t.Errorf("a connection announced in the control's TLS is tied: parent %q application %q, %d files", data.Parent, data.ApplicationProto, len(files))
	}
}

// TestFTPDataLargeBounded: a transfer larger than -max-file-size (1 MiB in
// ftpRun) is read up to the bound and no further: the File record hashes
// the first MiB and says why it is incomplete.
func TestFTPDataLargeBounded(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	d := testutil.NewTCPConn(t, cli, srv, 40001, 50000)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"),
		ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,80).\r\n"))
	pkts = append(pkts, d.Open()...)
	pkts = append(pkts, ctl.Send(true, "RETR big.iso\r\n"))
	var sent []byte
	for i := 0; len(sent) < 4<<20; i++ {
		seg := bytes.Repeat([]byte{byte(i)}, 60000)
		sent = append(sent, seg...)
		pkts = append(pkts, d.Send(false, string(seg)))
	}
	pkts = append(pkts, d.Close(false)...)
	pkts = append(pkts, ctl.Close(true)...)
	_, _, files := ftpRun(t, pkts)
	if len(files) != 1 {
		t.Fatalf("%d File records, want 1", len(files))
	}
	f := files[0]
	if f.Name != "big.iso" || f.Complete || f.Length != 1<<20 || f.SHA256 != sha256Hex(sent[:1<<20]) || !strings.Contains(f.Reason, "max-file-size") {
		t.Errorf("file %q complete %v, %d bytes %s, reason %q; want the first MiB of %d bytes, %s", f.Name, f.Complete, f.Length, f.SHA256, f.Reason, len(sent), sha256Hex(sent[:1<<20]))
	}
}

// TestFTPDataNotARefusedTransfer: a data connection is never given a
// transfer command the server already refused (550): here the PASV reply
// of the data connection was not read by the control's parser (a segment
// before it was not captured), so the refused RETR is the last of the
// connection's slot; the RETR that follows is the one it carries.
func TestFTPDataNotARefusedTransfer(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	content := strings.Repeat("z", 500)
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	d := testutil.NewTCPConn(t, cli, srv, 40001, 50000)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"),
		ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,70).\r\n"),
		ctl.Send(true, "RETR missing.bin\r\n"), ctl.Send(false, "550 Failed to open file.\r\n"), ctl.Send(true, "TYPE I\r\n"))
	ctl.Send(false, "200 Switching to Binary mode.\r\n") // not captured
	pkts = append(pkts, ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,195,80).\r\n"))
	pkts = append(pkts, d.Open()...)
	pkts = append(pkts, ctl.Send(true, "RETR x.bin\r\n"), ctl.Send(false, "150 Opening\r\n"), d.Send(false, content))
	pkts = append(pkts, d.Close(false)...)
	pkts = append(pkts, ctl.Send(false, "226 Transfer complete.\r\n"))
	pkts = append(pkts, ctl.Close(true)...)
	conns, ftps, files := ftpRun(t, pkts)
	data := connByPorts(conns, 40001, 50000)
	if data == nil || len(ftps) != 1 || len(ftps[0].Transfers) != 2 || len(files) != 1 {
		t.Fatalf("data %v, %d FTP records, %d files", data, len(ftps), len(files))
	}
	if tr := ftps[0].Transfers; tr[0].DataFlowID != "" || tr[1].DataFlowID != data.UID || files[0].Name != "x.bin" {
		t.Errorf("refused RETR given data connection %q, RETR x.bin %q (want %s), file %q", tr[0].DataFlowID, tr[1].DataFlowID, data.UID, files[0].Name)
	}
}

// TestFTPDataPrivilegedPort: an announcement of a port below 1024 (a
// service's: SSH here) ties nothing; tied, the next SSH connection between
// the two hosts would be read as a file and never as SSH. Servers refuse
// such PORT commands themselves (the FTP bounce attack) and never listen
// there for PASV.
func TestFTPDataPrivilegedPort(t *testing.T) {
	const cli, srv = "10.0.0.1", "10.0.0.2"
	ctl := testutil.NewTCPConn(t, cli, srv, 40000, 21)
	ssh := testutil.NewTCPConn(t, cli, srv, 40001, 22)
	back := testutil.NewTCPConn(t, srv, cli, 20, 25)
	pkts := append(ctl.Open(), ctl.Send(false, "220 FTP ready\r\n"),
		ctl.Send(true, "PASV\r\n"), ctl.Send(false, "227 Entering Passive Mode (10,0,0,2,0,22).\r\n"),
		ctl.Send(true, "PORT 10,0,0,1,0,25\r\n"), ctl.Send(false, "200 PORT command successful.\r\n"))
	pkts = append(pkts, ssh.Open()...)
	pkts = append(pkts, ssh.Send(false, "SSH-2.0-OpenSSH_9.6\r\n"), ssh.Send(true, "SSH-2.0-OpenSSH_9.6\r\n"))
	pkts = append(pkts, back.Open()...)
	pkts = append(pkts, ctl.Close(true)...)
	conns, _, _ := ftpRun(t, pkts)
	for _, p := range [][2]int32{{40001, 22}, {20, 25}} {
		c := connByPorts(conns, p[0], p[1])
		if c == nil {
			t.Fatalf("no connection %v", p)
		}
		if c.Parent != "" || c.ApplicationProto == "FTP-DATA" {
			t.Errorf("connection %v tied by an announcement of a port below 1024: parent %q application %q", p, c.Parent, c.ApplicationProto)
		}
	}
	if c := connByPorts(conns, 40001, 22); c != nil && c.ApplicationProto != "SSH" {
		t.Errorf("the SSH connection reads as %q", c.ApplicationProto)
	}
}

func tcpSegment(src, dst string, sp, dp uint16, flags uint8, payload string) *flowhash.Segment {
	return &flowhash.Segment{Src: net.ParseIP(src).To4(), Dst: net.ParseIP(dst).To4(), SrcPort: sp, DstPort: dp, Flags: flags, Payload: []byte(payload)}
}

// TestExpectationsBounded: a control connection announcing a port in every
// line of every segment (a PASV flood) keeps at most MaxExpected, counts
// the dropped, and the table forgets announcements idle for its timeout.
func TestExpectationsBounded(t *testing.T) {
	const max = 64
	x := NewExpectations(max, time.Minute)
	var flood strings.Builder
	n := 0
	for seg := 0; seg < 100; seg++ {
		flood.Reset()
		for i := 0; i < 50; i++ {
			p := 1024 + n
			fmt.Fprintf(&flood, "227 Entering Passive Mode (10,0,0,2,%d,%d).\r\n", p/256, p%256)
			n++
		}
		x.Packet(tcpSegment("10.0.0.2", "10.0.0.1", 21, 40000, 0x18, flood.String()), 7, int64(seg))
		if x.Len() > max {
			t.Fatalf("after %d announcements the table holds %d, bound %d", n, x.Len(), max)
		}
	}
	if x.Dropped != int64(n-max) {
		t.Errorf("dropped %d, want %d", x.Dropped, n-max)
	}
	// The newest are kept, the oldest dropped.
	last := 1024 + n - 1
	if _, _, ok := x.Packet(tcpSegment("10.0.0.1", "10.0.0.2", 40001, uint16(last), 0x02, ""), 0, 100); !ok {
		t.Error("the newest announcement was dropped")
	}
	if _, _, ok := x.Packet(tcpSegment("10.0.0.1", "10.0.0.2", 40001, 1024, 0x02, ""), 0, 100); ok {
		t.Error("the oldest announcement was kept beyond the bound")
	}
	// Idle for more than a minute of packet time: forgotten.
	x.Packet(tcpSegment("10.0.0.2", "10.0.0.1", 21, 40000, 0x18, "229 Entering Extended Passive Mode (|||7000|)\r\n"), 9, 200)
	later := int64(200 + 2*time.Minute)
	if _, _, ok := x.Packet(tcpSegment("10.0.0.1", "10.0.0.2", 40002, 7000, 0x02, ""), 0, later); ok {
		t.Error("an announcement idle for two minutes was kept")
	}
	if x.Len() != 0 {
		t.Errorf("%d announcements left after all went idle", x.Len())
	}
}

// TestFTPAnnounced reads the four ways to announce a port.
func TestFTPAnnounced(t *testing.T) {
	for _, c := range []struct {
		line       string
		fromServer bool
		port       uint16
	}{
		{"227 Entering Passive Mode (192,0,2,7,195,80).\r", true, 50000},
		{"227 Entering Passive Mode 192,0,2,7,4,1", true, 1025},
		{"229 Entering Extended Passive Mode (|||6446|)", true, 6446},
		{"PORT 192,0,2,1,7,138", false, 1930},
		{"port 192,0,2,1,7,138", false, 1930},
		{"EPRT |1|132.235.1.2|6275|", false, 6275},
		{"EPRT |2|1080::8:800:200C:417A|5282|", false, 5282},
		{"227 Entering Passive Mode (192,0,2,7,0,0).", true, 0},
		{"227 Entering Passive Mode (192,0,2,7,300,80).", true, 0},
		{"PORT 192,0,2,1,7,138", true, 0},
		{"227 Entering Passive Mode (192,0,2,7,195,80).", false, 0},
		{"229 Entering Extended Passive Mode (|||99999|)", true, 0},
		{"EPRT |1|132.235.1.2|", false, 0},
		{"PASV", false, 0},
		{"227 Entering Passive Mode (192,0,2,7,0,22).", true, 0},
		{"229 Entering Extended Passive Mode (|||1023|)", true, 0},
		{"EPRT |1|132.235.1.2|1024|", false, 1024},
	} {
		port, ok := ftpAnnounced([]byte(c.line), c.fromServer)
		if ok != (c.port != 0) || port != c.port {
			t.Errorf("%q (server %v): %d %v, want %d", c.line, c.fromServer, port, ok, c.port)
		}
	}
}

// TestFTPDataMatchesTshark compares the FTP data connections of the
// captures tshark finds ftp-data in: each data connection tshark ties to a
// control (ftp-data.setup-frame, the frame of its PASV/EPSV reply or
// PORT/EPRT command) is tied by netcap to the connection of that frame,
// netcap ties no other; every file of netcap is the bytes tshark
// reassembles for the connection (follow,tcp,raw), and every file tshark
// --export-objects ftp-data writes is one of netcap's, by name and
// SHA-256.
func TestFTPDataMatchesTshark(t *testing.T) {
	files := corpusWith(t, "ftp-data")
	if len(files) == 0 {
		t.Skip("no capture with ftp-data")
	}
	tied, hashed, exported := 0, 0, 0
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		label := captureLabel(name)
		// Every TCP packet's stream and endpoints, and ftp-data's setup.
		out, err := exec.Command("tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=/t",
			"-e", "frame.number", "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
			"-e", "ftp-data.setup-frame", "-Y", "tcp").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", label, err)
		}
		type stream struct {
			key   string // endpoints, ordered
			setup string // frame of the announcement
		}
		frames := map[string]string{} // frame -> its stream's key
		streams := map[string]*stream{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 7 {
				continue
			}
			k := endpointsKey(f[2], f[3], f[4], f[5])
			frames[f[0]] = k
			st := streams[f[1]]
			if st == nil {
				st = &stream{key: k}
				streams[f[1]] = st
			}
			if f[6] != "" {
				st.setup = f[6]
			}
		}
		recs := decodeCapture(t, path, captureOptions(t), types.Type_NC_Connection, types.Type_NC_File, types.Type_NC_FTP)
		byKey := map[string]*types.Connection{}
		var ours []*types.File
		for _, m := range recs {
			switch r := m.(type) {
			case *types.Connection:
				byKey[endpointsKey(r.SrcIP, strconv.Itoa(int(r.SrcPort)), r.DstIP, strconv.Itoa(int(r.DstPort)))] = r
			case *types.File:
				if r.Source == "FTP" {
					ours = append(ours, r)
				}
			}
		}
		wantTied := map[string]bool{}
		for id, st := range streams {
			if st.setup == "" {
				continue
			}
			data, ctl := byKey[st.key], byKey[frames[st.setup]]
			wantTied[st.key] = true
			if data == nil || ctl == nil {
				t.Errorf("%s: stream %s: netcap has no connection %s or no control %s", label, id, st.key, frames[st.setup])
				continue
			}
			tied++
			if data.Parent != ctl.UID || data.ApplicationProto != "FTP-DATA" {
				t.Errorf("%s: stream %s (%s): parent %q application %q, tshark: set up in frame %s of connection %s",
					label, id, st.key, data.Parent, data.ApplicationProto, st.setup, ctl.UID)
			}
		}
		for k, c := range byKey {
			if c.Parent != "" && !wantTied[k] {
				t.Errorf("%s: netcap ties %s to %s, tshark shows no ftp-data on it", label, k, c.Parent)
			}
		}
		// Every file is the bytes its connection carried.
		streamOf := map[string]string{}
		for id, st := range streams {
			streamOf[st.key] = id
		}
		uidKey := map[string]string{}
		for k, c := range byKey {
			uidKey[c.UID] = k
		}
		for _, f := range ours {
			id, ok := streamOf[uidKey[f.FlowID]]
			if !ok {
				t.Errorf("%s: file %q of flow %s: no tshark stream", label, f.Name, f.FlowID)
				continue
			}
			if !f.Complete {
				t.Logf("%s: file %q incomplete: %s", label, f.Name, f.Reason)
				continue
			}
			sum, n := followedSHA256(t, path, id, f.SrcPort)
			hashed++
			if sum != f.SHA256 || n != f.Length {
				t.Errorf("%s: file %q: %d bytes %s, tshark's stream %s: %d bytes %s", label, f.Name, f.Length, f.SHA256, id, n, sum)
			}
		}
		// Every object tshark exports is one of ours.
		dir := t.TempDir()
		if out, err := exec.Command("tshark", "-r", path, "-q", "--export-objects", "ftp-data,"+dir).CombinedOutput(); err != nil {
			t.Fatalf("%s: tshark --export-objects: %v: %s", label, err, out)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			exported++
			if !slices.ContainsFunc(ours, func(f *types.File) bool {
				return f.SHA256 == hex.EncodeToString(sum[:]) && filepath.Base(f.Name) == e.Name()
			}) {
				t.Errorf("%s: tshark exports %s (%d bytes, %x), no File of netcap has that name and content", label, e.Name(), len(b), sum)
			}
		}
	}
	t.Logf("%d captures: %d data connections tied as tshark ties them, %d files equal to tshark's stream bytes, %d exported objects found", len(files), tied, hashed, exported)
	if tied == 0 || hashed == 0 {
		t.Error("nothing compared")
	}
}

// endpointsKey names a connection by its endpoints, whatever the
// direction.
func endpointsKey(ip1, p1, ip2, p2 string) string {
	a, b := ip1+":"+p1, ip2+":"+p2
	if a > b {
		a, b = b, a
	}
	return a + "-" + b
}

// captureOptions are the options the oracle decodes a capture with.
func captureOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.Files = &FileStore{MaxSize: DefaultMaxFileSize}
	return o
}

// followedSHA256 hashes the bytes tshark reassembles for one side of a TCP
// stream: the side whose port is port.
func followedSHA256(t *testing.T, path, stream string, port int32) (string, int64) {
	t.Helper()
	out, err := exec.Command("tshark", "-r", path, "-n", "-q", "-z", "follow,tcp,raw,"+stream).Output()
	if err != nil {
		t.Fatalf("tshark follow: %v", err)
	}
	// "Node 0: a:p" and "Node 1: b:q"; node 1's data lines start with a tab.
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	node1 := false
	h := sha256.New()
	var n int64
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Node 1: ") {
			node1 = strings.HasSuffix(line, ":"+strconv.Itoa(int(port)))
			continue
		}
		if strings.HasPrefix(line, "Node ") || strings.HasPrefix(line, "=") || strings.HasPrefix(line, "Follow:") || strings.HasPrefix(line, "Filter:") || line == "" {
			continue
		}
		if strings.HasPrefix(line, "\t") != node1 {
			continue
		}
		b, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("tshark follow line %q: %v", line, err)
		}
		h.Write(b)
		n += int64(len(b))
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func FuzzFTPAnnounced(f *testing.F) {
	for _, s := range []string{"227 Entering Passive Mode (192,0,2,7,195,80).", "229 (|||6446|)", "PORT 192,0,2,1,7,138", "EPRT |2|::1|5282|"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, line []byte, fromServer bool) {
		port, ok := ftpAnnounced(line, fromServer)
		if ok && port < ftpMinDataPort {
			t.Fatalf("%q: port %d announced", line, port)
		}
		// What the reader announces, the control's parser reads too.
		if ok {
			s := string(bytes.TrimRight(line, "\r"))
			var addr string
			switch {
			case fromServer && strings.HasPrefix(s, "227 "):
				addr = ftpPortAddress(s[4:])
			case fromServer:
				addr = ":" + strconv.Itoa(int(port))
			case strings.EqualFold(s[:5], "PORT "):
				addr = ftpPortAddress(s[5:])
			default:
				addr = ftpEPRTAddress(strings.TrimSpace(s[5:]))
			}
			i := strings.LastIndexByte(addr, ':')
			if n, err := strconv.ParseUint(addr[i+1:], 10, 16); i < 0 || err != nil || n != uint64(port) {
				t.Fatalf("%q: reader port %d, parser address %q", line, port, addr)
			}
		}
	})
}

// FuzzExpectations: whatever segments a peer sends, the table holds at
// most its bound, and a segment is never routed as a data connection of
// its own connection.
func FuzzExpectations(f *testing.F) {
	f.Add(uint16(21), uint16(40000), []byte("227 Entering Passive Mode (10,0,0,2,0,21).\r\n229 (|||40000|)\r\n"), uint16(21), uint16(40000))
	f.Add(uint16(40000), uint16(21), []byte("PORT 10,0,0,1,156,64\r\nEPRT |1|10.0.0.1|21|\r\n"), uint16(20), uint16(40000))
	f.Fuzz(func(t *testing.T, sp, dp uint16, payload []byte, sp2, dp2 uint16) {
		const max = 4
		x := NewExpectations(max, time.Minute)
		for i, s := range []*flowhash.Segment{
			tcpSegment("10.0.0.2", "10.0.0.1", sp, dp, 0x18, string(payload)),
			tcpSegment("10.0.0.1", "10.0.0.2", sp, dp, 0x18, string(payload)),
			tcpSegment("10.0.0.1", "10.0.0.2", sp2, dp2, 0x02, ""),
			tcpSegment("10.0.0.2", "10.0.0.1", sp2, dp2, 0x12, string(payload)),
		} {
			ctl, _, ok := x.Packet(s, 1, int64(i))
			if x.Len() > max {
				t.Fatalf("%d announcements kept, bound %d", x.Len(), max)
			}
			own := endpointsKey(net.IP(s.Src).String(), strconv.Itoa(int(s.SrcPort)), net.IP(s.Dst).String(), strconv.Itoa(int(s.DstPort)))
			if ok && own == endpointsKey(net.IP(ctl.Client[:4]).String(), strconv.Itoa(int(ctl.ClientPort)), net.IP(ctl.Server[:4]).String(), strconv.Itoa(int(ctl.ServerPort))) {
				t.Fatalf("segment %d>%d routed as a data connection of itself", s.SrcPort, s.DstPort)
			}
		}
	})
}

// checkExpectations fails unless every announcement is in exactly the list
// its state says, each list in the order of its packets, and the table
// within its bound.
func checkExpectations(t *testing.T, x *Expectations, max int) {
	t.Helper()
	n := 0
	for _, l := range []*lruList[expectation]{&x.waiting, &x.live} {
		last := int64(-1 << 62)
		for e := l.head; e != nil; e = e.next {
			if (l == &x.live) != e.live || x.m[e.key] != e {
				t.Fatalf("announcement %+v: live %v, in the live list %v, in the map %v", e.key, e.live, l == &x.live, x.m[e.key] == e)
			}
			if e.last < last {
				t.Fatalf("list out of order: %d after %d", e.last, last)
			}
			last = e.last
			if n++; n > len(x.m) {
				t.Fatal("a list loops or holds what the map does not")
			}
		}
	}
	if n != len(x.m) || n > max {
		t.Fatalf("%d in the lists, %d in the map, bound %d", n, len(x.m), max)
	}
}

// FuzzExpectationsSequence: any sequence of announcements, SYNs, FINs,
// RSTs and pauses keeps the table's lists consistent and within its bound,
// and a connection routed as a data connection keeps its control until it
// is forgotten.
func FuzzExpectationsSequence(f *testing.F) {
	f.Add([]byte{0, 1, 1, 2, 1, 3, 1, 4, 1, 1, 2, 0, 5, 0, 6, 1})
	f.Add([]byte{0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 1, 0, 1, 1, 1, 2, 7, 0, 1, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const max = 3
		x := NewExpectations(max, time.Second)
		ts := int64(0)
		// The running data connections, by their peer port: the
		// control's hash, when their last packet came, their FINs.
		type running struct {
			hash uint64
			last int64
			fin  [2]bool
		}
		routed := map[uint16]*running{}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%8, uint16(ops[i+1]%4)
			port, peer := 2000+arg, 3000+arg
			var s *flowhash.Segment
			switch op {
			case 0: // the control announces port
				s = tcpSegment("10.0.0.2", "10.0.0.1", 21, 40000+arg%2, 0x18, fmt.Sprintf("229 (|||%d|)\r\n", port))
			case 1: // the data connection's SYN
				s = tcpSegment("10.0.0.1", "10.0.0.2", peer, port, 0x02, "")
			case 2: // its data
				s = tcpSegment("10.0.0.2", "10.0.0.1", port, peer, 0x18, "data")
			case 3: // a FIN from either side
				s = tcpSegment("10.0.0.2", "10.0.0.1", port, peer, 0x11, "")
			case 4:
				s = tcpSegment("10.0.0.1", "10.0.0.2", peer, port, 0x11, "")
			case 5: // a RST
				s = tcpSegment("10.0.0.1", "10.0.0.2", peer, port, 0x04, "")
			case 6: // a pause past the timeout
				ts += int64(3 * time.Second)
				continue
			case 7: // a flood of announcements
				s = tcpSegment("10.0.0.2", "10.0.0.1", 21, 40000, 0x18, "229 (|||5001|)\r\n229 (|||5002|)\r\n229 (|||5003|)\r\n229 (|||5004|)\r\n")
			}
			ts += int64(time.Millisecond)
			_, h, ok := x.Packet(s, 7, ts)
			checkExpectations(t, x, max)
			r := routed[peer]
			if op >= 2 && op <= 5 && r != nil && ts-r.last <= int64(time.Second) && !(r.fin[0] && r.fin[1]) {
				// Running, not idle, not ended: it keeps its worker.
				if !ok || h != r.hash {
					t.Fatalf("op %d: running connection %d routed to %d, now %v %d", i/2, peer, r.hash, ok, h)
				}
			}
			switch {
			case op == 1 && ok:
				routed[peer] = &running{hash: h, last: ts}
			case op == 1 || r == nil:
			case op == 5:
				delete(routed, peer)
			case ok:
				r.last = ts
				r.fin[0] = r.fin[0] || op == 3
				r.fin[1] = r.fin[1] || op == 4
			}
		}
	})
}
