package decoder

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netcap/netcap/types"
)

// pgSession is a PostgreSQL connection that asks for TLS: SSLRequest,
// the server's answer, then the TLS hellos when the answer is 'S'.
func pgSession(answer string) []streamSeg {
	ch := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	sh := tlsTestRecord(tlsRecordHandshake, 0x0303,
		tlsTestServerHello(0x0303, 0x1301, tlsTestRandom(nil), nil, []tlsTestExt{tlsVersions(0x0304)}))
	return []streamSeg{{true, pgSSLRequest}, {false, []byte(answer)}, {true, ch}, {false, sh}}
}

// TestPostgresSSLRequest: after an 'S' the TLS hellos are recorded and the
// Connection says PostgreSQL/TLS; after an 'N' nothing more is read. The
// JA3 and JA3S equal tshark's for the same packets.
func TestPostgresSSLRequest(t *testing.T) {
	for _, c := range []struct {
		answer, app string
		hellos      int
	}{{"S", "PostgreSQL/TLS", 2}, {"N", "PostgreSQL", 0}} {
		recs, conn := streamRun(t, 5432, true, pgSession(c.answer))
		hellos := 0
		for _, m := range recs {
			switch m.(type) {
			case *types.TLSClientHello, *types.TLSServerHello:
				hellos++
			}
		}
		if conn == nil || conn.ApplicationProto != c.app || hellos != c.hellos {
			t.Errorf("answer %q: application %q, %d hellos; want %q, %d", c.answer, conn.GetApplicationProto(), hellos, c.app, c.hellos)
		}
	}
	// A split SSLRequest is detected as a whole one.
	segs := pgSession("S")
	segs = append([]streamSeg{{true, pgSSLRequest[:3]}, {true, pgSSLRequest[3:]}}, segs[1:]...)
	if _, conn := streamRun(t, 6000, true, segs); conn.ApplicationProto != "PostgreSQL/TLS" {
		t.Errorf("split SSLRequest on port 6000: application %q", conn.ApplicationProto)
	}

	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: JA3 after an SSLRequest not compared")
	}
	path := filepath.Join(t.TempDir(), "pg.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	seq := [2]uint32{1000, 5000}
	pkts := [][]byte{streamPacket(t, true, "S", seq[0]-1, 0, 5432, nil), streamPacket(t, false, "SA", seq[1]-1, seq[0], 5432, nil),
		streamPacket(t, true, "A", seq[0], seq[1], 5432, nil)}
	for _, sg := range pgSession("S") {
		i := 1
		if sg.client {
			i = 0
		}
		pkts = append(pkts, streamPacket(t, sg.client, "PA", seq[i], seq[1-i], 5432, sg.data))
		seq[i] += uint32(len(sg.data))
	}
	at := time.Unix(1700000000, 0)
	for _, p := range pkts {
		at = at.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(p), Length: len(p)}, p); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	out, err := exec.Command("tshark", "-r", path, "-Y", "tls.handshake", "-T", "fields", "-E", "separator=|",
		"-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3s").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		want = append(want, strings.Trim(l, "|"))
	}
	recs, _ := streamRun(t, 5432, true, pgSession("S"))
	var got []string
	for _, m := range recs {
		switch r := m.(type) {
		case *types.TLSClientHello:
			got = append(got, r.Ja3)
		case *types.TLSServerHello:
			got = append(got, r.Ja3S)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || len(got) != 2 {
		t.Errorf("JA3, JA3S %v; tshark %v", got, want)
	}
}

func FuzzPostgres(f *testing.F) {
	for _, sg := range pgSession("S") {
		f.Add(sg.data, sg.client)
	}
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		p := &pgParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{FromClient: true, Data: pgSSLRequest}, conn, s)
		p.Feed(&Chunk{FromClient: client, Data: data}, conn, s)
		p.Feed(&Chunk{FromClient: !client, Data: data}, conn, s)
		p.Close(conn, s)
	})
}
