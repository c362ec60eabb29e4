package decoder

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// smtpMessage is a multipart message with an attachment, a line that
// needs a transparency dot, and encoded words in the subject.
const smtpMessage = "From: Alice <alice@example.com>\r\n" +
	"To: Bob <bob@example.org>, carol@example.org\r\n" +
	"Cc: dave@example.net\r\n" +
	"Subject: =?UTF-8?B?SGVsbG8gd8O2cmxk?=\r\n" +
	"Date: Sun, 6 Dec 2026 20:00:00 +0000\r\n" +
	"Message-ID: <1234@example.com>\r\n" +
	"X-Mailer: swaks v20201014.0\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--outer\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello,\r\n" +
	".a line that starts with a dot\r\n" +
	"--outer\r\n" +
	"Content-Type: application/pdf; name=\"ignored.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"report.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQK\r\n" +
	"--outer--\r\n" +
	"epilogue\r\n"

// smtpStuff applies SMTP transparency: a dot starting a line is doubled.
func smtpStuff(msg string) string {
	lines := strings.SplitAfter(msg, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") {
			lines[i] = "." + l
		}
	}
	return strings.Join(lines, "")
}

// The two BDAT chunks of the session's second message.
const (
	smtpBdat1 = "From: x@y\r\nSubject: chunked\r\n\r\nbody part one\r\n"
	smtpBdat2 = "body part two\r\n"
)

func smtpSession() []streamSeg {
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00s3cret"))
	return []streamSeg{
		{false, []byte("220 mail.example.com ESMTP Postfix\r\n")},
		{true, []byte("EHLO client.example\r\n")},
		{false, []byte("250-mail.example.com\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n")},
		{true, []byte("AUTH PLAIN " + plain + "\r\n")},
		{false, []byte("235 2.7.0 Authentication successful\r\n")},
		// pipelined
		{true, []byte("MAIL FROM:<alice@example.com> SIZE=900\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n")},
		{false, []byte("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 no such user\r\n354 End data with <CR><LF>.<CR><LF>\r\n")},
		{true, []byte(smtpStuff(smtpMessage) + ".\r\n")},
		{false, []byte("250 2.0.0 Ok: queued as 1234\r\n")},
		{true, []byte("MAIL FROM:<>\r\nRCPT TO:<x@example.org>\r\nBDAT " + strconv.Itoa(len(smtpBdat1)) + "\r\n" + smtpBdat1 + "BDAT " + strconv.Itoa(len(smtpBdat2)) + " LAST\r\n" + smtpBdat2)},
		{false, []byte("250 Ok\r\n250 Ok\r\n250 Ok\r\n250 Ok queued\r\n")},
		{true, []byte("QUIT\r\n")},
		{false, []byte("221 Bye\r\n")},
	}
}

func smtpRecords(recs []proto.Message) ([]*types.SMTP, []*types.Credentials) {
	var out []*types.SMTP
	var creds []*types.Credentials
	for _, m := range recs {
		switch r := m.(type) {
		case *types.SMTP:
			out = append(out, r)
		case *types.Credentials:
			creds = append(creds, r)
		}
	}
	return out, creds
}

