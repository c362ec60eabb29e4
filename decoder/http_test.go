package decoder

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// httpSink keeps copies of the HTTP records it gets, and whether each came
// through EmitOrdered and with which key.
type httpSink struct {
	t       testing.TB
	recs    []*types.HTTP
	ordered []bool
	keys    []int64
	errs    []string // when t is nil
}

func (s *httpSink) Emit(t types.Type, m proto.Message) { s.add(t, m, false, 0) }

func (s *httpSink) EmitOrdered(t types.Type, m proto.Message, key int64) { s.add(t, m, true, key) }

func (s *httpSink) add(t types.Type, m proto.Message, ordered bool, key int64) {
	fail := func(format string, args ...any) {
		if s.t == nil {
			s.errs = append(s.errs, fmt.Sprintf(format, args...))
			return
		}
		s.t.Fatalf(format, args...)
	}
	switch t {
	case types.Type_NC_Credentials, types.Type_NC_File:
		return // the HTTP parser's other records: TestFiles and the credentials tests check them
	case types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello:
		return // TLS after a CONNECT: TestTLSMatchesTshark checks them
	}
	r, ok := m.(*types.HTTP)
	if t != types.Type_NC_HTTP || !ok {
		fail("emitted %v %T, want an HTTP record", t, m)
		return
	}
	if _, err := proto.Marshal(r); err != nil {
		fail("record does not marshal: %v (%v)", err, r)
	}
	s.recs = append(s.recs, proto.Clone(r).(*types.HTTP))
	s.ordered = append(s.ordered, ordered)
	s.keys = append(s.keys, key)
}

// httpCountSink counts records; it has no EmitOrdered.
type httpCountSink struct{ n int }

func (c *httpCountSink) Emit(types.Type, proto.Message) { c.n++ }

// httpEv is one chunk of a test stream. Frames are numbered from 1 in event
// order unless frame is set; the timestamp is the frame times 1000.
type httpEv struct {
	client bool
	data   string
	missed int
	frame  int64
}

func httpCli(s string) httpEv { return httpEv{client: true, data: s} }
func httpSrv(s string) httpEv { return httpEv{data: s} }

var httpTestConn = ConnInfo{
	ClientIP: "10.0.0.1", ServerIP: "10.0.0.2", ClientPort: 50000, ServerPort: 8080, FlowID: "flow-1",
}

// httpFeed runs a parser over the events and closes it.
func httpFeed(t testing.TB, evs []httpEv) *httpSink {
	s := &httpSink{t: t}
	p := newHTTPParser()
	for i, e := range evs {
		f := e.frame
		if f == 0 {
			f = int64(i + 1)
		}
		p.Feed(&Chunk{FromClient: e.client, Data: []byte(e.data), Missed: e.missed, Timestamp: f * 1000, Frame: f}, &httpTestConn, s)
	}
	p.Close(&httpTestConn, s)
	return s
}

// httpFramed gives every event its frame number explicitly, so that a split
// event keeps the frame (and time) of the original.
func httpFramed(evs []httpEv) []httpEv {
	out := slices.Clone(evs)
	for i := range out {
		if out[i].frame == 0 {
			out[i].frame = int64(i + 1)
		}
	}
	return out
}

// httpSplitAt splits event i at offset k (the gap stays on the first part).
func httpSplitAt(evs []httpEv, i, k int) []httpEv {
	e := evs[i]
	a, b := e, e
	a.data, b.data, b.missed = e.data[:k], e.data[k:], 0
	out := append(slices.Clone(evs[:i]), a, b)
	return append(out, evs[i+1:]...)
}

// httpByteWise splits every event into one-byte chunks.
func httpByteWise(evs []httpEv) []httpEv {
	var out []httpEv
	for _, e := range evs {
		for k := range len(e.data) {
			b := e
			b.data = e.data[k : k+1]
			if k > 0 {
				b.missed = 0
			}
			out = append(out, b)
		}
		if e.data == "" {
			out = append(out, e)
		}
	}
	return out
}

// httpRec is the expected record: the connection's fields are added, and
// Content-Length fields left at 0 mean absent (-1).
func httpRec(r *types.HTTP) *types.HTTP {
	r.SrcIP, r.SrcPort = httpTestConn.ClientIP, httpTestConn.ClientPort
	r.DstIP, r.DstPort = httpTestConn.ServerIP, httpTestConn.ServerPort
	r.FlowID = httpTestConn.FlowID
	if r.ReqContentLength == 0 {
		r.ReqContentLength = -1
	}
	if r.ResContentLength == 0 {
		r.ResContentLength = -1
	}
	if r.ReqContentLength == -2 {
		r.ReqContentLength = 0
	}
	if r.ResContentLength == -2 {
		r.ResContentLength = 0
	}
	return r
}

// httpZero is how a test says "Content-Length: 0" in httpRec.
const httpZero = -2

func httpLen(s ...string) int64 {
	n := 0
	for _, x := range s {
		n += len(x)
	}
	return int64(n)
}

// Messages used by several tests.
const (
	httpReqGet  = "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nReferer: http://example.com/\r\nCookie: sid=1; theme=dark\r\n\r\n"
	httpResOK   = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nSet-Cookie: sid=2; Path=/\r\nSet-Cookie: lang=en\r\nContent-Length: 5\r\n\r\nhello"
	httpReqGet2 = "GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n"
	httpRes404  = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nno!"
)

func httpOKGet(frame, resFrame int64) *types.HTTP {
	return httpRec(&types.HTTP{
		Timestamp: frame * 1000, FrameNumber: frame, ResponseTimestamp: resFrame * 1000,
		Proto: "HTTP/1.1", Method: "GET", Host: "example.com", URL: "/index.html?a=1",
		UserAgent: "curl/8.0", Referer: "http://example.com/", ReqCookies: []string{"sid", "theme"},
		StatusCode: 200, ServerName: "nginx", ResContentType: "text/html", ResCookies: []string{"sid", "lang"},
		ResContentLength: 5, RequestSize: httpLen(httpReqGet), ResponseSize: httpLen(httpResOK),
	})
}

func httpGet2(frame, resFrame int64) *types.HTTP {
	r := &types.HTTP{
		Timestamp: frame * 1000, FrameNumber: frame, Proto: "HTTP/1.1", Method: "GET", Host: "example.com",
		URL: "/b", RequestSize: httpLen(httpReqGet2),
	}
	if resFrame > 0 {
		r.ResponseTimestamp, r.StatusCode, r.ResContentType = resFrame*1000, 404, "text/plain"
		r.ResContentLength, r.ResponseSize = 3, httpLen(httpRes404)
	}
	return httpRec(r)
}

// httpAlone404 is httpRes404 recorded without a request.
func httpAlone404(frame int64) *types.HTTP {
	return httpRec(&types.HTTP{
		Timestamp: frame * 1000, FrameNumber: frame, ResponseTimestamp: frame * 1000, Proto: "HTTP/1.1",
		StatusCode: 404, ResContentType: "text/plain", ResContentLength: 3, ResponseSize: httpLen(httpRes404),
	})
}

type httpCase struct {
	name string
	evs  []httpEv
	want []*types.HTTP
	// noSplit: the case depends on where its chunks end (gaps at a
	// message boundary), so it is not run split.
	noSplit bool
}

