package proxy

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// startProxy runs one proxy named "t" in front of remote and returns it
// with its base URL. stop shuts it down and returns the records written.
func startProxy(t *testing.T, remote string, opt Options, tlsCert, tlsKey string) (s *Server, base string, stop func() []*types.HTTP) {
	t.Helper()
	if opt.Out == "" {
		opt.Out = t.TempDir()
	}
	cfg := &Config{
		Proxies:  map[string]Entry{"t": {Local: "127.0.0.1:0", Remote: remote, TLS: tlsCert != ""}},
		CertFile: tlsCert, KeyFile: tlsKey,
	}
	s, err := New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	scheme := "http"
	if tlsCert != "" {
		scheme = "https"
	}
	base = scheme + "://" + s.Proxies()[0].Addr().String()
	stopped := false
	stop = func() []*types.HTTP {
		t.Helper()
		if stopped {
			return nil
		}
		stopped = true
		if err := s.Shutdown(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		return readRecords(t, filepath.Join(opt.Out, RecordFile))
	}
	t.Cleanup(func() { stop() })
	return s, base, stop
}

// readRecords reads a record file back with package io, as net dump does.
func readRecords(t *testing.T, path string) []*types.HTTP {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h := r.Header(); h.Type != types.Type_NC_HTTP {
		t.Fatalf("header type %v", h.Type)
	}
	var out []*types.HTTP
	for {
		m := &types.HTTP{}
		if err := r.Next(m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("record %d: %v", len(out), err)
		}
		out = append(out, m)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown top key", "proxies: {a: {local: '127.0.0.1:1', remote: 'http://x'}}\nlogdir: /tmp\n", "field logdir not found"},
		{"unknown proxy key", "proxies: {a: {local: '127.0.0.1:1', remote: 'http://x', tsl: true}}\n", "field tsl not found"},
		{"bad scheme", "proxies: {a: {local: '127.0.0.1:1', remote: 'ftp://x'}}\n", "scheme must be http or https"},
		{"no scheme", "proxies: {a: {local: '127.0.0.1:1', remote: 'x:80'}}\n", "scheme must be http or https"},
		{"no remote", "proxies: {a: {local: '127.0.0.1:1'}}\n", "remote URL is missing"},
		{"bad local", "proxies: {a: {local: '8080', remote: 'http://x'}}\n", "not host:port"},
		{"same local", "proxies: {a: {local: '127.0.0.1:1', remote: 'http://x'}, b: {local: '127.0.0.1:1', remote: 'http://y'}}\n", "already used"},
		{"tls without cert", "proxies: {a: {local: '127.0.0.1:1', remote: 'http://x', tls: true}}\n", "certFile or keyFile is missing"},
		{"no proxies", "certFile: a\n", "no proxies"},
		{"empty", "", "empty file"},
		{"not yaml", "proxies: [\n", "config"},
	}
	for _, c := range cases {
		_, err := ParseConfig([]byte(c.yaml), "p.yml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error has several lines: %q", c.name, err)
		}
	}
	good := "proxies:\n  web: {local: '127.0.0.1:8080', remote: 'http://127.0.0.1:9000'}\n  api: {local: '127.0.0.1:8443', remote: 'https://api:443', tls: true}\ncertFile: c.pem\nkeyFile: k.pem\n"
	c, err := ParseConfig([]byte(good), "p.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Names(), ","); got != "api,web" || !c.Proxies["api"].TLS || c.CertFile != "c.pem" {
		t.Fatalf("parsed %+v", c)
	}

	// Errors New finds: port in use, missing certificate, existing file.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	_, err = New(&Config{Proxies: map[string]Entry{"a": {Local: busy.Addr().String(), Remote: "http://127.0.0.1:1"}}}, Options{Out: dir})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("port in use: %v", err)
	}
	_, err = New(&Config{Proxies: map[string]Entry{"a": {Local: "127.0.0.1:0", Remote: "http://127.0.0.1:1", TLS: true}},
		CertFile: filepath.Join(dir, "none.crt"), KeyFile: filepath.Join(dir, "none.key")}, Options{Out: dir})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing certificate: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, RecordFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = New(&Config{Proxies: map[string]Entry{"a": {Local: "127.0.0.1:0", Remote: "http://127.0.0.1:1"}}}, Options{Out: dir})
	if err == nil || !strings.Contains(err.Error(), "-overwrite") {
		t.Errorf("existing record file: %v", err)
	}
}

