package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netcap/netcap/internal/testutil"
	ncio "github.com/netcap/netcap/io"
	px "github.com/netcap/netcap/proxy"
	"github.com/netcap/netcap/types"
)

func TestBadInputExit2(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "p.yml")
	os.WriteFile(cfg, []byte("proxies: {a: {local: '127.0.0.1:0', remote: 'http://127.0.0.1:1', tls: true, extra: 1}}\n"), 0o644)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-config", cfg}, "field extra not found"},
		{[]string{"-config", filepath.Join(dir, "none.yml")}, "no such file"},
		{[]string{"-local", "127.0.0.1:0", "-remote", "gopher://x"}, "scheme must be http or https"},
		{[]string{"-local", "127.0.0.1:0", "-remote", "http://x", "-cert", "none.crt", "-key", "none.key"}, "certificate"},
		{[]string{"-local", busy.Addr().String(), "-remote", "http://x", "-out", dir}, "address already in use"},
		{[]string{"-local", "127.0.0.1:0"}, "give -local and -remote"},
		{[]string{"-config", cfg, "-local", "127.0.0.1:0"}, "exclude each other"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		code := run(c.args, io.Discard, &stderr, nil)
		msg := stderr.String()
		if code != 2 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, msg, c.want)
		}
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// netBinary builds cmd/net once for the tests that run it as a process.
func netBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "netproxy-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "net")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/netcap/netcap/cmd/net").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proc is a running "net proxy".
type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *testutil.SyncBuffer
	done   chan error
}

var listenLine = regexp.MustCompile(`listening on https?://([0-9.]+:[0-9]+)`)

// startBinary starts net proxy with args and waits for its listening line.
func startBinary(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(netBinary(t), append([]string{"proxy"}, args...)...)
	pr, pw := io.Pipe()
	p := &proc{cmd: cmd, stderr: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = io.MultiWriter(pw, p.stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case p.addr = <-found:
	case <-time.After(20 * time.Second):
		t.Fatalf("no listening line: %s", p.stderr.String())
	}
	return p
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("net proxy did not exit: %s", p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func readFile(t *testing.T, path string) []*types.HTTP {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*types.HTTP
	for {
		m := &types.HTTP{}
		if err := r.Next(m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

// TestSIGTERMInFlight: SIGTERM while a slow request runs; the request
// completes, new connections are refused, the record is written, the
// file is complete, the summary is printed and the exit code is 0.
func TestSIGTERMInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the net binary")
	}
	started := make(chan struct{}, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			time.Sleep(time.Second)
		}
		io.WriteString(w, "done "+r.URL.Path)
	}))
	defer backend.Close()
	out := t.TempDir()
	p := startBinary(t, "-local", "127.0.0.1:0", "-remote", backend.URL, "-out", out, "-name", "web", "-grace", "10s")
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := client.Get("http://" + p.addr + "/fast"); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	result := make(chan string, 1)
	go func() {
		res, err := client.Get("http://" + p.addr + "/slow")
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		result <- string(b)
	}()
	<-started
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Once stopping, the listener is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := <-result; got != "done /slow" {
		t.Fatalf("in-flight request: %q", got)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, p.stderr.String())
	}
	recs := readFile(t, filepath.Join(out, px.RecordFile))
	if len(recs) != 2 || recs[1].URL != "/slow" || recs[1].StatusCode != 200 || recs[1].ProxyName != "web" {
		t.Fatalf("records %+v", recs)
	}
	msg := p.stderr.String()
	for _, want := range []string{"terminated, stopping", "requests: 2, records: 2", "errors: none"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

// TestStream1GB streams a 1 GB response through the binary and reads its
// peak resident memory (VmHWM): the body is never held whole.
func TestStream1GB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GB through the proxy")
	}
	const size = 1 << 30
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer backend.Close()
	out := t.TempDir()
	p := startBinary(t, "-local", "127.0.0.1:0", "-remote", backend.URL, "-out", out)
	start := time.Now()
	res, err := http.Get("http://" + p.addr + "/big")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	elapsed := time.Since(start)
	if err != nil || n != size {
		t.Fatalf("%d bytes, %v", n, err)
	}
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	hwm := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	recs := readFile(t, filepath.Join(out, px.RecordFile))
	if len(recs) != 1 || recs[0].ResContentLength != size || recs[0].ResponseSize < size {
		t.Fatalf("records %+v", recs)
	}
	if hwm == nil {
		t.Skip("no /proc/<pid>/status VmHWM")
	}
	kb, _ := strconv.Atoi(string(hwm[1]))
	t.Logf("1 GiB in %v (%.0f MB/s), proxy peak RSS %d MB", elapsed.Round(time.Millisecond), size/elapsed.Seconds()/1e6, kb/1024)
	if kb > 100*1024 {
		t.Fatalf("peak RSS %d kB: the body is not streamed", kb)
	}
}