func httpCases() []httpCase {
	const (
		head    = "HEAD /f HTTP/1.1\r\nHost: h\r\n\r\n"
		headRes = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: font/ttf\r\n\r\n"
		post    = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n"
		cont    = "HTTP/1.1 100 Continue\r\n\r\n"
		proc    = "HTTP/1.1 102 Processing\r\n\r\n"
		created = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
		chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Encoding: gzip\r\n\r\n" +
			"5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Checksum: 1\r\n\r\n"
		chunkedReq = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
		close10    = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
		r204       = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
		r304       = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
		connect    = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
		connOK     = "HTTP/1.1 200 Connection established\r\n\r\n"
		upgrade    = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		switching  = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
		bodyReq    = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nGET "
		teOther    = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdefg"
		badCL      = "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcdefg"
		sameCL     = "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc"
		lfOnly     = "GET /lf HTTP/1.0\nHost: lf\nUser-Agent: a\n  b\n\tc\n\n"
	)
	// a body after a gap: 5 bytes seen, 7 missed, 8 seen
	const gapRes = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
	return []httpCase{{
		name: "request and response",
		evs:  []httpEv{httpCli(httpReqGet), httpSrv(httpResOK)},
		want: []*types.HTTP{httpOKGet(1, 2)},
	}, {
		name: "keep-alive",
		evs:  []httpEv{httpCli(httpReqGet), httpSrv(httpResOK), httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{httpOKGet(1, 2), httpGet2(3, 4)},
	}, {
		name: "pipelined in one segment",
		evs:  []httpEv{httpCli(httpReqGet + httpReqGet2 + httpReqGet), httpSrv(httpResOK + httpRes404), httpSrv(httpResOK)},
		want: []*types.HTTP{httpOKGet(1, 2), httpGet2(1, 2), httpOKGet(1, 3)},
	}, {
		name: "empty lines between messages",
		evs:  []httpEv{httpCli("\r\n" + httpReqGet + "\r\n\r\n"), httpSrv(httpResOK + "\r\n"), httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{
			func() *types.HTTP { r := httpOKGet(1, 2); return r }(),
			httpGet2(3, 4),
		},
	}, {
		name: "HEAD response has no body",
		evs:  []httpEv{httpCli(head + httpReqGet2), httpSrv(headRes + httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1", Method: "HEAD",
				Host: "h", URL: "/f", StatusCode: 200, ResContentLength: 1000, ResContentType: "font/ttf",
				RequestSize: httpLen(head), ResponseSize: httpLen(headRes)}),
			httpGet2(1, 2),
		},
	}, {
		name: "100-continue",
		evs:  []httpEv{httpCli(post), httpSrv(cont), httpCli("payload"), httpSrv(created)},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "POST", Host: "h", URL: "/up", ContentType: "application/json",
			ReqContentEncoding: "gzip", ReqContentLength: 7, StatusCode: 201, ResContentLength: httpZero,
			RequestSize: httpLen(post, "payload"), ResponseSize: httpLen(cont, created)})},
	}, {
		name: "several interim responses",
		evs:  []httpEv{httpCli(post + "payload"), httpSrv(proc + cont + proc), httpSrv(created), httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "POST", Host: "h", URL: "/up", ContentType: "application/json",
			ReqContentEncoding: "gzip", ReqContentLength: 7, StatusCode: 201, ResContentLength: httpZero,
			RequestSize: httpLen(post, "payload"), ResponseSize: httpLen(proc, cont, proc, created)}), httpGet2(4, 5)},
	}, {
		name: "chunked response with extension and trailer",
		evs:  []httpEv{httpCli(httpReqGet2), httpSrv(chunked), httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200, ResContentEncoding: "gzip",
				RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(chunked)}),
			httpGet2(3, 4),
		},
	}, {
		name: "chunked request",
		evs:  []httpEv{httpCli(chunkedReq + httpReqGet2), httpSrv(created + httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "POST", Host: "h", URL: "/c", StatusCode: 201, ResContentLength: httpZero,
				RequestSize: httpLen(chunkedReq), ResponseSize: httpLen(created)}),
			httpGet2(1, 2),
		},
	}, {
		name: "request body that looks like a request",
		evs:  []httpEv{httpCli(bodyReq + httpReqGet2), httpSrv(created + httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "PUT", Host: "h", URL: "/x", ReqContentLength: 4, StatusCode: 201, ResContentLength: httpZero,
				RequestSize: httpLen(bodyReq), ResponseSize: httpLen(created)}),
			httpGet2(1, 2),
		},
	}, {
		name: "body until close",
		evs:  []httpEv{httpCli(httpReqGet2), httpSrv(close10), httpSrv(" of the connection")},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200,
			ResContentType: "text/plain", RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(close10, " of the connection")})},
	}, {
		name: "transfer coding other than chunked: until close",
		evs:  []httpEv{httpCli(httpReqGet2), httpSrv(teOther)},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200,
			ResContentLength: 3, RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(teOther)})},
	}, {
		name: "conflicting Content-Length: until close",
		evs:  []httpEv{httpCli(httpReqGet2), httpSrv(badCL)},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200,
			RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(badCL)})},
	}, {
		name: "repeated equal Content-Length",
		evs:  []httpEv{httpCli(httpReqGet2 + httpReqGet2), httpSrv(sameCL + httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
				Proto: "HTTP/1.1", Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200,
				ResContentLength: 3, RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(sameCL)}),
			httpGet2(1, 2),
		},
	}, {
		name: "204 and 304 have no body",
		evs:  []httpEv{httpCli(httpReqGet2 + httpReqGet2 + httpReqGet2), httpSrv(r204 + r304 + httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 204, ResContentLength: 10,
				RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(r204)}),
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 304, ResContentLength: 10,
				RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(r304)}),
			httpGet2(1, 2),
		},
	}, {
		name: "request without response",
		evs:  []httpEv{httpCli(httpReqGet), httpSrv(httpResOK), httpCli(httpReqGet2)},
		want: []*types.HTTP{httpOKGet(1, 2), httpGet2(3, 0)},
	}, {
		name: "response without request",
		evs:  []httpEv{httpSrv(httpRes404), httpCli(httpReqGet), httpSrv(httpResOK)},
		want: []*types.HTTP{httpAlone404(1), httpOKGet(2, 3)},
	}, {
		name: "response before its request is complete",
		evs:  []httpEv{httpCli(bodyReq[:40]), httpSrv(httpRes404), httpCli(bodyReq[40:])},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "PUT", Host: "h", URL: "/x", ReqContentLength: 4, StatusCode: 404,
			ResContentType: "text/plain", ResContentLength: 3, RequestSize: httpLen(bodyReq), ResponseSize: httpLen(httpRes404)})},
	}, {
		name: "CONNECT tunnel",
		evs:  []httpEv{httpCli(connect), httpSrv(connOK), httpCli("\x16\x03\x01\x02\x00GET / HTTP/1.1\r\n\r\n"), httpSrv("HTTP/1.1 200 OK\r\n\r\n")},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "CONNECT", Host: "example.com:443", URL: "example.com:443", StatusCode: 200,
			RequestSize: httpLen(connect), ResponseSize: httpLen(connOK)}),
			// The tunnel's own HTTP (an Upgrade reads it): the client's bytes
			// are neither TLS nor HTTP, the server's are a response alone.
			httpRec(&types.HTTP{Timestamp: 4000, FrameNumber: 4, ResponseTimestamp: 4000, Proto: "HTTP/1.1",
				StatusCode: 200, ResponseSize: 19})},
	}, {
		name: "upgrade to websocket",
		evs:  []httpEv{httpCli(upgrade), httpSrv(switching + "\x81\x05hello"), httpCli("\x81\x85GET / HTTP/1.1\r\n\r\n")},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "GET", Host: "h", URL: "/ws", StatusCode: 101,
			RequestSize: httpLen(upgrade), ResponseSize: httpLen(switching)})},
	}, {
		name: "LF line ends and folded field",
		evs:  []httpEv{httpCli(lfOnly)},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, Proto: "HTTP/1.0", Method: "GET",
			Host: "lf", URL: "/lf", UserAgent: "a b c", RequestSize: httpLen(lfOnly)})},
	}, {
		name: "invalid UTF-8 and a space in the target",
		evs:  []httpEv{httpCli("GET /a b\xff HTTP/1.1\r\nUser-Agent: \xc3\x28x\r\n\r\n")},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, Proto: "HTTP/1.1", Method: "GET",
			URL: "/a b\uFFFD", UserAgent: "\uFFFD(x", RequestSize: 39})},
	}, {
		name: "HTTP/0.9 form request line with fields",
		evs:  []httpEv{httpCli("GET /gen.php?x=1\r\nHost: h\r\n\r\n"), httpSrv("xyz#$%")},
		want: []*types.HTTP{httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, Method: "GET", Host: "h",
			URL: "/gen.php?x=1", RequestSize: 29})},
	}, {
		name: "unknown method after a first message",
		evs:  []httpEv{httpCli(httpReqGet2 + "FOO-BAR /x HTTP/1.1\r\n\r\n"), httpSrv(httpRes404 + httpRes404)},
		want: []*types.HTTP{httpGet2(1, 2), httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000,
			Proto: "HTTP/1.1", Method: "FOO-BAR", URL: "/x", StatusCode: 404, ResContentType: "text/plain",
			ResContentLength: 3, RequestSize: httpLen("FOO-BAR /x HTTP/1.1\r\n\r\n"), ResponseSize: httpLen(httpRes404)})},
	}, {
		// The start of a connection must look as Detect wants it: the
		// unknown method is skipped, its response recorded alone.
		name: "unknown method first",
		evs:  []httpEv{httpCli("FOO /x HTTP/1.1\r\n\r\n"), httpSrv(httpRes404)},
		want: []*types.HTTP{httpAlone404(2)},
	}, {
		name: "gap inside chunk data",
		evs: []httpEv{httpCli(httpReqGet2), httpSrv("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"),
			{data: "CDEF\r\n0\r\n\r\n", missed: 8}, httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200, RequestSize: httpLen(httpReqGet2),
				ResponseSize: 66}),
			httpGet2(4, 5),
		},
	}, {
		// Nothing is lost, but where the body ends is unknown: the next
		// response found may be text of the body, so the request that is
		// waiting is not paired with it.
		name: "malformed chunk size",
		evs: []httpEv{httpCli(httpReqGet2 + httpReqGet2), httpSrv("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" +
			"data\r\n" + httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200, RequestSize: httpLen(httpReqGet2),
				ResponseSize: 51}),
			httpGet2(1, 0),
			httpAlone404(2),
		},
	}, {
		name: "gap inside a body of known length",
		evs: []httpEv{httpCli(httpReqGet2), httpSrv(gapRes + "abcde"), {data: "12345678", missed: 7}, httpCli(httpReqGet2),
			httpSrv(httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200, ResContentLength: 20,
				RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(gapRes, "abcde", "12345678")}),
			httpGet2(4, 5),
		},
	}, {
		name: "gap ending at the end of a body",
		evs: []httpEv{httpCli(httpReqGet2), httpSrv(gapRes + "abcde"), {data: httpRes404, missed: 15}, httpCli(httpReqGet2),
			httpSrv(httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", StatusCode: 200, ResContentLength: 20,
				RequestSize: httpLen(httpReqGet2), ResponseSize: httpLen(gapRes, "abcde")}),
			httpAlone404(3),
			httpGet2(4, 5),
		},
		noSplit: true,
	}, {
		// The lost client bytes may have held requests (here one, "/lost"):
		// the responses after the known ones cannot be told apart, so the
		// request after the gap is recorded alone, as are the responses.
		name: "gap in the client's header: no pairing after it",
		evs: []httpEv{httpCli(httpReqGet), httpCli("GET /cut HTTP/1.1\r\nHo"), {client: true, data: "t\r\n\r\n" + httpReqGet2, missed: 40},
			httpSrv(httpResOK), httpSrv(httpRes404), httpSrv(httpRes404), httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{
			// the request after the gap, alone
			httpGet2(3, 0),
			httpOKGet(1, 4),
			// the request cut by the gap, paired with the second response
			httpRec(&types.HTTP{Timestamp: 2000, FrameNumber: 2, ResponseTimestamp: 5000, Proto: "HTTP/1.1",
				Method: "GET", URL: "/cut", StatusCode: 404, ResContentType: "text/plain", ResContentLength: 3,
				RequestSize: 21, ResponseSize: httpLen(httpRes404)}),
			httpAlone404(6),
			httpGet2(7, 0),
			httpAlone404(8),
		},
	}, {
		name: "gap in the server's header, pipelined requests outstanding",
		evs: []httpEv{httpCli(httpReqGet + httpReqGet2 + httpReqGet2), httpSrv(httpResOK), httpSrv("HTTP/1.1 404 Not"),
			{data: httpRes404, missed: 300}, httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{
			httpOKGet(1, 2),
			// the response cut by the gap is paired: its start was seen
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 3000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/b", RequestSize: httpLen(httpReqGet2), ResponseSize: 16}),
			// the third request may have been answered in the gap
			httpGet2(1, 0),
			httpAlone404(4),
			httpGet2(5, 0),
			httpAlone404(6),
		},
	}, {
		name: "gap in the server's header, nothing else outstanding",
		evs: []httpEv{httpCli(httpReqGet), httpSrv(httpResOK[:20]), {data: "\r\n" + httpRes404, missed: 300}, httpCli(httpReqGet2),
			httpSrv(httpRes404)},
		want: []*types.HTTP{
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1",
				Method: "GET", Host: "example.com", URL: "/index.html?a=1", UserAgent: "curl/8.0",
				Referer: "http://example.com/", ReqCookies: []string{"sid", "theme"}, StatusCode: 200,
				RequestSize: httpLen(httpReqGet), ResponseSize: 20}),
			httpAlone404(3),
			httpGet2(4, 5),
		},
	}}
}