func TestSMTPSession(t *testing.T) {
	for _, port := range []uint16{25, 2525} { // found by content, not port
		recs, conn := streamRun(t, port, true, smtpSession())
		smtp, creds := smtpRecords(recs)
		if conn == nil || conn.ApplicationProto != "SMTP" {
			t.Fatalf("port %d: Connection %v, want ApplicationProto SMTP", port, conn)
		}
		if len(smtp) != 2 || len(creds) != 1 {
			t.Fatalf("port %d: %d SMTP and %d Credentials records, want 2 and 1: %v", port, len(smtp), len(creds), recs)
		}
		a, b := smtp[0], smtp[1]
		if a.Greeting != "mail.example.com ESMTP Postfix" || a.Helo != "client.example" || !a.Ehlo || !a.StartTLSOffered || a.StartTLS {
			t.Errorf("session fields: %q %q %v %v %v", a.Greeting, a.Helo, a.Ehlo, a.StartTLSOffered, a.StartTLS)
		}
		if a.MailFrom != "alice@example.com" || !slices.Equal(a.RcptTo, []string{"bob@example.org", "nobody@example.org"}) || a.DeclaredSize != 900 || a.AuthMechanism != "PLAIN" {
			t.Errorf("envelope: %q %q %d %q", a.MailFrom, a.RcptTo, a.DeclaredSize, a.AuthMechanism)
		}
		wantCmds := []string{"EHLO client.example", "AUTH PLAIN", "MAIL FROM:<alice@example.com> SIZE=900", "RCPT TO:<bob@example.org>", "RCPT TO:<nobody@example.org>", "DATA", "."}
		wantCodes := []int32{250, 235, 250, 250, 550, 354, 250}
		if !slices.Equal(a.Commands, wantCmds) || !slices.Equal(a.ResponseCodes, wantCodes) {
			t.Errorf("commands %q codes %v, want %q %v", a.Commands, a.ResponseCodes, wantCmds, wantCodes)
		}
		m := a.Message
		if m == nil {
			t.Fatal("no message")
		}
		if m.Size != int64(len(smtpMessage)) {
			t.Errorf("message size %d, want %d (dot-stuffing removed)", m.Size, len(smtpMessage))
		}
		if m.From != "Alice <alice@example.com>" || !slices.Equal(m.To, []string{"bob@example.org", "carol@example.org"}) ||
			!slices.Equal(m.Cc, []string{"dave@example.net"}) || m.Subject != "Hello wörld" || m.MessageID != "<1234@example.com>" ||
			m.Date != "Sun, 6 Dec 2026 20:00:00 +0000" || m.UserAgent != "swaks v20201014.0" || m.ContentType != "multipart/mixed" {
			t.Errorf("header fields: %v", m)
		}
		if len(m.Parts) != 2 || m.Parts[0].ContentType != "text/plain" || m.Parts[1].Filename != "report.pdf" ||
			m.Parts[1].ContentType != "application/pdf" || m.Parts[1].Disposition != "attachment" || m.Parts[1].Encoding != "base64" {
			t.Fatalf("parts: %v", m.Parts)
		}
		if want := int64(len("Hello,\r\n.a line that starts with a dot")); m.Parts[0].Size != want || m.Parts[1].Size != 12 {
			t.Errorf("part sizes %d %d, want %d 12", m.Parts[0].Size, m.Parts[1].Size, want)
		}
		if m.Truncated || m.Incomplete || a.Incomplete {
			t.Errorf("Truncated %v Incomplete %v %v", m.Truncated, m.Incomplete, a.Incomplete)
		}
		if !b.Bdat || b.MailFrom != "" || b.Message == nil || b.Message.Subject != "chunked" || b.Message.Size != int64(len(smtpBdat1+smtpBdat2)) || b.Helo != "client.example" {
			t.Errorf("BDAT transaction: %v", b)
		}
		if !slices.Equal(b.ResponseCodes, []int32{250, 250, 250, 250, 221}) || b.Commands[len(b.Commands)-1] != "QUIT" {
			t.Errorf("BDAT transaction commands %q codes %v", b.Commands, b.ResponseCodes)
		}
		c := creds[0]
		if c.User != "alice" || c.Password != "s3cret" || c.Mechanism != "AUTH PLAIN" || c.Result != "accepted" || c.Protocol != "SMTP" ||
			c.Service != "10.0.0.2:"+strconv.Itoa(int(port)) {
			t.Errorf("credentials: %v", c)
		}
		for _, r := range []interface {
			GetFlowID() string
			GetSrcPort() int32
			GetFrameNumber() int64
			GetTimestamp() int64
		}{a, b, c} {
			if r.GetFlowID() != conn.UID || r.GetSrcPort() != 40000 || r.GetFrameNumber() == 0 || r.GetTimestamp() == 0 {
				t.Errorf("context of %v: FlowID %q (Connection %q) SrcPort %d", r, r.GetFlowID(), conn.UID, r.GetSrcPort())
			}
		}
	}
}

