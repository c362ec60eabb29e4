package decoder

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/netcap/netcap/types"
)

// TLS hellos are read from the reassembled bytes of a TCP connection: the
// parser reassembles TLS records and the handshake messages inside them,
// whether a message is split over several TCP segments, over several TLS
// records, or shares a record with other messages (RFC 5246 6.2.1, RFC 8446
// 5.1). It reads the plaintext start of each direction and stops there:
//
//   - a direction whose first handshake message is a ClientHello gives one
//     TLSClientHello, one whose first message is a ServerHello one
//     TLSServerHello; the role comes from the message, not from which side
//     the reassembler calls the client, so a connection whose SYN was not
//     captured is read the same;
//   - a HelloRetryRequest (a ServerHello with the special random of RFC 8446
//     4.1.3) is recorded as a TLSServerHello, and the direction waits for the
//     real ServerHello, recorded too; the client's second ClientHello, sent
//     in answer, is recorded as well when it is the next handshake message
//     after the first one and the other direction has sent the retry request
//     by then (TLS 1.3 drafts before 22 used a message of its own, type 6, for
//     the retry: it is skipped, not recorded). tshark records every one of
//     these hellos, and the second ClientHello has its own JA3;
//   - anything else ends the direction: the next handshake message (a
//     Certificate, a ClientKeyExchange, an encrypted Finished), an alert,
//     application data, a record that is not TLS, a gap in the stream, or a
//     handshake message longer than tlsMaxHandshake. A hello that is cut off
//     by the end of the connection or is malformed gives no record.
//
// A record's Src* is the hello's sender; its FrameNumber and Timestamp are
// those of the chunk that carried the handshake message's first byte (its
// type byte; the record header may have come in an earlier segment).
// ChangeCipherSpec records between the hellos (TLS 1.3 middlebox
// compatibility mode) are skipped. Only one handshake message is buffered at
// a time, and only when it spans chunks; a message that arrives whole in one
// chunk is parsed in place.

const (
	// tlsMaxHandshake bounds the handshake message the parser buffers. A
	// ClientHello with post-quantum key shares is a few KiB; 64 KiB is far
	// above any real hello.
	tlsMaxHandshake = 64 << 10
	// tlsMaxRecord is the longest record TLS allows (2^14 plaintext bytes
	// plus 2048 of expansion, RFC 5246 6.2.3).
	tlsMaxRecord = 1<<14 + 2048
)

// TLS record content types and handshake message types used here.
const (
	tlsRecordChangeCipherSpec = 20
	tlsRecordHandshake        = 22
	tlsClientHello            = 1
	tlsServerHello            = 2
	tlsHelloRetryDraft        = 6 // hello_retry_request of TLS 1.3 drafts before 22
)

// TLS extension types read here (IANA TLS ExtensionType Values).
const (
	tlsExtServerName        = 0
	tlsExtStatusRequest     = 5
	tlsExtSupportedGroups   = 10
	tlsExtECPointFormats    = 11
	tlsExtSignatureAlgs     = 13
	tlsExtALPN              = 16
	tlsExtSCT               = 18
	tlsExtExtendedMaster    = 23
	tlsExtSessionTicket     = 35
	tlsExtKeyShareDraft     = 40 // key_share before TLS 1.3 draft 23
	tlsExtPreSharedKey      = 41
	tlsExtSupportedVersions = 43
	tlsExtCookie            = 44
	tlsExtKeyShare          = 51
	tlsExtNPN               = 13172
	tlsExtRenegotiationInfo = 65281
)

// tlsRetryRandom is the Random of a ServerHello that is a HelloRetryRequest
// (RFC 8446 4.1.3: SHA-256 of "HelloRetryRequest").
var tlsRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

