package decoder

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

// telnetSession is a session as inetutils telnetd and the telnet client
// give it (services.pcap): option negotiation both ways, a failed login
// typed one character per segment with a typo corrected by backspace, then
// a successful one typed a line at a time.
func telnetSession() []streamSeg {
	iac := func(b ...byte) []byte { return append([]byte{telnetIAC}, b...) }
	var segs []streamSeg
	add := func(client bool, b ...[]byte) { segs = append(segs, streamSeg{client, bytes.Join(b, nil)}) }
	add(false, iac(253, 24), iac(253, 32), iac(251, 1), iac(251, 3)) // DO TTYPE, DO TSPEED, WILL ECHO, WILL SGA
	add(true, iac(251, 24), iac(252, 32), iac(253, 1), iac(253, 3))
	add(false, iac(250, 24, 1), iac(240)) // SB TTYPE SEND SE
	add(true, iac(250, 24, 0), []byte("XTERM"), iac(240))
	add(false, []byte("host login: "))
	for _, ch := range []byte("bp\x7fob\r\x00") {
		add(true, []byte{ch})
		if ch >= ' ' && ch < 127 {
			add(false, []byte{ch}) // the echo
		}
	}
	add(false, []byte("\r\nPassword: "))
	add(true, []byte("hunter2\r\n"))
	add(false, []byte("\r\n"))
	add(false, []byte("Login incorrect\r\nhost login: "))
	add(true, []byte("alice\r\n"))
	add(false, []byte("alice\r\nPassword: "))
	add(true, []byte("se\xff\xffcret\r\n")) // an escaped 0xFF in the password
	add(false, []byte("\r\nLast login: Mon Nov 23 10:00:00 on pts/0\r\nalice@host:~$ "))
	add(true, []byte("exit\r\n"))
	return segs
}

// TestTelnet reads the two logins of the session with their verdicts.
func TestTelnet(t *testing.T) {
	recs, conn := streamRun(t, 23, true, telnetSession())
	if conn == nil || conn.ApplicationProto != "Telnet" {
		t.Fatalf("connection %v", conn)
	}
	var got []string
	for _, m := range recs {
		if c, ok := m.(*types.Credentials); ok {
			got = append(got, c.Protocol+" "+c.Mechanism+" "+c.User+"/"+c.Password+" "+c.Result+" "+c.Service)
		}
	}
	want := []string{
		"Telnet login prompt bob/hunter2 rejected 10.0.0.2:23",
		"Telnet login prompt alice/se\xffcret accepted 10.0.0.2:23",
	}
	for i := range want {
		want[i] = strings.ToValidUTF8(want[i], "\uFFFD")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("credentials:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTelnetSplitEverywhere(t *testing.T) { checkSplitEverywhere(t, 23, telnetSession()) }

// TestTelnetDetect: an IAC negotiation on any port, or port 23.
func TestTelnetDetect(t *testing.T) {
	for _, c := range []struct {
		first []byte
		port  int32
		want  Detection
	}{
		{[]byte{telnetIAC, 253, 24}, 2323, DetectYes},
		{[]byte{telnetIAC}, 2323, DetectMore},
		{[]byte{telnetIAC, 250, 24}, 2323, DetectYes},
		{[]byte{telnetIAC, 1}, 2323, DetectNo},
		{[]byte("login: "), 23, DetectYes},
		{[]byte("login: "), 2323, DetectNo},
	} {
		if got := detectTelnet(c.first, false, &ConnInfo{ServerPort: c.port}); got != c.want {
			t.Errorf("%q port %d: %v, want %v", c.first, c.port, got, c.want)
		}
	}
}

// TestTelnetHostile: endless typing, endless output and an endless
// subnegotiation stay within the bounds: nothing beyond telnetMaxBytes per
// side is read, a typed line keeps telnetMaxLine bytes.
func TestTelnetHostile(t *testing.T) {
	p := &telnetParser{}
	conn := &ConnInfo{ServerIP: "10.0.0.2", ServerPort: 23}
	s := &recordSink{}
	p.Feed(&Chunk{Data: []byte("login: ")}, conn, s)
	block := bytes.Repeat([]byte("a"), 1<<20)
	p.Feed(&Chunk{FromClient: true, Data: block}, conn, s)
	p.Feed(&Chunk{Data: append([]byte{telnetIAC, telnetSB}, block...)}, conn, s)
	if len(p.line) != telnetMaxLine || p.cliN != telnetMaxBytes || p.srvN != telnetMaxBytes || len(p.tail) > telnetTail {
		t.Errorf("line %d, read %d/%d, tail %d", len(p.line), p.cliN, p.srvN, len(p.tail))
	}
	p.Feed(&Chunk{FromClient: true, Data: []byte("\r\n")}, conn, s) // beyond the bound: not read
	p.Close(conn, s)
	if len(s.recs) != 0 {
		t.Errorf("records %v", s.recs)
	}
}

func FuzzTelnet(f *testing.F) {
	for _, sg := range telnetSession() {
		f.Add(sg.data, sg.client)
	}
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		p := &telnetParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{Data: []byte("login: ")}, conn, s)
		half := len(data) / 2
		p.Feed(&Chunk{FromClient: client, Data: data[:half]}, conn, s)
		p.Feed(&Chunk{FromClient: !client, Data: data[half:]}, conn, s)
		p.Feed(&Chunk{FromClient: true, Data: data}, conn, s)
		p.Close(conn, s)
		if len(p.line) > telnetMaxLine || len(p.tail) > telnetTail {
			t.Fatalf("line %d tail %d", len(p.line), len(p.tail))
		}
		for _, m := range s.recs {
			if c, ok := m.(*types.Credentials); !ok || c.Protocol != "Telnet" || len(c.User) > 4*telnetMaxLine {
				t.Fatalf("record %v", m)
			}
		}
	})
}

