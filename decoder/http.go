package decoder

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"

	"github.com/netcap/netcap/types"
)

// HTTP/1.x is read from the reassembled bytes of a TCP connection, on any
// port: requests from the client's bytes, responses from the server's, each
// direction parsed incrementally (a chunk may end anywhere, inside a header
// line or a chunk-size line). One HTTP record is made per request/response
// pair:
//
//   - responses are paired with requests in order (FIFO), which covers
//     keep-alive and pipelined requests. A 1xx response other than 101 is
//     interim: the next response answers the same request. A response to
//     HEAD, a 1xx, 204 or 304 has no body. A 2xx answer to CONNECT and a
//     101 turn the connection into a tunnel: HTTP stops there, and an
//     Upgrade reads what the tunnel carries (TLS through a proxy).
//   - a request that gets no response is recorded alone (at Close at the
//     latest); so is a response that answers no request seen (capture
//     started mid-connection): its record has the response fields only,
//     with Timestamp and FrameNumber those of the response.
//   - bodies are never buffered, only counted: by Content-Length, by the
//     chunked transfer coding (chunk-size lines and trailers), or until the
//     connection closes (a response with neither, or a transfer coding
//     other than chunked). Only a header block, a chunk-size line or a
//     trailer line is buffered while it spans chunks, at most
//     httpMaxHeader bytes; a longer one ends the direction (what is known
//     of the message is recorded).
//   - a gap (Chunk.Missed) inside a body whose length is known is counted
//     out and parsing goes on. Any other gap loses the message boundary:
//     the message is recorded as far as it was read, and the direction
//     skips to the next line that starts like a message (a known method
//     and a space, or "HTTP/1."). Since the lost bytes may have held whole
//     messages, pairing is stopped where it could go wrong: requests read
//     after a client-side gap are never paired (the responses to the lost
//     requests come first and cannot be told apart); after a server-side
//     gap, pairing stops for good if a request sent before the gap was
//     still waiting for its response (it may have been answered in the
//     gap). Unpaired messages are still recorded, each alone; the
//     requests recorded without response because of this are counted
//     (StreamCounters.Unpaired).
//
// Fields: Timestamp and FrameNumber are those of the chunk that carried the
// request's first byte, ResponseTimestamp that of the response's first byte
// (the first interim response's, if any; 0 when there is no response).
// ReqContentLength and ResContentLength are the Content-Length header's
// value, -1 when it is absent or invalid (a chunked message has none).
// RequestSize and ResponseSize count the bytes of the message seen on the
// wire: start line, header, body with its chunk framing and trailers, and,
// for the response, any interim responses; missed bytes are not counted.
// ReqCookies and ResCookies hold cookie names only (RFC 6265: a pair
// without "=" has no name and is skipped). Proto is the request's version
// ("HTTP/1.1"), or the response's when there is no request. URL is the
// request-target as sent. Strings are made valid UTF-8 with Text.

const (
	// httpMaxHeader bounds a header block (start line included), a
	// chunk-size line and the trailer section. Servers refuse far less
	// (8 to 16 KiB by default in Apache, nginx and IIS).
	httpMaxHeader = 64 << 10
	// httpMaxPending and httpMaxHeld bound the requests a connection keeps
	// while they wait for their responses, in number and in header bytes.
	// Beyond, the oldest is recorded without its response, and the
	// response that comes for it is recorded alone.
	httpMaxPending = 32
	httpMaxHeld    = 256 << 10
	// httpMaxStart is the number of bytes that always decides whether a
	// line starts a message: a method token of at most httpMaxMethod
	// bytes and a space.
	httpMaxMethod = 32
	httpMaxStart  = httpMaxMethod + 1
)

// httpMethods are the request methods that Detect and the resynchronization
// after a gap accept. Between messages of a connection already known to be
// HTTP (after a first message), any token of capital letters is taken as a
// method: skipping a request would shift the pairing of all that follow.
var httpMethods = []string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
	// WebDAV and its extensions (RFC 4918, 3253, 3648, 3744, 4437, 4791, 5842)
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
	"REPORT", "MKACTIVITY", "CHECKOUT", "CHECKIN", "UNCHECKOUT", "MERGE",
	"VERSION-CONTROL", "MKWORKSPACE", "UPDATE", "LABEL", "BASELINE-CONTROL",
	"MKCALENDAR", "ACL", "ORDERPATCH", "BIND", "UNBIND", "REBIND",
	// UPnP eventing (GENA) and cache purging (Squid, Varnish)
	"SUBSCRIBE", "UNSUBSCRIBE", "NOTIFY", "PURGE",
}

// httpMethodTokens are httpMethods with the space that follows a method.
var httpMethodTokens = func() [][]byte {
	out := make([][]byte, len(httpMethods))
	for i, m := range httpMethods {
		out[i] = []byte(m + " ")
	}
	return out
}()

var (
	httpVersionPrefix = []byte("HTTP/")
	httpStrictStatus  = []byte("HTTP/1.")
)