// TestSMTPCases: small sessions, each checked for what it must say.
func TestSMTPCases(t *testing.T) {
	login := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name  string
		segs  []streamSeg
		check func(t *testing.T, smtp []*types.SMTP, creds []*types.Credentials)
	}{
		{"STARTTLS stops the reading", []streamSeg{
			{false, []byte("220 mx ESMTP\r\n")}, {true, []byte("EHLO a\r\n")}, {false, []byte("250-mx\r\n250 STARTTLS\r\n")},
			{true, []byte("STARTTLS\r\n")}, {false, []byte("220 2.0.0 Ready to start TLS\r\n")},
			{true, []byte("\x16\x03\x01\x00\x05hello")}, {false, []byte("\x16\x03\x03\x00\x05world")}},
			func(t *testing.T, smtp []*types.SMTP, _ []*types.Credentials) {
				if len(smtp) != 1 || !smtp[0].StartTLS || !smtp[0].StartTLSOffered || len(smtp[0].Commands) != 2 {
					t.Fatalf("%v", smtp)
				}
				if c, s := smtp[0].TLSOffsetClient, smtp[0].TLSOffsetServer; c != int64(len("EHLO a\r\nSTARTTLS\r\n")) ||
					s != int64(len("220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n")) {
					t.Errorf("TLS offsets %d %d", c, s)
				}
			}},
		{"STARTTLS refused goes on", []streamSeg{
			{false, []byte("220 mx ESMTP\r\n")}, {true, []byte("STARTTLS\r\n")}, {false, []byte("454 TLS not available\r\n")},
			{true, []byte("QUIT\r\n")}},
			func(t *testing.T, smtp []*types.SMTP, _ []*types.Credentials) {
				if len(smtp) != 1 || smtp[0].StartTLS || len(smtp[0].Commands) != 2 || smtp[0].ResponseCodes[0] != 454 {
					t.Fatalf("%v", smtp)
				}
			}},
		{"AUTH LOGIN rejected", []streamSeg{
			{false, []byte("220 mx ESMTP\r\n")}, {true, []byte("AUTH LOGIN\r\n")}, {false, []byte("334 VXNlcm5hbWU6\r\n")},
			{true, []byte(login("bob") + "\r\n")}, {false, []byte("334 UGFzc3dvcmQ6\r\n")}, {true, []byte(login("hunter2") + "\r\n")},
			{false, []byte("535 5.7.8 failed\r\n")}, {true, []byte("QUIT\r\n")}, {false, []byte("221 bye\r\n")}},
			func(t *testing.T, smtp []*types.SMTP, creds []*types.Credentials) {
				if len(creds) != 1 || creds[0].User != "bob" || creds[0].Password != "hunter2" || creds[0].Result != "rejected" || creds[0].Mechanism != "AUTH LOGIN" {
					t.Fatalf("%v", creds)
				}
				if len(smtp) != 1 || !slices.Equal(smtp[0].Commands, []string{"AUTH LOGIN", "QUIT"}) || !slices.Equal(smtp[0].ResponseCodes, []int32{535, 221}) {
					t.Fatalf("%v", smtp)
				}
			}},
		{"DATA rejected: the next lines are commands", []streamSeg{
			{false, []byte("220 mx ESMTP\r\n")}, {true, []byte("MAIL FROM:<a@b>\r\n")}, {false, []byte("250 ok\r\n")},
			{true, []byte("DATA\r\n")}, {false, []byte("554 no valid recipients\r\n")}, {true, []byte("RSET\r\nQUIT\r\n")},
			{false, []byte("250 ok\r\n221 bye\r\n")}},
			func(t *testing.T, smtp []*types.SMTP, _ []*types.Credentials) {
				if len(smtp) != 2 || smtp[0].Message != nil || !slices.Equal(smtp[0].Commands, []string{"MAIL FROM:<a@b>", "DATA", "RSET"}) ||
					!slices.Equal(smtp[0].ResponseCodes, []int32{250, 554, 250}) || !slices.Equal(smtp[1].Commands, []string{"QUIT"}) {
					t.Fatalf("%v", smtp)
				}
			}},
		{"greeting only, any case", []streamSeg{{false, []byte("220-first line\r\n220 second ESMTP line\r\n")}, {true, []byte("helo x\r\n")}},
			func(t *testing.T, smtp []*types.SMTP, _ []*types.Credentials) {
				if len(smtp) != 1 || smtp[0].Greeting != "first line" || smtp[0].Helo != "x" || smtp[0].Ehlo || smtp[0].ResponseCodes[0] != 0 {
					t.Fatalf("%v", smtp)
				}
			}},
		{"connection ends after DATA, before any message byte", []streamSeg{
			{true, []byte("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\n")}, {false, []byte("250 a\r\n250 b\r\n354 go\r\n")}},
			func(t *testing.T, smtp []*types.SMTP, _ []*types.Credentials) {
				if len(smtp) != 1 || smtp[0].Message != nil || smtp[0].Incomplete || !slices.Equal(smtp[0].ResponseCodes, []int32{250, 250, 354}) {
					t.Fatalf("%v", smtp)
				}
			}},
		{"connection ends inside DATA", []streamSeg{
			{true, []byte("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\n")}, {true, []byte("Subject: cut\r\n\r\nbody")}},
			func(t *testing.T, smtp []*types.SMTP, _ []*types.Credentials) {
				if len(smtp) != 1 || smtp[0].Message == nil || !smtp[0].Message.Incomplete || !smtp[0].Incomplete || smtp[0].Message.Subject != "cut" {
					t.Fatalf("%v", smtp)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, conn := streamRun(t, 587, true, c.segs)
			if conn.ApplicationProto != "SMTP" {
				t.Fatalf("ApplicationProto %q", conn.ApplicationProto)
			}
			smtp, creds := smtpRecords(recs)
			c.check(t, smtp, creds)
		})
	}
}