func init() {
	RegisterStream(StreamProtocol{
		Name:    "TLS",
		Records: []types.Type{types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectTLS,
		New:     func() StreamParser { return &tlsParser{} },
	})
}

// detectTLS accepts a connection whose first bytes are a TLS handshake record
// that starts a ClientHello (sent by the client) or a ServerHello (sent by
// the server), on any port. While the bytes are fewer than a record header
// and a handshake type, and those present match, it asks for more.
func detectTLS(first []byte, fromClient bool, _ *ConnInfo) Detection {
	switch {
	case len(first) == 0 || first[0] != tlsRecordHandshake:
		return DetectNo
	case len(first) >= 2 && first[1] != 3:
		return DetectNo
	case len(first) >= 3 && first[2] > 4:
		return DetectNo
	}
	if len(first) >= 5 {
		if n := int(binary.BigEndian.Uint16(first[3:])); n == 0 || n > tlsMaxRecord {
			return DetectNo
		}
	}
	if len(first) < 6 {
		return DetectMore
	}
	want := byte(tlsServerHello)
	if fromClient {
		want = tlsClientHello
	}
	if first[5] == want {
		return DetectYes
	}
	return DetectNo
}

// IsGREASE says whether v is one of the 16 GREASE values of RFC 8701
// (0x0a0a, 0x1a1a, ..., 0xfafa), which JA3 and JA4 leave out.
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// Roles a direction takes from its first handshake message.
const (
	tlsRoleNone = iota
	tlsRoleClient
	tlsRoleServer
)

// tlsParser reads the TLS hellos of one connection.
type tlsParser struct {
	dir [2]tlsDirection // 0: the client's bytes, 1: the server's
}

// tlsDirection is the parsing state of one direction.
type tlsDirection struct {
	done  bool
	role  uint8
	retry bool // a server that sent a HelloRetryRequest
	// hellos counts the hellos this direction has recorded.
	hellos int

	// The record being read: its header, while incomplete, and then the
	// body bytes still to come.
	hdr     [5]byte
	nhdr    int
	recType byte
	recVer  uint16
	recLen  int
	recLeft int

	// The handshake message being assembled when it spans chunks, and the
	// record and chunk where it began.
	msg      []byte
	msgFrame int64
	msgTime  int64
	msgVer   uint16
	msgLen   int
}

// Feed implements StreamParser.
func (p *tlsParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	i := 0
	if !c.FromClient {
		i = 1
	}
	d := &p.dir[i]
	if d.done {
		return
	}
	if c.Missed > 0 {
		// Bytes were lost: what follows cannot be trusted to continue
		// the record being read.
		d.stop()
		return
	}
	data := c.Data
	for len(data) > 0 && !d.done {
		if d.recLeft == 0 {
			n := copy(d.hdr[d.nhdr:], data)
			d.nhdr += n
			data = data[n:]
			if d.nhdr < len(d.hdr) {
				return
			}
			d.nhdr = 0
			d.recType = d.hdr[0]
			d.recVer = binary.BigEndian.Uint16(d.hdr[1:])
			d.recLen = int(binary.BigEndian.Uint16(d.hdr[3:]))
			d.recLeft = d.recLen
			switch {
			case d.recVer>>8 != 3 || d.recLen > tlsMaxRecord:
				d.stop()
			case d.recType == tlsRecordHandshake:
			case d.recType == tlsRecordChangeCipherSpec && d.role != tlsRoleNone && len(d.msg) == 0:
				// Skipped: the hellos of a retry may come after one.
			default:
				d.stop()
			}
			continue
		}
		n := min(len(data), d.recLeft)
		body := data[:n]
		data = data[n:]
		d.recLeft -= n
		if d.recType == tlsRecordHandshake {
			d.handshake(body, c, conn, s, &p.dir[1-i])
		}
	}
}

// Close implements StreamParser: a hello still incomplete is dropped.
func (p *tlsParser) Close(*ConnInfo, Sink) {
	p.dir[0].stop()
	p.dir[1].stop()
}

// stop ends the direction and frees its buffer.
func (d *tlsDirection) stop() {
	d.done = true
	d.msg = nil
}

// handshake consumes the body bytes of a handshake record.
func (d *tlsDirection) handshake(b []byte, c *Chunk, conn *ConnInfo, s Sink, other *tlsDirection) {
	for len(b) > 0 && !d.done {
		if len(d.msg) == 0 {
			d.msgFrame, d.msgTime, d.msgVer, d.msgLen = c.Frame, c.Timestamp, d.recVer, d.recLen
			// The common case: the whole message is in this chunk.
			if len(b) >= 4 {
				n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
				if !d.accept(b[0], n, other) {
					return
				}
				if len(b) >= 4+n {
					d.message(b[:4+n], c, conn, s)
					b = b[4+n:]
					continue
				}
			}
		}
		if len(d.msg) < 4 {
			n := min(4-len(d.msg), len(b))
			d.msg = append(d.msg, b[:n]...)
			b = b[n:]
			if len(d.msg) < 4 {
				return
			}
			if !d.accept(d.msg[0], d.msgBodyLen(), other) {
				return
			}
			d.msg = slices.Grow(d.msg, d.msgBodyLen())
		}
		n := min(4+d.msgBodyLen()-len(d.msg), len(b))
		d.msg = append(d.msg, b[:n]...)
		b = b[n:]
		if len(d.msg) == 4+d.msgBodyLen() {
			m := d.msg
			// The buffer is dropped: a direction rarely reads a second
			// message, and a connection should not hold it meanwhile.
			d.msg = nil
			d.message(m, c, conn, s)
		}
	}
}

func (d *tlsDirection) msgBodyLen() int {
	return int(d.msg[1])<<16 | int(d.msg[2])<<8 | int(d.msg[3])
}

// accept decides, from its header, whether the handshake message is one the
// direction reads; if not, the direction ends.
func (d *tlsDirection) accept(typ byte, n int, other *tlsDirection) bool {
	ok := n <= tlsMaxHandshake
	switch d.role {
	case tlsRoleNone:
		// A connection has one client and one server: a direction cannot
		// take the role the other direction already holds.
		switch typ {
		case tlsClientHello:
			ok = ok && other.role != tlsRoleClient
		case tlsServerHello, tlsHelloRetryDraft:
			ok = ok && other.role != tlsRoleServer
		default:
			ok = false
		}
	case tlsRoleClient:
		// Only the second ClientHello of a retry follows the first.
		ok = ok && typ == tlsClientHello && d.hellos == 1 && other.role == tlsRoleServer && other.retry
	case tlsRoleServer:
		ok = ok && (typ == tlsServerHello || typ == tlsHelloRetryDraft)
	}
	if !ok {
		d.stop()
	}
	return ok
}

// message handles one complete handshake message m (header included).
func (d *tlsDirection) message(m []byte, c *Chunk, conn *ConnInfo, s Sink) {
	switch m[0] {
	case tlsClientHello:
		d.role = tlsRoleClient
		r := parseClientHello(m)
		if r == nil {
			d.stop()
			return
		}
		r.Type, r.Version, r.MessageLen = tlsRecordHandshake, int32(d.msgVer), int32(d.msgLen)
		r.Timestamp, r.FrameNumber, r.FlowID = d.msgTime, d.msgFrame, conn.FlowID
		r.SrcIP, r.DstIP, r.SrcMAC, r.DstMAC, r.SrcPort, r.DstPort = tlsEndpoints(c.FromClient, conn)
		d.hellos++
		s.Emit(types.Type_NC_TLSClientHello, r)
		if d.hellos == 2 {
			d.stop()
		}
	case tlsServerHello:
		d.role = tlsRoleServer
		r, retry := parseServerHello(m)
		if r == nil {
			d.stop()
			return
		}
		r.Timestamp, r.FrameNumber, r.FlowID = d.msgTime, d.msgFrame, conn.FlowID
		r.SrcIP, r.DstIP, r.SrcMAC, r.DstMAC, r.SrcPort, r.DstPort = tlsEndpoints(c.FromClient, conn)
		d.hellos++
		s.Emit(types.Type_NC_TLSServerHello, r)
		if !retry || d.retry {
			d.stop()
			return
		}
		d.retry = true
	case tlsHelloRetryDraft:
		d.role = tlsRoleServer
		if d.retry {
			d.stop()
			return
		}
		d.retry = true
	}
}

// tlsEndpoints returns the sender and the receiver of a message.
func tlsEndpoints(fromClient bool, c *ConnInfo) (srcIP, dstIP, srcMAC, dstMAC string, srcPort, dstPort int32) {
	if fromClient {
		return c.ClientIP, c.ServerIP, c.ClientMAC, c.ServerMAC, c.ClientPort, c.ServerPort
	}
	return c.ServerIP, c.ClientIP, c.ServerMAC, c.ClientMAC, c.ServerPort, c.ClientPort
}

// tlsReader reads the vectors of a handshake message. Reading past the end
// sets bad and yields zero values, so a parse checks bad once at the end.
type tlsReader struct {
	b   []byte
	bad bool
}

func (r *tlsReader) take(n int) []byte {
	if n > len(r.b) {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *tlsReader) u8() int {
	if b := r.take(1); b != nil {
		return int(b[0])
	}
	return 0
}

func (r *tlsReader) u16() int {
	if b := r.take(2); b != nil {
		return int(binary.BigEndian.Uint16(b))
	}
	return 0
}

// vec8 and vec16 read a vector with a one or two byte length.
func (r *tlsReader) vec8() []byte  { return r.take(r.u8()) }
func (r *tlsReader) vec16() []byte { return r.take(r.u16()) }

// tlsUint16s reads a list of 16-bit values; an odd last byte is ignored.
func tlsUint16s(b []byte) []int32 {
	if len(b) < 2 {
		return nil
	}
	out := make([]int32, len(b)/2)
	for i := range out {
		out[i] = int32(binary.BigEndian.Uint16(b[2*i:]))
	}
	return out
}

// tlsUint8s reads a list of 8-bit values.
func tlsUint8s(b []byte) []int32 {
	if len(b) == 0 {
		return nil
	}
	out := make([]int32, len(b))
	for i, v := range b {
		out[i] = int32(v)
	}
	return out
}

// parseClientHello reads a ClientHello message (header included) and
// computes its fingerprints. It returns nil when the fixed part or the
// extension block does not fit the message; the content of a single
// extension that is malformed is read as far as it goes.
func parseClientHello(m []byte) *types.TLSClientHello {
	h := &types.TLSClientHello{HandshakeType: int32(m[0]), HandshakeLen: uint32(len(m) - 4)}
	r := tlsReader{b: m[4:]}
	h.HandshakeVersion = int32(r.u16())
	h.Random = bytes.Clone(r.take(32))
	sid := r.vec8()
	ciphers := r.vec16()
	comp := r.vec8()
	var exts []byte
	if len(r.b) > 0 {
		exts = r.vec16()
	}
	if r.bad {
		return nil
	}
	h.SessionIDLen, h.SessionID = uint32(len(sid)), bytes.Clone(sid)
	h.CipherSuiteLen, h.CipherSuites = int32(len(ciphers)), tlsUint16s(ciphers)
	h.CompressMethods = tlsUint8s(comp)
	h.ExtensionLen = int32(len(exts))

	var alpn []byte // the first ALPN value, raw, for JA4
	er := tlsReader{b: exts}
	for len(er.b) > 0 {
		typ := er.u16()
		data := er.vec16()
		if er.bad {
			return nil
		}
		h.Extensions = append(h.Extensions, int32(typ))
		x := tlsReader{b: data}
		switch typ {
		case tlsExtServerName:
			list := tlsReader{b: x.vec16()}
			for len(list.b) > 0 && !list.bad {
				kind, name := list.u8(), list.vec16()
				if kind == 0 && !list.bad && h.SNI == "" {
					h.SNI = Text(name)
				}
			}
		case tlsExtStatusRequest:
			h.OSCP = true
		case tlsExtSupportedGroups:
			h.SupportedGroups = tlsUint16s(x.vec16())
		case tlsExtECPointFormats:
			h.SupportedPoints = tlsUint8s(x.vec8())
		case tlsExtSignatureAlgs:
			h.SignatureAlgs = tlsUint16s(x.vec16())
		case tlsExtALPN:
			list := tlsReader{b: x.vec16()}
			for len(list.b) > 0 {
				name := list.vec8()
				if list.bad {
					break
				}
				if len(h.ALPNs) == 0 {
					alpn = name
				}
				h.ALPNs = append(h.ALPNs, Text(name))
			}
		case tlsExtSupportedVersions:
			h.SupportedVersions = tlsUint16s(x.vec8())
		}
	}
	h.Ja3Full = JA3(h.HandshakeVersion, h.CipherSuites, h.Extensions, h.SupportedGroups, h.SupportedPoints)
	h.Ja3 = tlsMD5(h.Ja3Full)
	h.Ja4 = ja4(h, alpn)
	return h
}

// parseServerHello reads a ServerHello message (header included) and
// computes its JA3S; retry is true for a HelloRetryRequest. It returns nil
// when the message is malformed.
func parseServerHello(m []byte) (h *types.TLSServerHello, retry bool) {
	if len(m) < 6 {
		return nil, false
	}
	v := int(binary.BigEndian.Uint16(m[4:]))
	// TLS 1.3 drafts before 22 have neither a session id nor a
	// compression method in the ServerHello; they name themselves 0x7fNN,
	// and the earliest 0x0304, which the final version never sends in a
	// ServerHello: tried with both layouts.
	draft := v>>8 == 0x7f && v&0xff < 22
	h = parseServerHelloAs(m, draft)
	if h == nil && v == 0x0304 {
		h = parseServerHelloAs(m, true)
	}
	if h == nil {
		return nil, false
	}
	return h, bytes.Equal(h.Random, tlsRetryRandom[:])
}

func parseServerHelloAs(m []byte, draft bool) *types.TLSServerHello {
	h := &types.TLSServerHello{}
	r := tlsReader{b: m[4:]}
	h.Version = int32(r.u16())
	random := r.take(32)
	var sid []byte
	if !draft {
		sid = r.vec8()
	}
	h.CipherSuite = int32(r.u16())
	if !draft {
		h.CompressionMethod = int32(r.u8())
	}
	var exts []byte
	if len(r.b) > 0 {
		exts = r.vec16()
	}
	if r.bad {
		return nil
	}
	h.Random, h.SessionID = bytes.Clone(random), bytes.Clone(sid)
	er := tlsReader{b: exts}
	for len(er.b) > 0 {
		typ := er.u16()
		data := er.vec16()
		if er.bad {
			return nil
		}
		h.Extensions = append(h.Extensions, int32(typ))
		x := tlsReader{b: data}
		switch typ {
		case tlsExtStatusRequest:
			h.OCSPStapling = true
		case tlsExtNPN:
			h.NextProtoNeg = true
			for len(x.b) > 0 {
				p := x.vec8()
				if x.bad {
					break
				}
				h.NextProtos = append(h.NextProtos, Text(p))
			}
		case tlsExtSessionTicket:
			h.TicketSupported = true
		case tlsExtRenegotiationInfo:
			h.SecureRenegotiationSupported = true
			h.SecureRenegotiation = bytes.Clone(x.vec8())
		case tlsExtALPN:
			list := tlsReader{b: x.vec16()}
			h.AlpnProtocol = Text(list.vec8())
		case tlsExtExtendedMaster:
			h.Ems = true
		case tlsExtSCT:
			list := tlsReader{b: x.vec16()}
			for len(list.b) > 0 {
				sct := list.vec16()
				if list.bad {
					break
				}
				h.Scts = append(h.Scts, bytes.Clone(sct))
			}
		case tlsExtSupportedVersions:
			h.SupportedVersion = int32(x.u16())
		case tlsExtPreSharedKey:
			h.SelectedIdentityPresent = true
			h.SelectedIdentity = int32(x.u16())
		case tlsExtCookie:
			h.Cookie = bytes.Clone(x.vec16())
		case tlsExtKeyShare, tlsExtKeyShareDraft:
			// A ServerHello's key share and a retry request's
			// selected group both start with the group.
			h.SelectedGroup = int32(x.u16())
		}
	}
	h.Ja3SFull = JA3S(h.Version, h.CipherSuite, h.Extensions)
	h.Ja3S = tlsMD5(h.Ja3SFull)
	return h
}

// JA3 returns the JA3 string of a ClientHello: the legacy version, cipher
// suites, extension types, supported groups and EC point formats, in wire
// order, decimal, "-" within and "," between fields, with GREASE values
// left out of the first three lists.
func JA3(version int32, ciphers, extensions, groups, points []int32) string {
	b := make([]byte, 0, 256)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, ',')
	b = appendJA3List(b, ciphers, true)
	b = append(b, ',')
	b = appendJA3List(b, extensions, true)
	b = append(b, ',')
	b = appendJA3List(b, groups, true)
	b = append(b, ',')
	b = appendJA3List(b, points, false)
	return string(b)
}

// JA3S returns the JA3S string of a ServerHello: version, cipher suite and
// extension types (GREASE left out); with no extensions it ends in a comma.
func JA3S(version, cipher int32, extensions []int32) string {
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(cipher), 10)
	b = append(b, ',')
	b = appendJA3List(b, extensions, true)
	return string(b)
}