func init() {
	RegisterStream(StreamProtocol{
		Name: "HTTP",
		// With the TLS hellos of what follows an accepted STARTTLS (or
		// CONNECT): selecting them must run this parser.
		Records: []types.Type{types.Type_NC_HTTP, types.Type_NC_File, types.Type_NC_Credentials, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectHTTP,
		New:     newHTTPParser,
	})
}

// detectHTTP accepts a connection whose client starts with a known method
// and a space, or whose server starts with "HTTP/1.", on any port. The
// request line must end with an HTTP version or have no version at all
// (HTTP/0.9 form), so that SIP and RTSP (OPTIONS sip:... SIP/2.0) are not
// taken for HTTP; while the bytes are fewer than StreamDetectMax and hold
// no line end, more are asked for (DetectMore), as they are while the bytes
// are a prefix of a method token or of "HTTP/1.".
func detectHTTP(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if len(first) == 0 {
		return DetectNo
	}
	if !fromClient {
		n := min(len(first), len(httpStrictStatus))
		switch {
		case !bytes.Equal(first[:n], httpStrictStatus[:n]):
			return DetectNo
		case n < len(httpStrictStatus):
			return DetectMore
		}
		return DetectYes
	}
	res := DetectNo
	for _, tok := range httpMethodTokens {
		if len(first) < len(tok) {
			if bytes.HasPrefix(tok, first) {
				res = DetectMore
			}
			continue
		}
		if !bytes.HasPrefix(first, tok) {
			continue
		}
		eol := bytes.IndexByte(first, '\n')
		if eol < 0 {
			if len(first) < StreamDetectMax {
				return DetectMore
			}
			return DetectYes
		}
		line := bytes.TrimRight(first[len(tok):eol], "\r")
		sp := bytes.LastIndexByte(line, ' ')
		if sp < 0 || bytes.HasPrefix(line[sp+1:], httpVersionPrefix) {
			return DetectYes
		}
		return DetectNo
	}
	return res
}

// Parsing states of one direction.
const (
	hsIdle       = iota // between messages, or looking for one after a gap
	hsHeader            // reading the start line and header fields
	hsBody              // counting a body of known length
	hsChunkSize         // reading a chunk-size line
	hsChunkData         // counting the data of a chunk
	hsTrailer           // reading the trailer section of a chunked body
	hsUntilClose        // counting a body that ends with the connection
	hsDead              // gave up, or tunnel: the rest is ignored
)

// Results of httpMsgStart.
const (
	httpNo = iota
	httpMaybe
	httpYes
)

// httpTx is one request/response pair, or a message alone.
type httpTx struct {
	r types.HTTP
	// hasRes: a response was paired (or this is a response alone);
	// reqDone, resDone: the message has ended (or was given up).
	hasRes, reqDone, resDone bool
	// unpairable: a request that no response may be paired with.
	unpairable bool
	head       bool // the request's method is HEAD
	connect    bool // the request's method is CONNECT
	held       int  // header bytes its strings came from
}

// httpDir is the parsing state of one direction.
type httpDir struct {
	client   bool
	payloads bool // -payload: the record keeps the body (httpMaxBody)
	state    uint8
	// buf holds the bytes of a header block, chunk-size or trailer line
	// that spans chunks, or in hsIdle the first bytes of a line that may
	// start a message.
	buf []byte
	// hsIdle: lineStart says the next byte starts a line; strict says a
	// message must start with a known method (after garbage or a gap).
	lineStart, strict bool
	// hsHeader: the current line has bytes other than CR.
	lineLen bool
	// hsChunkSize: a chunk's data just ended, its CRLF is next.
	afterData bool
	remain    int64 // hsBody, hsChunkData: bytes still to come
	trailer   int   // hsTrailer: bytes read
	// tx is the message being read; interim the request a 1xx answered,
	// waiting for its final response.
	tx, interim *httpTx
	// time and frame of the chunk that carried the first byte in buf
	startTS, startFrame int64
	// sniff holds the first httpSniffLen bytes of the current message's
	// body (de-chunked) for content sniffing; nil between bodies.
	// sniffDone: the message's type was sniffed (its body ended, or bytes
	// of it were missed: only the bytes before the gap are sniffed).
	sniff     []byte
	sniffDone bool
	// file reads the current body as a File; msgTS and msgFrame are the
	// current message's first byte's.
	file            *fileBody
	msgTS, msgFrame int64
}

// httpSniffLen is what content sniffing reads (the WHATWG algorithm looks
// at 512 bytes); of a gzip'd or deflated body that many compressed bytes
// are inflated and the result's first 512 bytes sniffed.
const httpSniffLen = 512

// httpParser reads the HTTP messages of one connection.
type httpParser struct {
	dir [2]httpDir // 0: the client's bytes, 1: the server's
	// queue holds the records not yet emitted, in the order their first
	// message started.
	queue []*httpTx
	free  []*httpTx
	held  int // sum of held over queue
	// skip counts responses still to come for requests evicted from the
	// queue: they are recorded alone.
	skip int
	// cliCut: requests from now on are never paired (client-side gap).
	// srvCut: no response is paired any more (server-side gap).
	cliCut, srvCut bool
	cnt            *StreamCounters
	// inner reads the tunnel after a 2xx to CONNECT or a 101.
	inner *Upgrade
	// files: where bodies go (nil: File records not selected); conn is
	// the connection being fed; filed holds File records to emit.
	files *FileStore
	conn  *ConnInfo
	filed []*types.File
}

// Inner names the protocol found in the tunnel, or "".
func (p *httpParser) Inner() string { return p.inner.Inner() }

func newHTTPParser() StreamParser {
	p := &httpParser{}
	p.dir[0].client = true
	// The first message must start as Detect wants it: a connection may
	// have been detected on the other direction's bytes, and this one may
	// start in the middle of a message.
	p.dir[0].idle(true)
	p.dir[1].idle(true)
	return p
}

// Feed reads the next bytes of one direction.
func (p *httpParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if conn != nil {
		p.cnt, p.files, p.conn = conn.Counters, conn.Files, conn
		p.dir[0].payloads, p.dir[1].payloads = conn.Payloads, conn.Payloads
	}
	d := &p.dir[1]
	if c.FromClient {
		d = &p.dir[0]
	}
	if d.state == hsDead {
		if p.inner != nil {
			p.inner.Feed(c, conn, s)
		}
		return
	}
	if c.Missed > 0 {
		p.gap(d, c)
	}
	data := c.Data
	for len(data) > 0 {
		switch d.state {
		case hsIdle:
			data = p.seek(d, data, c, conn, s)
		case hsHeader:
			data = p.header(d, data)
		case hsBody:
			n := int(min(d.remain, int64(len(data))))
			d.body(data[:n])
			d.add(n)
			d.remain -= int64(n)
			data = data[n:]
			if d.remain == 0 {
				p.finish(d)
			}
		case hsChunkSize:
			data = p.chunkSize(d, data)
		case hsChunkData:
			n := int(min(d.remain, int64(len(data))))
			d.body(data[:n])
			d.add(n)
			d.remain -= int64(n)
			data = data[n:]
			if d.remain == 0 {
				d.state, d.afterData = hsChunkSize, true
			}
		case hsTrailer:
			data = p.trailerLine(d, data)
		case hsUntilClose:
			d.body(data)
			d.add(len(data))
			data = nil
		default: // hsDead
			if p.inner != nil {
				// The tunnel starts inside this chunk.
				rest := *c
				rest.Data, rest.Missed = data, 0
				p.inner.Feed(&rest, conn, s)
			}
			data = nil
		}
	}
	p.emitReady(s)
}

// Close records what is still held: requests without response, messages
// cut short by the end of the connection.
func (p *httpParser) Close(conn *ConnInfo, s Sink) {
	if conn != nil {
		p.cnt = conn.Counters
	}
	for i := range p.dir {
		d := &p.dir[i]
		p.abandon(d)
		if d.interim != nil {
			d.interim.resDone = true
			d.interim = nil
		}
		d.state = hsDead
	}
	for _, f := range p.filed {
		if os, ok := s.(OrderedSink); ok {
			os.EmitOrdered(types.Type_NC_File, f, f.FrameNumber)
		} else {
			s.Emit(types.Type_NC_File, f)
		}
	}
	p.filed = nil
	for _, tx := range p.queue {
		p.emit(tx, s, true)
	}
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	clear(p.queue)
	p.queue, p.free, p.held = nil, nil, 0
	p.dir[0].buf, p.dir[1].buf = nil, nil
}

// add counts n bytes of the current message.
func (d *httpDir) add(n int) {
	if d.tx == nil {
		return
	}
	if d.client {
		d.tx.r.RequestSize += int64(n)
	} else {
		d.tx.r.ResponseSize += int64(n)
	}
}

// idle makes the direction wait for the next message.
func (d *httpDir) idle(strict bool) {
	d.state, d.strict, d.lineStart = hsIdle, strict, true
	d.resetBuf()
}

// resetBuf empties buf, dropping a large one so that a connection that had
// one big header does not keep its memory.
func (d *httpDir) resetBuf() {
	if cap(d.buf) > 4<<10 {
		d.buf = nil
	} else {
		d.buf = d.buf[:0]
	}
}

// httpMsgStart says whether b, the first bytes of a line, starts a request
// (client) or a response. Strict accepts only known methods and "HTTP/1.";
// otherwise any token of capital letters (then digits, '-', '_') followed
// by a space starts a request, and "HTTP/" a response.
func httpMsgStart(b []byte, client, strict bool) int {
	if !client {
		p := httpVersionPrefix
		if strict {
			p = httpStrictStatus
		}
		n := min(len(b), len(p))
		switch {
		case !bytes.Equal(b[:n], p[:n]):
			return httpNo
		case len(b) < len(p):
			return httpMaybe
		}
		return httpYes
	}
	if strict {
		res := httpNo
		for _, tok := range httpMethodTokens {
			if len(b) >= len(tok) {
				if bytes.HasPrefix(b, tok) {
					return httpYes
				}
			} else if bytes.HasPrefix(tok, b) {
				res = httpMaybe
			}
		}
		return res
	}
	for i, c := range b {
		switch {
		case c == ' ' && i > 0:
			return httpYes
		case i >= httpMaxMethod:
			return httpNo
		case c >= 'A' && c <= 'Z', i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_'):
		default:
			return httpNo
		}
	}
	return httpMaybe
}

// seek looks for the start of the next message: at a line start, skipping
// empty lines. Bytes that may start a message but are too few to tell wait
// in buf. Garbage is skipped up to the next line, after which only strict
// starts are accepted.
func (p *httpParser) seek(d *httpDir, data []byte, c *Chunk, conn *ConnInfo, s Sink) []byte {
	for len(data) > 0 {
		if len(d.buf) == 0 {
			if !d.lineStart {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					return nil
				}
				data, d.lineStart = data[i+1:], true
				continue
			}
			if data[0] == '\r' || data[0] == '\n' {
				data = data[1:]
				continue
			}
			d.startTS, d.startFrame = c.Timestamp, c.Frame
		}
		held := len(d.buf)
		n := min(len(data), httpMaxStart-held)
		d.buf = append(d.buf, data[:n]...)
		switch httpMsgStart(d.buf, d.client, d.strict) {
		case httpYes:
			d.buf = d.buf[:held]
			p.begin(d, conn, s)
			return data
		case httpMaybe:
			if n == len(data) {
				return nil
			}
		}
		// Not a message start: the bytes held (a prefix of a token, so
		// without line feed) are dropped, data is searched for the next
		// line.
		d.buf = d.buf[:0]
		d.lineStart, d.strict = false, true
	}
	return nil
}