func TestSMTPDetect(t *testing.T) {
	for _, c := range []struct {
		first  string
		client bool
		want   Detection
	}{
		{"220 mail.example.com ESMTP Postfix\r\n", false, DetectYes},
		{"220-mx.example.com ESMTP\r\n220-x\r\n", false, DetectYes},
		{"220-banner\r\n220 mx Microsoft ESMTP MAIL Service ready\r\n", false, DetectYes},
		{"220 (vsFTPd 3.0.3)\r\n", false, DetectMore}, // FTP, or an SMTP server that does not say so: the client decides
		{"220 ProFTPD Server", false, DetectMore},
		{"22", false, DetectMore},
		{"230 x", false, DetectNo},
		{"EHLO x\r\n", true, DetectYes},
		{"helo x\r\n", true, DetectYes},
		{"EH", true, DetectMore},
		{"GET / HTTP/1.1\r\n", true, DetectNo},
	} {
		if got := detectSMTP([]byte(c.first), c.client, nil); got != c.want {
			t.Errorf("%q client %v: %v, want %v", c.first, c.client, got, c.want)
		}
	}
}

// TestSMTPSplitEverywhere: the session cut into one-byte segments gives
// the same records.
func TestSMTPSplitEverywhere(t *testing.T) { checkSplitEverywhere(t, 25, smtpSession()) }

