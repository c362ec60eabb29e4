// Package proxy is an HTTP reverse proxy that writes one HTTP record (the
// record net capture derives from packets) per exchange, with timings that
// a packet capture cannot see (DNS, connect, TLS handshake and first byte
// towards the backend, from net/http/httptrace).
//
// It is built on net/http/httputil.ReverseProxy: bodies stream through and
// their sizes are counted while they stream, redirects go back to the
// client, hop-by-hop headers are removed, WebSocket upgrades and HTTP/2
// from clients pass through, X-Forwarded-For/-Host/-Proto are set.
//
// Record fields, next to capture's (decoder/http.go):
//   - Timestamp: when the request reached the proxy; ResponseTimestamp: when
//     the backend's first response byte arrived (or the proxy answered itself).
//   - SrcIP/SrcPort: the client (the real peer); DstIP/DstPort: the backend
//     connection's address (the remote URL's host when no connection was made).
//   - Method, Host, URL (request-target as received), Proto, UserAgent,
//     Referer, ContentType, ReqContentEncoding, ReqCookies (names),
//     RequestCookies, RequestHeader (names in Go's canonical form) and
//     Parameters from the request; StatusCode, ServerName, ResContentType,
//     ResContentEncoding, ResCookies (names), ResponseCookies and
//     ResponseHeader from the backend's response. Bodies are not sniffed.
//   - ReqContentLength/ResContentLength: the Content-Length header, -1 when
//     absent. RequestSize/ResponseSize: the header block in HTTP/1.1 form
//     (start line, fields, blank line) plus the body bytes that went through;
//     for HTTP/1.1 that is the bytes on the wire without chunk framing.
//   - DNSDoneAfter, ConnectDoneAfter, TLSDoneAfter, FirstByteAfter, DoneAfter:
//     nanoseconds after Timestamp (0: did not happen, e.g. a reused
//     connection needs no DNS, connect or TLS).
//   - ProxyName: the proxy's name. ProxyError: empty, or why the proxy
//     answered itself or cut the exchange (see the Err* kinds).
package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"github.com/netcap/netcap"
	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// Error kinds: ProxyError values and keys of Stats.Errors.
const (
	ErrBackendDown    = "backend_down"    // dial refused or failed: 502
	ErrBackendTimeout = "backend_timeout" // dial, TLS or response header timeout: 502
	ErrBackendTLS     = "backend_tls"     // certificate or handshake failure towards the backend: 502
	ErrBackend        = "backend_error"   // any other failure before the response header: 502
	ErrClientGone     = "client_gone"     // the client left before the response header
	ErrAborted        = "aborted"         // the body copy failed (client or backend cut the stream)
	ErrBadRequest     = "bad_request"     // bytes that did not form a request: net/http answered 400/431/505 or the client cut them off
	ErrClientTLS      = "client_tls"      // TLS handshake with a client failed
	ErrWriteRecord    = "write_record"    // a record could not be written
	ErrServer         = "server"          // other net/http server errors
)

// RecordFile is the name of the record file in the output folder.
const RecordFile = "HTTP.ncap.gz"

// Options tune the proxies. Zero durations take the defaults below.
type Options struct {
	Out                string    // folder for HTTP.ncap.gz (created if missing)
	Overwrite          bool      // replace an existing HTTP.ncap.gz
	Dump               io.Writer // also write each record as a JSON line here
	DialTimeout        time.Duration
	IdleTimeout        time.Duration
	TLSTimeout         time.Duration
	InsecureSkipVerify bool           // do not verify backend certificates
	BackendCAs         *x509.CertPool // roots for backends (nil: the system's)
	MaxIdlePerHost     int            // idle backend connections kept per backend
	// MaxClients bounds the client connections one proxy serves at once;
	// more wait in the kernel's accept queue until one closes, so a flood
	// of connections costs queue slots, not memory or descriptors.
	MaxClients int
}

