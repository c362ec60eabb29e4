package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// ldapStartTLSRequest and ldapStartTLSResponse are the StartTLS exchange as
// RFC 4511 encodes it (message 1).
func ldapStartTLSRequest() []byte {
	oid := []byte(ldapStartTLS)
	ext := append([]byte{0x80, byte(len(oid))}, oid...)
	op := append([]byte{0x77, byte(len(ext))}, ext...)
	msg := append([]byte{0x02, 0x01, 0x01}, op...)
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

func ldapStartTLSResponse(code byte) []byte {
	op := []byte{0x78, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00}
	msg := append([]byte{0x02, 0x01, 0x01}, op...)
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

// TestLDAPStartTLS: after a successful StartTLS the TLS hellos are
// recorded (also when the response and the ServerHello share a segment)
// and the Connection says LDAP/TLS; a refused one reads nothing more.
func TestLDAPStartTLS(t *testing.T) {
	ch := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	sh := tlsTestRecord(tlsRecordHandshake, 0x0303,
		tlsTestServerHello(0x0303, 0x1301, tlsTestRandom(nil), nil, []tlsTestExt{tlsVersions(0x0304)}))
	req := ldapStartTLSRequest()
	for _, c := range []struct {
		name   string
		segs   []streamSeg
		app    string
		hellos int
	}{
		{"success", []streamSeg{{true, req}, {false, ldapStartTLSResponse(0)}, {true, ch}, {false, sh}}, "LDAP/TLS", 2},
		{"split request", []streamSeg{{true, req[:5]}, {true, req[5:]}, {false, ldapStartTLSResponse(0)}, {true, ch}, {false, sh}}, "LDAP/TLS", 2},
		{"response and hello together", []streamSeg{{true, req}, {false, ldapStartTLSResponse(0)}, {true, ch}}, "LDAP/TLS", 1},
		{"refused (protocolError)", []streamSeg{{true, req}, {false, ldapStartTLSResponse(2)}, {true, ch}, {false, sh}}, "LDAP", 0},
	} {
		segs := c.segs
		if c.name == "response and hello together" {
			segs = []streamSeg{{true, req}, {false, append(ldapStartTLSResponse(0), sh...)}, {true, ch}}
			c.hellos = 2
		}
		recs, conn := streamRun(t, 389, true, segs)
		hellos := 0
		for _, m := range recs {
			switch m.(type) {
			case *types.TLSClientHello, *types.TLSServerHello:
				hellos++
			}
		}
		if conn.ApplicationProto != c.app || hellos != c.hellos {
			t.Errorf("%s: application %q, %d hellos; want %q, %d", c.name, conn.ApplicationProto, hellos, c.app, c.hellos)
		}
	}
	// A bind request is not StartTLS.
	bind := []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}
	if d := detectLDAPStartTLS(bind, true, nil); d != DetectNo {
		t.Errorf("bind request: %v", d)
	}
}

func FuzzLDAP(f *testing.F) {
	f.Add(ldapStartTLSRequest(), ldapStartTLSResponse(0))
	f.Fuzz(func(t *testing.T, req, res []byte) {
		detectLDAPStartTLS(req, true, nil)
		p := &ldapParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{FromClient: true, Data: req}, conn, s)
		p.Feed(&Chunk{Data: res}, conn, s)
		p.Feed(&Chunk{FromClient: true, Data: res}, conn, s)
		if len(p.buf[0]) > ldapMaxMessage+1 || len(p.buf[1]) > ldapMaxMessage+1 {
			t.Fatalf("held %d and %d bytes", len(p.buf[0]), len(p.buf[1]))
		}
		p.Close(conn, s)
	})
}