func TestHTTPCases(t *testing.T) {
	for _, c := range httpCases() {
		t.Run(c.name, func(t *testing.T) {
			evs := httpFramed(c.evs)
			check := func(how string, evs []httpEv) {
				t.Helper()
				got := httpFeed(t, evs).recs
				if len(got) != len(c.want) {
					t.Fatalf("%s: %d records, want %d:\n%s", how, len(got), len(c.want), httpDump(got))
				}
				for i := range got {
					if !proto.Equal(httpFraming(got[i]), c.want[i]) {
						t.Fatalf("%s: record %d\n got %v\nwant %v", how, i, got[i], c.want[i])
					}
				}
			}
			check("as given", evs)
			if c.noSplit {
				return
			}
			check("byte by byte", httpByteWise(evs))
			for i, e := range evs {
				for k := 1; k < len(e.data); k++ {
					check(fmt.Sprintf("event %d split at %d", i, k), httpSplitAt(evs, i, k))
				}
			}
		})
	}
}

// httpFraming is r without the fields that repeat the header text (header
// maps, query parameters, cookies with values, sniffed types): the framing
// and pairing cases compare the rest; TestHTTPFields checks those.
func httpFraming(r *types.HTTP) *types.HTTP {
	r = proto.Clone(r).(*types.HTTP)
	r.RequestHeader, r.ResponseHeader, r.Parameters, r.RequestCookies, r.ResponseCookies = nil, nil, nil, nil, nil
	r.ContentTypeDetected, r.ResContentTypeDetected = "", ""
	// TestHTTPBodies checks the bodies and their lengths.
	r.RequestBodyLength, r.ResponseBodyLength, r.RequestBody, r.ResponseBody = 0, 0, nil, nil
	return r
}

func httpDump(recs []*types.HTTP) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %v\n", r)
	}
	return b.String()
}

// A request and its response, each split at every pair of offsets, give the
// same record.
func TestHTTPSplitEverywhere(t *testing.T) {
	want := httpOKGet(1, 2)
	for i := 0; i <= len(httpReqGet); i++ {
		for j := 0; j <= len(httpResOK); j++ {
			evs := []httpEv{
				{client: true, data: httpReqGet[:i], frame: 1}, {client: true, data: httpReqGet[i:], frame: 1},
				{data: httpResOK[:j], frame: 2}, {data: httpResOK[j:], frame: 2},
			}
			got := httpFeed(t, evs).recs
			if len(got) != 1 || !proto.Equal(httpFraming(got[0]), want) {
				t.Fatalf("split %d/%d: got\n%s", i, j, httpDump(got))
			}
		}
	}
}

// Records of messages that end while a chunk is fed are emitted then, with
// Emit; what is left at Close goes to EmitOrdered with the frame number as
// key.
func TestHTTPEmitTiming(t *testing.T) {
	s := &httpSink{t: t}
	p := newHTTPParser()
	feed := func(client bool, data string, frame int64) {
		p.Feed(&Chunk{FromClient: client, Data: []byte(data), Timestamp: frame, Frame: frame}, &httpTestConn, s)
	}
	feed(true, httpReqGet, 1)
	if len(s.recs) != 0 {
		t.Fatalf("record before the response: %v", s.recs)
	}
	feed(false, httpResOK[:30], 2)
	if len(s.recs) != 0 {
		t.Fatalf("record before the end of the response: %v", s.recs)
	}
	feed(false, httpResOK[30:], 3)
	if len(s.recs) != 1 || s.ordered[0] {
		t.Fatalf("want one record by Emit at the response's end, got %d (ordered %v)", len(s.recs), s.ordered)
	}
	feed(true, httpReqGet2, 7)
	feed(true, httpReqGet2, 9)
	p.Close(&httpTestConn, s)
	if len(s.recs) != 3 || !s.ordered[1] || !s.ordered[2] || s.keys[1] != 7 || s.keys[2] != 9 {
		t.Fatalf("want two ordered records keyed 7 and 9 at Close, got ordered %v keys %v", s.ordered, s.keys)
	}
	// A sink without EmitOrdered gets Emit.
	var plain httpCountSink
	p = newHTTPParser()
	p.Feed(&Chunk{FromClient: true, Data: []byte(httpReqGet2), Frame: 1}, &httpTestConn, &plain)
	p.Close(&httpTestConn, &plain)
	if plain.n != 1 {
		t.Fatalf("plain sink got %d records, want 1", plain.n)
	}
}

// More requests waiting than the parser keeps: the oldest are recorded
// alone, and the responses that answer them too; the rest pair correctly.
func TestHTTPPendingBound(t *testing.T) {
	const n = httpMaxPending + 10
	var reqs, ress strings.Builder
	for i := range n {
		fmt.Fprintf(&reqs, "GET /%d HTTP/1.1\r\n\r\n", i)
		fmt.Fprintf(&ress, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(strconv.Itoa(i)), strconv.Itoa(i))
	}
	recs := httpFeed(t, []httpEv{httpCli(reqs.String()), httpSrv(ress.String())}).recs
	var alone, paired int
	for _, r := range recs {
		switch {
		case r.Method != "" && r.StatusCode != 0:
			paired++
		default:
			alone++
		}
	}
	if paired+alone/2 != n || paired == 0 || alone == 0 {
		t.Fatalf("%d paired, %d alone, want %d pairs in all", paired, alone, n)
	}
	// Each pair must be the right one: response i has body "i".
	for _, r := range recs {
		if r.Method != "" && r.StatusCode != 0 {
			want := int64(len(strings.TrimPrefix(r.URL, "/")))
			if r.ResContentLength != want {
				t.Errorf("%s paired with a response of length %d", r.URL, r.ResContentLength)
			}
		}
	}
}

// A header block longer than httpMaxHeader ends the direction; the request
// is recorded with its request line, and its response still pairs.
func TestHTTPHeaderTooLong(t *testing.T) {
	long := "GET /big HTTP/1.1\r\nHost: h\r\nX-Pad: " + strings.Repeat("a", httpMaxHeader) + "\r\n\r\n"
	recs := httpFeed(t, []httpEv{httpCli(long[:1000]), httpCli(long[1000:]), httpSrv(httpRes404), httpCli(httpReqGet2), httpSrv(httpRes404)}).recs
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2:\n%s", len(recs), httpDump(recs))
	}
	r := recs[0]
	if r.Method != "GET" || r.URL != "/big" || r.Host != "h" || r.StatusCode != 404 || r.RequestSize != 1000 {
		t.Errorf("first record: %v", r)
	}
	if r := recs[1]; r.Method != "" || r.StatusCode != 404 {
		t.Errorf("second record is not the response alone: %v", r)
	}
}