// begin starts a message whose first bytes are in buf.
func (p *httpParser) begin(d *httpDir, conn *ConnInfo, s Sink) {
	var tx *httpTx
	switch {
	case d.client:
		p.evict(s)
		tx = p.newTx(conn)
		tx.r.Timestamp, tx.r.FrameNumber = d.startTS, d.startFrame
		tx.unpairable = p.cliCut || p.srvCut
		p.queue = append(p.queue, tx)
	case d.interim != nil:
		tx, d.interim = d.interim, nil
	default:
		tx = p.pair()
		if tx == nil {
			// A response alone.
			tx = p.newTx(conn)
			tx.r.Timestamp, tx.r.FrameNumber = d.startTS, d.startFrame
			tx.reqDone = true
			p.queue = append(p.queue, tx)
		}
		tx.hasRes = true
		tx.r.ResponseTimestamp = d.startTS
	}
	d.tx, d.sniffDone = tx, false
	d.msgTS, d.msgFrame = d.startTS, d.startFrame
	d.state, d.lineLen = hsHeader, true
	d.add(len(d.buf))
}

// pair returns the request the next response answers, or nil when the
// response must be recorded alone.
func (p *httpParser) pair() *httpTx {
	if p.skip > 0 {
		p.skip--
		return nil
	}
	for _, tx := range p.queue {
		if !tx.hasRes {
			if tx.unpairable {
				return nil
			}
			return tx
		}
	}
	return nil
}

