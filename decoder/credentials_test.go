package decoder

import (
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

// credExtra are the captures (or a capture, protocol and mechanism) where
// netcap finds a login tshark does not list, with the reason (checked in the
// capture's bytes).
var credExtra = map[string]string{
	"testdata/services.pcap SMTP AUTH PLAIN": "tshark's credentials tap lists SMTP AUTH LOGIN, not the SASL PLAIN " +
		"response (smtp.auth.username_password shows it)",
	"testdata/services.pcap POP3 AUTH PLAIN":         "tshark's credentials tap lists POP3 USER/PASS, not SASL PLAIN",
	"testdata/services.pcap IMAP AUTHENTICATE PLAIN": "tshark's credentials tap lists IMAP LOGIN, not AUTHENTICATE PLAIN",
	"testdata/services.pcap Telnet login prompt":     "tshark's credentials tap has no Telnet (TestTelnetMatchesTshark compares them with tshark's telnet.data)",
	"suricata-verify/smtp-bug-5989__input.pcap": "only the client's side is captured; tshark finds an AUTH LOGIN " +
		"user from the server's 334 prompts, netcap from the AUTH LOGIN exchange the client sends",
}

// TestCredentialsMatchTshark compares the Credentials records of every
// shared capture with SMTP, POP3 or IMAP with tshark's "-z credentials"
// table: each login tshark lists must be a record of the same protocol and
// user, at the same frame where both name one.
func TestCredentialsMatchTshark(t *testing.T) {
	files := corpusWith(t, "smtp", "pop", "imap", "http")
	listed, matched, records := 0, 0, 0
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		out, err := exec.Command("tshark", "-r", path, "-n", "-q", "-z", "credentials").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		var got []*types.Credentials
		for _, m := range mailCapture(t, path) {
			if c, ok := m.(*types.Credentials); ok {
				got = append(got, c)
			}
		}
		records += len(got)
		used := make([]bool, len(got))
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			packet, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				continue // a header line
			}
			listed++
			proto, user := f[1], f[2]
			frame := packet // IMAP: the LOGIN's frame
			if proto == "HTTP" && len(f) >= 5 && f[2] == "basic" {
				// "HTTP basic auth <user>": the request's frame.
				user = f[4]
			}
			switch proto {
			case "SMTP":
				// tshark shows the AUTH LOGIN user as sent, base64; its frames
				// are those of the user and password lines, netcap's is the
				// AUTH command's: not compared.
				if b, err := base64.StdEncoding.DecodeString(user); err == nil {
					user = string(b)
				}
				frame = 0
			case "POP3", "FTP":
				// "Username in packet N": the USER command's frame.
				frame, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
			case "IMAP":
				if tok := imapTokens(user); len(tok) > 0 {
					user = tok[0]
				}
			}
			found := false
			for i, c := range got {
				if used[i] || c.Protocol != proto || c.User != user || frame != 0 && c.FrameNumber != frame {
					continue
				}
				used[i], found = true, true
				matched++
				break
			}
			if !found {
				t.Errorf("%s: tshark lists a %s login of %q at frame %d; netcap has %v", name, proto, user, packet, got)
			}
		}
		for i, c := range got {
			if used[i] {
				continue
			}
			why, ok := credExtra[captureLabel(name)+" "+c.Protocol+" "+c.Mechanism]
			if !ok {
				why, ok = credExtra[captureLabel(name)]
			}
			if ok {
				t.Logf("%s: netcap records a %s %s login of %q that tshark does not list, known: %s", captureLabel(name), c.Protocol, c.Mechanism, c.User, why)
				continue
			}
			t.Errorf("%s: netcap records a %s %s login of %q that tshark does not list", captureLabel(name), c.Protocol, c.Mechanism, c.User)
		}
	}
	t.Logf("%d captures: tshark lists %d logins, %d matched by netcap's %d Credentials records", len(files), listed, matched, records)
	if listed == 0 {
		t.Error("tshark lists no login: the comparison checked nothing")
	}
}

// TestCredList: the service is IP:port (bracketed for IPv6), a login is
// recorded once, one without material never, and the open logins stay
// bounded.
func TestCredList(t *testing.T) {
	conn := &ConnInfo{ClientIP: "2001:db8::1", ServerIP: "2001:db8::2", ClientPort: 50000, ServerPort: 993, FlowID: "f"}
	s := &recordSink{}
	var l credList
	a := l.newCred("IMAP", "LOGIN", 1, 2, conn, s)
	a.User = "u"
	l.newCred("IMAP", "AUTHENTICATE PLAIN", 3, 4, conn, s)
	l.answer(a, true, conn, s)
	l.answer(a, true, conn, s)
	for range 3 * credMaxOpen {
		c := l.newCred("POP3", "USER/PASS", 5, 6, conn, s)
		c.User = "v"
	}
	if len(l) > credMaxOpen {
		t.Errorf("%d logins open", len(l))
	}
	l.flush(conn, s)
	if len(s.recs) != 1+3*credMaxOpen {
		t.Fatalf("%d records", len(s.recs))
	}
	c := s.recs[0].(*types.Credentials)
	if c.Service != "[2001:db8::2]:993" || c.Result != "accepted" || c.SrcPort != 50000 || c.FlowID != "f" || c.FrameNumber != 2 {
		t.Errorf("%v", c)
	}
}

// TestMailSTARTTLSUpgrade: after an accepted STARTTLS (SMTP, IMAP) or STLS
// (POP3) the TLS hellos that follow are recorded and the Connection names
// both protocols.
func TestMailSTARTTLSUpgrade(t *testing.T) {
	ch := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	sh := tlsTestRecord(tlsRecordHandshake, 0x0303,
		tlsTestServerHello(0x0303, 0x1301, tlsTestRandom(nil), nil, []tlsTestExt{tlsVersions(0x0304)}))
	for _, c := range []struct {
		app  string
		port uint16
		segs []streamSeg
	}{
		{"SMTP/TLS", 2525, []streamSeg{{false, []byte("220 mx ESMTP\r\n")}, {true, []byte("EHLO a\r\n")}, {false, []byte("250-mx\r\n250 STARTTLS\r\n")},
			{true, []byte("STARTTLS\r\n")}, {false, []byte("220 go ahead\r\n")}, {true, ch}, {false, sh}}},
		{"POP3/TLS", 1110, []streamSeg{{false, []byte("+OK ready\r\n")}, {true, []byte("STLS\r\n")}, {false, []byte("+OK go\r\n")}, {true, ch}, {false, sh}}},
		{"IMAP/TLS", 1143, []streamSeg{{false, []byte("* OK ready\r\n")}, {true, []byte("a STARTTLS\r\n")}, {false, []byte("a OK go\r\n")}, {true, ch}, {false, sh}}},
	} {
		recs, conn := streamRun(t, c.port, true, c.segs)
		hellos := 0
		for _, m := range recs {
			switch m.(type) {
			case *types.TLSClientHello, *types.TLSServerHello:
				hellos++
			}
		}
		if conn == nil || conn.ApplicationProto != c.app || hellos != 2 {
			t.Errorf("%s: application %q, %d hellos", c.app, conn.GetApplicationProto(), hellos)
		}
	}
}