func TestHTTPDetect(t *testing.T) {
	for _, c := range []struct {
		first  string
		client bool
		want   Detection
	}{
		{"GET / HTTP/1.1\r\n", true, DetectYes},
		{"PROPFIND /dav HTTP/1.1\r\n", true, DetectYes},
		{"M-SEARCH", true, DetectNo},
		{"GET /no-version\r\n", true, DetectYes},
		{"GET /long-url-not-complete", true, DetectMore},
		{"GET /long-url-not-complete" + strings.Repeat("x", StreamDetectMax), true, DetectYes},
		{"GE", true, DetectMore},
		{"P", true, DetectMore},
		{"OPTIONS sip:bob@example.com SIP/2.0\r\n", true, DetectNo},
		{"OPTIONS sip:bob@example.com", true, DetectMore},
		{"OPTIONS rtsp://h/a RTSP/1.0\r\n", true, DetectNo},
		{"get / HTTP/1.1\r\n", true, DetectNo},
		{"GETX / HTTP/1.1\r\n", true, DetectNo},
		{"HTTP/1.1 200 OK\r\n", false, DetectYes},
		{"HTTP/1.0 404 Not Found\r\n", false, DetectYes},
		{"HTTP/1.", false, DetectYes},
		{"HTT", false, DetectMore},
		{"HTTP/2.0 200\r\n", false, DetectNo},
		{"HTTP/1.1 200 OK\r\n", true, DetectNo},
		{"GET / HTTP/1.1\r\n", false, DetectNo},
		{"\x16\x03\x01\x02\x00", true, DetectNo},
		{"", true, DetectNo},
		{"SSH-2.0-OpenSSH_9.0\r\n", false, DetectNo},
	} {
		if got := detectHTTP([]byte(c.first), c.client, &httpTestConn); got != c.want {
			t.Errorf("Detect(%q, client %v) = %v, want %v", c.first, c.client, got, c.want)
		}
	}
	found := false
	for _, p := range StreamProtocols() {
		found = found || p.Name == "HTTP" && slices.Equal(p.Records, []types.Type{types.Type_NC_HTTP, types.Type_NC_File, types.Type_NC_Credentials,
			types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello})
	}
	if !found {
		t.Error("HTTP stream parser not registered")
	}
}

func TestHTTPCookieNames(t *testing.T) {
	for _, c := range []struct {
		v    string
		set  bool
		want []string
	}{
		{"a=1; b=2;c=3", false, []string{"a", "b", "c"}},
		{" a = 1 ;; =x; novalue; b=", false, []string{"a", "b"}},
		{"sid=abc; Path=/; HttpOnly", true, []string{"sid"}},
		{"noequals; Path=/", true, nil},
	} {
		if got := cookieNames(nil, []byte(c.v), c.set); !slices.Equal(got, c.want) {
			t.Errorf("cookieNames(%q, %v) = %q, want %q", c.v, c.set, got, c.want)
		}
	}
}

// ---------------------------------------------------------------------------
// The tshark oracle

var (
	// httpOracleBudget bounds the tshark comparison so the default test
	// run stays short; files not reached are reported, not failed.
	httpOracleBudget = flag.Duration("http-budget", 25*time.Second, "time for the HTTP comparison with tshark")
	httpOracleOnly   = flag.String("http-file", "", "compare only the captures whose name contains this")
	httpOracleDump   = flag.Bool("http-dump", false, "log both sides of every stream compared with tshark")
)

// httpKnownDifferences lists explained differences from tshark, keyed by
// "file#stream/what" ("file#*/what": every stream of the file). A message
// one side has and the other not is "extra request GET" (netcap has it) or
// "missing response" (tshark has it); a field that differs is named
// ("uri", "res_ctype").
var httpKnownDifferences = map[string]string{
	// "GET /uri afterspace HTTP/1.1": tshark ends the URI at the first
	// space and gives "afterspace HTTP/1.1" as the version; netcap keeps
	// the request-target as sent ("/uri afterspace") and "HTTP/1.1".
	"suricata-verify/http-uri-spaces__input.pcap#0/extra request GET":   "space in the request-target",
	"suricata-verify/http-uri-spaces__input.pcap#0/missing request GET": "space in the request-target",
	// UPnP eventing (GENA): tshark does not take SUBSCRIBE, UNSUBSCRIBE
	// and NOTIFY for HTTP methods and reports only the responses.
	"suricata-verify/output-eve-ftp-data__input.pcap#*/extra request SUBSCRIBE":   "GENA method",
	"suricata-verify/output-eve-ftp-data__input.pcap#*/extra request UNSUBSCRIBE": "GENA method",
	"suricata-verify/output-eve-ftp-data__input.pcap#*/extra request NOTIFY":      "GENA method",
	// tshark reports a message once its body is complete: a response
	// whose body the capture cuts short, or that has a gap, is not
	// reported; netcap records it as far as it was seen.
	"suricata-verify/http-body-inspect__http-aptget-ids-02-s2.pcap#0/extra response":                                   "body cut",
	"suricata-verify/http-response-line__input.pcap#0/extra response":                                                  "body cut",
	"suricata-verify/tcp-rst-unacked-stream-10__TLPW1-tcp-174.56.47.59-10.3.11.101-tcp-80-49309.pcap#0/extra response": "body cut",
	"tcpdump/accecn_handshake.pcap#0/extra response":                                                                   "body cut",
	"suricata-verify/http-gap-simple__input.pcap#0/extra response":                                                     "gap in the body",
	"suricata-verify/http-gap-double__input.pcap#0/extra response":                                                     "gap in the body",
	"suricata-verify/http-pipeline-files-with-gap__input.pcap#0/extra response":                                        "gaps in bodies",
	// "HTTP/1.0 200 OK\nServer:ng1nx\r\n\r\n", body until the close:
	// tshark waits for more and never reports the response.
	"suricata-verify/http-close-headers__input.pcap#0/extra response": "bare LF, body until close",
	// "GET /malic" + urgent "X" (or "XY") + "ious HTTP/1.1": tshark reports
	// no request (follow gives the urgent bytes in the stream, as netcap
	// reads them: "/malicXious").
	"suricata-verify/tcp-urgp-01-oob__tcp-urgent1.pcap#0/extra request GET":              "urgent data",
	"suricata-verify/tcp-urgp-04-2byte-XY__tcp-urgent-2byte-XY.pcap#0/extra request GET": "urgent data",
	// The response to "GET /first" starts before "POST /pipeline" is sent
	// and its 2,048-byte body ends after it: tshark reports the response
	// when its body completes and pairs it with the latest request; in
	// order, as RFC 9112 pipelining requires, it answers GET /first.
	"suricata-verify/filestore-dont__input.pcap#0/pairing": "response begun before a pipelined request",
}

// httpTsMsg is one HTTP message as tshark reports it.
type httpTsMsg struct {
	frame   int64
	request bool
	// fields by name: method, host, uri, version, ua, referer, ctype,
	// cookies (request); code, cl, ctype, server, cookies (response)
	f map[string]string
	// requestIn: for a response, the frame of the request it answers
	requestIn int64
}

// httpOracleStats sums a comparison.
type httpOracleStats struct {
	files, streams, requests, responses, pairs int
	mismatches, logs                           []string
	known                                      int
}

func TestHTTPMatchesTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark comparison skipped in -short mode")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: HTTP not compared with tshark")
	}
	files := httpOracleFiles(t)
	if len(files) == 0 {
		t.Skip("shared captures absent (../../shared/pcaps/CATALOG.tsv): HTTP not compared with tshark")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *httpOracleBudget)
	defer cancel()
	var (
		mu      sync.Mutex
		total   httpOracleStats
		skipped []string
		wg      sync.WaitGroup
		jobs    = make(chan httpOracleFile)
	)
	for range max(2, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				st, err := httpCompareFile(ctx, tshark, f)
				mu.Lock()
				if err != nil {
					skipped = append(skipped, f.name+": "+err.Error())
				} else {
					total.files++
					total.streams += st.streams
					total.requests += st.requests
					total.responses += st.responses
					total.pairs += st.pairs
					total.known += st.known
					total.mismatches = append(total.mismatches, st.mismatches...)
					total.logs = append(total.logs, st.logs...)
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	sort.Strings(total.logs)
	for _, l := range total.logs {
		t.Log(l)
	}
	sort.Strings(total.mismatches)
	for _, m := range total.mismatches {
		t.Error(m)
	}
	for _, s := range skipped {
		t.Logf("not compared: %s", s)
	}
	t.Logf("HTTP vs tshark: %d of %d files, %d streams; %d requests, %d responses and %d pairings compared; "+
		"%d mismatches, %d known differences; %v",
		total.files, len(files), total.streams, total.requests, total.responses, total.pairs,
		len(total.mismatches), total.known, time.Since(start).Round(time.Millisecond))
	if total.requests == 0 {
		t.Errorf("no request compared: the capture list or the tshark fields are wrong")
	}
}

type httpOracleFile struct {
	name    string // relative to the pcaps folder
	packets int
}

// httpOracleFiles are the captures, shared and own, in which tshark finds
// HTTP, by their CATALOG.tsv.
func httpOracleFiles(t *testing.T) []httpOracleFile {
	var out []httpOracleFile
	for _, e := range catalog(t) {
		if slices.Contains(e.protos, "http") && strings.Contains(e.name, *httpOracleOnly) {
			out = append(out, httpOracleFile{e.name, e.packets})
		}
	}
	// The own captures first, then small ones: the time budget then covers
	// the captures a fresh clone has and the most files.
	own := func(f httpOracleFile) bool { return strings.HasPrefix(captureLabel(f.name), "testdata/") }
	sort.SliceStable(out, func(i, j int) bool {
		if own(out[i]) != own(out[j]) {
			return own(out[i])
		}
		return out[i].packets < out[j].packets
	})
	return out
}

// httpFollowFirst is how many TCP streams the first tshark run follows
// blindly (a follow tap costs a pass over the capture per packet); streams
// with HTTP beyond are followed by a second run.
const httpFollowFirst = 48

// httpCompareFile runs tshark on the capture for its HTTP messages (as
// JSON) and the bytes of its TCP streams (follow,tcp,raw), and compares
// each stream's messages with the parser's records.
func httpCompareFile(ctx context.Context, tshark string, f httpOracleFile) (*httpOracleStats, error) {
	path := filepath.Join(corpusDir, f.name)
	run := func(args []string, streams []int) ([]byte, error) {
		args = append([]string{"-n", "-r", path}, args...)
		for _, i := range streams {
			args = append(args, "-z", "follow,tcp,raw,"+strconv.Itoa(i))
		}
		out, err := exec.CommandContext(ctx, tshark, args...).Output()
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("time budget (-http-budget) spent")
		case err != nil:
			return nil, fmt.Errorf("tshark: %w", err)
		}
		return out, nil
	}
	var first []int
	for i := range min(f.packets, httpFollowFirst) {
		first = append(first, i)
	}
	out, err := run([]string{"-Y", "http", "-T", "json", "-J", "frame tcp http", "--no-duplicate-keys"}, first)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var pkts []map[string]any
	if err := dec.Decode(&pkts); err != nil {
		return nil, fmt.Errorf("tshark json: %w", err)
	}
	want := httpTsMessages(pkts)
	followed, err := httpParseFollow(out[dec.InputOffset():])
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(want))
	var more []int
	for id := range want {
		ids = append(ids, id)
		if id >= httpFollowFirst {
			more = append(more, id)
		}
	}
	sort.Ints(ids)
	if len(more) > 0 {
		out, err := run([]string{"-q"}, more)
		if err != nil {
			return nil, err
		}
		rest, err := httpParseFollow(out)
		if err != nil {
			return nil, err
		}
		for id, fs := range rest {
			followed[id] = fs
		}
	}
	st := &httpOracleStats{}
	for _, id := range ids {
		st.streams++
		key := fmt.Sprintf("%s#%d", f.name, id)
		fs, ok := followed[id]
		if !ok || len(fs.chunks) == 0 {
			st.mismatches = append(st.mismatches, key+": tshark follow gave no data")
			continue
		}
		httpCompareStream(key, want[id], fs, st)
	}
	return st, nil
}

// httpTsMessages returns tshark's HTTP messages by TCP stream, in order.
func httpTsMessages(pkts []map[string]any) map[int][]httpTsMsg {
	out := map[int][]httpTsMsg{}
	for _, p := range pkts {
		src, _ := p["_source"].(map[string]any)
		layers, _ := src["layers"].(map[string]any)
		frame, _ := strconv.ParseInt(httpTsFirst(layers["frame"], "frame.number"), 10, 64)
		stream, err := strconv.Atoi(httpTsFirst(layers["tcp"], "tcp.stream"))
		if err != nil {
			continue
		}
		var msgs []any
		switch h := layers["http"].(type) {
		case []any:
			msgs = h
		case map[string]any:
			msgs = []any{h}
		}
		for _, m := range msgs {
			obj, ok := m.(map[string]any)
			if !ok {
				continue
			}
			var msg httpTsMsg
			switch {
			case obj["http.request"] == "1":
				msg = httpTsMsg{frame: frame, request: true, f: map[string]string{
					"method": httpTsFirst(obj, "http.request.method"), "uri": httpTsFirst(obj, "http.request.uri"),
					"version": httpTsFirst(obj, "http.request.version"), "host": httpTsFirst(obj, "http.host"),
					"ua": httpTsFirst(obj, "http.user_agent"), "referer": httpTsFirst(obj, "http.referer"),
					"ctype":      httpTsFirst(obj, "http.content_type"),
					"cookies":    strings.Join(httpTsCookieNames(httpTsAll(obj, "http.cookie_pair"), false), ";"),
					"header":     httpTsHeader(httpTsAll(obj, "http.request.line")),
					"params":     httpTsParams(httpTsAll(obj, "http.request.uri.query.parameter")),
					"cookievals": strings.Join(httpTsAll(obj, "http.cookie_pair"), ";"),
				}}
			case obj["http.response"] == "1":
				msg = httpTsMsg{frame: frame, f: map[string]string{
					"code": httpTsFirst(obj, "http.response.code"), "cl": httpTsFirst(obj, "http.content_length"),
					"ctype": httpTsFirst(obj, "http.content_type"), "server": httpTsFirst(obj, "http.server"),
					"cookies": strings.Join(httpTsCookieNames(httpTsAll(obj, "http.set_cookie"), true), ";"),
					"header":  httpTsHeader(httpTsAll(obj, "http.response.line")),
				}}
				msg.requestIn, _ = strconv.ParseInt(httpTsFirst(obj, "http.request_in"), 10, 64)
				// Interim responses are not records of their own.
				if c, _ := strconv.Atoi(msg.f["code"]); c >= 100 && c < 200 && c != 101 {
					continue
				}
			default:
				continue
			}
			out[stream] = append(out[stream], msg)
		}
	}
	return out
}

// httpTsAll collects the values of a field anywhere in a tshark JSON object,
// the object's own fields first.
func httpTsAll(v any, name string) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			return httpTsAll(arr[0], name)
		}
		return nil
	}
	var out []string
	switch x := obj[name].(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == name {
			continue
		}
		switch x := obj[k].(type) {
		case map[string]any:
			out = append(out, httpTsAll(x, name)...)
		case []any:
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					out = append(out, httpTsAll(m, name)...)
				}
			}
		}
	}
	return out
}

func httpTsFirst(v any, name string) string {
	if all := httpTsAll(v, name); len(all) > 0 {
		return all[0]
	}
	return ""
}

// httpTsHeader renders tshark's header lines ("Name: value\r\n") as
// httpRenderMap renders a header map: a repeated name's values joined by
// ", ".
func httpTsHeader(lines []string) string {
	m := map[string]string{}
	for _, l := range lines {
		name, v, ok := strings.Cut(strings.TrimRight(l, "\r\n"), ":")
		if !ok {
			continue
		}
		httpTsAdd(m, strings.TrimRight(name, " \t"), strings.Trim(v, " \t"))
	}
	return httpRenderMap(m)
}

// httpTsAdd joins a repeated name's values as RFC 9110 5.3 says.
func httpTsAdd(m map[string]string, name, v string) {
	name, v = Text([]byte(name)), Text([]byte(v))
	if prev, ok := m[name]; ok {
		m[name] = prev + ", " + v
	} else {
		m[name] = v
	}
}

// httpTsParams renders tshark's query parameters ("name=value", as sent)
// as httpRenderMap renders Parameters.
func httpTsParams(params []string) string {
	m := map[string]string{}
	for _, p := range params {
		if p == "" {
			continue
		}
		name, v, _ := strings.Cut(p, "=")
		httpTsAdd(m, httpUnescape([]byte(name)), httpUnescape([]byte(v)))
	}
	return httpRenderMap(m)
}

// httpRenderMap renders a map as sorted "name: value" lines.
func httpRenderMap(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, m[k])
	}
	return b.String()
}

func httpRenderCookies(cs []*types.HTTPCookie) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+"="+c.Value)
	}
	return strings.Join(out, ";")
}

