package decoder

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The stream elements of RFC 6120's STARTTLS negotiation, written for
// these tests (section 5.4 gives the exchange).
const (
	xmppTestServerHeader = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' " +
		"xmlns='jabber:client' from='im.example.test' id='t1' version='1.0'>"
	xmppTestFeatures = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
	xmppTestStartTLS = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	xmppTestProceed  = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	xmppTestFailure  = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"
)

// xmppTestHeader is a client's stream header as openssl s_client -starttls
// xmpp sends it (namespace first, no XML declaration).
func xmppTestHeader(ns, to string) string {
	return "<stream:stream xmlns='" + ns + "' xmlns:stream='http://etherx.jabber.org/streams' to='" + to + "' version='1.0'>"
}

// xmppTestHellos are a ClientHello and a ServerHello record.
func xmppTestHellos() (ch, sh []byte) {
	ch = tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	sh = tlsTestRecord(tlsRecordHandshake, 0x0303,
		tlsTestServerHello(0x0303, 0x1301, tlsTestRandom(nil), nil, []tlsTestExt{tlsVersions(0x0304)}))
	return ch, sh
}

// xmppSession is a negotiation that ends in <proceed/> and the hellos.
func xmppSession() []streamSeg {
	ch, sh := xmppTestHellos()
	return []streamSeg{
		{true, []byte(xmppTestHeader("jabber:client", "im.example.test"))},
		{false, []byte(xmppTestServerHeader + xmppTestFeatures)},
		{true, []byte(xmppTestStartTLS)},
		{false, []byte(xmppTestProceed)},
		{true, ch}, {false, sh},
	}
}

// xmppFeed feeds the segments to a new parser, each cut into pieces of at
// most size bytes (0: whole), and returns the parser and the records.
func xmppFeed(t testing.TB, segs []streamSeg, size int) (*xmppParser, []proto.Message) {
	p := &xmppParser{}
	s := &tlsSink{t: t}
	for i, sg := range segs {
		for b := sg.data; len(b) > 0; {
			n := len(b)
			if size > 0 {
				n = min(n, size)
			}
			p.Feed(&Chunk{FromClient: sg.client, Data: b[:n], Frame: int64(i + 1), Timestamp: int64(i + 1)}, &tlsTestConn, s)
			b = b[n:]
		}
	}
	p.Close(&tlsTestConn, s)
	return p, s.recs
}

func xmppHellos(recs []proto.Message) int {
	n := 0
	for _, m := range recs {
		switch m.(type) {
		case *types.TLSClientHello, *types.TLSServerHello:
			n++
		}
	}
	return n
}