// Defaults of Options, those of the original netcap.
const (
	DefaultDialTimeout = 30 * time.Second
	DefaultIdleTimeout = 90 * time.Second
	DefaultTLSTimeout  = 15 * time.Second
	DefaultMaxIdle     = 256
	DefaultMaxClients  = 1024
	readHeaderTimeout  = 30 * time.Second
)

// Stats are the counters of a Server.
type Stats struct {
	Requests     int64            // requests handed to the proxy handler
	Records      int64            // records written
	Errors       map[string]int64 // by kind (Err*)
	BytesIn      int64            // from clients: sum of RequestSize
	BytesOut     int64            // to clients: sum of ResponseSize
	BodyBytesIn  int64            // request body bytes forwarded to backends
	BodyBytesOut int64            // response body bytes forwarded to clients
}

// Server runs one or more proxies that share one record file.
type Server struct {
	opt     Options
	proxies []*Proxy
	base    context.Context
	cancel  context.CancelFunc
	serveWG sync.WaitGroup
	fatal   chan error

	inflight sync.WaitGroup
	stopOnce sync.Once
	stopErr  error

	mu      sync.Mutex // the writer and the dump
	w       *ncio.Writer
	dumpBuf []byte
	closed  bool

	requests, records                  atomic.Int64
	bytesIn, bytesOut, bodyIn, bodyOut atomic.Int64
	errMu                              sync.Mutex
	errs                               map[string]int64
	conns                              sync.Map // net.Conn -> *connTrack
}

// Proxy is one listening address forwarding to one backend.
type Proxy struct {
	Name   string
	Remote *url.URL
	TLS    bool
	ln     net.Listener
	srv    *http.Server
	rp     *httputil.ReverseProxy
	s      *Server
	dst    string // backend host:port for records without a connection
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// New checks the configuration, listens on every local address and creates
// the record file. Nothing is served before Start. Every error is one line.
func New(cfg *Config, opt Options) (*Server, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if opt.DialTimeout <= 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.TLSTimeout <= 0 {
		opt.TLSTimeout = DefaultTLSTimeout
	}
	if opt.MaxIdlePerHost <= 0 {
		opt.MaxIdlePerHost = DefaultMaxIdle
	}
	if opt.MaxClients <= 0 {
		opt.MaxClients = DefaultMaxClients
	}
	var certs []tls.Certificate
	for _, e := range cfg.Proxies {
		if e.TLS {
			cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("certificate: %s", oneLine(err.Error()))
			}
			certs = []tls.Certificate{cert}
			break
		}
	}
	path := filepath.Join(opt.Out, RecordFile)
	if !opt.Overwrite {
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("%s exists; choose another -out or add -overwrite", path)
		}
	}
	s := &Server{opt: opt, errs: map[string]int64{}, fatal: make(chan error, len(cfg.Proxies))}
	s.base, s.cancel = context.WithCancel(context.Background())
	tr := &http.Transport{
		Proxy:                 nil, // never an environment proxy
		DialContext:           (&net.Dialer{Timeout: opt.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   opt.MaxIdlePerHost,
		IdleConnTimeout:       opt.IdleTimeout,
		TLSHandshakeTimeout:   opt.TLSTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass Accept-Encoding and bodies as they are
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: opt.InsecureSkipVerify,
			RootCAs:            opt.BackendCAs,
		},
	}
	var sources []string
	for _, name := range cfg.Names() {
		e := cfg.Proxies[name]
		remote, _ := ParseRemote(e.Remote) // checked by cfg.Check
		ln, err := net.Listen("tcp", e.Local)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("proxy %s: %s", name, oneLine(err.Error()))
		}
		ln = trackListener{netutil.LimitListener(ln, opt.MaxClients)}
		p := &Proxy{Name: name, Remote: remote, TLS: e.TLS, ln: ln, s: s, dst: hostPort(remote)}
		p.rp = &httputil.ReverseProxy{
			Rewrite:        p.rewrite,
			Transport:      tr,
			ModifyResponse: p.modifyResponse,
			ErrorHandler:   p.errorHandler,
			ErrorLog:       log.New(io.Discard, "", 0), // failures are counted and recorded instead
			BufferPool:     copyBuffers,
		}
		p.srv = &http.Server{
			Handler:           p,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       opt.IdleTimeout,
			ErrorLog:          log.New(serverLog{s}, "", 0),
			BaseContext:       func(net.Listener) context.Context { return s.base },
			ConnContext:       s.connContext,
			ConnState:         s.connState,
		}
		if e.TLS {
			p.srv.TLSConfig = &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
		}
		s.proxies = append(s.proxies, p)
		sources = append(sources, name+"="+remote.String())
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("output folder: %s", oneLine(err.Error()))
	}
	w, err := ncio.Create(path, &types.Header{
		Created:     time.Now().UnixNano(),
		InputSource: "proxy " + strings.Join(sources, " "),
		Type:        types.Type_NC_HTTP,
		Version:     netcap.Version,
	}, true)
	if err != nil {
		s.closeListeners()
		return nil, errors.New(oneLine(err.Error()))
	}
	s.w = w
	return s, nil
}