// TestLoad sends 20,000 requests at 64 concurrent connections, first to
// the backend directly, then through the proxy, and checks that every
// request has exactly one record equal to what was sent, and that the proxy
// adds less than 1 ms at the median.
//
// The 20,000 requests go out at a fixed rate spread over the 64 connections,
// below what the machine can serve: load generator, proxy and backend share
// the same cores, and at full load the latency measures the queue for the
// CPU, not the proxy. A saturating run first measures the throughput through
// the proxy; the paced run sends a sixth of it through the proxy (or
// NETCAP_PROXY_RATE requests/s) and as many direct, alternating, so that a
// third of the proxy's capacity is in use.
func TestLoad(t *testing.T) {
	n, conc := 20000, 64
	if testing.Short() {
		n = 2000
	}
	rate := 0.0
	if v := os.Getenv("NETCAP_PROXY_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			t.Fatalf("NETCAP_PROXY_RATE=%q: want requests per second > 0", v)
		}
		rate = r
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("n"))
		got, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Got", strconv.FormatInt(got, 10))
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1"})
		body := bytes.Repeat([]byte("x"), size)
		if r.URL.Query().Get("chunked") == "1" {
			w.Write(body[:size/2])
			w.(http.Flusher).Flush()
			w.Write(body[size/2:])
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(body)
	}))
	defer backend.Close()
	_, base, stop := startProxy(t, backend.URL, Options{}, "", "")

	type sent struct {
		method           string
		url              string
		reqCL            int64
		resCL            int64
		reqSize, resSize int64
	}
	newReq := func(target, tag string, i int) *http.Request {
		u := fmt.Sprintf("%s/%s/%d?n=%d&chunked=%d", target, tag, i, (i*37)%3000, i%2)
		if i%3 == 0 {
			req, _ := http.NewRequest("POST", u, bytes.NewReader(bytes.Repeat([]byte("p"), i%2000)))
			req.Header.Set("Cookie", "a=1; b=2")
			return req
		}
		req, _ := http.NewRequest("GET", u, nil)
		return req
	}
	// run sends n requests over conc connections, at rate requests/s (0: as
	// fast as they are answered); pick says where request i goes and whether
	// to keep what was sent. It returns the latencies by request and what was
	// kept, by URL.
	run := func(pick func(i int) (target, tag string, keep bool), conc, n int, rate float64) ([]time.Duration, map[string]sent) {
		tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		lat := make([]time.Duration, n)
		var mu sync.Mutex
		want := map[string]sent{}
		idx := make(chan int)
		var wg sync.WaitGroup
		var failed atomic.Value
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range idx {
					target, tag, keep := pick(i)
					req := newReq(target, tag, i)
					var wire countWriter
					if keep {
						dup := newReq(target, tag, i)
						if err := dup.Write(&wire); err != nil {
							failed.Store(err)
							return
						}
					}
					start := time.Now()
					res, err := client.Do(req)
					if err != nil {
						failed.Store(err)
						return
					}
					body, err := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					lat[i] = time.Since(start)
					if err != nil || res.StatusCode != 200 || body != int64((i*37)%3000) {
						failed.Store(fmt.Errorf("request %d: status %d, %d body bytes, %v", i, res.StatusCode, body, err))
						return
					}
					if !keep {
						continue
					}
					var head countWriter
					res.Header.Write(&head)
					s := sent{method: req.Method, url: req.URL.RequestURI(), reqCL: -1, resCL: res.ContentLength,
						reqSize: wire.n, resSize: int64(len("HTTP/1.1 200 OK\r\n")) + head.n + 2 + body}
					if req.Method == "POST" {
						s.reqCL = req.ContentLength
					}
					mu.Lock()
					want[s.url] = s
					mu.Unlock()
				}
			}()
		}
		begin := time.Now()
		for i := 0; i < n; i++ {
			if rate > 0 {
				if d := time.Until(begin.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
					time.Sleep(d)
				}
			}
			idx <- i
		}
		close(idx)
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			t.Fatal(err)
		}
		return lat, want
	}

	// Saturating runs: throughput, and latency that is mostly queueing.
	satN := n / 4
	t0 := time.Now()
	to := func(target, tag string) func(int) (string, string, bool) {
		return func(int) (string, string, bool) { return target, tag, false }
	}
	directSat, _ := run(to(backend.URL, "direct"), conc, satN, 0)
	tDirect := time.Since(t0)
	t0 = time.Now()
	proxiedSat, _ := run(to(base, "sat"), conc, satN, 0)
	tProxy := time.Since(t0)
	if rate == 0 {
		rate = float64(satN) / tProxy.Seconds() / 6 // proxied requests/s; as many go direct
		rate = max(rate, float64(n)/40)             // at most 40 s on a busy machine
	}
	// The paced run alternates direct and proxied requests, so that both
	// meet the same load from whatever else runs on the machine.
	both, want := run(func(i int) (string, string, bool) {
		if i%2 == 0 {
			return backend.URL, "direct", false
		}
		return base, "load", true
	}, conc, 2*n, 2*rate)
	var direct, proxied []time.Duration
	for i, l := range both {
		if i%2 == 0 {
			direct = append(direct, l)
		} else {
			proxied = append(proxied, l)
		}
	}
	// Sequential requests show the added latency without queueing.
	seqN := n / 10
	directSeq, _ := run(to(backend.URL, "direct"), 1, seqN, 0)
	proxiedSeq, _ := run(to(base, "seq"), 1, seqN, 0)

	recs := stop()
	if len(recs) != n+satN+seqN || len(want) != n {
		t.Fatalf("%d records for %d requests (%d kept)", len(recs), n+satN+seqN, len(want))
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.URL]++
		w, ok := want[r.URL]
		if !ok {
			continue // a saturating or sequential request
		}
		if r.Method != w.method || r.StatusCode != 200 || r.ReqContentLength != w.reqCL || r.ResContentLength != w.resCL ||
			r.RequestSize != w.reqSize || r.ResponseSize != w.resSize || r.ProxyName != "t" || r.ProxyError != "" {
			t.Fatalf("record %+v\nwant %+v", r, w)
		}
		if r.Method == "POST" && strings.Join(r.ReqCookies, ",") != "a,b" {
			t.Fatalf("request cookies %v", r.ReqCookies)
		}
		if strings.Join(r.ResCookies, ",") != "sid" || r.ResContentType != "application/octet-stream" {
			t.Fatalf("response fields %+v", r)
		}
		if r.SrcIP != "127.0.0.1" || r.DstIP != "127.0.0.1" || r.FirstByteAfter <= 0 || r.DoneAfter < r.FirstByteAfter {
			t.Fatalf("addresses or timings %+v", r)
		}
	}
	for u := range want {
		if seen[u] != 1 {
			t.Fatalf("%s: %d records", u, seen[u])
		}
	}
	p := func(l []time.Duration, q float64) time.Duration {
		s := append([]time.Duration(nil), l...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[int(float64(len(s)-1)*q)]
	}
	added := p(proxied, .5) - p(direct, .5)
	t.Logf("%d requests, %d connections, %.0f req/s: direct p50 %v p99 %v; proxy p50 %v p99 %v; added at the median %v",
		n, conc, rate, p(direct, .5), p(direct, .99), p(proxied, .5), p(proxied, .99), added)
	t.Logf("%d requests, %d connections, saturating: direct %.0f req/s p50 %v p99 %v; proxy %.0f req/s p50 %v p99 %v",
		satN, conc, float64(satN)/tDirect.Seconds(), p(directSat, .5), p(directSat, .99),
		float64(satN)/tProxy.Seconds(), p(proxiedSat, .5), p(proxiedSat, .99))
	t.Logf("%d sequential requests: direct p50 %v p99 %v; proxy p50 %v p99 %v; added at the median %v",
		seqN, p(directSeq, .5), p(directSeq, .99), p(proxiedSeq, .5), p(proxiedSeq, .99), p(proxiedSeq, .5)-p(directSeq, .5))
	if added >= time.Millisecond {
		t.Errorf("the proxy adds %v at the median at %.0f req/s over %d connections, want < 1ms", added, rate, conc)
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// noFollow is a client that returns redirects instead of following them.
var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

func TestRedirectsPassToClient(t *testing.T) {
	var loops atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "http://elsewhere.example/new", http.StatusFound)
		case "/loop":
			loops.Add(1)
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer backend.Close()
	_, base, stop := startProxy(t, backend.URL, Options{}, "", "")
	for _, c := range []struct{ path, loc string }{{"/old", "http://elsewhere.example/new"}, {"/loop", "/loop"}} {
		res, err := noFollow.Get(base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 302 || res.Header.Get("Location") != c.loc {
			t.Fatalf("%s: %d Location %q", c.path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	recs := stop()
	if len(recs) != 2 || recs[0].StatusCode != 302 || recs[1].StatusCode != 302 || loops.Load() != 1 {
		t.Fatalf("%d records, backend saw /loop %d times", len(recs), loops.Load())
	}
}

func TestBackendDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	s, base, stop := startProxy(t, "http://"+down, Options{DialTimeout: 2 * time.Second}, "", "")
	res, err := noFollow.Get(base + "/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", res.StatusCode)
	}
	recs := stop()
	if len(recs) != 1 || recs[0].StatusCode != 502 || recs[0].ProxyError != ErrBackendDown ||
		recs[0].DstIP+":"+strconv.Itoa(int(recs[0].DstPort)) != down {
		t.Fatalf("records %+v", recs)
	}
	if st := s.Stats(); st.Errors[ErrBackendDown] != 1 || st.Requests != 1 || st.Records != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBadRequestCounted(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	s, base, stop := startProxy(t, backend.URL, Options{}, "", "")
	for _, raw := range []string{"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n", "GET / HTTP/9.9\r\nHost: a\r\n\r\n"} {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, raw)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.HasPrefix(line, "HTTP/1.1 4") && !strings.HasPrefix(line, "HTTP/1.1 505") {
			t.Fatalf("%q: answer %q", raw, line)
		}
	}
	res, err := noFollow.Get(base + "/fine")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// Connections are closed asynchronously: wait for the count.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Errors[ErrBadRequest] < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	recs := stop()
	if st := s.Stats(); st.Errors[ErrBadRequest] != 3 || len(recs) != 1 || recs[0].URL != "/fine" {
		t.Fatalf("stats %+v, %d records", st, len(recs))
	}
}

// testCA makes a CA and a certificate for 127.0.0.1 signed by it, and
// writes the leaf's PEM files into dir.
func testCA(t *testing.T, dir string) (pool *x509.CertPool, leaf tls.Certificate, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netcap test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	certFile, keyFile = filepath.Join(dir, "leaf.crt"), filepath.Join(dir, "leaf.key")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
	leaf, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return pool, leaf, certFile, keyFile
}

// TestTLSBothSides: an HTTP/2 client over TLS to the proxy, TLS from the
// proxy to the backend, both with certificates of a test CA; the backend
// is verified unless -insecure-skip-verify.
func TestTLSBothSides(t *testing.T) {
	dir := t.TempDir()
	pool, leaf, certFile, keyFile := testCA(t, dir)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "tls-backend")
		io.WriteString(w, "secret "+r.Header.Get("X-Forwarded-Proto"))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	backend.StartTLS()
	defer backend.Close()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
	}}
	get := func(base string) (*http.Response, string) {
		t.Helper()
		res, err := client.Get(base + "/s")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}

	_, base, stop := startProxy(t, backend.URL, Options{BackendCAs: pool}, certFile, keyFile)
	res, body := get(base)
	if res.StatusCode != 200 || res.Proto != "HTTP/2.0" || body != "secret https" {
		t.Fatalf("verified backend: %d %s %q", res.StatusCode, res.Proto, body)
	}
	recs := stop()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Proto != "HTTP/2.0" || r.StatusCode != 200 || r.ServerName != "tls-backend" ||
		r.ConnectDoneAfter <= 0 || r.TLSDoneAfter < r.ConnectDoneAfter || r.FirstByteAfter < r.TLSDoneAfter || r.DoneAfter < r.FirstByteAfter {
		t.Fatalf("record %+v", r)
	}
	t.Logf("timings (µs): connect %d, TLS %d, first byte %d, done %d",
		r.ConnectDoneAfter/1000, r.TLSDoneAfter/1000, r.FirstByteAfter/1000, r.DoneAfter/1000)

	// Without the CA the backend's certificate is refused: 502.
	_, base, stop = startProxy(t, backend.URL, Options{}, certFile, keyFile)
	if res, _ := get(base); res.StatusCode != 502 {
		t.Fatalf("unverified backend: %d", res.StatusCode)
	}
	if recs := stop(); len(recs) != 1 || recs[0].ProxyError != ErrBackendTLS {
		t.Fatalf("records %+v", recs)
	}

	// -insecure-skip-verify accepts it.
	_, base, stop = startProxy(t, backend.URL, Options{InsecureSkipVerify: true}, certFile, keyFile)
	if res, _ := get(base); res.StatusCode != 200 {
		t.Fatalf("insecure: %d", res.StatusCode)
	}
	stop()
}

