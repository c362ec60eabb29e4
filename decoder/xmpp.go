package decoder

import (
	"bytes"
	"strings"

	"github.com/netcap/netcap/types"
)

// XMPP STARTTLS (RFC 6120 section 5): a client opens an XML stream
// (<stream:stream xmlns='jabber:client' to='host'>, or jabber:server
// between servers), the server opens its own and lists its stream
// features, which may offer <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>;
// the client sends <starttls/>, the server answers <proceed/> and both
// start a TLS handshake right after it, or <failure/> and closes. Only
// that negotiation is read: after <proceed/> an Upgrade finds the TLS
// hellos (their records, JA3 and JA4, SNI), and the Connection record says
// "XMPP/TLS". A stream that does not upgrade makes no record of its own,
// and the parser stops at the first element that is not part of the
// negotiation (SASL in the clear, a stream error): it does not read chats.
//
// Detection is by content on any port: the client's first bytes are the
// stream header, after an optional XML declaration, in the jabber:client
// or jabber:server namespace.
//
// RFC 6120 section 11.1 restricts the XML of a stream: no comments,
// processing instructions other than the declaration, DTDs or entity
// references beyond the predefined ones. The parser reads tags, not a
// tree: it finds where each tag ends (a '>' outside quoted attribute
// values), skips text and counts the depth, and stops at what a stream may
// not hold.

const (
	xmppNSTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	xmppNSStreams = "http://etherx.jabber.org/streams"
)

const (
	// xmppMaxNegotiation bounds the bytes of each direction read before
	// TLS: the stream header, the features and the STARTTLS exchange take
	// a few hundred bytes (prosody's 309 before <proceed/>); beyond, the
	// parser stops, so a peer streaming endless XML costs a bounded read.
	xmppMaxNegotiation = 8192
	// xmppMaxTag bounds one tag held while it is read (a stream header
	// is about 250 bytes); a longer tag stops the parser.
	xmppMaxTag = 1024
)