// evict records requests waiting for their responses, oldest first, while
// the queue is over its bounds. Their responses will be recorded alone.
func (p *httpParser) evict(s Sink) {
	for len(p.queue) >= httpMaxPending || p.held > httpMaxHeld {
		i := -1
		for j, tx := range p.queue {
			if !tx.hasRes && tx.reqDone {
				i = j
				break
			}
		}
		if i < 0 {
			return
		}
		tx := p.queue[i]
		if !tx.unpairable {
			p.skip++
		}
		p.queue = slices.Delete(p.queue, i, i+1)
		p.emit(tx, s, false)
	}
}

// header reads the header block. When it is complete, it is parsed in
// place (or from buf when it spanned chunks) and the body state is set.
func (p *httpParser) header(d *httpDir, data []byte) []byte {
	end := -1
	for pos := 0; pos < len(data); {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			if !onlyCR(data[pos:]) {
				d.lineLen = true
			}
			break
		}
		if !d.lineLen && onlyCR(data[pos:pos+i]) {
			end = pos + i + 1
			break
		}
		d.lineLen = false
		pos += i + 1
	}
	n := len(data)
	if end >= 0 {
		n = end
	}
	if len(d.buf)+n > httpMaxHeader {
		p.giveUp(d)
		return nil
	}
	d.add(n)
	if end < 0 {
		d.buf = append(d.buf, data...)
		return nil
	}
	block := data[:end]
	if len(d.buf) > 0 {
		d.buf = append(d.buf, block...)
		block = d.buf
	}
	p.parse(d, block, true)
	d.resetBuf()
	if d.state == hsHeader {
		p.finish(d)
	}
	return data[end:]
}

// onlyCR says whether b holds nothing but carriage returns.
func onlyCR(b []byte) bool {
	for _, c := range b {
		if c != '\r' {
			return false
		}
	}
	return true
}

// line returns the next line of data (without its line end) when it is
// complete, joined with what buf holds of it, and how many bytes of data it
// took. over is set when the line is longer than httpMaxHeader.
func (d *httpDir) line(data []byte) (line []byte, used int, ok, over bool) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		if len(d.buf)+len(data) > httpMaxHeader {
			return nil, 0, false, true
		}
		d.buf = append(d.buf, data...)
		return nil, len(data), false, false
	}
	if len(d.buf)+i > httpMaxHeader {
		return nil, 0, false, true
	}
	line = data[:i]
	if len(d.buf) > 0 {
		d.buf = append(d.buf, line...)
		line = d.buf
	}
	return bytes.TrimRight(line, "\r"), i + 1, true, false
}

// chunkSize reads a chunk-size line (RFC 9112 7.1): hex digits, then
// optional extensions after ';'. A malformed one ends the body where it is
// and the direction resynchronizes.
func (p *httpParser) chunkSize(d *httpDir, data []byte) []byte {
	line, used, ok, over := d.line(data)
	if over {
		p.giveUp(d)
		return nil
	}
	d.add(used)
	data = data[used:]
	if !ok {
		return data
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.Trim(line, " \t")
	n, valid := httpHex(line)
	empty := len(line) == 0
	d.resetBuf()
	if empty && d.afterData {
		// the line end after a chunk's data
		d.afterData = false
		return data
	}
	d.afterData = false
	switch {
	case !valid:
		p.finish(d)
		p.lost(d, 0)
	case n == 0:
		d.state, d.trailer = hsTrailer, 0
	default:
		d.state, d.remain = hsChunkData, n
	}
	return data
}

// httpHex parses a chunk size: 1 to 15 hex digits.
func httpHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

// trailerLine reads one line of the trailer section; an empty line ends
// the message. Trailer fields are not recorded.
func (p *httpParser) trailerLine(d *httpDir, data []byte) []byte {
	line, used, ok, over := d.line(data)
	if over || d.trailer+used > httpMaxHeader {
		p.giveUp(d)
		return nil
	}
	d.add(used)
	d.trailer += used
	data = data[used:]
	if !ok {
		return data
	}
	empty := len(line) == 0
	d.resetBuf()
	if empty {
		p.finish(d)
	}
	return data
}

// fileStart makes the body that follows a File, when File records are
// selected and the message has one.
func (p *httpParser) fileStart(d *httpDir) {
	if p.files == nil || d.tx == nil {
		return
	}
	switch d.state {
	case hsBody, hsChunkSize, hsUntilClose:
	default:
		return
	}
	r := &d.tx.r
	coding, ctype, header := r.ResContentEncoding, r.ResContentType, r.ResponseHeader
	if d.client {
		coding, ctype, header = r.ReqContentEncoding, r.ContentType, r.RequestHeader
	}
	f := newFileBody(p.files, coding)
	fr := &f.r
	fr.Timestamp, fr.FrameNumber, fr.Source = d.msgTS, d.msgFrame, "HTTP"
	fr.ContentType, fr.Encoding, fr.Host, fr.URL = ctype, coding, r.Host, r.URL
	fr.Name = httpFileName(header, r.URL)
	if c := p.conn; c != nil {
		fr.FlowID = c.FlowID
		if d.client {
			fr.SrcIP, fr.DstIP, fr.SrcPort, fr.DstPort = c.ClientIP, c.ServerIP, c.ClientPort, c.ServerPort
		} else {
			fr.SrcIP, fr.DstIP, fr.SrcPort, fr.DstPort = c.ServerIP, c.ClientIP, c.ServerPort, c.ClientPort
		}
	}
	d.file = f
}

// fileDone ends the current body's File; ended says its framing ended it.
func (p *httpParser) fileDone(d *httpDir, ended bool) {
	if d.file == nil {
		return
	}
	f := d.file
	d.file = nil
	if r := f.finish(ended); r != nil {
		p.filed = append(p.filed, r)
	}
}

// httpFileName is the filename of a Content-Disposition field, else the
// last segment of the request-target's path.
func httpFileName(header map[string]string, target string) string {
	for k, v := range header {
		if strings.EqualFold(k, "Content-Disposition") {
			if _, params, err := mime.ParseMediaType(v); err == nil && params["filename"] != "" {
				return Text([]byte(path.Base(strings.ReplaceAll(params["filename"], "\\", "/"))))
			}
		}
	}
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if i := strings.Index(target, "://"); i >= 0 {
		target = target[i+3:]
		if j := strings.IndexByte(target, '/'); j >= 0 {
			target = target[j:]
		} else {
			target = ""
		}
	}
	if j := strings.LastIndexByte(target, '/'); j >= 0 {
		target = target[j+1:]
	}
	if n, err := url.PathUnescape(target); err == nil {
		target = n
	}
	return Text([]byte(target))
}

// httpMaxBody bounds the body bytes a record keeps with -payload.
const httpMaxBody = 64 << 10

// body counts a message's body bytes, keeps the first for sniffing, and
// with -payload up to httpMaxBody of them in the record.
func (d *httpDir) body(b []byte) {
	if d.file != nil {
		d.file.write(b)
	}
	if d.tx != nil && len(b) > 0 {
		n, keep := &d.tx.r.ResponseBodyLength, &d.tx.r.ResponseBody
		if d.client {
			n, keep = &d.tx.r.RequestBodyLength, &d.tx.r.RequestBody
		}
		*n += int64(len(b))
		if d.payloads && len(*keep) < httpMaxBody {
			*keep = append(*keep, b[:min(len(b), httpMaxBody-len(*keep))]...)
		}
	}
	if d.tx == nil || d.sniffDone || len(d.sniff) >= httpSniffLen || len(b) == 0 {
		return
	}
	if d.sniff == nil {
		d.sniff = make([]byte, 0, httpSniffLen)
	}
	d.sniff = append(d.sniff, b[:min(len(b), httpSniffLen-len(d.sniff))]...)
}

// sniffed sets the current message's detected content type from the body
// bytes kept, and drops them.
func (d *httpDir) sniffed() {
	b := d.sniff
	d.sniff, d.sniffDone = nil, true
	if d.tx == nil || len(b) == 0 {
		return
	}
	field, coding := &d.tx.r.ResContentTypeDetected, d.tx.r.ResContentEncoding
	if d.client {
		field, coding = &d.tx.r.ContentTypeDetected, d.tx.r.ReqContentEncoding
	}
	if b = httpDecoded(b, coding); b != nil {
		*field = http.DetectContentType(b)
		// The body's File, when not decoded by an inflater, kept the same
		// first bytes: it takes the answer instead of sniffing them again.
		if f := d.file; f != nil && f.decoder == nil && bytes.Equal(f.sniff, b) {
			f.detected, f.detectedLen = *field, len(b)
		}
	}
}

// httpDecoded returns the first bytes of a body's content: b itself
// without content coding, b inflated for gzip and deflate (as far as the
// bytes go), nil for other codings, which are not read.
func httpDecoded(b []byte, coding string) []byte {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(coding)) {
	case "", "identity":
		return b
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil
		}
		r = zr
	case "deflate":
		// RFC 9110: zlib-wrapped; some servers send raw deflate.
		if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(b))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	default:
		return nil
	}
	out := make([]byte, httpSniffLen)
	n, _ := io.ReadFull(r, out)
	if n == 0 {
		return nil
	}
	return out[:n]
}