func (s *Server) closeListeners() {
	for _, p := range s.proxies {
		p.ln.Close()
	}
}

// Proxies returns the proxies, sorted by name.
func (s *Server) Proxies() []*Proxy { return s.proxies }

// Path is the record file's path.
func (s *Server) Path() string { return s.w.Path() }

// Start serves every proxy in its own goroutines. A proxy that stops
// serving by itself (not by Shutdown) reports on Fatal.
func (s *Server) Start() {
	for _, p := range s.proxies {
		s.serveWG.Add(1)
		go func() {
			defer s.serveWG.Done()
			var err error
			if p.TLS {
				err = p.srv.ServeTLS(p.ln, "", "") // sets up HTTP/2 (h2 by ALPN)
			} else {
				err = p.srv.Serve(p.ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.fatal <- fmt.Errorf("proxy %s: %s", p.Name, oneLine(err.Error()))
			}
		}()
	}
}

// Fatal delivers the error of a proxy that stopped serving by itself.
func (s *Server) Fatal() <-chan error { return s.fatal }

// Shutdown stops accepting, lets in-flight exchanges (WebSocket tunnels
// included) finish for up to grace, then cuts what remains, writes every
// record and closes the record file. It returns the file's close error.
// Later calls return the first call's result.
func (s *Server) Shutdown(grace time.Duration) error {
	s.stopOnce.Do(func() { s.stopErr = s.shutdown(grace) })
	return s.stopErr
}

func (s *Server) shutdown(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range s.proxies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.srv.Shutdown(ctx); err != nil {
				p.srv.Close()
			}
		}()
	}
	wg.Wait()
	s.serveWG.Wait()
	// Shutdown does not wait for hijacked connections (WebSocket tunnels).
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel() // ends backend requests and tunnels still running
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.w.Close()
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:     s.requests.Load(),
		Records:      s.records.Load(),
		BytesIn:      s.bytesIn.Load(),
		BytesOut:     s.bytesOut.Load(),
		BodyBytesIn:  s.bodyIn.Load(),
		BodyBytesOut: s.bodyOut.Load(),
		Errors:       map[string]int64{},
	}
	s.errMu.Lock()
	for k, v := range s.errs {
		st.Errors[k] = v
	}
	s.errMu.Unlock()
	return st
}

// String renders the stats as the summary lines the command prints.
func (st Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests: %d, records: %d\n", st.Requests, st.Records)
	fmt.Fprintf(&b, "bytes from clients: %d (bodies %d), to clients: %d (bodies %d)\n",
		st.BytesIn, st.BodyBytesIn, st.BytesOut, st.BodyBytesOut)
	if len(st.Errors) == 0 {
		b.WriteString("errors: none\n")
		return b.String()
	}
	kinds := make([]string, 0, len(st.Errors))
	for k := range st.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	b.WriteString("errors:")
	for i, k := range kinds {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s %d", sep, k, st.Errors[k])
	}
	b.WriteString("\n")
	return b.String()
}