// TestSMTPHostile: an endless DATA, endless lines and a MIME bomb stay
// within the bounds.
func TestSMTPHostile(t *testing.T) {
	p := &smtpParser{}
	conn := &ConnInfo{}
	s := &recordSink{}
	p.Feed(&Chunk{FromClient: true, Data: []byte("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\n")}, conn, s)
	// 256 MiB of DATA: a header line that never ends, then body lines.
	block := bytes.Repeat([]byte("x"), 1<<20)
	for range 128 {
		p.Feed(&Chunk{FromClient: true, Data: block}, conn, s)
	}
	lines := bytes.Repeat([]byte("yyyyyyyyyyyyyyy\r\n"), 1<<16)
	p.Feed(&Chunk{FromClient: true, Data: []byte("\r\n\r\n")}, conn, s)
	for range 128 {
		p.Feed(&Chunk{FromClient: true, Data: lines}, conn, s)
	}
	m := p.cur.msg
	if cap(m.line) > mailMaxHeader+1<<20 || cap(m.hdr) > 2*mailMaxHeader {
		t.Errorf("held %d line and %d header bytes", cap(m.line), cap(m.hdr))
	}
	p.Feed(&Chunk{FromClient: true, Data: []byte("\r\n.\r\n")}, conn, s)
	p.Close(conn, s)
	smtp, _ := smtpRecords(s.recs)
	if len(smtp) != 1 || smtp[0].Message == nil || !smtp[0].Message.Truncated || smtp[0].Message.Size < 256<<20 {
		t.Fatalf("endless DATA: %v", smtp)
	}

	// A MIME bomb: 100 nested multiparts, then 1000 parts.
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := range 100 {
		b.WriteString("--b" + strconv.Itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i+1) + "\r\n\r\n")
	}
	for range 1000 {
		b.WriteString("--b" + strconv.Itoa(7) + "\r\nContent-Type: text/plain\r\n\r\nx\r\n")
	}
	mr := newMailReader()
	mr.Write([]byte(b.String()))
	msg := mr.Finish(false)
	if len(msg.Parts) > mailMaxParts || !msg.Truncated || len(mr.bounds) > mailMaxDepth {
		t.Errorf("MIME bomb: %d parts, Truncated %v", len(msg.Parts), msg.Truncated)
	}
	if _, err := proto.Marshal(msg); err != nil {
		t.Error(err)
	}

	// Command lines without an end, and a BDAT of 2^62 bytes.
	p = &smtpParser{}
	p.Feed(&Chunk{FromClient: true, Data: []byte("EHLO ")}, conn, s)
	for range 64 {
		p.Feed(&Chunk{FromClient: true, Data: block}, conn, s)
	}
	if cap(p.cli.buf) > mailMaxCmdLine+1<<20 {
		t.Errorf("a command line held %d bytes", cap(p.cli.buf))
	}
	p.Feed(&Chunk{FromClient: true, Data: []byte("\r\nBDAT 4611686018427387904 LAST\r\n")}, conn, s)
	for range 16 {
		p.Feed(&Chunk{FromClient: true, Data: block}, conn, s)
	}
	if p.mode != smtpBdat || p.cur.msg.msg.Size != 16<<20 {
		t.Errorf("BDAT: mode %d, size %d", p.mode, p.cur.msg.msg.Size)
	}
}

func FuzzSMTP(f *testing.F) {
	for _, sg := range smtpSession() {
		f.Add(sg.data, sg.client)
	}
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		p := &smtpParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{FromClient: false, Data: []byte("220 x ESMTP\r\n")}, conn, s)
		p.Feed(&Chunk{FromClient: true, Data: []byte("EHLO x\r\nMAIL FROM:<a@b>\r\nDATA\r\n")}, conn, s)
		half := len(data) / 2
		p.Feed(&Chunk{FromClient: client, Data: data[:half]}, conn, s)
		p.Feed(&Chunk{FromClient: !client, Data: data[half:]}, conn, s)
		p.Feed(&Chunk{FromClient: client, Data: data}, conn, s)
		p.Close(conn, s)
		for _, m := range s.recs {
			if _, err := proto.Marshal(m); err != nil {
				t.Fatalf("record does not marshal: %v", err)
			}
		}
	})
}

// smtpTsharkCommand writes a command as Wireshark splits it: the first
// four bytes are the command, the parameter starts after the fifth
// ("STARTTLS" is command "STAR", parameter "TLS").
func smtpTsharkCommand(cmd string) string {
	if len(cmd) <= 5 {
		return strings.TrimSpace(cmd)
	}
	return cmd[:4] + " " + cmd[5:]
}

// mailCapture decodes a capture file with the mail records (SMTP, POP3,
// IMAP, Credentials) and Connection on, timeouts off, and returns them.
func mailCapture(t *testing.T, path string) []proto.Message {
	t.Helper()
	opts := DefaultOptions()
	opts.ConnTimeout, opts.FlowTimeout = 0, 0
	d := NewPacketDecoder(func(tt types.Type) bool {
		switch tt {
		case types.Type_NC_SMTP, types.Type_NC_POP3, types.Type_NC_IMAP, types.Type_NC_Credentials, types.Type_NC_HTTP:
			return true
		}
		return false
	}, opts)
	s := &recordSink{}
	frame := int64(0)
	eachPacket(path, 1<<20, func(b []byte, link layers.LinkType) {
		frame++
		meta := Packet{Frame: frame, CaptureLength: len(b), Length: len(b)}
		d.Decode(b, link, &meta, s)
	})
	d.Flush(s)
	return s.recs
}