// finish ends the message being read and makes the direction wait for the
// next one.
func (p *httpParser) finish(d *httpDir) {
	d.sniffed()
	p.fileDone(d, true)
	tx := d.tx
	d.tx = nil
	d.idle(false)
	if tx == nil {
		return
	}
	if d.client {
		tx.reqDone = true
		return
	}
	if c := tx.r.StatusCode; c >= 100 && c < 200 && c != 101 {
		d.interim = tx
		return
	}
	tx.resDone = true
}

// abandon ends the message being read where it is: a header cut short is
// parsed as far as its lines are complete.
func (p *httpParser) abandon(d *httpDir) {
	if d.tx == nil {
		return
	}
	d.sniffed()
	// A body read until the connection closes ends with it.
	p.fileDone(d, d.state == hsUntilClose)
	if d.state == hsHeader {
		block := d.buf
		if i := bytes.LastIndexByte(block, '\n'); i >= 0 {
			block = block[:i+1]
		} else if i := bytes.IndexByte(block, ' '); i >= 0 {
			// only the method (or the version) is known
			block = block[:i]
		} else {
			block = nil
		}
		p.parse(d, block, false)
	}
	tx := d.tx
	d.tx = nil
	if d.client {
		tx.reqDone = true
	} else {
		tx.resDone = true
	}
}

// giveUp ends a direction whose header or line is too long: the message is
// recorded as far as it is known, the rest of the direction is ignored.
func (p *httpParser) giveUp(d *httpDir) {
	p.abandon(d)
	if d.interim != nil {
		d.interim.resDone = true
		d.interim = nil
	}
	d.state = hsDead
	d.buf = nil
	p.cut(d, nil)
}

// gap handles bytes lost before the chunk c.
func (p *httpParser) gap(d *httpDir, c *Chunk) {
	d.sniffed()
	if d.file != nil {
		d.file.missed(c.Missed)
	}
	m := int64(c.Missed)
	switch d.state {
	case hsUntilClose:
		return
	case hsBody:
		if m < d.remain {
			d.remain -= m
			return
		}
		if m == d.remain {
			p.finish(d)
			return
		}
		p.finish(d)
	case hsChunkData:
		if m <= d.remain {
			d.remain -= m
			if d.remain == 0 {
				d.state, d.afterData = hsChunkSize, true
			}
			return
		}
		p.finish(d)
	default:
		p.abandon(d)
	}
	p.lost(d, c.Frame)
}

// lost resynchronizes a direction after bytes were lost (or could not be
// parsed) where messages may have started, and stops pairing where the
// lost messages make it ambiguous. frame is that of the first chunk after
// the loss (0: no bytes were lost, the structure was malformed).
func (p *httpParser) lost(d *httpDir, frame int64) {
	d.idle(true)
	p.cut(d, &frame)
}

// cut stops pairing after a loss in direction d. For the server side,
// frame (when given) is that of the first chunk after the loss: requests
// sent before it may have been answered by the lost bytes.
func (p *httpParser) cut(d *httpDir, frame *int64) {
	if d.client {
		p.cliCut = true
		return
	}
	ambiguous := frame == nil || p.skip > 0 || d.interim != nil
	if d.interim != nil {
		d.interim.resDone = true
		d.interim = nil
	}
	for _, tx := range p.queue {
		if ambiguous {
			break
		}
		// A frame of 0: nothing was lost but the body was malformed, and
		// its rest may hold text that looks like a response.
		ambiguous = !tx.hasRes && !tx.unpairable && (*frame == 0 || tx.r.FrameNumber < *frame)
	}
	if !ambiguous {
		return
	}
	p.srvCut = true
	p.skip = 0
	for _, tx := range p.queue {
		if !tx.hasRes {
			tx.unpairable = true
		}
	}
}