func (s *Server) countErr(kind string) {
	s.errMu.Lock()
	s.errs[kind]++
	s.errMu.Unlock()
}

// serverLog counts what net/http's server logs (TLS handshake failures
// with clients, mostly) instead of printing it per connection.
type serverLog struct{ s *Server }

func (l serverLog) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "TLS handshake error") {
		l.s.countErr(ErrClientTLS)
	} else {
		l.s.countErr(ErrServer)
	}
	return len(b), nil
}

// connTrack finds connections on which a client sent bytes that never
// became a request for the handler: net/http answers those itself (400,
// 431, 505) without calling any hook, so they are counted when the
// connection closes.
type connTrack struct {
	active  atomic.Bool // bytes of a request were read
	handled atomic.Bool // the handler got that request
	conn    *trackConn  // nil when not found under a TLS layer
}

type connKey struct{}

func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	t := &connTrack{}
	if tc, ok := c.(*tls.Conn); ok {
		t.conn, _ = tc.NetConn().(*trackConn)
	} else {
		t.conn, _ = c.(*trackConn)
	}
	s.conns.Store(c, t)
	return context.WithValue(ctx, connKey{}, t)
}

func (s *Server) connState(c net.Conn, st http.ConnState) {
	v, ok := s.conns.Load(c)
	if !ok {
		return
	}
	t := v.(*connTrack)
	switch st {
	case http.StateActive:
		t.active.Store(true)
	case http.StateIdle:
		t.active.Store(false)
		t.handled.Store(false)
	case http.StateHijacked:
		s.conns.Delete(c)
	case http.StateClosed:
		if t.active.Load() && !t.handled.Load() {
			s.countErr(ErrBadRequest)
		}
		s.conns.Delete(c)
	}
}

// exchange is one request through the proxy and its record.
type exchange struct {
	p     *Proxy
	start time.Time
	r     types.HTTP
	resAt atomic.Int64 // Unix ns of the first response byte
	// httptrace timings, ns after start; written by transport goroutines
	dns, connect, tlsDone, firstByte atomic.Int64
	dst                              atomic.Value  // string: backend address
	resHead                          int64         // size of a 101 response header
	body                             *countingBody // the client's request body, nil without one
}

type exKey struct{}

func (ex *exchange) since() int64 { return int64(time.Since(ex.start)) }

func (ex *exchange) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSDone:     func(httptrace.DNSDoneInfo) { ex.dns.Store(ex.since()) },
		ConnectDone: func(_, _ string, err error) { ex.connect.Store(ex.since()) },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			ex.tlsDone.Store(ex.since())
		},
		GotConn: func(info httptrace.GotConnInfo) {
			if a := info.Conn.RemoteAddr(); a != nil {
				ex.dst.Store(a.String())
			}
		},
		GotFirstResponseByte: func() {
			ex.firstByte.Store(ex.since())
			ex.resAt.Store(time.Now().UnixNano())
		},
	}
}