// tsharkRows runs tshark with the fields and filter and returns the rows,
// columns split at "|", multiple values joined by ";".
func tsharkRows(t *testing.T, path, filter string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", path, "-n", "-T", "fields", "-E", "separator=|", "-E", "aggregator=;", "-Y", filter}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("%s: tshark: %v", path, err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows
}

// endsOpen reports whether a segment (tshark's hex of tcp.payload) ends in
// a line of a multi-line reply that more lines follow ("250-SIZE").
func endsOpen(payload string) bool {
	b, err := hex.DecodeString(payload)
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	last := lines[len(lines)-1]
	return len(last) > 3 && last[3] == '-'
}

// smtpKnown are the differences from tshark (Wireshark 4.0) on the shared
// captures, each checked by hand in the capture's bytes (tshark -z follow):
// key capture and field.
var smtpKnown = map[string]string{
	"suricata-verify/bug-1045__smtpsuricataflowbitsFN.pcap commands": "the client's QUIT is in the segment of DATA's final dot; " +
		"tshark shows no command after the dot in one segment",
	"suricata-verify/smtp-bdat-bad-tail-next-mail__input.pcap commands": "tshark shows no command for a segment holding a BDAT line " +
		"and its chunk (BDAT 221 LAST), nor the commands after it",
	"suricata-verify/smtp-bdat-last-next-mail__input.pcap commands":        "tshark shows no command for a segment holding BDAT 221 LAST and its chunk",
	"suricata-verify/smtp-bdat-multichunk-inspection__input.pcap commands": "tshark shows no command for segments holding BDAT lines and their chunks",
	"suricata-verify/smtp-bdat-pipelined-next-mail__input.pcap commands": "tshark shows no command for segments holding BDAT lines and their chunks, " +
		"nor the pipelined MAIL, RCPT and DATA after them",
	"suricata-verify/smtp-bug-5989__input.pcap commands": "the server's side is not in the capture; tshark reads the two AUTH LOGIN " +
		"responses (base64 user and password) as commands, netcap as the AUTH exchange they are",
	"suricata-verify/smtp-ehlo-reset-after-rejected-data__input.pcap commands": "the server refused DATA (503); tshark takes " +
		"everything after the DATA line as message, netcap reads the next commands",
	"suricata-verify/smtp-ehlo-reset-after-rejected-data__input.pcap imf.from": "the same capture: tshark shows no message, " +
		"netcap the one sent after the second DATA's 354",
	"suricata-verify/smtp-errors__smtperr.pcap reply codes": "the client sent 1 KiB of binary before the greeting; netcap " +
		"chose SMTP at the greeting, so these bytes are not read and the 500 replies to them have no command to pair with",
	"suricata-verify/smtp-pipelined-rset-data-replies__input.pcap commands": "RSET, DATA and the final dot pipelined in one " +
		"segment: tshark shows only the first line of a segment as command",
	"suricata-verify/smtp-pipelining__input.pcap commands": "MAIL, RCPT, DATA and the message sent in one segment before " +
		"the 354: tshark takes the whole segment as message",
	"suricata-verify/smtp-quit__input.pcap commands": "the connection holds a lone QUIT: netcap detects SMTP by content (a " +
		"greeting or HELO/EHLO), tshark by port 25",
	"suricata-verify/smtp-rset-starttls__input.pcap commands": "\"rset\\nstaRttLs\\n\" in one segment with bare line feeds: " +
		"tshark shows \"RSET tLs\" and \"STAR\", netcap RSET and STARTTLS",
}