// TestWebSocket: an Upgrade handshake goes through, then bytes flow both
// ways on the tunnel; the exchange is one record with status 101.
func TestWebSocket(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "upgrade required", 426)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
		io.Copy(c, brw) // echo
	}))
	defer backend.Close()
	_, base, stop := startProxy(t, backend.URL, Options{}, "", "")
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("handshake: %d %v", res.StatusCode, res.Header)
	}
	// A masked text frame "hello" (RFC 6455 5.7), echoed back as sent.
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	c.Write(frame)
	back := make([]byte, len(frame))
	if _, err := io.ReadFull(br, back); err != nil || !bytes.Equal(back, frame) {
		t.Fatalf("echo %x, %v", back, err)
	}
	c.Close()
	recs := stop()
	if len(recs) != 1 || recs[0].StatusCode != 101 || recs[0].URL != "/ws" || recs[0].ResponseSize == 0 {
		t.Fatalf("records %+v", recs)
	}
}

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// TestShutdownWaitsForInFlight: Shutdown lets a slow exchange finish and
// writes its record; a tunnel still open at the end of grace is cut.
func TestShutdownWaitsForInFlight(t *testing.T) {
	started := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(500 * time.Millisecond)
		io.WriteString(w, "slow")
	}))
	defer backend.Close()
	out := t.TempDir()
	s, base, _ := startProxy(t, backend.URL, Options{Out: out}, "", "")
	done := make(chan error, 1)
	go func() {
		res, err := noFollow.Get(base + "/slow")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			if string(b) != "slow" {
				err = fmt.Errorf("body %q", b)
			}
			res.Body.Close()
		}
		done <- err
	}()
	<-started
	ctxStart := time.Now()
	if err := s.Shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, filepath.Join(out, RecordFile))
	if len(recs) != 1 || recs[0].StatusCode != 200 || time.Since(ctxStart) > 4*time.Second {
		t.Fatalf("%d records after %v", len(recs), time.Since(ctxStart))
	}
}