// emitReady emits the records that are complete.
func (p *httpParser) emitReady(s Sink) {
	for _, f := range p.filed {
		s.Emit(types.Type_NC_File, f)
	}
	clear(p.filed)
	p.filed = p.filed[:0]
	j := 0
	for _, tx := range p.queue {
		if tx.reqDone && (tx.resDone || !tx.hasRes && tx.unpairable) {
			p.emit(tx, s, false)
			continue
		}
		p.queue[j] = tx
		j++
	}
	clear(p.queue[j:])
	p.queue = p.queue[:j]
}

// emit hands the record to the sink and recycles it. Records emitted at
// Close are not caused by the packet being decoded: they go to an
// OrderedSink with their frame number as key.
func (p *httpParser) emit(tx *httpTx, s Sink, ordered bool) {
	if tx.unpairable && !tx.hasRes && p.cnt != nil {
		p.cnt.Unpaired++
	}
	os, _ := s.(OrderedSink)
	if os != nil && ordered {
		os.EmitOrdered(types.Type_NC_HTTP, &tx.r, tx.r.FrameNumber)
	} else {
		s.Emit(types.Type_NC_HTTP, &tx.r)
	}
	if c := httpAuthCredentials(&tx.r); c != nil {
		r := &tx.r
		c.Timestamp, c.FrameNumber, c.FlowID = r.Timestamp, r.FrameNumber, r.FlowID
		c.SrcIP, c.DstIP, c.SrcPort, c.DstPort = r.SrcIP, r.DstIP, r.SrcPort, r.DstPort
		if p.conn != nil {
			c.Service = credService(p.conn)
		}
		if os != nil && ordered {
			os.EmitOrdered(types.Type_NC_Credentials, c, c.FrameNumber)
		} else {
			s.Emit(types.Type_NC_Credentials, c)
		}
	}
	p.held -= tx.held
	if len(p.free) < 4 {
		p.free = append(p.free, tx)
	}
}

// newTx returns a blank record for the connection.
func (p *httpParser) newTx(conn *ConnInfo) *httpTx {
	var tx *httpTx
	if n := len(p.free); n > 0 {
		tx = p.free[n-1]
		p.free = p.free[:n-1]
		// The slices and maps are kept, emptied, for their memory: the
		// sink has serialized the record this one was.
		rc, sc := tx.r.ReqCookies[:0], tx.r.ResCookies[:0]
		reqH, resH, params := tx.r.RequestHeader, tx.r.ResponseHeader, tx.r.Parameters
		clear(reqH)
		clear(resH)
		clear(params)
		tx.r.Reset()
		tx.r.ReqCookies, tx.r.ResCookies = rc, sc
		tx.r.RequestHeader, tx.r.ResponseHeader, tx.r.Parameters = reqH, resH, params
		tx.hasRes, tx.reqDone, tx.resDone, tx.unpairable = false, false, false, false
		tx.head, tx.connect, tx.held = false, false, 0
	} else {
		tx = &httpTx{}
	}
	r := &tx.r
	r.ReqContentLength, r.ResContentLength = -1, -1
	r.SrcIP, r.SrcPort = conn.ClientIP, conn.ClientPort
	r.DstIP, r.DstPort = conn.ServerIP, conn.ServerPort
	r.FlowID = conn.FlowID
	return tx
}

// httpHead collects the header fields that decide how a body is framed.
type httpHead struct {
	clSeen, clBad bool
	cl            int64
	te, chunked   bool
}

// contentLength reads a Content-Length value; a list of equal values
// (RFC 9110 8.6) is one value, anything else makes it invalid.
func (h *httpHead) contentLength(v []byte) {
	for len(v) > 0 || !h.clSeen {
		var el []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			el, v = v[:i], v[i+1:]
		} else {
			el, v = v, nil
		}
		el = bytes.Trim(el, " \t")
		n, ok := httpDecimal(el)
		switch {
		case !ok:
			h.clBad = true
		case h.clSeen && n != h.cl:
			h.clBad = true
		}
		h.clSeen, h.cl = true, n
		if h.clBad {
			return
		}
	}
}

// transferEncoding reads a Transfer-Encoding value: the body is chunked
// when chunked is the last coding (RFC 9112 6.3).
func (h *httpHead) transferEncoding(v []byte) {
	for len(v) > 0 {
		var el []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			el, v = v[:i], v[i+1:]
		} else {
			el, v = v, nil
		}
		if el = bytes.Trim(el, " \t"); len(el) > 0 {
			h.te = true
			h.chunked = bytes.EqualFold(el, []byte("chunked"))
		}
	}
}