// smtpFewer are the captures of smtpKnown where tshark does not merely show
// fewer commands than netcap: it reads some lines otherwise, or netcap does
// not read the connection.
var smtpFewer = map[string]bool{
	"suricata-verify/smtp-quit__input.pcap":          true,
	"suricata-verify/smtp-bug-5989__input.pcap":      true,
	"suricata-verify/smtp-rset-starttls__input.pcap": true,
}

// isSubsequence says whether every element of sub is in seq, in order.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, x := range seq {
		if i < len(sub) && sub[i] == x {
			i++
		}
	}
	return i == len(sub)
}

// TestSMTPMatchesTshark compares, per connection, the client's commands
// (verb and parameter), the server's reply codes and the message header
// fields with tshark's smtp.req.*, smtp.response.code and imf.* fields.
func TestSMTPMatchesTshark(t *testing.T) {
	files := corpusWith(t, "smtp")
	compared, records, mismatches, explained := 0, 0, 0, 0
	used := map[string]bool{}
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		// Only SMTP's frames: tshark also shows imf in IMAP and POP3.
		rows := tsharkRows(t, path, "smtp", "tcp.srcport", "tcp.dstport", "smtp.req.command", "smtp.req.parameter",
			"smtp.response.code", "imf.from", "imf.to", "imf.subject", "imf.message_id", "imf.date", "smtp.data.fragment", "tcp.payload")
		type conn struct {
			cmds, codes []string
			msgs        [][5]string
		}
		want := map[string]*conn{} // by client port
		open := map[string]bool{}  // by client port: the server's last line was "ddd-"
		get := func(k string) *conn {
			if want[k] == nil {
				want[k] = &conn{}
			}
			return want[k]
		}
		for _, c := range rows {
			if len(c) < 12 {
				continue
			}
			if c[2] != "" {
				w := get(c[0])
				verbs, params := strings.Split(c[2], ";"), strings.Split(c[3], ";")
				for i, v := range verbs {
					cmd := strings.ToUpper(v)
					if i < len(params) && params[i] != "" {
						cmd += " " + params[i]
					}
					w.cmds = append(w.cmds, cmd)
				}
			}
			// tshark gives a reply code per segment (the first line's),
			// netcap one per reply: a segment that continues a reply the
			// last one left open ("250-SIZE" as its last line) adds none.
			codes := strings.Split(c[4], ";")
			if c[4] != "" {
				if open[c[1]] {
					codes = nil
				}
				open[c[1]] = endsOpen(c[11])
			}
			for _, code := range codes {
				// A 334 is a step of an AUTH exchange; netcap keeps the
				// exchange's final reply only.
				if code != "" && code != "334" {
					w := get(c[1])
					w.codes = append(w.codes, code)
				}
			}
			if c[5]+c[6]+c[7]+c[8]+c[9] != "" {
				w := get(c[0])
				w.msgs = append(w.msgs, [5]string{c[5], c[6], c[7], c[8], c[9]})
			}
		}
		got := map[string]*conn{}
		for _, m := range mailCapture(t, path) {
			r, ok := m.(*types.SMTP)
			if !ok {
				continue
			}
			records++
			k := strconv.Itoa(int(r.SrcPort))
			g := got[k]
			if g == nil {
				g = &conn{}
				got[k] = g
			}
			if r.Greeting != "" && len(g.codes) == 0 {
				g.codes = append(g.codes, "220") // tshark counts the greeting as a reply
			}
			for i, cmd := range r.Commands {
				if cmd != "." {
					g.cmds = append(g.cmds, smtpTsharkCommand(cmd))
				}
				if r.ResponseCodes[i] != 0 {
					g.codes = append(g.codes, strconv.Itoa(int(r.ResponseCodes[i])))
				}
			}
			if m := r.Message; m != nil && (m.From != "" || len(m.To) > 0 || m.Subject != "" || m.MessageID != "" || m.Date != "") {
				g.msgs = append(g.msgs, [5]string{m.From, strings.Join(m.To, ","), m.Subject, m.MessageID, m.Date})
			}
		}
		for k, w := range want {
			g := got[k]
			if g == nil {
				g = &conn{}
			}
			diff := func(field, got, want string) {
				compared++
				if got == want {
					return
				}
				if why, ok := smtpKnown[name+" "+field]; ok {
					explained++
					used[name+" "+field] = true
					t.Logf("%s client port %s: %s differs, known: %s", name, k, field, why)
					return
				}
				mismatches++
				t.Errorf("%s client port %s: %s\n  netcap %q\n  tshark %q", name, k, field, got, want)
			}
			diff("commands", strings.Join(g.cmds, " | "), strings.Join(w.cmds, " | "))
			if _, ok := smtpKnown[name+" commands"]; ok && !smtpFewer[name] {
				// Where tshark shows fewer commands, those it shows are
				// still netcap's, in order.
				compared++
				if !isSubsequence(w.cmds, g.cmds) {
					mismatches++
					t.Errorf("%s client port %s: tshark's commands %q are not a subsequence of netcap's %q", name, k, w.cmds, g.cmds)
				}
			}
			diff("reply codes", strings.Join(g.codes, ","), strings.Join(w.codes, ","))
			for i, wm := range w.msgs {
				var gm [5]string
				if i < len(g.msgs) {
					gm = g.msgs[i]
				}
				diff("imf.from", gm[0], wm[0])
				// tshark shows the To field as sent; netcap its addresses.
				missing := ""
				for _, a := range strings.Split(gm[1], ",") {
					if !strings.Contains(wm[1], a) {
						missing += a + " "
					}
				}
				diff("imf.to holds the addresses", missing, "")
				diff("imf.subject", gm[2], wm[2])
				diff("imf.message_id", gm[3], wm[3])
				diff("imf.date", gm[4], wm[4])
			}
		}
	}
	for k := range smtpKnown {
		if !used[k] && knownFor(k, " ", files) {
			t.Errorf("known difference %q no longer seen: remove it", k)
		}
	}
	t.Logf("%d captures, %d SMTP records, %d fields compared with tshark, %d mismatches, %d known differences",
		len(files), records, compared, mismatches, explained)
	if records == 0 {
		t.Error("no SMTP record compared")
	}
}