func init() {
	RegisterStream(StreamProtocol{
		Name: "XMPP",
		// The records are those of what the TLS inside makes.
		Records: []types.Type{types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectXMPP,
		New:     func() StreamParser { return &xmppParser{} },
	})
}

// xmlSpace says whether c is XML white space.
func xmlSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// xmppHasPrefix says whether b starts with s (match), or is too short to
// tell but starts like it (more).
func xmppHasPrefix(b []byte, s string) (match, more bool) {
	if len(b) < len(s) {
		return false, string(b) == s[:len(b)]
	}
	return string(b[:len(s)]) == s, false
}

// detectXMPP accepts a client whose first bytes are a stream header in the
// jabber:client or jabber:server namespace.
func detectXMPP(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if !fromClient {
		return DetectNo
	}
	b := first
	_, declMore := xmppHasPrefix(b, "<?xml")
	_, headMore := xmppHasPrefix(b, "<stream:stream")
	if declMore || headMore {
		return DetectMore
	}
	if decl, _ := xmppHasPrefix(b, "<?xml"); decl {
		end := bytes.Index(b, []byte("?>"))
		if end < 0 {
			return DetectMore
		}
		b = bytes.TrimLeft(b[end+2:], " \t\r\n")
	}
	head, more := xmppHasPrefix(b, "<stream:stream")
	switch {
	case more:
		return DetectMore
	case !head:
		return DetectNo
	}
	rest := b[len("<stream:stream"):]
	if len(rest) == 0 {
		return DetectMore
	}
	if !xmlSpace(rest[0]) {
		return DetectNo // another element, or no attributes: no namespace
	}
	var ns []byte
	found := false
	end, bad := xmppAttrs(rest, func(name, value []byte) {
		if string(name) == "xmlns" {
			ns, found = value, true
		}
	})
	switch {
	case found:
		if string(ns) == "jabber:client" || string(ns) == "jabber:server" {
			return DetectYes
		}
		return DetectNo
	case bad || end:
		return DetectNo
	}
	return DetectMore
}

// xmppAttrs reads the attributes of a tag after its name (name='value' or
// name="value", white space between) up to the tag's end, calling f for
// each complete one. end says the tag's end ('>' or "/>") was reached;
// bad that b is not attribute syntax. Neither: b ends inside the tag.
func xmppAttrs(b []byte, f func(name, value []byte)) (end, bad bool) {
	i := 0
	for {
		for i < len(b) && xmlSpace(b[i]) {
			i++
		}
		switch {
		case i == len(b):
			return false, false
		case b[i] == '>':
			return true, false
		case b[i] == '/':
			if i+1 == len(b) {
				return false, false
			}
			return b[i+1] == '>', b[i+1] != '>'
		}
		start := i
		for i < len(b) && !xmlSpace(b[i]) && strings.IndexByte("=<>/'\"", b[i]) < 0 {
			i++
		}
		if i == len(b) {
			return false, false
		}
		name := b[start:i]
		for i < len(b) && xmlSpace(b[i]) {
			i++
		}
		if i < len(b) && (len(name) == 0 || b[i] != '=') {
			return false, true
		}
		for i++; i < len(b) && xmlSpace(b[i]); i++ {
		}
		if i >= len(b) {
			return false, false
		}
		q := b[i]
		if q != '\'' && q != '"' {
			return false, true
		}
		j := bytes.IndexByte(b[i+1:], q)
		if j < 0 {
			return false, false
		}
		f(name, b[i+1:i+1+j])
		i += j + 2
		if i < len(b) && !xmlSpace(b[i]) && b[i] != '>' && b[i] != '/' {
			return false, true
		}
	}
}

// xmppElem is what the parser needs of one tag.
type xmppElem struct {
	end, empty    bool   // </name>; <name/>
	prefix, local []byte // the name, split at its colon
	ns            []byte // the namespace the tag declares for its prefix
	xmlns         []byte // the default namespace the tag declares
	to            []byte // the 'to' attribute, as sent (entities not decoded)
}

// xmppParseTag reads a whole tag, from '<' to '>'; ok is false when it is
// not one.
func xmppParseTag(tag []byte) (e xmppElem, ok bool) {
	b := tag[1:]
	if len(b) > 0 && b[0] == '/' {
		e.end, b = true, b[1:]
	}
	n := 0
	for n < len(b) && !xmlSpace(b[n]) && b[n] != '/' && b[n] != '>' {
		n++
	}
	if n == 0 {
		return e, false
	}
	name := b[:n]
	e.local = name
	if k := bytes.IndexByte(name, ':'); k >= 0 {
		e.prefix, e.local = name[:k], name[k+1:]
	}
	decl := "xmlns"
	if e.prefix != nil {
		decl = "xmlns:" + string(e.prefix)
	}
	end, bad := xmppAttrs(b[n:], func(name, value []byte) {
		switch string(name) {
		case decl:
			e.ns = value
		}
		switch string(name) {
		case "xmlns":
			e.xmlns = value
		case "to":
			e.to = value
		}
	})
	if !end || bad {
		return e, false
	}
	e.empty = !e.end && bytes.HasSuffix(tag, []byte("/>"))
	if e.ns == nil && string(e.prefix) == "stream" {
		// Declared by the stream header.
		e.ns = []byte(xmppNSStreams)
	}
	return e, true
}

// is says whether the element is local in namespace ns.
func (e *xmppElem) is(local, ns string) bool {
	return string(e.local) == local && string(e.ns) == ns
}

// The top-level elements (children of the stream element) the parser
// follows.
const (
	xmppTopFeatures = iota + 1 // the server's <stream:features>
	xmppTopStartTLS            // the client's <starttls/>
	xmppTopProceed             // the server's <proceed/>
)

// xmppSide is the reading state of one direction.
type xmppSide struct {
	tag    []byte // the tag being read, from its '<', up to xmppMaxTag
	in     bool   // inside a tag
	quote  byte   // inside a tag, the quote of the attribute value read, or 0
	read   int    // bytes read, up to xmppMaxNegotiation
	decl   bool   // the XML declaration was read
	stream bool   // the stream header was read
	depth  int    // elements open inside the stream element
	top    int    // the open top-level element (xmppTop...), or 0
}

// xmppParser reads the STARTTLS negotiation of an XMPP stream.
type xmppParser struct {
	side [2]xmppSide
	// host is the 'to' of the client's stream header, the domain it asks
	// the server for; offered, asked and refused are the server's feature
	// <starttls/>, the client's <starttls/> and the server's <failure/>.
	// netcap.proto has no XMPP record: they decide the upgrade, and the
	// tests compare them with tshark.
	host                    string
	offered, asked, refused bool
	inner                   *Upgrade
	over                    bool
}

// Inner names the protocol after <proceed/> (TLS), or "".
func (p *xmppParser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *xmppParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	if p.over || c.Missed > 0 {
		p.stop()
		return
	}
	i := 1
	if c.FromClient {
		i = 0
	}
	d := &p.side[i]
	data := c.Data[:min(len(c.Data), xmppMaxNegotiation-d.read)]
	k, proceed := p.scan(i, data)
	d.read += k
	if proceed {
		// TLS starts right after <proceed/>, maybe in this chunk.
		p.side = [2]xmppSide{}
		p.inner = upgradeFrom(c, c.Data[k:], conn, s)
		return
	}
	if p.over || d.read >= xmppMaxNegotiation {
		p.stop()
	}
}

// stop ends the reading and drops what was held.
func (p *xmppParser) stop() {
	p.over = true
	p.side[0].tag, p.side[1].tag = nil, nil
}

// scan reads the bytes of direction i; it returns how many it read and
// whether the server's <proceed/> ended there.
func (p *xmppParser) scan(i int, data []byte) (int, bool) {
	d := &p.side[i]
	for k := 0; k < len(data); k++ {
		ch := data[k]
		if !d.in {
			if i == 0 && p.asked && !xmlSpace(ch) {
				p.over = true // the client went on before the answer
				return k, false
			}
			if ch == '<' {
				d.in, d.tag = true, append(d.tag[:0], ch)
			} else if !d.stream && !xmlSpace(ch) {
				p.over = true // text before the stream header
				return k, false
			}
			continue // text between elements is not read
		}
		if len(d.tag) == xmppMaxTag {
			p.over = true
			return k, false
		}
		d.tag = append(d.tag, ch)
		switch {
		case d.quote != 0:
			if ch == d.quote {
				d.quote = 0
			}
		case ch == '\'' || ch == '"':
			d.quote = ch
		case ch == '>':
			d.in = false
			proceed := p.element(i, d.tag)
			if proceed || p.over {
				return k + 1, proceed
			}
		}
	}
	return len(data), false
}

// element handles a whole tag of direction i; it returns true at the end
// of the server's <proceed/>.
func (p *xmppParser) element(i int, tag []byte) bool {
	d := &p.side[i]
	if len(tag) < 3 || tag[1] == '!' {
		p.over = true // a comment, DTD or CDATA section: not in a stream
		return false
	}
	if tag[1] == '?' {
		// Only the XML declaration, once, before the stream header.
		if d.decl || d.stream || !bytes.HasPrefix(tag, []byte("<?xml ")) || !bytes.HasSuffix(tag, []byte("?>")) {
			p.over = true
		}
		d.decl = true
		return false
	}
	e, ok := xmppParseTag(tag)
	if !ok {
		p.over = true
		return false
	}
	if !d.stream {
		if e.end || e.empty || !e.is("stream", xmppNSStreams) || string(e.prefix) != "stream" {
			p.over = true
			return false
		}
		d.stream = true
		if i == 0 {
			if ns := string(e.xmlns); ns != "jabber:client" && ns != "jabber:server" {
				p.over = true
				return false
			}
			p.host = string(e.to)
		}
		return false
	}
	switch {
	case e.end && d.depth == 0:
		p.over = true // </stream:stream>: the stream ends
		return false
	case e.end:
		d.depth--
		if d.depth == 0 {
			return p.topDone(i)
		}
		return false
	case d.depth > 0:
		if i == 1 && d.top == xmppTopFeatures && d.depth == 1 && e.is("starttls", xmppNSTLS) {
			p.offered = true
		}
		if !e.empty {
			d.depth++
		}
		return false
	}
	// A top-level element: the client's must be <starttls/>, the
	// server's its features and then the answer.
	switch {
	case i == 0 && e.is("starttls", xmppNSTLS):
		d.top = xmppTopStartTLS
	case i == 1 && e.is("features", xmppNSStreams):
		d.top = xmppTopFeatures
	case i == 1 && p.asked && e.is("proceed", xmppNSTLS):
		d.top = xmppTopProceed
	case i == 1 && p.asked && e.is("failure", xmppNSTLS):
		p.refused, p.over = true, true
		return false
	default:
		p.over = true
		return false
	}
	if e.empty {
		return p.topDone(i)
	}
	d.depth = 1
	return false
}

// topDone handles the end of a top-level element of direction i.
func (p *xmppParser) topDone(i int) bool {
	d := &p.side[i]
	top := d.top
	d.top = 0
	switch top {
	case xmppTopStartTLS:
		p.asked = true
	case xmppTopProceed:
		return true
	}
	return false
}

// Close implements StreamParser.
func (p *xmppParser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	p.side = [2]xmppSide{}
}