// httpDecimal parses 1 to 18 decimal digits.
func httpDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// httpFields calls fn with each header field of block (the lines after the
// start line, up to the empty line), with obsolete line folding undone.
func httpFields(block []byte, fn func(name, value []byte)) {
	var name, value []byte
	// A folded value is joined in folded, which grows by appending: a copy
	// of the value so far for every folded line would make a field folded
	// over n lines cost O(n^2).
	var folded []byte
	joined := false
	for len(block) > 0 {
		var line []byte
		if i := bytes.IndexByte(block, '\n'); i >= 0 {
			line, block = block[:i], block[i+1:]
		} else {
			line, block = block, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold (RFC 9112 5.2): the line continues the field.
			if name != nil {
				if v := bytes.Trim(line, " \t"); len(v) > 0 {
					if !joined {
						folded, joined = append(folded[:0], value...), true
					}
					if len(folded) > 0 {
						folded = append(folded, ' ')
					}
					folded = append(folded, v...)
					value = folded
				}
			}
			continue
		}
		if name != nil {
			fn(name, value)
			name = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name, value = bytes.TrimRight(line[:colon], " \t"), bytes.Trim(line[colon+1:], " \t")
		joined = false
	}
	if name != nil {
		fn(name, value)
	}
}

// Header names read.
var (
	hdrHost             = []byte("Host")
	hdrUserAgent        = []byte("User-Agent")
	hdrReferer          = []byte("Referer")
	hdrCookie           = []byte("Cookie")
	hdrSetCookie        = []byte("Set-Cookie")
	hdrContentLength    = []byte("Content-Length")
	hdrContentType      = []byte("Content-Type")
	hdrContentEncoding  = []byte("Content-Encoding")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrServer           = []byte("Server")
)

// parse fills the record from a header block and, when the block is
// complete, sets the direction's body state. A partial block (a message
// cut short) fills what its complete lines say.
func (p *httpParser) parse(d *httpDir, block []byte, complete bool) {
	tx := d.tx
	first := block
	rest := []byte(nil)
	if i := bytes.IndexByte(block, '\n'); i >= 0 {
		first, rest = block[:i], block[i+1:]
	}
	first = bytes.TrimRight(first, "\r")
	p.held += len(block)
	tx.held += len(block)
	var h httpHead
	if d.client {
		p.parseRequest(tx, first, rest, &h)
	} else {
		p.parseResponse(tx, first, rest, &h)
	}
	if !complete {
		return
	}
	if d.client {
		switch {
		case h.te && h.chunked:
			d.state, d.afterData = hsChunkSize, false
		case h.te, h.clSeen && h.clBad:
			d.state = hsUntilClose
		case h.clSeen && h.cl > 0:
			d.state, d.remain = hsBody, h.cl
		}
		p.fileStart(d)
		return
	}
	defer p.fileStart(d)
	code := tx.r.StatusCode
	switch {
	case code == 101 || tx.connect && code >= 200 && code < 300:
		p.tunnel(d)
	case tx.head, code >= 100 && code < 200, code == 204, code == 304:
	case h.te && h.chunked:
		d.state, d.afterData = hsChunkSize, false
	case h.te, h.clBad, !h.clSeen:
		d.state = hsUntilClose
	case h.cl > 0:
		d.state, d.remain = hsBody, h.cl
	}
}

// parseRequest fills the request fields from the request line and fields.
func (p *httpParser) parseRequest(tx *httpTx, line, fields []byte, h *httpHead) {
	r := &tx.r
	method, target, version := line, []byte(nil), []byte(nil)
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		method, target = line[:sp], bytes.Trim(line[sp+1:], " ")
		if k := bytes.LastIndexByte(target, ' '); k >= 0 && bytes.HasPrefix(target[k+1:], httpVersionPrefix) {
			target, version = bytes.TrimRight(target[:k], " "), target[k+1:]
		} else if bytes.HasPrefix(target, httpVersionPrefix) && len(target) <= 8 {
			target, version = nil, target
		}
	}
	r.Method, r.URL, r.Proto = httpMethodText(method), Text(target), httpVersionText(version)
	tx.head = r.Method == "HEAD"
	tx.connect = r.Method == "CONNECT"
	r.Parameters = httpQuery(r.Parameters, target)
	header := fill(r.RequestHeader)
	defer func() { r.RequestHeader = header.done() }()
	httpFields(fields, func(name, v []byte) {
		val := Text(v) // one string for the map and the field that repeats it
		header.add(httpNameText(name), val)
		switch {
		case bytes.EqualFold(name, hdrHost):
			firstText(&r.Host, val)
		case bytes.EqualFold(name, hdrUserAgent):
			firstText(&r.UserAgent, val)
		case bytes.EqualFold(name, hdrReferer):
			firstText(&r.Referer, val)
		case bytes.EqualFold(name, hdrCookie):
			r.ReqCookies = cookieNames(r.ReqCookies, v, false)
			r.RequestCookies = httpCookies(r.RequestCookies, v, false)
		case bytes.EqualFold(name, hdrContentType):
			firstText(&r.ContentType, val)
		case bytes.EqualFold(name, hdrContentEncoding):
			firstText(&r.ReqContentEncoding, val)
		case bytes.EqualFold(name, hdrContentLength):
			h.contentLength(v)
		case bytes.EqualFold(name, hdrTransferEncoding):
			h.transferEncoding(v)
		}
	})
	if h.clSeen && !h.clBad {
		r.ReqContentLength = h.cl
	}
}

// firstText sets a field from the first header line that names it: a
// repeated header does not overwrite the first.
func firstText(field *string, v string) {
	if *field == "" {
		*field = v
	}
}

// parseResponse fills the response fields from the status line and
// fields; a final response replaces what an interim one said.
func (p *httpParser) parseResponse(tx *httpTx, line, fields []byte, h *httpHead) {
	r := &tx.r
	version, code := line, []byte(nil)
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		version, code = line[:sp], bytes.TrimLeft(line[sp+1:], " ")
		if k := bytes.IndexByte(code, ' '); k >= 0 {
			code = code[:k]
		}
	}
	r.StatusCode = 0
	if n, ok := httpDecimal(code); ok && len(code) == 3 {
		r.StatusCode = int32(n)
	}
	if r.Method == "" {
		r.Proto = httpVersionText(version)
	}
	r.ResContentLength, r.ResContentType, r.ResContentEncoding, r.ServerName = -1, "", "", ""
	r.ResCookies, r.ResponseCookies = r.ResCookies[:0], r.ResponseCookies[:0]
	clear(r.ResponseHeader)
	header := fill(r.ResponseHeader)
	defer func() { r.ResponseHeader = header.done() }()
	httpFields(fields, func(name, v []byte) {
		val := Text(v)
		header.add(httpNameText(name), val)
		switch {
		case bytes.EqualFold(name, hdrServer):
			firstText(&r.ServerName, val)
		case bytes.EqualFold(name, hdrSetCookie):
			r.ResCookies = cookieNames(r.ResCookies, v, true)
			r.ResponseCookies = httpCookies(r.ResponseCookies, v, true)
		case bytes.EqualFold(name, hdrContentType):
			firstText(&r.ResContentType, val)
		case bytes.EqualFold(name, hdrContentEncoding):
			firstText(&r.ResContentEncoding, val)
		case bytes.EqualFold(name, hdrContentLength):
			h.contentLength(v)
		case bytes.EqualFold(name, hdrTransferEncoding):
			h.transferEncoding(v)
		}
	})
	if h.clSeen && !h.clBad {
		r.ResContentLength = h.cl
	}
}

