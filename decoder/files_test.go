package decoder

import (
	"flag"
	"os/exec"
	"time"

	"github.com/andybalholm/brotli"

	"bytes"
	stdzlib "compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// filesFeed runs an HTTP parser with File records on over the events and
// returns the File records.
func filesFeed(t *testing.T, store *FileStore, evs []httpEv) []*types.File {
	t.Helper()
	conn := httpTestConn
	conn.Files = store
	s := &tlsSink{t: t}
	p := newHTTPParser()
	for i, e := range evs {
		f := e.frame
		if f == 0 {
			f = int64(i + 1)
		}
		p.Feed(&Chunk{FromClient: e.client, Data: []byte(e.data), Missed: e.missed, Timestamp: f * 1000, Frame: f}, &conn, s)
	}
	p.Close(&conn, s)
	var out []*types.File
	for _, m := range s.recs {
		if f, ok := m.(*types.File); ok {
			out = append(out, f)
		}
	}
	return out
}

func httpResponse(header, body string) string {
	return "HTTP/1.1 200 OK\r\n" + header + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func brotliBytes(t *testing.T, s string) string {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zlibBytes(t *testing.T, s string) string {
	var b bytes.Buffer
	w := stdzlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// TestFiles: the content of each HTTP body, decoded as the receiver sees
// it, its hashes and completeness, whole and byte by byte.
func TestFiles(t *testing.T) {
	page := "<html><body>" + strings.Repeat("netcap ", 3000) + "</body></html>"
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x01\x02", 500)
	gz := httpGzip(t, page)
	get := httpCli("GET /a/b/report%20final.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
	type want struct {
		content  string // the decoded content read
		complete bool
		reason   string // a part of Reason
		name     string
		detected string
	}
	for _, c := range []struct {
		name string
		evs  []httpEv
		max  int64
		want []want
	}{
		{"identity body, name from the URL", []httpEv{get, httpSrv(httpResponse("", page))}, 0,
			[]want{{page, true, "", "report final.html", "text/html; charset=utf-8"}}},
		{"gzip'd, chunked", []httpEv{get, httpSrv("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(gz)), 16) + "\r\n" + gz + "\r\n0\r\n\r\n")}, 0,
			[]want{{page, true, "", "report final.html", "text/html; charset=utf-8"}}},
		{"deflate (zlib), Content-Disposition", []httpEv{get, httpSrv(httpResponse("Content-Encoding: deflate\r\nContent-Disposition: attachment; filename=\"x/../p.png\"\r\n", zlibBytes(t, png)))}, 0,
			[]want{{png, true, "", "p.png", "image/png"}}},
		{"POST body and response", []httpEv{httpCli("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: " + strconv.Itoa(len(png)) + "\r\n\r\n" + png),
			httpSrv(httpResponse("", "ok"))}, 0,
			[]want{{png, true, "", "up", "image/png"}, {"ok", true, "", "up", "text/plain; charset=utf-8"}}},
		{"a hole in the body", []httpEv{get, httpSrv(httpResponse("", page)[:200]), {data: httpResponse("", page)[300:], missed: 100}}, 0,
			[]want{{httpResponse("", page)[len(httpResponse("", page))-len(page) : 200], false, "100 bytes not captured", "report final.html", "text/html; charset=utf-8"}}},
		{"cut by the end of the connection", []httpEv{get, httpSrv(httpResponse("", page)[:500])}, 0,
			[]want{{httpResponse("", page)[len(httpResponse("", page))-len(page) : 500], false, "connection ended", "report final.html", "text/html; charset=utf-8"}}},
		{"a gzip bomb stops at the bound", []httpEv{get, httpSrv(httpResponse("Content-Encoding: gzip\r\n", httpGzip(t, strings.Repeat("\x00", 20<<20))))}, 1 << 20,
			[]want{{strings.Repeat("\x00", 1<<20), false, "larger than -max-file-size", "report final.html", "application/octet-stream"}}},
		{"corrupt gzip", []httpEv{get, httpSrv(httpResponse("Content-Encoding: gzip\r\n", gz[:30]+"garbage"+gz[37:]))}, 0,
			[]want{{"", false, "gzip", "report final.html", ""}}},
		{"a coding not decoded", []httpEv{get, httpSrv(httpResponse("Content-Encoding: zstd\r\n", "\x28\xb5\x2f\xfd"))}, 0,
			[]want{{"", false, "zstd not decoded", "report final.html", ""}}},
		{"brotli", []httpEv{get, httpSrv(httpResponse("Content-Encoding: br\r\n", brotliBytes(t, page)))}, 0,
			[]want{{page, true, "", "report final.html", "text/html; charset=utf-8"}}},
		{"a body until the connection closes", []httpEv{get, httpSrv("HTTP/1.0 200 OK\r\n\r\n" + page)}, 0,
			[]want{{page, true, "", "report final.html", "text/html; charset=utf-8"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			max := c.max
			if max == 0 {
				max = DefaultMaxFileSize
			}
			var first []*types.File
			for _, how := range []string{"whole", "byte by byte"} {
				evs := httpFramed(c.evs)
				if how != "whole" {
					if len(c.evs[len(c.evs)-1].data) > 100<<10 {
						continue // the bomb: once is enough
					}
					evs = httpByteWise(evs)
				}
				files := filesFeed(t, &FileStore{MaxSize: max}, evs)
				if len(files) != len(c.want) {
					t.Fatalf("%s: %d File records, want %d: %v", how, len(files), len(c.want), files)
				}
				for i, w := range c.want {
					f := files[i]
					if w.content != "" && (f.SHA256 != sha256Hex([]byte(w.content)) || f.Length != int64(len(w.content))) {
						t.Errorf("%s: file %d: %d bytes, SHA256 %s; want %d bytes, %s", how, i, f.Length, f.SHA256, len(w.content), sha256Hex([]byte(w.content)))
					}
					if f.Complete != w.complete || !strings.Contains(f.Reason, w.reason) {
						t.Errorf("%s: file %d: Complete %v, Reason %q; want %v, %q", how, i, f.Complete, f.Reason, w.complete, w.reason)
					}
					if f.Name != w.name || f.ContentTypeDetected != w.detected || f.Source != "HTTP" || f.FlowID != "flow-1" {
						t.Errorf("%s: file %d: Name %q, detected %q, Source %q, FlowID %q; want %q, %q", how, i, f.Name,
							f.ContentTypeDetected, f.Source, f.FlowID, w.name, w.detected)
					}
				}
				if first == nil {
					first = files
				} else {
					for i := range files {
						a, b := proto.Clone(first[i]).(*types.File), proto.Clone(files[i]).(*types.File)
						a.Timestamp, a.FrameNumber, b.Timestamp, b.FrameNumber = 0, 0, 0, 0
						if !proto.Equal(a, b) {
							t.Errorf("byte by byte, file %d differs:\n%v\n%v", i, files[i], first[i])
						}
					}
				}
			}
		})
	}
}

// TestFilesStored: with a folder, each complete file is written under its
// SHA-256, a file over the bound is not, and no temporary file is left.
func TestFilesStored(t *testing.T) {
	dir := t.TempDir()
	store := &FileStore{Dir: dir, MaxSize: 1000}
	small := "hello, netcap"
	big := strings.Repeat("x", 5000)
	files := filesFeed(t, store, []httpEv{
		httpCli("GET /s HTTP/1.1\r\nHost: h\r\n\r\n"), httpSrv(httpResponse("", small)),
		httpCli("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"), httpSrv(httpResponse("", big)),
		httpCli("GET /s2 HTTP/1.1\r\nHost: h\r\n\r\n"), httpSrv(httpResponse("", small)),
	})
	if len(files) != 3 {
		t.Fatalf("%d files", len(files))
	}
	got, err := os.ReadFile(filepath.Join(dir, files[0].Location))
	if err != nil || string(got) != small || files[0].Location != sha256Hex([]byte(small)) {
		t.Errorf("stored %q at %q (%v)", got, files[0].Location, err)
	}
	if files[1].Location != "" || files[1].Complete {
		t.Errorf("a file over the bound: Location %q, Complete %v", files[1].Location, files[1].Complete)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want the one file", names)
	}
	if store.Stored.Load() != 2 {
		t.Errorf("%d files counted stored, want 2 (the same content twice)", store.Stored.Load())
	}
}

var filesOracleBudget = flag.Duration("files-budget", 60*time.Second, "time for the File comparison with tshark --export-objects")

// filesCapture returns the File records of a capture file.
func filesCapture(t *testing.T, path string) []*types.File {
	opts := DefaultOptions()
	opts.Files = &FileStore{MaxSize: DefaultMaxFileSize}
	var out []*types.File
	for _, m := range decodeCapture(t, path, opts, types.Type_NC_File) {
		if f, ok := m.(*types.File); ok {
			out = append(out, f)
		}
	}
	return out
}

// TestFilesMatchTshark compares, on every shared capture tshark finds HTTP
// in, the SHA-256 of each file tshark --export-objects http writes with
// the File records' of complete HTTP bodies, as multisets.
func TestFilesMatchTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark comparison skipped in -short mode")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: files not compared")
	}
	files := httpOracleFiles(t)
	if len(files) == 0 {
		t.Skip("shared captures absent: files not compared with tshark")
	}
	deadline := time.Now().Add(*filesOracleBudget)
	compared, skipped, equal, known := 0, 0, 0, 0
	for _, f := range files {
		if time.Now().After(deadline) {
			skipped++
			continue
		}
		path := filepath.Join(corpusDir, f.name)
		dir := t.TempDir()
		if out, err := exec.Command("tshark", "-r", path, "-q", "--export-objects", "http,"+dir).CombinedOutput(); err != nil {
			t.Fatalf("%s: tshark: %v\n%s", f.name, err, out)
		}
		want := map[string]int{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			want[sha256Hex(b)]++
		}
		got := map[string]int{}
		for _, r := range filesCapture(t, path) {
			// Only HTTP's: tshark exports the mail messages with imf
			// (TestMailFilesMatchTshark).
			if r.Complete && r.Source == "HTTP" {
				got[r.SHA256]++
			}
		}
		for h, n := range want {
			compared += n
			switch {
			case got[h] == n:
				equal += n
			case filesKnown(f.name, h):
				known += n
			}
			if got[h] != n && !filesKnown(f.name, h) {
				t.Errorf("%s: tshark exports %d file(s) with SHA-256 %s, netcap has %d complete", captureLabel(f.name), n, h, got[h])
			}
		}
		for h, n := range got {
			if want[h] == 0 && !filesKnown(f.name, h) {
				t.Errorf("%s: netcap has %d complete file(s) with SHA-256 %s that tshark does not export", captureLabel(f.name), n, h)
			}
		}
	}
	t.Logf("files vs tshark --export-objects http: %d files of %d captures compared: %d equal, %d known differences; "+
		"%d captures not compared (-files-budget)", compared, len(files)-skipped, equal, known, skipped)
	if compared == 0 && skipped == 0 {
		t.Error("no file compared: the capture list is wrong")
	}
}

// filesKnownDifferences are explained differences, by capture and SHA-256
// ("*": every file of the capture).
var filesKnownDifferences = map[string]string{
	"suricata-verify/pop3__input.pcap/*": "tshark exports each segment of the POP3 replies as an object of its own (all " +
		"141 objects at most 1,358 bytes, one segment's payload, 91 of exactly that): the LIST reply's lines and pieces " +
		"of the messages RETR fetched; netcap reads the messages whole",
	"testdata/services.pcap/7a6c60b4842580e211372bd129c0be2ed455ca0665a63e46d5a09949cdc14305": "tshark exports the " +
		"server's \"+ \" prompt of a POP3 AUTH PLAIN exchange as a message",
	"testdata/services.pcap/39745ee2cc0b41ce52beb21589033900a1b853e262b384f405622e8e725b1354": "tshark exports the " +
		"message sent by SMTP and fetched by IMAP; the POP3 RETR reply of the same message it shows as plain lines " +
		"(after AUTH PLAIN its POP3 state is off), so it exports it twice, netcap three times",
	"suricata-verify/tcp-rst-unacked-stream-12__TLPW1-tcp-110.37.219.134-10.12.14.101-tcp-990-49254.pcap/*": "the " +
		"responses' starts were not captured: tshark exports each 1288-byte segment after a hole as a file of its " +
		"own; netcap's records of those bodies are incomplete",
	"suricata-verify/http2-userinfo-authority__http2_userinfo_in_authority_1.pcap/*": "HTTP/2: netcap reads HTTP/1.x only",
	"suricata-verify/dns-over-http2-limit__input.pcap/*":                             "HTTP/2: netcap reads HTTP/1.x only",
	"suricata-verify/dns-over-http2-post__dns_over_https_POST.pcap/*":                "HTTP/2: netcap reads HTTP/1.x only",
	"suricata-verify/http-event-chunk__input.pcap/c0ba1fc70073730f70fb6632cb522f9342faccd62c677377d6d08f266b879e61": "a " +
		"chunk-size line \"4 \" (a space before its line end): tshark ends the body there (8 bytes), netcap reads " +
		"the chunk (12 bytes, the next entry) as it reads whitespace before a chunk extension",
	"suricata-verify/http-event-chunk__input.pcap/496a5a3d2994ad4817b9a65249580393c920ab48bfa39c4b5c57e9b5d350fa67": "the " +
		"same body: 8 bytes + the 4-byte chunk",
	"suricata-verify/http-connect__input.pcap/01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b": "tshark " +
		"exports a byte of the tunnel after the 200 to CONNECT as the response's body; the tunnel is not HTTP",
	"suricata-verify/tcp-urgp-01-oob__tcp-urgent1.pcap/98aea1364c5adf928af85537016fdb9b5771372e54824b30e855d5f3734757e2": "an " +
		"urgent byte inside the request line: tshark exports the rest of the request as an object",
	"suricata-verify/tcp-urgp-04-2byte-XY__tcp-urgent-2byte-XY.pcap/98aea1364c5adf928af85537016fdb9b5771372e54824b30e855d5f3734757e2": "as " +
		"tcp-urgp-01",
	"suricata-verify/http-pipeline-files-with-gap__input.pcap/c560e1ee9f10dc565532dd7321187564d066f7b31f0314b8062809303833c27f": "the " +
		"hole is inside the second response's body, of known length: the third response starts at a known place and " +
		"is complete; tshark exports nothing after a hole",
}

func filesKnown(name, sha string) bool {
	name = captureLabel(name)
	_, one := filesKnownDifferences[name+"/"+sha]
	_, all := filesKnownDifferences[name+"/*"]
	return one || all
}

// startsWithHeader reports whether b starts as a message does (RFC 5322
// 2.2: a header field, a name of printable characters but the colon, then
// ":"). tshark's imf export also writes what it wrongly takes for a message:
// each segment of a POP3 LIST or UIDL reply ("12 3456" lines), the "+ "
// prompt of a SASL exchange; those start with no header field.
func startsWithHeader(b []byte) bool {
	i := bytes.IndexByte(b, ':')
	if i <= 0 {
		return false
	}
	for _, c := range b[:i] {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// TestMailFilesMatchTshark compares the File records of mail messages
// (SMTP, POP3, IMAP) with the messages tshark --export-objects imf writes,
// by SHA-256, on every shared capture tshark finds IMF in. A difference
// that neither filesKnownDifferences nor a rule of imf_test.go (which
// checks the bytes of the difference) explains fails the test.
func TestMailFilesMatchTshark(t *testing.T) {
	files := corpusWith(t, "imf")
	compared, equal, known, differ, notMessage := 0, 0, 0, 0, 0
	explained, explainedN := map[imfRule]int{}, 0 // by rule (imf_test.go)
	sharedEqual, shared := 0, 0                   // the floor below is the shared captures'
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		own := strings.HasPrefix(captureLabel(name), "testdata/")
		if !own {
			shared++
		}
		dir := t.TempDir()
		if out, err := exec.Command("tshark", "-r", path, "-q", "--export-objects", "imf,"+dir).CombinedOutput(); err != nil {
			t.Fatalf("%s: tshark: %v\n%s", name, err, out)
		}
		want := map[string]int{}
		content := map[string][]byte{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !startsWithHeader(b) {
				notMessage++ // see startsWithHeader
				continue
			}
			want[sha256Hex(b)]++
			content[sha256Hex(b)] = b
		}
		opts := filesOptions()
		opts.Files.Dir = t.TempDir()
		got := map[string]int{}
		for _, f := range filesOf(decodeCapture(t, path, opts, types.Type_NC_File)) {
			if f.Complete && f.Source != "HTTP" && f.Parent == "" {
				got[f.SHA256]++
			}
		}
		// explain finds the netcap message that a rule explains tshark's
		// as; each netcap message explains one of tshark's.
		explain := func(ts []byte) (imfRule, string) {
			for h, k := range got {
				if k == 0 || want[h] > 0 {
					continue
				}
				nc, err := os.ReadFile(filepath.Join(opts.Files.Dir, h))
				if err != nil {
					t.Fatal(err)
				}
				if r := explainImf(t, path, ts, nc); r != "" {
					got[h]--
					return r, h
				}
			}
			return "", ""
		}
		for h, n := range want {
			compared += n
			switch {
			case got[h] == n:
				equal += n
				if !own {
					sharedEqual += n
				}
			case filesKnown(name, h):
				known += n
			case own:
				// The own captures are held to zero differences.
				t.Errorf("%s: tshark exports %d message(s) with SHA-256 %s, netcap has %d complete", captureLabel(name), n, h, got[h])
			case n == 1 && got[h] == 0:
				if r, nh := explain(content[h]); r != "" {
					explained[r]++
					explainedN++
					t.Logf("%s: tshark's message %.12s is netcap's %.12s: %s", captureLabel(name), h, nh, r)
					break
				}
				fallthrough
			default:
				differ++
				t.Errorf("%s: tshark exports %d message(s) with SHA-256 %s, netcap has %d complete, and no rule explains it", captureLabel(name), n, h, got[h])
			}
		}
	}
	t.Logf("mail messages vs tshark --export-objects imf: %d captures, %d messages compared: %d equal, %d known differences, %d explained by a rule %v, %d not explained; "+
		"%d objects tshark exports are no message (no header field first)", len(files), compared, equal, known, explainedN, explained, differ, notMessage)
	// tshark's imf export also cuts messages differently (POP3 replies per
	// segment, pipelined SMTP with its commands: filesKnownDifferences);
	// the equal ones must not become fewer.
	if shared > 0 && sharedEqual < mailFilesEqualAtLeast {
		t.Errorf("%d messages of the shared captures equal to tshark's, %d were on 2026-12-06", sharedEqual, mailFilesEqualAtLeast)
	}
}

// mailFilesEqualAtLeast is how many shared-corpus messages equalled
// tshark's export when the comparison was written.
const mailFilesEqualAtLeast = 31

func filesOptions() Options {
	opts := DefaultOptions()
	opts.Files = &FileStore{MaxSize: DefaultMaxFileSize}
	return opts
}

func filesOf(recs []proto.Message) []*types.File {
	var out []*types.File
	for _, m := range recs {
		if f, ok := m.(*types.File); ok {
			out = append(out, f)
		}
	}
	return out
}

// TestHTTPSniffBound: a body of a megabyte holds at most httpSniffLen bytes
// for sniffing while it is read, and none once it ended.
func TestHTTPSniffBound(t *testing.T) {
	p := newHTTPParser().(*httpParser)
	conn := httpTestConn
	s := &tlsSink{t: t}
	p.Feed(&Chunk{FromClient: true, Data: []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Frame: 1}, &conn, s)
	p.Feed(&Chunk{Data: []byte("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n"), Frame: 2}, &conn, s)
	for i := range 1024 {
		p.Feed(&Chunk{Data: make([]byte, 1024), Frame: int64(3 + i)}, &conn, s)
		if n := cap(p.dir[1].sniff); n > httpSniffLen {
			t.Fatalf("after %d KiB of body, %d bytes held for sniffing", i+1, n)
		}
	}
	p.Feed(&Chunk{Data: []byte("x"), Frame: 2000}, &conn, s)
	if p.dir[1].sniff != nil {
		t.Errorf("the sniff buffer is kept after the body ended")
	}
}