// ServeHTTP handles one client request: it records it, hands it to the
// reverse proxy through counting wrappers, and writes the record.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := p.s
	s.inflight.Add(1)
	defer s.inflight.Done()
	s.requests.Add(1)
	track, _ := r.Context().Value(connKey{}).(*connTrack)
	if track != nil {
		track.handled.Store(true)
	}
	ex := &exchange{p: p, start: time.Now()}
	ex.fillRequest(r)
	reqHead := requestHeadLen(r)
	var body *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &countingBody{rc: r.Body}
		r.Body = body
		ex.body = body
	}
	rw := &respWriter{ResponseWriter: w, proto: responseProto(r)}
	ctx := context.WithValue(r.Context(), exKey{}, ex)
	if r.ProtoMajor == 1 && track != nil && track.conn != nil {
		// net/http cancels the request's context when the client's
		// bytes end, as they do when it half-closes its connection
		// after the request (shutdown(SHUT_WR)): such a client still
		// waits for its response. So the backend request ends with a
		// reset or a read error from the client, or the server's cut,
		// but not with a clean end of the client's bytes; a client that
		// closed for good is seen when its response cannot be written.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		conn := track.conn
		defer context.AfterFunc(r.Context(), func() {
			if !conn.eof.Load() {
				cancel()
			}
		})()
		defer context.AfterFunc(s.base, cancel)()
	}
	ctx = httptrace.WithClientTrace(ctx, ex.trace())
	defer func() {
		v := recover()
		if v != nil && ex.r.ProxyError == "" {
			ex.r.ProxyError = ErrAborted
		}
		var bodyIn int64
		if body != nil {
			bodyIn = body.n.Load()
		}
		ex.finish(rw, reqHead, bodyIn)
		if v != nil {
			panic(v) // http.ErrAbortHandler: net/http cuts the connection
		}
	}()
	p.rp.ServeHTTP(rw, r.WithContext(ctx))
}

func (ex *exchange) fillRequest(r *http.Request) {
	rec := &ex.r
	rec.Timestamp = ex.start.UnixNano()
	rec.ProxyName = ex.p.Name
	rec.Method = decoder.Text([]byte(r.Method))
	rec.URL = decoder.Text([]byte(r.RequestURI))
	rec.Proto = r.Proto
	rec.Host = decoder.Text([]byte(r.Host))
	rec.UserAgent = decoder.Text([]byte(r.Header.Get("User-Agent")))
	rec.Referer = decoder.Text([]byte(r.Header.Get("Referer")))
	rec.ContentType = decoder.Text([]byte(r.Header.Get("Content-Type")))
	rec.ReqContentEncoding = decoder.Text([]byte(r.Header.Get("Content-Encoding")))
	for _, v := range r.Header["Cookie"] {
		rec.ReqCookies = decoder.CookieNames(rec.ReqCookies, []byte(v), false)
		rec.RequestCookies = decoder.HTTPCookies(rec.RequestCookies, []byte(v), false)
	}
	rec.RequestHeader = headerMap(r.Header)
	if r.Host != "" {
		if rec.RequestHeader == nil {
			rec.RequestHeader = map[string]string{}
		}
		rec.RequestHeader["Host"] = decoder.Text([]byte(r.Host))
	}
	rec.Parameters = decoder.HTTPQuery(nil, []byte(r.RequestURI))
	rec.ReqContentLength, rec.ResContentLength = -1, -1
	if _, ok := r.Header["Content-Length"]; ok && r.ContentLength >= 0 {
		rec.ReqContentLength = r.ContentLength
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		rec.SrcIP, rec.SrcPort = ap.Addr().Unmap().String(), int32(ap.Port())
	} else {
		rec.SrcIP = r.RemoteAddr
	}
}

func (ex *exchange) finish(rw *respWriter, reqHead, bodyIn int64) {
	s := ex.p.s
	rec := &ex.r
	if rw.status != 0 {
		rec.StatusCode = int32(rw.status)
	}
	rec.DoneAfter = ex.since()
	rec.DNSDoneAfter = ex.dns.Load()
	rec.ConnectDoneAfter = ex.connect.Load()
	rec.TLSDoneAfter = ex.tlsDone.Load()
	rec.FirstByteAfter = ex.firstByte.Load()
	if rec.ResponseTimestamp == 0 {
		rec.ResponseTimestamp = ex.resAt.Load()
	}
	dst, _ := ex.dst.Load().(string)
	if dst == "" {
		dst = ex.p.dst
	}
	if ap, err := netip.ParseAddrPort(dst); err == nil {
		rec.DstIP, rec.DstPort = ap.Addr().Unmap().String(), int32(ap.Port())
	} else if h, port, err := net.SplitHostPort(dst); err == nil {
		n, _ := strconv.Atoi(port)
		rec.DstIP, rec.DstPort = h, int32(n)
	}
	rec.RequestSize = reqHead + bodyIn
	rec.ResponseSize = rw.head + rw.body + ex.resHead
	s.bytesIn.Add(rec.RequestSize)
	s.bytesOut.Add(rec.ResponseSize)
	s.bodyIn.Add(bodyIn)
	s.bodyOut.Add(rw.body)
	if rec.ProxyError != "" {
		s.countErr(rec.ProxyError)
	}
	s.write(rec)
}

