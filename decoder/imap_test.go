package decoder

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

const imapMessage = "From: Erin <erin@example.com>\r\nTo: frank@example.com\r\nSubject: photos\r\n" +
	"Message-ID: <i1@example.com>\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n" +
	"--q\r\nContent-Type: image/jpeg; name=a.jpg\r\n\r\n/9j/\r\n--q--\r\n"

const imapHeader = "Subject: header only\r\nFrom: g@example.com\r\n\r\n"

func imapSession() []streamSeg {
	return []streamSeg{
		{false, []byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n")},
		{true, []byte("a1 CAPABILITY\r\n")},
		{false, []byte("* CAPABILITY IMAP4rev1 LITERAL+\r\na1 OK done\r\n")},
		{true, []byte("a2 LOGIN {5+}\r\nfrank \"pa\\\"ss\"\r\n")}, // a literal user and a quoted password with an escape
		{false, []byte("a2 OK Logged in\r\n")},
		{true, []byte("a3 SELECT INBOX\r\n")},
		{false, []byte("* 2 EXISTS\r\na3 OK [READ-WRITE] Select completed.\r\n")},
		{true, []byte("a4 FETCH 1 BODY.PEEK[]\r\na5 UID FETCH 2 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])\r\n")},
		{false, []byte("* 1 FETCH (BODY[] {" + strconv.Itoa(len(imapMessage)) + "}\r\n" + imapMessage + ")\r\na4 OK Fetch completed.\r\n" +
			"* 2 FETCH (UID 9 BODY[HEADER] {" + strconv.Itoa(len(imapHeader)) + "}\r\n" + imapHeader + " BODY[TEXT] {4}\r\nbody)\r\na5 OK done\r\n")},
		{true, []byte("a6 EXAMINE \"Sent Items\"\r\na7 LOGOUT\r\n")},
		{false, []byte("a6 NO no such mailbox\r\n* BYE\r\na7 OK bye\r\n")},
	}
}

func imapRecords(recs []proto.Message) ([]*types.IMAP, []*types.Credentials) {
	var out []*types.IMAP
	var creds []*types.Credentials
	for _, m := range recs {
		switch r := m.(type) {
		case *types.IMAP:
			out = append(out, r)
		case *types.Credentials:
			creds = append(creds, r)
		}
	}
	return out, creds
}

func TestIMAPSession(t *testing.T) {
	for _, port := range []uint16{143, 10143} {
		recs, conn := streamRun(t, port, true, imapSession())
		im, creds := imapRecords(recs)
		if conn.ApplicationProto != "IMAP" || len(im) != 1 || len(creds) != 1 {
			t.Fatalf("port %d: %q, %d IMAP and %d Credentials records: %v", port, conn.ApplicationProto, len(im), len(creds), recs)
		}
		r := im[0]
		wantCmds := []string{"CAPABILITY", "LOGIN frank", "SELECT INBOX", "FETCH 1 BODY.PEEK[]", "UID FETCH 2 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])",
			"EXAMINE \"Sent Items\"", "LOGOUT"}
		wantResp := []string{"OK", "OK", "OK", "OK", "OK", "NO", "OK"}
		if !slices.Equal(r.Commands, wantCmds) || !slices.Equal(r.Responses, wantResp) {
			t.Errorf("commands %q responses %q", r.Commands, r.Responses)
		}
		if r.User != "frank" || !slices.Equal(r.Mailboxes, []string{"INBOX", "Sent Items"}) || r.Greeting != "OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready." {
			t.Errorf("session: %v", r)
		}
		if len(r.Messages) != 2 {
			t.Fatalf("%d messages: %v", len(r.Messages), r.Messages)
		}
		m := r.Messages[0]
		if m.Size != int64(len(imapMessage)) || m.Subject != "photos" || len(m.Parts) != 1 || m.Parts[0].Filename != "a.jpg" {
			t.Errorf("BODY[] message: %v", m)
		}
		if r.Messages[1].Subject != "header only" || r.Messages[1].From != "g@example.com" {
			t.Errorf("BODY[HEADER] message: %v", r.Messages[1])
		}
		c := creds[0]
		if c.User != "frank" || c.Password != "pa\"ss" || c.Mechanism != "LOGIN" || c.Result != "accepted" || c.FlowID != conn.UID || c.Protocol != "IMAP" {
			t.Errorf("credentials: %v", c)
		}
		if r.FlowID != conn.UID || r.SrcPort != 40000 || r.FrameNumber == 0 || r.Timestamp == 0 {
			t.Errorf("context: %v", r)
		}
	}
}

func TestIMAPCases(t *testing.T) {
	plain := base64.StdEncoding.EncodeToString([]byte("\x00henry\x00pw"))
	cases := []struct {
		name  string
		segs  []streamSeg
		check func(t *testing.T, r *types.IMAP, creds []*types.Credentials)
	}{
		{"AUTHENTICATE PLAIN after a continuation", []streamSeg{{false, []byte("* OK ready\r\n")}, {true, []byte("x AUTHENTICATE PLAIN\r\n")},
			{false, []byte("+ \r\n")}, {true, []byte(plain + "\r\n")}, {false, []byte("x NO [AUTHENTICATIONFAILED]\r\n")}},
			func(t *testing.T, r *types.IMAP, creds []*types.Credentials) {
				if len(creds) != 1 || creds[0].User != "henry" || creds[0].Password != "pw" || creds[0].Result != "rejected" ||
					creds[0].Mechanism != "AUTHENTICATE PLAIN" || !slices.Equal(r.Commands, []string{"AUTHENTICATE PLAIN"}) {
					t.Fatalf("%v %v", r, creds)
				}
			}},
		{"AUTHENTICATE PLAIN with an initial response", []streamSeg{{true, []byte("y AUTHENTICATE PLAIN " + plain + "\r\n")}, {false, []byte("y OK\r\n")}},
			func(t *testing.T, r *types.IMAP, creds []*types.Credentials) {
				if len(creds) != 1 || creds[0].User != "henry" || creds[0].Result != "accepted" {
					t.Fatalf("%v %v", r, creds)
				}
			}},
		{"STARTTLS", []streamSeg{{false, []byte("* OK ready\r\n")}, {true, []byte("s STARTTLS\r\n")}, {false, []byte("s OK Begin TLS\r\n")},
			{true, []byte("\x16\x03\x01\x00\x05hello")}},
			func(t *testing.T, r *types.IMAP, _ []*types.Credentials) {
				if !r.StartTLS || len(r.Commands) != 1 {
					t.Fatalf("%v", r)
				}
			}},
		{"IDLE and a literal APPEND", []streamSeg{{false, []byte("* PREAUTH hi\r\n")}, {true, []byte("i IDLE\r\n")}, {false, []byte("+ idling\r\n")},
			{true, []byte("DONE\r\n")}, {false, []byte("i OK\r\n")}, {true, []byte("p APPEND INBOX {6+}\r\nhello!\r\n")}, {false, []byte("p OK\r\n")}},
			func(t *testing.T, r *types.IMAP, _ []*types.Credentials) {
				if !slices.Equal(r.Commands, []string{"IDLE", "APPEND INBOX {6+}"}) || !slices.Equal(r.Responses, []string{"OK", "OK"}) || r.Greeting != "PREAUTH hi" {
					t.Fatalf("%v", r)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, conn := streamRun(t, 143, true, c.segs)
			im, creds := imapRecords(recs)
			if conn.ApplicationProto != "IMAP" || len(im) != 1 {
				t.Fatalf("%q: %v", conn.ApplicationProto, recs)
			}
			c.check(t, im[0], creds)
		})
	}
}

func TestIMAPDetect(t *testing.T) {
	for _, c := range []struct {
		first  string
		client bool
		want   Detection
	}{
		{"* OK IMAP4rev1 ready\r\n", false, DetectYes},
		{"* PREAUTH x\r\n", false, DetectYes},
		{"* O", false, DetectMore},
		{"+OK POP3\r\n", false, DetectNo},
		{"a001 CAPABILITY\r\n", true, DetectYes},
		{"A1 login u p\r\n", true, DetectYes},
		{"a001", true, DetectMore},
		{"a001 CAPA", true, DetectMore},
		{"GET / HTTP/1.1\r\n", true, DetectNo},
		{"a1 NOOP\r\n", true, DetectNo},
	} {
		if got := detectIMAP([]byte(c.first), c.client, nil); got != c.want {
			t.Errorf("%q client %v: %v, want %v", c.first, c.client, got, c.want)
		}
	}
}

func TestIMAPSplitEverywhere(t *testing.T) { checkSplitEverywhere(t, 143, imapSession()) }

// TestIMAPHostile: a literal of 2^62 bytes, endless lines and endless
// commands stay within the bounds.
func TestIMAPHostile(t *testing.T) {
	p := &imapParser{}
	conn := &ConnInfo{}
	s := &recordSink{}
	p.Feed(&Chunk{FromClient: true, Data: []byte("a FETCH 1 BODY[]\r\n")}, conn, s)
	p.Feed(&Chunk{Data: []byte("* 1 FETCH (BODY[] {4611686018427387904}\r\nSubject: big\r\n\r\n")}, conn, s)
	block := bytes.Repeat([]byte("z"), 1<<20)
	for range 64 {
		p.Feed(&Chunk{Data: block}, conn, s)
	}
	if p.srvMsg == nil || cap(p.srvMsg.line) > mailMaxLine+1<<20 {
		t.Fatal("the literal is not read as a message, or its line is held")
	}
	p.Feed(&Chunk{FromClient: true, Data: []byte("b LOGIN {999999999}\r\n")}, conn, s)
	for range 16 {
		p.Feed(&Chunk{FromClient: true, Data: block}, conn, s)
	}
	if len(p.litKeep) > imapMaxLiteralKept {
		t.Errorf("a client literal kept %d bytes", len(p.litKeep))
	}
	p = &imapParser{}
	for i := range 100000 {
		p.Feed(&Chunk{FromClient: true, Data: []byte("t" + strconv.Itoa(i) + " NOOP\r\n")}, conn, s)
	}
	if len(p.r.Commands) > mailMaxList || len(p.pending) > mailMaxList {
		t.Errorf("%d commands, %d pending", len(p.r.Commands), len(p.pending))
	}
	p.Feed(&Chunk{FromClient: true, Data: []byte("x ")}, conn, s)
	for range 16 {
		p.Feed(&Chunk{FromClient: true, Data: block}, conn, s)
	}
	if cap(p.cli.buf) > mailMaxCmdLine+1<<20 || cap(p.cmdText) > 2*mailMaxCmdLine {
		t.Errorf("held %d and %d bytes of a command", cap(p.cli.buf), cap(p.cmdText))
	}
}

// TestIMAPMatchesTshark compares, per connection, the client's commands
// with tshark's imap.request (tag removed), the completion results with
// imap.response.status, and the fetched messages' imf fields.
func TestIMAPMatchesTshark(t *testing.T) {
	files := corpusWith(t, "imap")
	compared, records := 0, 0
	unfold := regexp.MustCompile(`(\\r\\n)+( |\\t)+`) // tshark writes CR, LF and tab as \r \n \t
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		rows := tsharkRows(t, path, "imap", // imf of IMAP frames only, not SMTP's
			"tcp.srcport", "tcp.dstport", "imap.request", "imap.request_tag",
			"imap.response.status", "imf.from", "imf.subject", "imf.message_id")
		type conn struct{ cmds, resp, msgs []string }
		want := map[string]*conn{}
		get := func(k string) *conn {
			if want[k] == nil {
				want[k] = &conn{}
			}
			return want[k]
		}
		for _, c := range rows {
			if len(c) < 8 {
				continue
			}
			if c[2] != "" {
				cmd := strings.TrimPrefix(c[2], c[3]+" ")
				verb, arg, _ := strings.Cut(cmd, " ")
				verb = strings.ToUpper(verb)
				if verb == "LOGIN" || verb == "AUTHENTICATE" {
					// netcap keeps the user or the mechanism only (the
					// password or the SASL initial response is in
					// Credentials).
					if tok := imapTokens(arg); len(tok) > 0 {
						arg = tok[0]
						if verb == "AUTHENTICATE" {
							arg = strings.ToUpper(arg)
						}
					}
				}
				get(c[0]).cmds = append(get(c[0]).cmds, strings.TrimSpace(verb+" "+arg))
			}
			if c[4] != "" {
				get(c[1]).resp = append(get(c[1]).resp, strings.Split(c[4], ";")...)
			}
			// imf values of one frame are aggregated with ";" per field.
			from, subj, id := strings.Split(c[5], ";"), strings.Split(c[6], ";"), strings.Split(c[7], ";")
			for i := range from {
				if c[5]+c[6]+c[7] == "" {
					break
				}
				at := func(l []string) string {
					if i < len(l) {
						// netcap (net/textproto) trims the white space around a value.
						return strings.TrimSpace(unfold.ReplaceAllString(l[i], " "))
					}
					return ""
				}
				get(c[1]).msgs = append(get(c[1]).msgs, at(from)+"|"+at(subj)+"|"+at(id))
			}
		}
		got := map[string]*conn{}
		for _, m := range mailCapture(t, path) {
			r, ok := m.(*types.IMAP)
			if !ok {
				continue
			}
			records++
			g := &conn{cmds: r.Commands}
			for _, x := range r.Responses {
				if x != "" {
					g.resp = append(g.resp, x)
				}
			}
			for _, m := range r.Messages {
				g.msgs = append(g.msgs, m.From+"|"+m.Subject+"|"+m.MessageID)
			}
			got[strconv.Itoa(int(r.SrcPort))] = g
		}
		for k, w := range want {
			g := got[k]
			if g == nil {
				g = &conn{}
			}
			diff := func(field, got, want string) {
				compared++
				if got != want {
					t.Errorf("%s client port %s: %s\n  netcap %q\n  tshark %q", captureLabel(name), k, field, got, want)
				}
			}
			diff("commands", strings.Join(g.cmds, " | "), strings.Join(w.cmds, " | "))
			diff("completion results", strings.Join(g.resp, ","), strings.Join(w.resp, ","))
			diff("messages", strconv.Itoa(len(g.msgs)), strconv.Itoa(len(w.msgs)))
			for i, wm := range w.msgs {
				gm := ""
				if i < len(g.msgs) {
					gm = g.msgs[i]
				}
				diff("message "+strconv.Itoa(i)+" imf.from|subject|message_id", gm, wm)
			}
		}
	}
	t.Logf("%d captures, %d IMAP records, %d fields compared with tshark", len(files), records, compared)
	if records == 0 {
		t.Error("no IMAP record compared")
	}
}

func FuzzIMAP(f *testing.F) {
	for _, sg := range imapSession() {
		f.Add(sg.data, sg.client)
	}
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		p := &imapParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{Data: []byte("* OK\r\n")}, conn, s)
		p.Feed(&Chunk{FromClient: true, Data: []byte("a LOGIN u p\r\nb FETCH 1 BODY[]\r\n")}, conn, s)
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