// TestClientAbortsUpload: a client that closes its connection (cleanly or
// with a reset) in the middle of its request body is recorded as
// client_gone, not as a backend error; a malformed chunked body is a
// bad_request.
func TestClientAbortsUpload(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("got it"))
	}))
	defer backend.Close()
	chunks := strings.Repeat("1000\r\n"+strings.Repeat("x", 0x1000)+"\r\n", 4)
	cases := []struct {
		name, request string
		reset         bool
		want          string
	}{
		{"length, close", "Content-Length: 1000000\r\n\r\n" + strings.Repeat("x", 64<<10), false, ErrClientGone},
		{"length, reset", "Content-Length: 1000000\r\n\r\n" + strings.Repeat("x", 64<<10), true, ErrClientGone},
		{"chunked, close", "Transfer-Encoding: chunked\r\n\r\n" + chunks, false, ErrClientGone},
		{"chunked, reset", "Transfer-Encoding: chunked\r\n\r\n" + chunks, true, ErrClientGone},
		{"chunked, malformed", "Transfer-Encoding: chunked\r\n\r\n" + chunks + "zz\r\n", false, ErrBadRequest},
	}
	for _, c := range cases {
		_, base, stop := startProxy(t, backend.URL, Options{}, "", "")
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\n%s", c.request)
		time.Sleep(100 * time.Millisecond) // the request reaches the backend
		if c.reset {
			conn.(*net.TCPConn).SetLinger(0)
		}
		conn.Close()
		recs := stop()
		if len(recs) != 1 || recs[0].ProxyError != c.want {
			var errs []string
			for _, r := range recs {
				errs = append(errs, r.ProxyError)
			}
			t.Errorf("%s: %d records with errors %q, want one %s", c.name, len(recs), errs, c.want)
		}
	}
}