// copyBuffers lends the 32 KiB buffers that bodies stream through. Without a
// pool ReverseProxy allocates one per request: at 6,000 requests/s that is
// 190 MB/s of garbage, and the collections it causes put 20-70 ms on the
// 99th percentile (measured with TestLoad, GOGC=off as control).
var copyBuffers = &bufferPool{}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// write appends a record to the file (and the dump).
func (s *Server) write(rec *types.HTTP) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.countErr(ErrWriteRecord)
		return
	}
	if err := s.w.Write(rec); err != nil {
		s.countErr(ErrWriteRecord)
		return
	}
	s.records.Add(1)
	if s.opt.Dump != nil {
		s.dumpBuf = ncio.AppendJSON(s.dumpBuf[:0], rec.ProtoReflect(), &ncio.Format{})
		s.dumpBuf = append(s.dumpBuf, '\n')
		s.opt.Dump.Write(s.dumpBuf)
	}
}

// rewrite points the outgoing request at the backend and adds the
// X-Forwarded headers (appending to a client's X-Forwarded-For).
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.Remote)
	if xff, ok := pr.In.Header["X-Forwarded-For"]; ok {
		pr.Out.Header["X-Forwarded-For"] = xff
	}
	pr.SetXForwarded()
	if u := p.Remote.User; u != nil {
		pw, _ := u.Password()
		pr.Out.SetBasicAuth(u.Username(), pw)
	}
}

// headerMap renders a header as the records' maps: names in Go's
// canonical form (net/http does not keep them as sent), the values of a
// repeated name joined by ", ".
func headerMap(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]string, len(h))
	for name, vs := range h {
		m[decoder.Text([]byte(name))] = decoder.Text([]byte(strings.Join(vs, ", ")))
	}
	return m
}

// modifyResponse fills the response fields from the backend's header.
func (p *Proxy) modifyResponse(res *http.Response) error {
	ex, ok := res.Request.Context().Value(exKey{}).(*exchange)
	if !ok {
		return nil
	}
	rec := &ex.r
	rec.StatusCode = int32(res.StatusCode)
	rec.ServerName = decoder.Text([]byte(res.Header.Get("Server")))
	rec.ResContentType = decoder.Text([]byte(res.Header.Get("Content-Type")))
	rec.ResContentEncoding = decoder.Text([]byte(res.Header.Get("Content-Encoding")))
	for _, v := range res.Header["Set-Cookie"] {
		rec.ResCookies = decoder.CookieNames(rec.ResCookies, []byte(v), true)
		rec.ResponseCookies = decoder.HTTPCookies(rec.ResponseCookies, []byte(v), true)
	}
	rec.ResponseHeader = headerMap(res.Header)
	if _, ok := res.Header["Content-Length"]; ok && res.ContentLength >= 0 {
		rec.ResContentLength = res.ContentLength
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		// The upgrade response is written on the hijacked connection,
		// past the ResponseWriter.
		ex.resHead = responseHeadLen("HTTP/1.1", res.StatusCode, res.Header)
	}
	return nil
}