func appendJA3List(b []byte, vals []int32, dropGREASE bool) []byte {
	first := true
	for _, v := range vals {
		if dropGREASE && IsGREASE(uint16(v)) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return b
}

// tlsMD5 is the lowercase hex MD5 of s, the JA3 and JA3S hash.
func tlsMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ja4 returns the JA4 fingerprint of a ClientHello read from TCP, as the
// FoxIO JA4 specification defines it: "t", the version (the highest of
// supported_versions when present, else the legacy version), "d" or "i" for
// an SNI extension present or not, the counts of cipher suites and
// extensions (GREASE left out, at most 99), the first and last characters
// of the first ALPN value alpn ("00" without one), then the truncated
// SHA-256 of the sorted cipher suites and of the sorted extensions without
// SNI and ALPN followed by the signature algorithms in wire order. GREASE
// values are left out everywhere, the signature algorithms included.
func ja4(h *types.TLSClientHello, alpn []byte) string {
	b := make([]byte, 0, 36)
	b = append(b, 't')
	b = append(b, ja4Version(h)...)
	if slices.Contains(h.Extensions, tlsExtServerName) {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	ciphers := ja4Values(h.CipherSuites, nil)
	exts := ja4Values(h.Extensions, nil)
	b = ja4Count(b, len(ciphers))
	b = ja4Count(b, len(exts))
	b = ja4ALPN(b, alpn)
	b = append(b, '_')
	slices.Sort(ciphers)
	b = append(b, ja4Hash(ja4Hex(nil, ciphers))...)
	b = append(b, '_')
	exts = slices.DeleteFunc(exts, func(v uint16) bool { return v == tlsExtServerName || v == tlsExtALPN })
	slices.Sort(exts)
	if len(exts) == 0 {
		b = append(b, "000000000000"...)
	} else {
		in := ja4Hex(nil, exts)
		if sigs := ja4Values(h.SignatureAlgs, nil); len(sigs) > 0 {
			in = append(in, '_')
			in = ja4Hex(in, sigs)
		}
		b = append(b, ja4Hash(in)...)
	}
	return string(b)
}

// ja4Version is the two characters of JA4's version field.
func ja4Version(h *types.TLSClientHello) string {
	v := uint16(h.HandshakeVersion)
	if vs := ja4Values(h.SupportedVersions, nil); len(vs) > 0 {
		v = slices.Max(vs)
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4Values returns the non-GREASE values of a list as 16-bit values.
func ja4Values(vals []int32, out []uint16) []uint16 {
	for _, v := range vals {
		if !IsGREASE(uint16(v)) {
			out = append(out, uint16(v))
		}
	}
	return out
}

// ja4Count appends a count as two digits, capped at 99.
func ja4Count(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// ja4ALPN appends the first and last characters of the first ALPN value,
// or, when either is not alphanumeric, those of its hex form; "00" when
// there is none or it is empty.
func ja4ALPN(b []byte, v []byte) []byte {
	if len(v) == 0 {
		return append(b, "00"...)
	}
	first, last := v[0], v[len(v)-1]
	if ja4Alnum(first) && ja4Alnum(last) {
		return append(b, first, last)
	}
	return append(b, tlsHexDigits[first>>4], tlsHexDigits[last&0xf])
}

const tlsHexDigits = "0123456789abcdef"

func ja4Alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// ja4Hex appends values as four lowercase hex digits, comma separated.
func ja4Hex(b []byte, vals []uint16) []byte {
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, tlsHexDigits[v>>12], tlsHexDigits[v>>8&0xf], tlsHexDigits[v>>4&0xf], tlsHexDigits[v&0xf])
	}
	return b
}

// ja4Hash is the first 12 hex digits of the SHA-256 of s, or twelve zeros
// when s is empty.
func ja4Hash(s []byte) string {
	if len(s) == 0 {
		return "000000000000"
	}
	sum := sha256.Sum256(s)
	return hex.EncodeToString(sum[:6])
}
