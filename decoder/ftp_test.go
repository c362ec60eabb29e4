package decoder

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

func ftpSession() []streamSeg {
	return []streamSeg{
		{false, []byte("220 (vsFTPd 3.0.3)\r\n")},
		{true, []byte("USER alice\r\n")},
		{false, []byte("331 Please specify the password.\r\n")},
		{true, []byte("PASS s3cret\r\n")},
		{false, []byte("230 Login successful.\r\n")},
		{true, []byte("PWD\r\n")},
		{false, []byte("257 \"/home/alice\" is the current directory\r\n")},
		{true, []byte("CWD pub\r\n")},
		{false, []byte("250 Directory successfully changed.\r\n")},
		{true, []byte("PASV\r\n")},
		{false, []byte("227 Entering Passive Mode (10,0,0,2,78,33).\r\n")},
		{true, []byte("RETR report.pdf\r\n")},
		{false, []byte("150 Opening BINARY mode data connection for report.pdf (4096 bytes).\r\n")},
		{false, []byte("226 Transfer complete.\r\n")},
		{true, []byte("EPSV\r\n")},
		{false, []byte("229 Entering Extended Passive Mode (|||40001|)\r\n")},
		{true, []byte("STOR up.txt\r\n")},
		{false, []byte("553 Could not create file.\r\n")},
		{true, []byte("HELP\r\n")},
		{false, []byte("214-The following commands are recognized.\r\n ABOR ACCT ALLO\r\n214 Help OK.\r\n")},
		{true, []byte("QUIT\r\n")},
		{false, []byte("221 Goodbye.\r\n")},
	}
}

func ftpRecords(t *testing.T, segs []streamSeg, port uint16) (*types.FTP, []*types.Credentials, *types.Connection) {
	t.Helper()
	recs, conn := streamRun(t, port, true, segs)
	var f *types.FTP
	var creds []*types.Credentials
	for _, m := range recs {
		switch r := m.(type) {
		case *types.FTP:
			f = r
		case *types.Credentials:
			creds = append(creds, r)
		}
	}
	return f, creds, conn
}

func TestFTPSession(t *testing.T) {
	for _, port := range []uint16{21, 2121} {
		f, creds, conn := ftpRecords(t, ftpSession(), port)
		if f == nil || conn.ApplicationProto != "FTP" {
			t.Fatalf("port %d: FTP %v, application %q", port, f, conn.ApplicationProto)
		}
		wantCmds := "USER alice|PASS|PWD|CWD pub|PASV|RETR report.pdf|EPSV|STOR up.txt|HELP|QUIT"
		if got := strings.Join(f.Commands, "|"); got != wantCmds {
			t.Errorf("commands %q", got)
		}
		if got := strings.Join(f.Replies, " "); got != "331 230 257 250 227 226 229 553 214 221" {
			t.Errorf("replies %q", got)
		}
		if f.User != "alice" || f.Directory != "pub" || f.Greeting != "(vsFTPd 3.0.3)" || f.Incomplete {
			t.Errorf("user %q dir %q greeting %q incomplete %v", f.User, f.Directory, f.Greeting, f.Incomplete)
		}
		if len(f.Transfers) != 2 {
			t.Fatalf("transfers %v", f.Transfers)
		}
		if tr := f.Transfers[0]; tr.Command != "RETR" || tr.Name != "report.pdf" || tr.DataAddress != "10.0.0.2:20001" || tr.Size != 4096 || tr.Reply != "226" {
			t.Errorf("RETR %v", tr)
		}
		if tr := f.Transfers[1]; tr.DataAddress != ":40001" || tr.Size != -1 || tr.Reply != "553" {
			t.Errorf("STOR %v", tr)
		}
		if len(creds) != 1 || creds[0].User != "alice" || creds[0].Password != "s3cret" || creds[0].Result != "accepted" || creds[0].Protocol != "FTP" {
			t.Errorf("credentials %v", creds)
		}
		for _, c := range f.Commands {
			if strings.Contains(c, "s3cret") {
				t.Errorf("the password is in the commands: %q", c)
			}
		}
	}
}

// TestFTPSplitEverywhere: byte by byte, the same records.
func TestFTPSplitEverywhere(t *testing.T) {
	want, _, _ := ftpRecords(t, ftpSession(), 21)
	var bytewise []streamSeg
	for _, sg := range ftpSession() {
		for i := range sg.data {
			bytewise = append(bytewise, streamSeg{sg.client, sg.data[i : i+1]})
		}
	}
	got, _, _ := ftpRecords(t, bytewise, 21)
	if strings.Join(got.Commands, "|") != strings.Join(want.Commands, "|") || strings.Join(got.Replies, " ") != strings.Join(want.Replies, " ") ||
		len(got.Transfers) != len(want.Transfers) {
		t.Errorf("byte by byte:\n%v\nwhole:\n%v", got, want)
	}
}