// TestTelnetMatchesTshark: on the captures with Telnet, each login is the
// client's line after a server line ending in "login:" and the line after
// "Password:", as tshark's telnet.data shows the session (its own IAC
// handling), with the verdict from the server's next words.
func TestTelnetMatchesTshark(t *testing.T) {
	files := corpusWith(t, "telnet")
	logins := 0
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		out, err := exec.Command("tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=\x1e",
			"-e", "tcp.stream", "-e", "tcp.dstport", "-e", "telnet.data", "-Y", "telnet.data").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		// Per stream: the server's text and the client's lines, in order.
		type dialog struct {
			want       []string
			prompt     string // "user" or "pass" after a prompt
			user, pass string
			typed      string
		}
		streams := map[string]*dialog{}
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 3 {
				continue
			}
			d := streams[f[0]]
			if d == nil {
				d = &dialog{}
				streams[f[0]] = d
			}
			text := strings.NewReplacer(`\r`, "\r", `\n`, "\n", "\x1e", "").Replace(f[2])
			if f[1] == "23" { // the client's bytes
				if d.prompt == "" {
					continue
				}
				d.typed += text
				if i := strings.IndexAny(d.typed, "\r\n"); i >= 0 {
					if d.prompt == "user" {
						d.user = d.typed[:i]
					} else {
						d.pass = d.typed[:i]
					}
					d.typed, d.prompt = "", ""
				}
				continue
			}
			low := strings.ToLower(text)
			switch {
			case strings.Contains(low, "incorrect") && d.pass != "":
				d.want = append(d.want, d.user+"/"+d.pass+" rejected")
				d.user, d.pass = "", ""
			case (strings.Contains(low, "welcome") || strings.Contains(low, "last login")) && d.pass != "":
				d.want = append(d.want, d.user+"/"+d.pass+" accepted")
				d.user, d.pass = "", ""
			}
			trimmed := strings.TrimRight(low, " ")
			switch {
			case strings.HasSuffix(trimmed, "login:"):
				d.prompt = "user"
			case strings.HasSuffix(trimmed, "password:"):
				d.prompt = "pass"
			}
		}
		var want []string
		for _, d := range streams {
			want = append(want, d.want...)
		}
		var got []string
		for _, m := range decodeCapture(t, path, DefaultOptions(), types.Type_NC_Credentials) {
			if c, ok := m.(*types.Credentials); ok && c.Protocol == "Telnet" {
				got = append(got, c.User+"/"+c.Password+" "+c.Result)
			}
		}
		logins += len(want)
		slices.Sort(got)
		slices.Sort(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: netcap %q, tshark's text %q", captureLabel(name), got, want)
		}
	}
	t.Logf("%d captures, %d Telnet logins compared", len(files), logins)
}