// TestConfigTwoProxiesDump runs two proxies from one proxies.yml with -dump:
// each request reaches its own backend, has one record naming its proxy in
// HTTP.ncap.gz, and one JSON line on stdout equal to that record.
func TestConfigTwoProxiesDump(t *testing.T) {
	backend := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", name)
			io.WriteString(w, name+" "+r.URL.Path)
		}))
	}
	api, web := backend("api-backend"), backend("web-backend")
	defer api.Close()
	defer web.Close()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	apiAddr, webAddr := free(), free()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "proxies.yml")
	yml := fmt.Sprintf("proxies:\n  api:\n    local: %s\n    remote: %s\n  web:\n    local: %s\n    remote: %s\n",
		apiAddr, api.URL, webAddr, web.URL)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "web_ncap")
	stop := make(chan os.Signal, 1)
	var stdout, stderr testutil.SyncBuffer
	code := make(chan int, 1)
	go func() { code <- run([]string{"-config", cfg, "-out", out, "-dump"}, &stdout, &stderr, stop) }()

	// name -> address; requests alternate between the proxies.
	sent := map[string]string{}
	for i := 0; i < 20; i++ {
		name, addr := "api", apiAddr
		if i%2 == 1 {
			name, addr = "web", webAddr
		}
		path := fmt.Sprintf("/%s/%d", name, i)
		var res *http.Response
		var err error
		for try := 0; try < 100; try++ { // the listeners open in the goroutine
			if res, err = http.Get("http://" + addr + path); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v (stderr %s)", path, err, stderr.String())
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if want := name + "-backend " + path; string(body) != want {
			t.Fatalf("%s: body %q, want %q", path, body, want)
		}
		sent[path] = name
	}
	stop <- syscall.SIGTERM
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d: %s", c, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("net proxy did not stop")
	}
	recs := readFile(t, filepath.Join(out, px.RecordFile))
	if len(recs) != len(sent) {
		t.Fatalf("%d records for %d requests", len(recs), len(sent))
	}
	for _, r := range recs {
		if name, ok := sent[r.URL]; !ok || r.ProxyName != name || r.ServerName != name+"-backend" || r.StatusCode != 200 {
			t.Errorf("record %s: proxy %q server %q status %d, want proxy %q", r.URL, r.ProxyName, r.ServerName, r.StatusCode, sent[r.URL])
		}
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("%d JSON lines on stdout for %d records", len(lines), len(recs))
	}
	for _, line := range lines {
		var got struct {
			URL, ProxyName, ServerName string
			StatusCode                 int
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		if sent[got.URL] != got.ProxyName || got.ServerName != got.ProxyName+"-backend" || got.StatusCode != 200 {
			t.Errorf("dump line %q", line)
		}
		delete(sent, got.URL)
	}
	if len(sent) != 0 {
		t.Errorf("no dump line for %v", sent)
	}
	for _, want := range []string{"api listening on http://" + apiAddr, "web listening on http://" + webAddr, "requests: 20, records: 20"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if testing.Short() {
		return
	}
	// net label reads the proxy's folder like a capture's: an attack from
	// 127.0.0.1 covering the run labels every record.
	now := time.Now().UTC()
	attacks := filepath.Join(dir, "attacks.yml")
	yml = fmt.Sprintf("timezone: UTC\nattacks:\n  - name: test\n    start: %s\n    end: %s\n    attackers: [127.0.0.1]\n    category: proxied\n",
		now.Add(-time.Hour).Format(time.DateTime), now.Add(time.Hour).Format(time.DateTime))
	if err := os.WriteFile(attacks, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	labeled := filepath.Join(dir, "labeled")
	if b, err := exec.Command(netBinary(t), "label", "-read", out, "-attacks", attacks, "-out", labeled).CombinedOutput(); err != nil {
		t.Fatalf("net label: %v\n%s", err, b)
	}
	csv, err := exec.Command("sh", "-c", "zcat "+filepath.Join(labeled, "HTTP_labeled.csv.gz")).Output()
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(rows) != len(recs)+1 {
		t.Fatalf("%d labelled rows for %d records", len(rows)-1, len(recs))
	}
	for _, row := range rows[1:] {
		if !strings.HasSuffix(row, ",proxied") {
			t.Fatalf("row not labelled: %s", row)
		}
	}
}