// TestClientResetCancels: a client that resets its connection while the
// backend works is gone at once: the backend request is cancelled.
func TestClientResetCancels(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer backend.Close()
	defer close(release)
	_, base, stop := startProxy(t, backend.URL, Options{}, "", "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
	recs := stop()
	if len(recs) != 1 || recs[0].ProxyError != ErrClientGone || recs[0].DoneAfter > int64(3*time.Second) {
		t.Errorf("records %v, want one client_gone ended within 3 s", recs)
	}
}

// TestHalfClose: a client that half-closes its connection after sending
// its request (shutdown(SHUT_WR), as "nc -N" does) still gets its response,
// with or without keep-alive.
func TestHalfClose(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond) // answers after the half-close
		w.Write([]byte("hello"))
	}))
	defer backend.Close()
	for _, extra := range []string{"Connection: close\r\n", ""} {
		_, base, stop := startProxy(t, backend.URL, Options{}, "", "")
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n%s\r\n", extra)
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: no response after a half-close: %v", extra, err)
		}
		body, _ := io.ReadAll(res.Body)
		c.Close()
		if res.StatusCode != 200 || string(body) != "hello" {
			t.Errorf("%q: after a half-close: %d %q, want 200 \"hello\"", extra, res.StatusCode, body)
		}
		recs := stop()
		if len(recs) != 1 || recs[0].StatusCode != 200 || recs[0].ProxyError != "" {
			t.Errorf("%q: records %v, want one of status 200 without error", extra, recs)
		}
	}
}

// TestMaxClients: a flood of connections that send nothing holds at most
// MaxClients of the proxy's slots; a client beyond them is served as soon as
// one of them closes.
func TestMaxClients(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	s, base, _ := startProxy(t, backend.URL, Options{MaxClients: 4}, "", "")
	addr := s.Proxies()[0].Addr().String()
	var idle []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	n := 0
	s.conns.Range(func(any, any) bool { n++; return true })
	if n != 4 {
		t.Fatalf("%d client connections accepted during the flood, want 4", n)
	}
	done := make(chan error, 1)
	go func() {
		res, err := http.Get(base + "/x")
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("served beyond the limit (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	for _, c := range idle {
		c.Close()
	}
	idle = nil
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not served after the flood ended")
	}
}
