package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestHTTPConnectTunnel: the TLS hellos inside an HTTP CONNECT tunnel are
// recorded as those of any TLS connection, and the parser names the inner
// protocol; the tunnel's bytes are found whether the 200 and the hello
// share a chunk, and cut byte by byte.
func TestHTTPConnectTunnel(t *testing.T) {
	ch := string(tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message()))
	sh := string(tlsTestRecord(tlsRecordHandshake, 0x0303,
		tlsTestServerHello(0x0303, 0x1301, tlsTestRandom(nil), nil, []tlsTestExt{tlsVersions(0x0304)})))
	connect := "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
	ok := "HTTP/1.1 200 Connection established\r\n\r\n"
	for name, evs := range map[string][]httpEv{
		"apart":              {httpCli(connect), httpSrv(ok), httpCli(ch), httpSrv(sh + "\x17\x03\x03\x00\x05hello")},
		"200 and hello":      {httpCli(connect), httpSrv(ok + sh[:3]), httpCli(ch), httpSrv(sh[3:])},
		"byte by byte":       httpByteWise(httpFramed([]httpEv{httpCli(connect), httpSrv(ok), httpCli(ch), httpSrv(sh)})),
		"refused: no tunnel": {httpCli(connect), httpSrv("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"), httpCli(ch)},
	} {
		t.Run(name, func(t *testing.T) {
			p := newHTTPParser().(*httpParser)
			s := &tlsSink{t: t}
			conn := httpTestConn
			for i, e := range evs {
				f := e.frame
				if f == 0 {
					f = int64(i + 1)
				}
				p.Feed(&Chunk{FromClient: e.client, Data: []byte(e.data), Timestamp: f * 1000, Frame: f}, &conn, s)
			}
			p.Close(&conn, s)
			var http, chs, shs int
			for _, m := range s.recs {
				switch r := m.(type) {
				case *types.HTTP:
					http++
					if r.Method != "CONNECT" {
						t.Errorf("HTTP record %v", r)
					}
				case *types.TLSClientHello:
					chs++
					if r.SNI != "example.com" || r.Ja3 == "" || r.FlowID != conn.FlowID || r.SrcPort != conn.ClientPort {
						t.Errorf("ClientHello %v", r)
					}
				case *types.TLSServerHello:
					shs++
				}
			}
			wantTLS, inner := 1, "TLS"
			if name == "refused: no tunnel" {
				wantTLS, inner = 0, ""
			}
			if http != 1 || chs != wantTLS || shs != wantTLS || p.Inner() != inner {
				t.Errorf("%d HTTP, %d ClientHello, %d ServerHello records, inner %q; want 1, %d, %d, %q",
					http, chs, shs, p.Inner(), wantTLS, wantTLS, inner)
			}
		})
	}
}

// TestUpgradeUndetected: bytes no detector takes are skipped, and nothing
// after a gap is detected.
func TestUpgradeUndetected(t *testing.T) {
	u := &Upgrade{}
	conn := httpTestConn
	s := &tlsSink{t: t}
	u.Feed(&Chunk{FromClient: true, Data: []byte("\x00\x01binary websocket frame")}, &conn, s)
	u.Feed(&Chunk{Data: []byte("\x81\x05hello")}, &conn, s)
	u.Feed(&Chunk{FromClient: true, Data: []byte("SSH-2.0-late\r\n")}, &conn, s)
	if u.Inner() != "" || !u.done || len(s.recs) != 0 {
		t.Errorf("inner %q, done %v, %d records", u.Inner(), u.done, len(s.recs))
	}
	u = &Upgrade{}
	u.Feed(&Chunk{FromClient: true, Missed: 10, Data: []byte("SSH-2.0-x\r\n")}, &conn, s)
	if u.Inner() != "" {
		t.Errorf("a protocol detected after a gap: %q", u.Inner())
	}
	// Detectors that want more hold at most StreamDetectMax bytes.
	u = &Upgrade{}
	for range 100 {
		u.Feed(&Chunk{FromClient: true, Data: []byte{tlsRecordHandshake}}, &conn, s)
	}
	if n := len(u.dir[0].head); n > StreamDetectMax {
		t.Errorf("%d bytes held while detecting", n)
	}
}

// TestConnectionNamesBothProtocols: the Connection record of a CONNECT
// tunnel carrying TLS says "HTTP/TLS".
func TestConnectionNamesBothProtocols(t *testing.T) {
	ch := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	recs, conn := streamRun(t, 3128, true, []streamSeg{
		{true, []byte("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")},
		{false, []byte("HTTP/1.1 200 OK\r\n\r\n")},
		{true, ch},
	})
	if conn == nil || conn.ApplicationProto != "HTTP/TLS" {
		t.Fatalf("Connection %v, want ApplicationProto HTTP/TLS", conn)
	}
	hellos := 0
	for _, m := range recs {
		if _, ok := m.(*types.TLSClientHello); ok {
			hellos++
		}
	}
	if hellos != 1 {
		t.Errorf("%d ClientHello records, want 1", hellos)
	}
}

// TestSMTPImplicitTLS: a client that answers an SMTP greeting with a TLS
// ClientHello (port 465 to a server speaking in the clear) has its hello
// recorded, as tshark shows it.
func TestSMTPImplicitTLS(t *testing.T) {
	ch := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	recs, conn := streamRun(t, 465, true, []streamSeg{
		{false, []byte("220 mx.example.org ESMTP Postfix\r\n")}, {true, ch},
		{false, []byte("502 5.5.2 Error: command not recognized\r\n")}})
	hellos := 0
	for _, m := range recs {
		if _, ok := m.(*types.TLSClientHello); ok {
			hellos++
		}
	}
	if hellos != 1 || conn.ApplicationProto != "SMTP/TLS" {
		t.Errorf("%d ClientHellos, application %q; want 1, SMTP/TLS", hellos, conn.ApplicationProto)
	}
}