// TestSMTPStartTLSOffsets: on the shared capture of a STARTTLS session, the
// offsets the record gives point, in each direction's bytes as tshark shows
// them, at a TLS handshake record right after the STARTTLS exchange.
func TestSMTPStartTLSOffsets(t *testing.T) {
	const name = "suricata-verify/smtp-startssl__input.pcap"
	path := filepath.Join(corpusDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared capture absent: %v", err)
	}
	var r *types.SMTP
	for _, m := range mailCapture(t, path) {
		if x, ok := m.(*types.SMTP); ok && x.StartTLS {
			r = x
		}
	}
	if r == nil {
		t.Fatalf("%s: no SMTP record with StartTLS", name)
	}
	side := func(src int32) []byte {
		rows := tsharkRows(t, path, "tcp.srcport=="+strconv.Itoa(int(src))+" && tcp.len>0 && !tcp.analysis.retransmission", "tcp.payload")
		var b []byte
		for _, c := range rows {
			h, err := hex.DecodeString(strings.ReplaceAll(c[0], ":", ""))
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, h...)
		}
		return b
	}
	cli, srv := side(r.SrcPort), side(r.DstPort)
	for _, c := range []struct {
		name   string
		b      []byte
		off    int64
		before string
	}{{"client", cli, r.TLSOffsetClient, "STARTTLS"}, {"server", srv, r.TLSOffsetServer, "220 "}} {
		// the last line before the offset: the STARTTLS command, its 220 reply
		var last string
		if c.off > 0 && c.off <= int64(len(c.b)) {
			lines := strings.Split(strings.TrimSuffix(string(c.b[:c.off]), "\r\n"), "\r\n")
			last = lines[len(lines)-1]
		}
		if c.off <= 0 || c.off >= int64(len(c.b)) || c.b[c.off] != 0x16 || !strings.HasPrefix(strings.ToUpper(last), c.before) {
			t.Errorf("%s: TLS offset %d of %d bytes does not start a handshake record after %q", c.name, c.off, len(c.b), c.before)
		}
	}
	t.Logf("TLS starts at byte %d of the client's stream and %d of the server's", r.TLSOffsetClient, r.TLSOffsetServer)
}