// errorHandler answers 502 when the backend gave no response header (400
// when the client's body was malformed), and says why in the record.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	kind := classify(r.Context(), err)
	if ex, ok := r.Context().Value(exKey{}).(*exchange); ok {
		if ex.body != nil {
			// The client's body failed to arrive: the client left in
			// the middle of its upload, or sent a malformed one.
			if berr := ex.body.failure(); berr != nil {
				kind = ErrClientGone
				if !connectionEnded(berr) {
					kind = ErrBadRequest
				}
			}
		}
		ex.r.ProxyError = kind
		ex.r.ResponseTimestamp = time.Now().UnixNano()
	}
	if kind == ErrBadRequest {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusBadGateway)
}

// classify names the kind of a round-trip error.
func classify(ctx context.Context, err error) string {
	var (
		ne   net.Error
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		he   x509.HostnameError
		cie  x509.CertificateInvalidError
		rhe  tls.RecordHeaderError
		ae   tls.AlertError
		oper *net.OpError
	)
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return ErrClientGone
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie),
		errors.As(err, &rhe), errors.As(err, &ae):
		return ErrBackendTLS
	case errors.As(err, &ne) && ne.Timeout():
		return ErrBackendTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &oper) && oper.Op == "dial":
		return ErrBackendDown
	}
	return ErrBackend
}

// respWriter counts what goes to the client. Unwrap lets
// http.ResponseController (used by ReverseProxy to flush and to hijack for
// upgrades) reach the server's ResponseWriter.
type respWriter struct {
	http.ResponseWriter
	proto  string
	status int
	head   int64 // header bytes, interim responses included
	body   int64
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *respWriter) WriteHeader(code int) {
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(code) // net/http logs the superfluous call
		return
	}
	w.head += responseHeadLen(w.proto, code, w.Header())
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.body += int64(n)
	return n, err
}

// countingBody counts the request body bytes the backend was sent.
type countingBody struct {
	rc  io.ReadCloser
	n   atomic.Int64 // read by the handler after the transport's goroutine
	err atomic.Pointer[error]
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	if err != nil && err != io.EOF {
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// failure is the first error reading the body gave, nil when none did.
func (b *countingBody) failure() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

// connectionEnded tells whether a body read error means the client's
// connection ended (closed or reset) rather than a malformed body.
func connectionEnded(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, context.Canceled)
}

// trackListener wraps accepted connections in trackConn.
type trackListener struct{ net.Listener }

func (l trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &trackConn{Conn: c}, nil
}

// trackConn notes a clean end of the client's bytes (a FIN: a half-close or
// a close), which net/http does not tell from a reset.
type trackConn struct {
	net.Conn
	eof atomic.Bool
}

func (c *trackConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.eof.Store(true)
	}
	return n, err
}

// CloseWrite lets net/http half-close the connection as it does a TCP one.
func (c *trackConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (b *countingBody) Close() error { return b.rc.Close() }

// requestHeadLen is the size of the request's header block in HTTP/1.1
// form: request line, Host, the fields, the blank line.
func requestHeadLen(r *http.Request) int64 {
	n := int64(len(r.Method)+1+len(r.RequestURI)+1+len(r.Proto)) + 2
	if r.Host != "" {
		n += int64(len("Host: ")+len(r.Host)) + 2
	}
	return n + headerLen(r.Header) + 2
}

// responseHeadLen is the size of a response header block: status line,
// fields, blank line.
func responseHeadLen(proto string, code int, h http.Header) int64 {
	n := int64(len(proto)+1+3+1+len(http.StatusText(code))) + 2
	return n + headerLen(h) + 2
}

func headerLen(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k)+2+len(v)) + 2
		}
	}
	return n
}

// responseProto is the version net/http answers with: HTTP/1.1 to any
// HTTP/1.x request, HTTP/2.0 on HTTP/2.
func responseProto(r *http.Request) string {
	if r.ProtoMajor == 2 {
		return "HTTP/2.0"
	}
	return "HTTP/1.1"
}

// hostPort is the backend's host:port from its URL (default ports filled).
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