func TestXMPPDetect(t *testing.T) {
	for _, c := range []struct {
		first  string
		client bool
		want   Detection
	}{
		{xmppTestHeader("jabber:client", "a.example"), true, DetectYes},
		{xmppTestHeader("jabber:server", "a.example"), true, DetectYes},
		{xmppTestHeader("jabber:client", "a.example"), false, DetectNo},
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<stream:stream to="a.example" xmlns="jabber:client">`, true, DetectYes},
		// The namespace read before the header's end (a long header cut).
		{"<stream:stream xmlns='jabber:client' to='a.exa", true, DetectYes},
		{"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='a.exa", true, DetectMore},
		{"<?xml version='1.0'?>", true, DetectMore},
		{"<?xml vers", true, DetectMore},
		{"<", true, DetectMore},
		{"<?", true, DetectMore},
		{"<stream:str", true, DetectMore},
		{"<stream:stream", true, DetectMore},
		{"<stream:stream xmlns='urn:example:other' to='a.example'>", true, DetectNo},
		{"<stream:stream to='a.example' version='1.0'>", true, DetectNo},
		{"<stream:stream>", true, DetectNo},
		{"<stream:streams xmlns='jabber:client'>", true, DetectNo},
		{"<stream:features>", true, DetectNo},
		{"<?xml version='1.0'?><html>", true, DetectNo},
		{"<stream:stream xmlns=jabber:client>", true, DetectNo},
		{"<html><body>", true, DetectNo},
		{"GET / HTTP/1.1\r\n", true, DetectNo},
	} {
		if got := detectXMPP([]byte(c.first), c.client, nil); got != c.want {
			t.Errorf("detectXMPP(%q, client %v) = %v, want %v", c.first, c.client, got, c.want)
		}
	}
}

// TestXMPPStartTLS: sessions through the engine (detection on the port
// given, reassembly, the parser, the Upgrade, the Connection record) and
// fed to the parser directly, whole and one byte at a time: the parser's
// reading of the negotiation, the TLS hellos after <proceed/> and the
// Connection's ApplicationProto.
func TestXMPPStartTLS(t *testing.T) {
	ch, sh := xmppTestHellos()
	hdr := xmppTestHeader("jabber:client", "im.example.test")
	srv := xmppTestServerHeader + xmppTestFeatures
	cli := func(s string) streamSeg { return streamSeg{true, []byte(s)} }
	srvSeg := func(s string) streamSeg { return streamSeg{false, []byte(s)} }
	hellos := []streamSeg{{true, ch}, {false, sh}}
	with := func(segs ...streamSeg) []streamSeg { return append(segs, hellos...) }
	for _, c := range []struct {
		name                    string
		port                    uint16
		segs                    []streamSeg
		app                     string
		hellos                  int
		host                    string
		offered, asked, refused bool
	}{
		{"upgrade", 5222, xmppSession(), "XMPP/TLS", 2, "im.example.test", true, true, false},
		{"on another port", 8080, xmppSession(), "XMPP/TLS", 2, "im.example.test", true, true, false},
		{"server to server, XML declarations", 5269, with(
			cli("<?xml version='1.0'?>"+xmppTestHeader("jabber:server", "b.example.test")),
			srvSeg(strings.Replace(srv, "jabber:client", "jabber:server", 1)),
			cli(xmppTestStartTLS), srvSeg(xmppTestProceed)),
			"XMPP/TLS", 2, "b.example.test", true, true, false},
		{"declaration in a segment of its own", 5222, with(cli("<?xml version='1.0'?>\n"), cli(hdr), srvSeg(srv),
			cli(xmppTestStartTLS), srvSeg(xmppTestProceed)), "XMPP/TLS", 2, "im.example.test", true, true, false},
		{"proceed and ServerHello in one segment", 5222, []streamSeg{cli(hdr), srvSeg(srv), cli(xmppTestStartTLS),
			{false, append([]byte(xmppTestProceed), sh...)}, {true, ch}}, "XMPP/TLS", 2, "im.example.test", true, true, false},
		{"prefixed namespace, end tags, '>' and quotes in values", 5222, with(
			cli(`<stream:stream xmlns="jabber:client" to="im.example.test" id='a"b>c'>`),
			srvSeg(xmppTestServerHeader+"<stream:features><tls:starttls xmlns:tls='urn:ietf:params:xml:ns:xmpp-tls'></tls:starttls>"+
				"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
			cli("\n<tls:starttls xmlns:tls='urn:ietf:params:xml:ns:xmpp-tls' ></tls:starttls >\n"),
			srvSeg("<tls:proceed xmlns:tls=\"urn:ietf:params:xml:ns:xmpp-tls\"></tls:proceed>")),
			"XMPP/TLS", 2, "im.example.test", true, true, false},
		{"refused", 5222, with(cli(hdr), srvSeg(srv), cli(xmppTestStartTLS), srvSeg(xmppTestFailure)),
			"XMPP", 0, "im.example.test", true, true, true},
		{"not offered: SASL in the clear", 5222, with(cli(hdr),
			srvSeg(xmppTestServerHeader+"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"+
				"<mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
			cli("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>"),
			srvSeg("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")),
			"XMPP", 0, "im.example.test", false, false, false},
		{"the client closes its stream", 5222, with(cli(hdr), srvSeg(srv), cli("</stream:stream>"), srvSeg("</stream:stream>")),
			"XMPP", 0, "im.example.test", true, false, false},
		{"proceed the client did not ask for", 5222, with(cli(hdr), srvSeg(srv+xmppTestProceed)),
			"XMPP", 0, "im.example.test", true, false, false},
		{"the client goes on before the answer", 5222, with(cli(hdr), srvSeg(srv), cli(xmppTestStartTLS+"<presence/>"),
			srvSeg(xmppTestProceed)), "XMPP", 0, "im.example.test", true, true, false},
		{"a comment: not a stream's XML", 5222, with(cli(hdr), srvSeg(xmppTestServerHeader+"<!-- features -->"+xmppTestFeatures),
			cli(xmppTestStartTLS), srvSeg(xmppTestProceed)), "XMPP", 0, "im.example.test", false, false, false},
		{"another namespace: not XMPP", 5222, with(cli(strings.Replace(hdr, "jabber:client", "urn:example:chat", 1)), srvSeg(srv),
			cli(xmppTestStartTLS), srvSeg(xmppTestProceed)), "", 0, "", false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, conn := streamRun(t, c.port, true, c.segs)
			app := ""
			if conn != nil {
				app = conn.ApplicationProto
			}
			if c.app == "" && app == "XMPP" || c.app != "" && app != c.app || xmppHellos(recs) != c.hellos {
				t.Errorf("engine: application %q, %d hellos; want %q, %d", app, xmppHellos(recs), c.app, c.hellos)
			}
			_, wrecs := xmppFeed(t, c.segs, 0)
			for _, size := range []int{0, 1, 7} {
				p, recs := xmppFeed(t, c.segs, size)
				inner := p.Inner()
				if c.app == "" {
					continue // the parser is not run on what is not detected
				}
				wantInner := ""
				if c.app == "XMPP/TLS" {
					wantInner = "TLS"
				}
				if p.host != c.host || p.offered != c.offered || p.asked != c.asked || p.refused != c.refused ||
					inner != wantInner || xmppHellos(recs) != c.hellos {
					t.Errorf("pieces of %d: host %q, offered %v, asked %v, refused %v, inner %q, %d hellos; want %q, %v, %v, %v, %q, %d",
						size, p.host, p.offered, p.asked, p.refused, inner, xmppHellos(recs),
						c.host, c.offered, c.asked, c.refused, wantInner, c.hellos)
				}
				if size > 0 && !slices.EqualFunc(xmppStrip(recs), xmppStrip(wrecs), proto.Equal) {
					t.Errorf("pieces of %d: records differ from the whole segments'", size)
				}
			}
		})
	}
	// Bytes missed before the answer: nothing after them is read as TLS.
	p := &xmppParser{}
	s := &tlsSink{t: t}
	for _, sg := range xmppSession()[:3] {
		p.Feed(&Chunk{FromClient: sg.client, Data: sg.data}, &tlsTestConn, s)
	}
	p.Feed(&Chunk{Data: []byte(xmppTestProceed), Missed: 10}, &tlsTestConn, s)
	p.Feed(&Chunk{FromClient: true, Data: ch}, &tlsTestConn, s)
	if p.Inner() != "" || len(s.recs) != 0 {
		t.Errorf("after a gap: inner %q, %d records", p.Inner(), len(s.recs))
	}
}

// xmppStrip clears the frame and time of hellos, which depend on how the
// bytes were cut.
func xmppStrip(recs []proto.Message) []proto.Message {
	out := make([]proto.Message, len(recs))
	for i, m := range recs {
		m = proto.Clone(m)
		switch r := m.(type) {
		case *types.TLSClientHello:
			r.Timestamp, r.FrameNumber = 0, 0
		case *types.TLSServerHello:
			r.Timestamp, r.FrameNumber = 0, 0
		}
		out[i] = m
	}
	return out
}

// TestXMPPBounded: a peer that streams XML without end, in every way the
// parser reads it (elements nested in the features, text, one tag that
// never ends, white space from the client), makes it hold at most
// xmppMaxTag bytes at any time and stop after xmppMaxNegotiation bytes of
// that direction; 16 MiB of it allocate less than 256 KiB in all.
func TestXMPPBounded(t *testing.T) {
	const total = 16 << 20
	hdr := xmppTestHeader("jabber:client", "im.example.test")
	for _, c := range []struct {
		name   string
		client bool
		start  string // the direction's bytes before the endless part
		repeat string // repeated to total bytes
	}{
		{"features with endless children", false, xmppTestServerHeader + "<stream:features>", "<x a='1'><y/></x>"},
		{"features nested without end", false, xmppTestServerHeader + "<stream:features>", "<x>"},
		{"endless text", false, xmppTestServerHeader + "<stream:features>", "text "},
		{"a tag that never ends", false, xmppTestServerHeader + "<stream:features a='", "v"},
		{"endless white space from the client", true, hdr, " \n"},
		{"a client header that never ends", true, "<stream:stream xmlns='jabber:client' to='", "v"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &xmppParser{}
			s := &tlsSink{t: t}
			conn := tlsTestConn
			if !c.client {
				p.Feed(&Chunk{FromClient: true, Data: []byte(hdr)}, &conn, s)
			}
			// Pieces of about 100 bytes, so that what is held is seen
			// before the parser stops.
			chunk := []byte(strings.Repeat(c.repeat, 100/len(c.repeat)))
			i := 1
			if c.client {
				i = 0
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			p.Feed(&Chunk{FromClient: c.client, Data: []byte(c.start)}, &conn, s)
			held := 0
			next := &Chunk{FromClient: c.client, Data: chunk}
			for sent := 0; sent < total; sent += len(chunk) {
				p.Feed(next, &conn, s)
				held = max(held, len(p.side[i].tag))
			}
			runtime.ReadMemStats(&after)
			if held > xmppMaxTag {
				t.Errorf("held a tag of %d bytes, bound %d", held, xmppMaxTag)
			}
			if !p.over || p.side[i].read > xmppMaxNegotiation {
				t.Errorf("stopped %v after %d bytes; bound %d", p.over, p.side[i].read, xmppMaxNegotiation)
			}
			a := after.TotalAlloc - before.TotalAlloc
			if a > 256<<10 {
				t.Errorf("%d MiB of XML allocated %d bytes", total>>20, a)
			}
			t.Logf("%d MiB: read %d bytes, held at most %d, allocated %d bytes", total>>20, p.side[i].read, held, a)
			// A proceed after the attack is not read.
			p.Feed(&Chunk{Data: []byte(xmppTestProceed)}, &conn, s)
			if p.Inner() != "" {
				t.Errorf("inner %q after the bound", p.Inner())
			}
		})
	}
}

func FuzzXMPP(f *testing.F) {
	sess := xmppSession()
	var cli, srv []byte
	for _, sg := range sess {
		if sg.client {
			cli = append(cli, sg.data...)
		} else {
			srv = append(srv, sg.data...)
		}
	}
	f.Add(cli, srv)
	f.Add([]byte("<?xml version='1.0'?>"+xmppTestHeader("jabber:server", "b.example")+xmppTestStartTLS),
		[]byte(xmppTestServerHeader+xmppTestFeatures+xmppTestFailure))
	f.Fuzz(func(t *testing.T, cli, srv []byte) {
		detectXMPP(cli, true, nil)
		// The parser's reading does not depend on where the bytes are
		// cut, and what it holds stays bounded.
		var state [2]string
		for k, size := range []int{0, 3} {
			segs := []streamSeg{{true, cli}, {false, srv}, {true, cli}}
			p := &xmppParser{}
			s := &tlsSink{t: t}
			for _, sg := range segs {
				for b := sg.data; len(b) > 0; {
					n := len(b)
					if size > 0 {
						n = min(n, size)
					}
					p.Feed(&Chunk{FromClient: sg.client, Data: b[:n]}, &tlsTestConn, s)
					b = b[n:]
					for i := range p.side {
						if len(p.side[i].tag) > xmppMaxTag || p.side[i].read > xmppMaxNegotiation {
							t.Fatalf("side %d held %d bytes, read %d", i, len(p.side[i].tag), p.side[i].read)
						}
					}
				}
			}
			state[k] = strings.Join([]string{p.host, p.Inner(), strings.Repeat("o", b2i(p.offered)),
				strings.Repeat("a", b2i(p.asked)), strings.Repeat("r", b2i(p.refused))}, "|")
			p.Close(&tlsTestConn, s)
		}
		if state[0] != state[1] {
			t.Fatalf("whole: %q, in pieces of 3: %q", state[0], state[1])
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// xmppTsStream is what tshark reads in one TCP stream it dissects as XMPP.
type xmppTsStream struct {
	host                     string // the client's stream header: Info "STREAM > host"
	starttls, proceed, fails bool
}

// xmppTshark returns tshark's reading of the XMPP streams of a capture.
func xmppTshark(t *testing.T, tshark, path string) map[int]*xmppTsStream {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", path, "-Y", "xmpp", "-T", "fields", "-E", "separator=/t",
		"-e", "tcp.stream", "-e", "_ws.col.Info", "-e", "xmpp.starttls", "-e", "xmpp.proceed", "-e", "xmpp.failure").Output()
	if err := tsharkErr(context.Background(), err); err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	streams := map[int]*xmppTsStream{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		col := strings.Split(line, "\t")
		if len(col) != 5 {
			continue
		}
		n, err := strconv.Atoi(col[0])
		if err != nil {
			t.Fatalf("tshark %s: line %q", path, line)
		}
		st := streams[n]
		if st == nil {
			st = &xmppTsStream{}
			streams[n] = st
		}
		if h, ok := strings.CutPrefix(col[1], "STREAM > "); ok && st.host == "" {
			st.host = strings.TrimSpace(h)
		}
		st.starttls = st.starttls || col[2] != ""
		st.proceed = st.proceed || col[3] != ""
		st.fails = st.fails || col[4] != ""
	}
	return streams
}

// TestXMPPMatchesTshark: in every capture, own and shared, where tshark
// finds XMPP, each stream tshark dissects as XMPP, fed to the parser as
// tshark reassembles it, is detected and read as tshark reads it: the
// client's 'to' host, its <starttls/>, the server's <proceed/> or
// <failure/>; after <proceed/>, the TLS hellos are tshark's, with its JA3,
// JA3S and SNI. Then the whole capture through the engine: the
// Connection records say XMPP/TLS for the streams tshark saw <proceed/>
// in, XMPP for the others, and the hellos' JA3 and JA3S are tshark's.
func TestXMPPMatchesTshark(t *testing.T) {
	files := corpusWith(t, "xmpp")
	tshark, _ := exec.LookPath("tshark")
	ctx := context.Background()
	var streams, upgraded, refused, compared int
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		label := captureLabel(name)
		want := xmppTshark(t, tshark, path)
		hellos, err := tlsTsharkHellos(ctx, tshark, path)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		ids := make([]int, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		followed, err := tlsFollow(ctx, tshark, path, ids)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		var wantJA3, wantApps []string
		for _, id := range ids {
			w, f := want[id], followed[id]
			streams++
			if f == nil || len(f.chunks) == 0 || !f.chunks[0].FromClient {
				t.Errorf("%s#%d: tshark follow gave no client bytes first", label, id)
				continue
			}
			first := f.chunks[0].Data[:min(len(f.chunks[0].Data), StreamDetectLimit)]
			if d := detectXMPP(first, true, nil); d != DetectYes {
				t.Errorf("%s#%d: not detected (%v) from %.60q", label, id, d, first)
				continue
			}
			p := &xmppParser{}
			s := &tlsSink{t: t}
			for i := range f.chunks {
				p.Feed(&f.chunks[i], &tlsTestConn, s)
			}
			p.Close(&tlsTestConn, s)
			if p.host != w.host || p.asked != w.starttls || (p.Inner() == "TLS") != w.proceed || p.refused != w.fails {
				t.Errorf("%s#%d: host %q, starttls %v, inner %q, failure %v; tshark: %q, %v, proceed %v, %v",
					label, id, p.host, p.asked, p.Inner(), p.refused, w.host, w.starttls, w.proceed, w.fails)
			}
			app := "XMPP"
			if w.proceed {
				app, upgraded = "XMPP/TLS", upgraded+1
			}
			if w.fails {
				refused++
			}
			wantApps = append(wantApps, app)
			var got, exp []string
			for _, h := range s.clientHellos() {
				got = append(got, "ja3 "+h.Ja3+" sni "+h.SNI)
			}
			for _, h := range s.serverHellos() {
				got = append(got, "ja3s "+h.Ja3S)
			}
			for _, h := range hellos[id] {
				if h.typ == tlsClientHello {
					exp = append(exp, "ja3 "+h.ja3+" sni "+h.sni)
					wantJA3 = append(wantJA3, "ja3 "+h.ja3)
				}
			}
			for _, h := range hellos[id] {
				if h.typ != tlsClientHello {
					exp = append(exp, "ja3s "+h.ja3)
					wantJA3 = append(wantJA3, "ja3s "+h.ja3)
				}
			}
			compared += len(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("%s#%d: hellos %v; tshark %v", label, id, got, exp)
			}
		}
		// The engine: Connection records and hellos of the whole capture.
		// Only the hellos of XMPP connections: a capture may hold
		// other TLS.
		var gotApps, gotJA3 []string
		recs := xmppCapture(t, path)
		xmpp := map[string]bool{}
		for _, m := range recs {
			if r, ok := m.(*types.Connection); ok && strings.HasPrefix(r.ApplicationProto, "XMPP") {
				gotApps = append(gotApps, r.ApplicationProto)
				xmpp[r.UID] = true
			}
		}
		for _, m := range recs {
			switch r := m.(type) {
			case *types.TLSClientHello:
				if xmpp[r.FlowID] {
					gotJA3 = append(gotJA3, "ja3 "+r.Ja3)
				}
			case *types.TLSServerHello:
				if xmpp[r.FlowID] {
					gotJA3 = append(gotJA3, "ja3s "+r.Ja3S)
				}
			}
		}
		slices.Sort(gotApps)
		slices.Sort(wantApps)
		slices.Sort(gotJA3)
		slices.Sort(wantJA3)
		if !slices.Equal(gotApps, wantApps) || !slices.Equal(gotJA3, wantJA3) {
			t.Errorf("%s through the engine: connections %v, hellos %v; tshark %v, %v", label, gotApps, gotJA3, wantApps, wantJA3)
		}
	}
	t.Logf("%d captures, %d XMPP streams (%d upgraded, %d refused), %d hellos compared with tshark",
		len(files), streams, upgraded, refused, compared)
	for _, f := range files {
		if captureLabel(f) == "testdata/xmpp.pcap" && (upgraded == 0 || refused == 0 || compared < 2) {
			t.Errorf("testdata/xmpp.pcap: tshark finds %d upgraded and %d refused streams, %d hellos: want one of each and the two hellos",
				upgraded, refused, compared)
		}
	}
}

// xmppCapture decodes a capture with the Connection and TLS hello
// records on and returns them.
func xmppCapture(t *testing.T, path string) []proto.Message {
	t.Helper()
	opts := DefaultOptions()
	opts.ConnTimeout, opts.FlowTimeout = 0, 0
	d := NewPacketDecoder(func(tt types.Type) bool {
		switch tt {
		case types.Type_NC_Connection, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello:
			return true
		}
		return false
	}, opts)
	s := &recordSink{}
	frame := int64(0)
	eachPacket(path, 1<<20, func(b []byte, link layers.LinkType) {
		frame++
		meta := Packet{Frame: frame, Timestamp: frame, CaptureLength: len(b), Length: len(b)}
		d.Decode(b, link, &meta, s)
	})
	d.Flush(s)
	return s.recs
}
