package decoder

import (
	"github.com/netcap/netcap/types"
)

// LDAP StartTLS (RFC 4511 section 4.14): a client that wants TLS sends an
// ExtendedRequest named 1.3.6.1.4.1.1466.20037; a resultCode of success in
// the server's ExtendedResponse starts a TLS handshake on the connection.
// Only that exchange is read, as the first message of the connection: after
// success an Upgrade finds the TLS hellos (records, JA3, JA4), and the
// Connection record says "LDAP/TLS". LDAP without StartTLS makes no record.

// ldapStartTLS is the requestName of the StartTLS extended operation.
const ldapStartTLS = "1.3.6.1.4.1.1466.20037"

// ldapMaxMessage bounds the StartTLS request and response read (both are a
// few dozen bytes).
const ldapMaxMessage = 512

func init() {
	RegisterStream(StreamProtocol{
		Name:    "LDAP",
		Records: []types.Type{types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectLDAPStartTLS,
		New:     func() StreamParser { return &ldapParser{} },
	})
}

// berTLV reads a BER tag and definite length at b; n is the header size.
// ok is false when b is too short to tell; bad when it is not BER this
// parser reads (a long tag, an indefinite length, more than 4 length bytes).
func berTLV(b []byte) (tag byte, length, n int, ok, bad bool) {
	if len(b) < 2 {
		return 0, 0, 0, false, false
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, 0, 0, false, true
	}
	l := int(b[1])
	if l < 0x80 {
		return tag, l, 2, true, false
	}
	k := l & 0x7f
	if k == 0 || k > 4 {
		return 0, 0, 0, false, true
	}
	if len(b) < 2+k {
		return 0, 0, 0, false, false
	}
	length = 0
	for _, c := range b[2 : 2+k] {
		length = length<<8 | int(c)
	}
	return tag, length, 2 + k, true, false
}

// ldapOp returns the protocol operation of an LDAPMessage in b (its tag
// and content), whether b holds the whole message, and whether b cannot be
// one.
func ldapOp(b []byte) (op byte, content []byte, whole, bad bool) {
	tag, length, n, ok, bad := berTLV(b)
	if bad || ok && (tag != 0x30 || length > ldapMaxMessage) {
		return 0, nil, false, true
	}
	if !ok || len(b) < n+length {
		return 0, nil, false, len(b) >= ldapMaxMessage
	}
	msg := b[n : n+length]
	tag, length, n, ok, bad = berTLV(msg) // messageID
	if !ok || bad || tag != 0x02 || len(msg) < n+length {
		return 0, nil, false, true
	}
	msg = msg[n+length:]
	tag, length, n, ok, bad = berTLV(msg)
	if !ok || bad || len(msg) < n+length {
		return 0, nil, false, true
	}
	return tag, msg[n : n+length], true, false
}

// detectLDAPStartTLS accepts a client whose first message is a StartTLS
// ExtendedRequest.
func detectLDAPStartTLS(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if !fromClient || len(first) > 0 && first[0] != 0x30 {
		return DetectNo
	}
	op, content, whole, bad := ldapOp(first)
	switch {
	case bad:
		return DetectNo
	case !whole:
		return DetectMore
	case op != 0x77: // [APPLICATION 23] ExtendedRequest
		return DetectNo
	}
	tag, length, n, ok, bad := berTLV(content)
	if !ok || bad || tag != 0x80 || len(content) < n+length || string(content[n:n+length]) != ldapStartTLS {
		return DetectNo
	}
	return DetectYes
}

// ldapParser waits for the answer to StartTLS.
type ldapParser struct {
	buf   [2][]byte // each side's bytes of the exchange, up to ldapMaxMessage
	done  [2]bool   // the side's message was read
	inner *Upgrade
	over  bool
}

// Inner names the protocol after a successful StartTLS, or "".
func (p *ldapParser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *ldapParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	if p.over || c.Missed > 0 {
		p.over = true
		return
	}
	i := 1
	if c.FromClient {
		i = 0
	}
	if p.done[i] {
		if i == 0 {
			p.over = true // the client went on before the answer
		}
		return
	}
	prev := len(p.buf[i])
	b := append(p.buf[i], c.Data[:min(len(c.Data), ldapMaxMessage+1-prev)]...)
	p.buf[i] = b
	op, content, whole, bad := ldapOp(b)
	if bad {
		p.over = true
		return
	}
	if !whole {
		return
	}
	p.done[i] = true
	if i == 0 {
		return
	}
	// [APPLICATION 24] ExtendedResponse: resultCode first.
	tag, length, n, ok, bad := berTLV(content)
	if op != 0x78 || !ok || bad || tag != 0x0a || length != 1 || len(content) < n+1 || content[n] != 0 || !p.done[0] {
		p.over = true
		return
	}
	// TLS may follow in the same chunk, after the response.
	_, mlen, mn, _, _ := berTLV(b)
	rest := c.Data[mn+mlen-prev:]
	p.buf = [2][]byte{}
	p.inner = upgradeFrom(c, rest, conn, s)
}

// Close implements StreamParser.
func (p *ldapParser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	p.buf = [2][]byte{}
}