// httpTsCookieNames takes the names of tshark's cookie pairs ("name=value") or
// Set-Cookie values.
func httpTsCookieNames(vals []string, set bool) []string {
	var out []string
	for _, v := range vals {
		if set {
			v, _, _ = strings.Cut(v, ";")
		}
		name, _, ok := strings.Cut(v, "=")
		if name = strings.TrimSpace(name); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// httpFollowed is one TCP stream as tshark's follow gives it.
type httpFollowed struct {
	ports  [2]int32
	chunks []Chunk // FromClient means node 0
}

var (
	httpFollowFilter  = regexp.MustCompile(`^Filter: tcp\.stream eq (\d+)$`)
	httpFollowNode    = regexp.MustCompile(`^Node ([01]): .*:(\d+)$`)
	httpFollowMissing = regexp.MustCompile(`^\[(\d+) bytes missing in capture file\]\x00?$`)
)

// httpParseFollow reads the output of follow,tcp,raw: per stream, hex lines
// in order, the second node's indented by a tab; lost bytes appear as the
// text "[N bytes missing in capture file]".
func httpParseFollow(out []byte) (map[int]*httpFollowed, error) {
	res := map[int]*httpFollowed{}
	var cur *httpFollowed
	var missed [2]int
	for _, line := range strings.Split(string(out), "\n") {
		if m := httpFollowFilter.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[1])
			cur = &httpFollowed{}
			res[id] = cur
			missed = [2]int{}
			continue
		}
		if cur == nil || line == "" || strings.HasPrefix(line, "===") || strings.HasPrefix(line, "Follow:") {
			continue
		}
		if m := httpFollowNode.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			p, _ := strconv.Atoi(m[2])
			cur.ports[n] = int32(p)
			continue
		}
		node := 0
		if strings.HasPrefix(line, "\t") {
			node = 1
		}
		data, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return nil, fmt.Errorf("follow: bad line %.60q", line)
		}
		if m := httpFollowMissing.FindSubmatch(data); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			missed[node] += n
			continue
		}
		cur.chunks = append(cur.chunks, Chunk{FromClient: node == 0, Data: data, Missed: missed[node]})
		missed[node] = 0
	}
	return res, nil
}