// TestFTPAuthTLS: after 234 the TLS hellos are recorded, FTP/TLS.
func TestFTPAuthTLS(t *testing.T) {
	ch := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	f, _, conn := ftpRecords(t, []streamSeg{{false, []byte("220 ProFTPD Server\r\n")}, {true, []byte("AUTH TLS\r\n")},
		{false, []byte("234 AUTH TLS successful\r\n")}, {true, ch}}, 21)
	if f == nil || !f.AuthTLS || conn.ApplicationProto != "FTP/TLS" {
		t.Errorf("FTP %v, application %q", f, conn.ApplicationProto)
	}
}

func TestFTPDetect(t *testing.T) {
	for _, c := range []struct {
		first string
		want  Detection
	}{
		{"220 (vsFTPd 3.0.3)\r\n", DetectYes},
		{"220-FileZilla Server 1.7\r\n", DetectYes},
		{"220 mail.example.com ESMTP Postfix\r\n", DetectNo},
		{"220 ftp.example.com ESMTP ready\r\n", DetectNo},
		{"220 ", DetectMore},
		{"+OK POP3 ready\r\n", DetectNo},
	} {
		if got := detectFTP([]byte(c.first), false, nil); got != c.want {
			t.Errorf("%q: %v, want %v", c.first, got, c.want)
		}
	}
}

// TestFTPMatchesTshark compares the commands and reply codes of the shared
// captures tshark finds FTP in with ftp.request.command/arg and
// ftp.response.code, in order per connection.
func TestFTPMatchesTshark(t *testing.T) {
	files := corpusWith(t, "ftp")
	compared := 0
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		// Tab-separated: EPRT's argument holds "|".
		out, err := exec.Command("tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=;",
			"-e", "tcp.stream", "-e", "ftp.request.command", "-e", "ftp.request.arg", "-e", "ftp.response.code", "-Y", "ftp").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		type side struct{ cmds, codes []string }
		want := map[string]*side{}
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			c := strings.Split(line, "\t")
			if len(c) < 4 {
				continue
			}
			w := want[c[0]]
			if w == nil {
				w = &side{}
				want[c[0]] = w
			}
			if c[1] != "" {
				cmds, args := strings.Split(c[1], ";"), strings.Split(c[2], ";")
				for i, v := range cmds {
					if strings.ToUpper(v) == "PASS" {
						w.cmds = append(w.cmds, "PASS")
						continue
					}
					if i < len(args) && args[i] != "" {
						v += " " + args[i]
					}
					w.cmds = append(w.cmds, v)
				}
			}
			if c[3] != "" {
				w.codes = append(w.codes, strings.Split(c[3], ";")...)
			}
		}
		var got []*types.FTP
		for _, m := range decodeCapture(t, path, DefaultOptions(), types.Type_NC_FTP) {
			if f, ok := m.(*types.FTP); ok {
				got = append(got, f)
			}
		}
		var wantCmds []string
		for _, w := range want {
			wantCmds = append(wantCmds, strings.Join(w.cmds, "|"))
		}
		for _, f := range got {
			compared += len(f.Commands)
			ours := strings.Join(f.Commands, "|")
			found := false
			for _, w := range wantCmds {
				if w == ours {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: netcap's FTP commands %q are not those of a connection tshark shows: %q", captureLabel(name), ours, wantCmds)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d FTP records, tshark shows %d FTP connections", name, len(got), len(want))
		}
	}
	t.Logf("%d captures, %d FTP commands compared with tshark", len(files), compared)
}

func FuzzFTP(f *testing.F) {
	for _, sg := range ftpSession() {
		f.Add(sg.data, sg.client)
	}
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		p := &ftpParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{Data: []byte("220 FTP\r\n")}, conn, s)
		p.Feed(&Chunk{FromClient: client, Data: data}, conn, s)
		p.Feed(&Chunk{FromClient: !client, Data: data}, conn, s)
		p.Close(conn, s)
		if len(p.r.Commands) > mailMaxList || len(p.r.Transfers) > ftpMaxTransfers {
			t.Fatalf("%d commands, %d transfers", len(p.r.Commands), len(p.r.Transfers))
		}
	})
}