// httpMethodText and httpVersionText return the usual values without
// allocating.
func httpMethodText(b []byte) string {
	for _, m := range httpMethods {
		if string(b) == m {
			return m
		}
	}
	return Text(b)
}

func httpVersionText(b []byte) string {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	}
	return Text(b)
}

// CookieNames is cookieNames for the HTTP proxy (package proxy), so that
// its records name cookies exactly as capture's do.
func CookieNames(names []string, v []byte, set bool) []string {
	return cookieNames(names, v, set)
}

// cookieNames appends the cookie names of a Cookie or Set-Cookie value.
func cookieNames(names []string, v []byte, set bool) []string {
	eachCookie(v, set, func(name, _ []byte) { names = append(names, Text(name)) })
	return names
}

// eachCookie calls fn with the name and value of each pair of a Cookie
// value (separated by ';') or the first pair of a Set-Cookie value. A pair
// without '=' or with an empty name is skipped (RFC 6265 5.2, 5.4).
func eachCookie(v []byte, set bool, fn func(name, value []byte)) {
	for len(v) > 0 {
		var pair []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			pair, v = v[:i], v[i+1:]
		} else {
			pair, v = v, nil
		}
		if eq := bytes.IndexByte(pair, '='); eq >= 0 {
			if name := bytes.Trim(pair[:eq], " \t"); len(name) > 0 {
				fn(name, bytes.Trim(pair[eq+1:], " \t"))
			}
		}
		if set {
			break
		}
	}
}

// HTTPQuery and HTTPCookies are httpQuery and httpCookies for the HTTP
// proxy (package proxy), so that its records fill these fields as
// capture's do.
func HTTPQuery(m map[string]string, target []byte) map[string]string { return httpQuery(m, target) }

func HTTPCookies(out []*types.HTTPCookie, v []byte, set bool) []*types.HTTPCookie {
	return httpCookies(out, v, set)
}

// joined fills a map of field values by name; a repeated name's values
// are joined by ", " in order (RFC 9110 5.3), in time linear in their
// length (a header of 10,000 lines of one name must not cost 10,000
// copies). Most names come once: their value goes into the map as it is,
// and only a repeated name gets a builder, put into the map by done.
type joined struct {
	m    map[string]string
	more map[string]*strings.Builder
}

// fill starts from m, which must be empty (nil or cleared), so that a
// record reused for the next message keeps its map's memory.
func fill(m map[string]string) joined { return joined{m: m} }

func (j *joined) add(k, v string) {
	if j.m == nil {
		j.m = make(map[string]string, 8)
	}
	first, seen := j.m[k]
	if !seen {
		j.m[k] = v
		return
	}
	b := j.more[k]
	if b == nil {
		if j.more == nil {
			j.more = map[string]*strings.Builder{}
		}
		b = &strings.Builder{}
		b.WriteString(first)
		j.more[k] = b
	}
	b.WriteString(", ")
	b.WriteString(v)
}

// done returns the map with the joined values of repeated names.
func (j *joined) done() map[string]string {
	for k, b := range j.more {
		j.m[k] = b.String()
	}
	return j.m
}

// httpNameText returns a header field name as a string, the usual names
// without allocating: there is one per field of every message.
func httpNameText(b []byte) string {
	if s, ok := httpNames[string(b)]; ok {
		return s
	}
	return Text(b)
}

// httpNames are the field names seen most, as browsers, curl and common
// servers spell them.
var httpNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Age",
		"Authorization", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Type", "Content-type", "Cookie", "Date", "DNT",
		"ETag", "Expect", "Expires", "Host", "If-Modified-Since", "If-None-Match", "Keep-Alive",
		"Last-Modified", "Location", "Origin", "Pragma", "Proxy-Connection", "Range", "Referer",
		"Server", "Set-Cookie", "Transfer-Encoding", "Upgrade", "Upgrade-Insecure-Requests",
		"User-Agent", "Vary", "Via", "WWW-Authenticate", "X-Forwarded-For", "X-Powered-By",
		"X-Requested-With", "accept", "accept-encoding", "content-length", "content-type", "host",
		"user-agent",
	} {
		m[n] = n
	}
	return m
}()

// httpQuery puts the parameters of a request-target's query into m, which
// must be empty (made when nil and there is one): names and values
// percent-decoded where they decode, a repeated name's values joined by
// ", ".
func httpQuery(m map[string]string, target []byte) map[string]string {
	q := target
	if i := bytes.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	} else {
		return m
	}
	if i := bytes.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	params := fill(m)
	for len(q) > 0 {
		var pair []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, nil
		}
		if len(pair) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(pair, []byte("="))
		params.add(httpUnescape(name), httpUnescape(value))
	}
	return params.done()
}

// httpUnescape percent-decodes a query component ('+' is a space), or
// returns it as sent when it does not decode.
func httpUnescape(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return Text(b)
	}
	if s, err := url.QueryUnescape(string(b)); err == nil {
		return Text([]byte(s))
	}
	return Text(b)
}

// httpCookies appends the cookies of a Cookie value, or the first pair of
// a Set-Cookie value, with the rules of cookieNames.
func httpCookies(out []*types.HTTPCookie, v []byte, set bool) []*types.HTTPCookie {
	eachCookie(v, set, func(name, value []byte) {
		out = append(out, &types.HTTPCookie{Name: Text(name), Value: Text(value)})
	})
	return out
}

// tunnel ends HTTP on the connection after the response header just read
// (a 2xx to CONNECT, a 101): what follows is another protocol.
func (p *httpParser) tunnel(d *httpDir) {
	c := &p.dir[0]
	p.abandon(c)
	c.state, c.buf = hsDead, nil
	d.tx.resDone = true
	d.tx = nil
	d.state, d.buf = hsDead, nil
	p.inner = &Upgrade{}
}