// httpAlign pairs the items of two sequences by the longest common
// subsequence of their signatures, in order.
func httpAlign(a, b []string) [][2]int {
	n, m := len(a), len(b)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[i] == b[j]:
			out = append(out, [2]int{i, j})
			i, j = i+1, j+1
		case l[i+1][j] >= l[i][j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

// httpCompareStream feeds a followed stream to the parser and compares its
// records with tshark's messages: requests and responses are each matched
// in order (by method and URI, by status code and Content-Length), the
// matched ones field by field, and each response must be paired with the
// request tshark pairs it with.
func httpCompareStream(key string, want []httpTsMsg, fs *httpFollowed, st *httpOracleStats) {
	// Node 0 sent the stream's first packet; it is the client unless the
	// data says otherwise (a capture that starts with the server's bytes).
	clientNode := 0
	var first [2][]byte
	for _, c := range fs.chunks {
		n := 1
		if c.FromClient {
			n = 0
		}
		if first[n] == nil {
			first[n] = c.Data
		}
	}
	maybe := func(b []byte, client bool) bool { return detectHTTP(b, client, nil) != DetectNo }
	if maybe(first[0], false) || !maybe(first[0], true) && maybe(first[1], true) {
		clientNode = 1
	}
	conn := ConnInfo{ClientPort: fs.ports[clientNode], ServerPort: fs.ports[1-clientNode], FlowID: key}
	sink := &httpSink{}
	p := newHTTPParser()
	for i, c := range fs.chunks {
		c.Frame, c.Timestamp = int64(i+1), int64(i+1)
		c.FromClient = c.FromClient == (clientNode == 0)
		p.Feed(&c, &conn, sink)
	}
	p.Close(&conn, sink)
	for _, e := range sink.errs {
		st.mismatches = append(st.mismatches, key+": "+e)
	}
	if *httpOracleDump {
		for i, r := range sink.recs {
			st.logs = append(st.logs, fmt.Sprintf("%s netcap %d: %v", key, i, r))
		}
		for i, m := range want {
			st.logs = append(st.logs, fmt.Sprintf("%s tshark %d: frame %d %v request_in %d", key, i, m.frame, m.f, m.requestIn))
		}
	}

	// Our requests in order of their first byte, our responses in order
	// of theirs (emission order breaks ties).
	var reqs, ress []int
	for i, r := range sink.recs {
		if r.Method != "" {
			reqs = append(reqs, i)
		}
		if r.ResponseTimestamp != 0 {
			ress = append(ress, i)
		}
	}
	sort.SliceStable(reqs, func(a, b int) bool { return sink.recs[reqs[a]].FrameNumber < sink.recs[reqs[b]].FrameNumber })
	sort.SliceStable(ress, func(a, b int) bool {
		return sink.recs[ress[a]].ResponseTimestamp < sink.recs[ress[b]].ResponseTimestamp
	})
	var wreq, wres []httpTsMsg
	for _, m := range want {
		if m.request {
			wreq = append(wreq, m)
		} else {
			wres = append(wres, m)
		}
	}
	diff := func(field, got, want string) {
		if httpKnown(key, field) {
			st.known++
			return
		}
		st.mismatches = append(st.mismatches, fmt.Sprintf("%s/%s: got %q, tshark %q", key, field, got, want))
	}

	var ours, theirs []string
	for _, i := range reqs {
		ours = append(ours, sink.recs[i].Method+" "+sink.recs[i].URL)
	}
	for _, m := range wreq {
		theirs = append(theirs, Text([]byte(m.f["method"]+" "+m.f["uri"])))
	}
	reqPairs := httpAlign(ours, theirs)
	httpUnmatched(reqPairs, ours, theirs, "request", diff)
	tsReqRecord := map[int]int{} // tshark request index -> our record
	for _, pr := range reqPairs {
		st.requests++
		r, w := sink.recs[reqs[pr[0]]], wreq[pr[1]].f
		tsReqRecord[pr[1]] = reqs[pr[0]]
		for _, c := range [][3]string{
			{"version", r.Proto, w["version"]}, {"host", r.Host, w["host"]}, {"ua", r.UserAgent, w["ua"]},
			{"referer", r.Referer, w["referer"]}, {"ctype", r.ContentType, w["ctype"]},
			{"cookies", strings.Join(r.ReqCookies, ";"), w["cookies"]},
			{"header", httpRenderMap(r.RequestHeader), w["header"]},
			{"params", httpRenderMap(r.Parameters), w["params"]},
			{"cookievals", httpRenderCookies(r.RequestCookies), w["cookievals"]},
		} {
			if c[1] != Text([]byte(c[2])) {
				diff(c[0], c[1], c[2])
			}
		}
	}
	// Request index of each tshark request frame; a frame with several
	// requests cannot say which one is meant.
	reqAt := map[int64]int{}
	for i, m := range wreq {
		if _, dup := reqAt[m.frame]; dup {
			reqAt[m.frame] = -1
		} else {
			reqAt[m.frame] = i
		}
	}

	ours, theirs = ours[:0], theirs[:0]
	for _, i := range ress {
		r := sink.recs[i]
		cl := ""
		if r.ResContentLength >= 0 {
			cl = strconv.FormatInt(r.ResContentLength, 10)
		}
		ours = append(ours, strconv.Itoa(int(r.StatusCode))+" "+cl)
	}
	for _, m := range wres {
		theirs = append(theirs, m.f["code"]+" "+m.f["cl"])
	}
	resPairs := httpAlign(ours, theirs)
	httpUnmatched(resPairs, ours, theirs, "response", diff)
	for _, pr := range resPairs {
		st.responses++
		r, w := sink.recs[ress[pr[0]]], wres[pr[1]]
		for _, c := range [][3]string{
			{"res_ctype", r.ResContentType, w.f["ctype"]}, {"server", r.ServerName, w.f["server"]},
			{"res_cookies", strings.Join(r.ResCookies, ";"), w.f["cookies"]},
			{"res_header", httpRenderMap(r.ResponseHeader), w.f["header"]},
		} {
			if c[1] != Text([]byte(c[2])) {
				diff(c[0], c[1], c[2])
			}
		}
		q, ok := reqAt[w.requestIn]
		if w.requestIn == 0 || !ok || q < 0 {
			continue
		}
		mine, ok := tsReqRecord[q]
		if !ok {
			continue
		}
		st.pairs++
		if mine != ress[pr[0]] {
			got := sink.recs[ress[pr[0]]]
			diff("pairing", fmt.Sprintf("%d answers %q", got.StatusCode, got.Method+" "+got.URL),
				fmt.Sprintf("answers %q", wreq[q].f["method"]+" "+wreq[q].f["uri"]))
		}
	}
}

// httpUnmatched reports the messages that the alignment left out: "extra
// request GET" is one netcap records and tshark not, "missing response"
// the reverse (a request is named by its method).
func httpUnmatched(pairs [][2]int, ours, theirs []string, kind string, diff func(field, got, want string)) {
	var a, b []bool = make([]bool, len(ours)), make([]bool, len(theirs))
	for _, p := range pairs {
		a[p[0]], b[p[1]] = true, true
	}
	name := func(sig string) string {
		if kind == "request" {
			m, _, _ := strings.Cut(sig, " ")
			return kind + " " + m
		}
		return kind
	}
	for i, ok := range a {
		if !ok {
			diff("extra "+name(ours[i]), ours[i], "")
		}
	}
	for i, ok := range b {
		if !ok {
			diff("missing "+name(theirs[i]), "", theirs[i])
		}
	}
}

// httpKnown says whether a difference is listed in httpKnownDifferences.
func httpKnown(key, field string) bool {
	if _, ok := httpKnownDifferences[key+"/"+field]; ok {
		return true
	}
	file, _, _ := strings.Cut(key, "#")
	_, ok := httpKnownDifferences[file+"#*/"+field]
	return ok
}

// ---------------------------------------------------------------------------
// Fuzzing

// httpFuzzMax caps the fuzz input: a few header blocks' worth is enough to
// reach every state, and longer inputs only slow the fuzzer down.
const httpFuzzMax = 1 << 16

// httpFuzzChunks turns fuzz bytes into chunks: each chunk is a control byte
// (bit 7: from the client; bit 6: bytes were lost before it, as many as the
// next byte says, plus one; bits 0-5: length minus one) and its data.
func httpFuzzChunks(b []byte) []Chunk {
	var out []Chunk
	for len(b) > 0 {
		ctl := b[0]
		b = b[1:]
		c := Chunk{FromClient: ctl&0x80 != 0}
		if ctl&0x40 != 0 && len(b) > 0 {
			c.Missed = int(b[0]) + 1
			b = b[1:]
		}
		n := min(int(ctl&0x3f)+1, len(b))
		c.Data, b = b[:n], b[n:]
		c.Frame = int64(len(out) + 1)
		c.Timestamp = c.Frame * 1000
		out = append(out, c)
	}
	return out
}

// httpFuzzEncode is the inverse of httpFuzzChunks, for seeds.
func httpFuzzEncode(evs []httpEv) []byte {
	var out []byte
	for _, e := range evs {
		d := e.data
		missed := e.missed
		for first := true; first || len(d) > 0; first = false {
			n := min(len(d), 64)
			ctl := byte(max(n, 1) - 1)
			if e.client {
				ctl |= 0x80
			}
			if missed > 0 {
				ctl |= 0x40
				out = append(out, ctl, byte(min(missed, 256)-1))
				missed = 0
			} else {
				out = append(out, ctl)
			}
			out = append(out, d[:n]...)
			d = d[n:]
		}
	}
	return out
}

// httpFuzzRun feeds chunks and checks the invariants that hold after every
// chunk; it returns the records.
func httpFuzzRun(t *testing.T, chunks []Chunk) []*types.HTTP {
	s := &httpSink{t: t}
	p := newHTTPParser().(*httpParser)
	var total [2]int64
	fed := map[int64]bool{}
	for i := range chunks {
		c := &chunks[i]
		fed[c.Frame] = true
		if c.FromClient {
			total[0] += int64(len(c.Data))
		} else {
			total[1] += int64(len(c.Data))
		}
		p.Feed(c, &httpTestConn, s)
		for _, d := range p.dir {
			if len(d.buf) > httpMaxHeader+httpMaxStart {
				t.Fatalf("buffer of %d bytes", len(d.buf))
			}
		}
		if len(p.queue) > httpMaxPending+2 || p.held > httpMaxHeld+httpMaxHeader {
			t.Fatalf("%d records (%d header bytes) held", len(p.queue), p.held)
		}
	}
	p.Close(&httpTestConn, s)
	for _, r := range s.recs {
		if r.RequestSize > total[0] || r.ResponseSize > total[1] || r.RequestSize < 0 || r.ResponseSize < 0 {
			t.Fatalf("sizes %d/%d beyond the %d/%d bytes fed", r.RequestSize, r.ResponseSize, total[0], total[1])
		}
		if !fed[r.FrameNumber] {
			t.Fatalf("frame %d not fed", r.FrameNumber)
		}
		if r.Method == "" && r.ResponseTimestamp == 0 {
			t.Fatalf("record with neither request nor response: %v", r)
		}
	}
	return s.recs
}

// httpMergeRuns joins consecutive chunks of one direction (no loss between
// them): the records must be the same but for times and frames.
func httpMergeRuns(chunks []Chunk) []Chunk {
	var out []Chunk
	for _, c := range chunks {
		if n := len(out); n > 0 && c.Missed == 0 && out[n-1].FromClient == c.FromClient {
			out[n-1].Data = append(slices.Clip(out[n-1].Data), c.Data...)
			continue
		}
		out = append(out, c)
	}
	return out
}

func FuzzHTTP(f *testing.F) {
	for _, c := range httpCases() {
		f.Add(httpFuzzEncode(c.evs))
		f.Add(httpFuzzEncode(httpByteWise(c.evs)))
	}
	f.Add(httpFuzzEncode([]httpEv{httpCli(httpReqGet + httpReqGet2), httpSrv(httpResOK), {data: httpRes404, missed: 9}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > httpFuzzMax {
			return
		}
		chunks := httpFuzzChunks(b)
		recs := httpFuzzRun(t, chunks)
		merged := httpFuzzRun(t, httpMergeRuns(httpFuzzChunks(b)))
		if len(recs) != len(merged) {
			t.Fatalf("%d records, %d when the chunks of a direction are joined", len(recs), len(merged))
		}
		strip := func(r *types.HTTP) *types.HTTP {
			r = proto.Clone(r).(*types.HTTP)
			r.Timestamp, r.ResponseTimestamp, r.FrameNumber = 0, 0, 0
			return r
		}
		for i := range recs {
			if a, b := strip(recs[i]), strip(merged[i]); !proto.Equal(a, b) {
				t.Fatalf("record %d differs when the chunks are joined:\n%v\n%v", i, a, b)
			}
		}
	})
}

// BenchmarkHTTPParser reads 100 keep-alive request/response pairs, each
// response with a 4 KiB body in segments of 1460 bytes.
func BenchmarkHTTPParser(b *testing.B) {
	var chunks []Chunk
	var size int64
	body := strings.Repeat("x", 4096)
	for i := range 100 {
		req := fmt.Appendf(nil, "GET /item/%d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench/1.0\r\nCookie: a=1; b=2\r\nAccept: */*\r\n\r\n", i)
		res := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		chunks = append(chunks, Chunk{FromClient: true, Data: req})
		for off := 0; off < len(res); off += 1460 {
			chunks = append(chunks, Chunk{Data: res[off:min(off+1460, len(res))]})
		}
		size += int64(len(req) + len(res))
	}
	for i := range chunks {
		chunks[i].Frame = int64(i + 1)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var sink httpCountSink
	for b.Loop() {
		p := newHTTPParser()
		for i := range chunks {
			p.Feed(&chunks[i], &httpTestConn, &sink)
		}
		p.Close(&httpTestConn, &sink)
	}
	if sink.n == 0 {
		b.Fatal("no records")
	}
}

// TestHTTPGapPairing: after missed bytes, a response is paired with a
// request from before them only when no lost message can come between
// them; otherwise both are recorded alone and the request is counted. Each
// case also runs byte by byte and split at every offset.
func TestHTTPGapPairing(t *testing.T) {
	reqAlone := func(frame int64) *types.HTTP {
		r := httpOKGet(frame, 0)
		r.ResponseTimestamp, r.StatusCode, r.ServerName, r.ResContentType = 0, 0, "", ""
		r.ResCookies, r.ResContentLength, r.ResponseSize = nil, -1, 0
		return r
	}
	for _, c := range []struct {
		name     string
		evs      []httpEv
		want     []*types.HTTP
		unpaired int64
	}{{
		// The hole may have held the response to the request and the
		// response after it may answer a request that was lost.
		name:     "request, hole, response",
		evs:      []httpEv{httpCli(httpReqGet), {data: httpRes404, missed: 100}},
		want:     []*types.HTTP{reqAlone(1), httpAlone404(2)},
		unpaired: 1,
	}, {
		// Whether the response after the hole answered the first
		// request or one sent later cannot be told: pairing stops.
		name:     "request, hole, response, then more requests and responses",
		evs:      []httpEv{httpCli(httpReqGet), {data: httpRes404, missed: 100}, httpCli(httpReqGet2), httpSrv(httpRes404)},
		want:     []*types.HTTP{reqAlone(1), httpAlone404(2), httpGet2(3, 0), httpAlone404(4)},
		unpaired: 2,
	}, {
		name: "request, hole in the response's header, next response",
		evs:  []httpEv{httpCli(httpReqGet + httpReqGet2), httpSrv("HTTP/1.1 200 OK\r\nCon"), {data: httpRes404, missed: 30}},
		want: []*types.HTTP{
			// the response whose start was seen answers the first request
			httpRec(&types.HTTP{Timestamp: 1000, FrameNumber: 1, ResponseTimestamp: 2000, Proto: "HTTP/1.1", Method: "GET",
				Host: "example.com", URL: "/index.html?a=1", UserAgent: "curl/8.0", Referer: "http://example.com/",
				ReqCookies: []string{"sid", "theme"}, StatusCode: 200, RequestSize: httpLen(httpReqGet), ResponseSize: 20}),
			// the second may have been answered in the hole
			httpGet2(1, 0), httpAlone404(3),
		},
		unpaired: 1,
	}, {
		// The first response answers the first request for certain; the
		// hole between the requests may have held requests whose
		// responses come next.
		name: "pipelined requests with a hole in between",
		evs: []httpEv{httpCli(httpReqGet), {client: true, data: httpReqGet2, missed: 50},
			httpSrv(httpResOK), httpSrv(httpRes404), httpSrv(httpRes404)},
		want:     []*types.HTTP{httpGet2(2, 0), httpOKGet(1, 3), httpAlone404(4), httpAlone404(5)},
		unpaired: 1,
	}, {
		name: "hole in the server's bytes while nothing waits: later pairs hold",
		evs: []httpEv{httpCli(httpReqGet), httpSrv(httpResOK), {data: httpRes404, missed: 64},
			httpCli(httpReqGet2), httpSrv(httpRes404)},
		want: []*types.HTTP{httpOKGet(1, 2), httpAlone404(3), httpGet2(4, 5)},
	}, {
		name: "hole inside a body of known length: pairing goes on",
		evs:  []httpEv{httpCli(httpReqGet + httpReqGet2), httpSrv(httpResOK[:len(httpResOK)-4]), {data: "o" + httpRes404, missed: 3}},
		want: []*types.HTTP{func() *types.HTTP {
			r := httpOKGet(1, 2)
			r.ResponseSize -= 3
			return r
		}(), httpGet2(1, 3)},
	}} {
		t.Run(c.name, func(t *testing.T) {
			run := func(how string, evs []httpEv) {
				t.Helper()
				var cnt StreamCounters
				conn := httpTestConn
				conn.Counters = &cnt
				s := &httpSink{t: t}
				p := newHTTPParser()
				for _, e := range evs {
					p.Feed(&Chunk{FromClient: e.client, Data: []byte(e.data), Missed: e.missed, Timestamp: e.frame * 1000, Frame: e.frame}, &conn, s)
				}
				p.Close(&conn, s)
				if len(s.recs) != len(c.want) {
					t.Fatalf("%s: %d records, want %d:\n%s", how, len(s.recs), len(c.want), httpDump(s.recs))
				}
				for i := range s.recs {
					if !proto.Equal(httpFraming(s.recs[i]), c.want[i]) {
						t.Fatalf("%s: record %d\n got %v\nwant %v", how, i, s.recs[i], c.want[i])
					}
				}
				if cnt.Unpaired != c.unpaired {
					t.Fatalf("%s: %d requests counted unpaired, want %d", how, cnt.Unpaired, c.unpaired)
				}
			}
			evs := httpFramed(c.evs)
			run("as given", evs)
			run("byte by byte", httpByteWise(evs))
			for i, e := range evs {
				for k := 1; k < len(e.data); k++ {
					run(fmt.Sprintf("event %d split at %d", i, k), httpSplitAt(evs, i, k))
				}
			}
		})
	}
}

// httpGzip compresses s with the standard library's gzip (an encoder
// independent of the decoder the parser uses).
func httpGzip(t *testing.T, s string) string {
	var b bytes.Buffer
	w := stdgzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHTTPFields checks the fields that repeat the header text (header
// maps, query parameters, cookies) and the sniffed content types, for
// messages fed whole and byte by byte.
func TestHTTPFields(t *testing.T) {
	html := "<!DOCTYPE html><html><body>hello</body></html>"
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 40)
	gz := httpGzip(t, html+strings.Repeat(" ", 2000))
	type want struct {
		reqHeader, resHeader, params map[string]string
		reqCookies, resCookies       string // "name=value;..."
		detected, resDetected        string
	}
	for _, c := range []struct {
		name string
		evs  []httpEv
		want want
	}{{
		name: "repeated and folded fields, query, cookies",
		evs: []httpEv{
			httpCli("GET /s?q=a%20b&lang=de&q=c+d&flag&bad=%zz HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\naccept: */*\r\n" +
				"X-Long: one\r\n two\r\nCookie: sid=1; theme=\"dark\"\r\nCookie: e=\r\n\r\n"),
			httpSrv("HTTP/1.1 200 OK\r\nSet-Cookie: sid=2; Path=/\r\nSet-Cookie: lang=en\r\nContent-Length: " +
				strconv.Itoa(len(html)) + "\r\n\r\n" + html),
		},
		want: want{
			reqHeader: map[string]string{"Host": "x", "Accept": "text/html", "accept": "*/*", "X-Long": "one two",
				"Cookie": "sid=1; theme=\"dark\", e="},
			resHeader:  map[string]string{"Set-Cookie": "sid=2; Path=/, lang=en", "Content-Length": strconv.Itoa(len(html))},
			params:     map[string]string{"q": "a b, c d", "lang": "de", "flag": "", "bad": "%zz"},
			reqCookies: "sid=1;theme=\"dark\";e=", resCookies: "sid=2;lang=en",
			resDetected: "text/html; charset=utf-8",
		},
	}, {
		name: "gzip'd chunked response, POST body",
		evs: []httpEv{
			httpCli("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(png)) + "\r\n\r\n" + png),
			httpSrv("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
				strconv.FormatInt(int64(len(gz)/2), 16) + "\r\n" + gz[:len(gz)/2] + "\r\n" +
				strconv.FormatInt(int64(len(gz)-len(gz)/2), 16) + "\r\n" + gz[len(gz)/2:] + "\r\n0\r\n\r\n"),
		},
		want: want{
			reqHeader: map[string]string{"Host": "x", "Content-Length": strconv.Itoa(len(png))},
			resHeader: map[string]string{"Content-Encoding": "gzip", "Transfer-Encoding": "chunked"},
			detected:  "image/png", resDetected: "text/html; charset=utf-8",
		},
	}, {
		name: "a coding that is not read, a body cut by a gap",
		evs: []httpEv{
			httpCli("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
			httpSrv("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 4\r\n\r\nabcd"),
			httpCli("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"),
			httpSrv("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n%PDF-"),
			{data: strings.Repeat("x", 10), missed: 500},
		},
		want: want{
			reqHeader: map[string]string{"Host": "x"},
			resHeader: map[string]string{"Content-Encoding": "br", "Content-Length": "4"},
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			for how, evs := range map[string][]httpEv{"whole": httpFramed(c.evs), "byte by byte": httpByteWise(httpFramed(c.evs))} {
				recs := httpFeed(t, evs).recs
				if len(recs) == 0 {
					t.Fatalf("%s: no record", how)
				}
				r := recs[0]
				cookies := func(cs []*types.HTTPCookie) string {
					var out []string
					for _, c := range cs {
						out = append(out, c.Name+"="+c.Value)
					}
					return strings.Join(out, ";")
				}
				if !maps.Equal(r.RequestHeader, c.want.reqHeader) || !maps.Equal(r.ResponseHeader, c.want.resHeader) ||
					!maps.Equal(r.Parameters, c.want.params) {
					t.Errorf("%s: headers %v / %v, parameters %v\nwant %v / %v, %v", how, r.RequestHeader, r.ResponseHeader,
						r.Parameters, c.want.reqHeader, c.want.resHeader, c.want.params)
				}
				if got := cookies(r.RequestCookies); got != c.want.reqCookies {
					t.Errorf("%s: request cookies %q, want %q", how, got, c.want.reqCookies)
				}
				if got := cookies(r.ResponseCookies); got != c.want.resCookies {
					t.Errorf("%s: response cookies %q, want %q", how, got, c.want.resCookies)
				}
				if r.ContentTypeDetected != c.want.detected || r.ResContentTypeDetected != c.want.resDetected {
					t.Errorf("%s: detected %q / %q, want %q / %q", how, r.ContentTypeDetected, r.ResContentTypeDetected,
						c.want.detected, c.want.resDetected)
				}
				if len(recs) > 1 {
					// The body cut by a gap: sniffed from the bytes before it.
					if got := recs[1].ResContentTypeDetected; got != "application/pdf" {
						t.Errorf("%s: body before a gap sniffed as %q, want application/pdf", how, got)
					}
				}
			}
		})
	}
}

// TestHTTPReusedRecordMaps: a connection's later exchanges reuse the
// records (and their maps) of earlier ones; each record has its own header
// fields and parameters only, none left from the exchange before.
func TestHTTPReusedRecordMaps(t *testing.T) {
	var evs []httpEv
	type want struct{ req, res, params map[string]string }
	var wants []want
	for i := 0; i < 12; i++ {
		n := strconv.Itoa(i)
		req := "GET /p" + n + "?i=" + n + "&x" + n + "=y HTTP/1.1\r\nHost: h\r\nX-Req-" + n + ": a\r\nX-Req-" + n + ": b\r\n\r\n"
		if i%3 == 2 {
			req = "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n" // no query, one field
		}
		evs = append(evs, httpCli(req), httpSrv("HTTP/1.1 204 No Content\r\nX-Res-"+n+": "+n+"\r\n\r\n"))
		w := want{req: map[string]string{"Host": "h", "X-Req-" + n: "a, b"}, res: map[string]string{"X-Res-" + n: n},
			params: map[string]string{"i": n, "x" + n: "y"}}
		if i%3 == 2 {
			w.req, w.params = map[string]string{"Host": "h"}, nil
		}
		wants = append(wants, w)
	}
	recs := httpFeed(t, httpFramed(evs)).recs
	if len(recs) != len(wants) {
		t.Fatalf("%d records, want %d", len(recs), len(wants))
	}
	for i, r := range recs {
		w := wants[i]
		if !maps.Equal(r.RequestHeader, w.req) || !maps.Equal(r.ResponseHeader, w.res) || !maps.Equal(r.Parameters, w.params) {
			t.Errorf("record %d: header %v / %v, parameters %v\nwant %v / %v, %v", i, r.RequestHeader, r.ResponseHeader,
				r.Parameters, w.req, w.res, w.params)
		}
	}
}
