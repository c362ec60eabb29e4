package decoder

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// DNS over TCP (RFC 1035 section 4.2.2, RFC 7766 section 8): every message
// is preceded by its length, two bytes big-endian, and a segment may hold
// part of a message or several (pipelined queries, the answers of a zone
// transfer). The parser reads both directions of a connection to or from
// port 53, puts each message together and makes the same DNS record a UDP
// message makes (dnsDecoder.fill). Timestamp and FrameNumber are those of
// the packet that completed the message (Chunk.ArrivalFrame: the segment
// with its last bytes, or the one that filled a hole before them), where
// tshark shows a message reassembled from several segments; the endpoints
// are the message's sender and receiver. A message whose framing is sound but whose content does not
// decode makes no record (as a UDP one that does not decode) and is counted.
//
// Missed bytes: when they fall inside a message of known length and end
// before it does, that message is lost but the next one starts at a known
// place; reading goes on there (counted as a resync). Otherwise nothing
// says where the next message starts, and the bytes after the gap are not
// searched for something that looks like one (a message's content can look
// like a length and a header): the direction is given up (counted).

const (
	dnsTCPPort   = 53
	dnsHeaderLen = 12
	// dnsTCPKeep bounds the buffer a direction keeps between messages that
	// span segments; a larger one is dropped after use.
	dnsTCPKeep = 4 << 10
)

func init() {
	RegisterStream(StreamProtocol{
		Name:    "DNS",
		Records: []types.Type{types.Type_NC_DNS},
		Detect:  detectDNSTCP,
		New:     func() StreamParser { return &dnsTCPParser{} },
	})
}

// detectDNSTCP accepts a connection to or from TCP port 53 whose first bytes
// are a length of at least a header and a header that can be a message of
// that length: a known opcode (query, inverse query, status, notify,
// update, DSO) and section counts whose smallest encoding fits. When the
// handshake was not captured the bytes may start inside a message, so the
// header must also say query toward port 53 and response from it.
func detectDNSTCP(first []byte, fromClient bool, conn *ConnInfo) Detection {
	if conn == nil || conn.ServerPort != dnsTCPPort && conn.ClientPort != dnsTCPPort {
		return DetectNo
	}
	if len(first) >= 2 && int(binary.BigEndian.Uint16(first)) < dnsHeaderLen {
		return DetectNo
	}
	if len(first) < 2+dnsHeaderLen {
		return DetectMore
	}
	n := int(binary.BigEndian.Uint16(first))
	h := first[2:]
	switch h[2] >> 3 & 0xf {
	case 0, 1, 2, 4, 5, 6:
	default:
		return DetectNo
	}
	qd := int(binary.BigEndian.Uint16(h[4:]))
	rrs := int(binary.BigEndian.Uint16(h[6:])) + int(binary.BigEndian.Uint16(h[8:])) + int(binary.BigEndian.Uint16(h[10:]))
	// A question takes at least 5 bytes (root name, type, class), a
	// resource record 11 (root name, type, class, TTL, data length).
	if qd*5+rrs*11 > n-dnsHeaderLen {
		return DetectNo
	}
	if !conn.Handshake {
		senderPort, receiverPort := conn.ServerPort, conn.ClientPort
		if fromClient {
			senderPort, receiverPort = receiverPort, senderPort
		}
		qr := h[2]&0x80 != 0
		if senderPort == dnsTCPPort && receiverPort != dnsTCPPort && !qr || receiverPort == dnsTCPPort && senderPort != dnsTCPPort && qr {
			return DetectNo
		}
	}
	return DetectYes
}

// dnsTCPParser reads the DNS messages of one connection.
type dnsTCPParser struct {
	dir [2]dnsTCPDir // 0: the client's bytes
	// made on the first message: most connections carry one or two.
	msg *layers.DNS
	dec *dnsDecoder
}

// dnsTCPDir is the framing state of one direction.
type dnsTCPDir struct {
	dead bool
	// prefix holds the first byte of a length split between segments.
	prefix  byte
	nprefix int
	// inMsg: the length was read, need bytes of message follow; buf holds
	// those read so far when the message spans segments.
	inMsg bool
	need  int
	buf   []byte
	// skip counts bytes of a message lost in a gap still to come.
	skip int
}

// Feed implements StreamParser.
func (p *dnsTCPParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	d := &p.dir[1]
	if c.FromClient {
		d = &p.dir[0]
	}
	if d.dead {
		return
	}
	if c.Missed > 0 && !d.gap(c.Missed, conn) {
		return
	}
	data := c.Data
	for len(data) > 0 {
		if d.skip > 0 {
			n := min(d.skip, len(data))
			d.skip -= n
			data = data[n:]
			continue
		}
		if !d.inMsg {
			switch {
			case d.nprefix == 0 && len(data) >= 2:
				d.need = int(binary.BigEndian.Uint16(data))
				data = data[2:]
			case d.nprefix == 0:
				d.prefix, d.nprefix = data[0], 1
				return
			default:
				d.need = int(d.prefix)<<8 | int(data[0])
				d.nprefix = 0
				data = data[1:]
			}
			if d.need < dnsHeaderLen {
				// Too short for a header: the framing holds, the message
				// is skipped.
				conn.count().Malformed++
				d.skip = d.need
				continue
			}
			d.inMsg = true
		}
		if len(d.buf) == 0 && len(data) >= d.need {
			// The common case: the whole message is in this segment.
			p.message(data[:d.need], c, conn, s)
			data = data[d.need:]
			d.inMsg = false
			continue
		}
		n := min(d.need-len(d.buf), len(data))
		d.buf = append(d.buf, data[:n]...)
		data = data[n:]
		if len(d.buf) == d.need {
			p.message(d.buf, c, conn, s)
			d.inMsg = false
			d.resetBuf()
		}
	}
}

func (d *dnsTCPDir) resetBuf() {
	if cap(d.buf) > dnsTCPKeep {
		d.buf = nil
	} else {
		d.buf = d.buf[:0]
	}
}

// gap handles m bytes lost before the next chunk; false means the direction
// was given up.
func (d *dnsTCPDir) gap(m int, conn *ConnInfo) bool {
	switch {
	case d.skip > 0 && m <= d.skip:
		// Still inside a message lost before.
		d.skip -= m
		return true
	case d.inMsg && m <= d.need-len(d.buf):
		d.skip = d.need - len(d.buf) - m
		d.inMsg = false
		d.resetBuf()
		conn.count().Resyncs++
		return true
	}
	d.dead = true
	d.buf = nil
	conn.count().GaveUp++
	return false
}

// message makes the record of one complete message m (without its length),
// sent by the side c came from; c is the segment that completed it.
func (p *dnsTCPParser) message(m []byte, c *Chunk, conn *ConnInfo, s Sink) {
	if p.msg == nil {
		p.msg, p.dec = &layers.DNS{}, &dnsDecoder{}
	}
	if err := decodeLayer(p.msg, m, gopacket.NilDecodeFeedback); err != nil {
		conn.count().Malformed++
		return
	}
	r := p.dec.fill(p.msg)
	r.Timestamp, r.FrameNumber = c.arrival()
	r.FlowID = conn.FlowID
	r.SrcIP, r.DstIP, _, _, r.SrcPort, r.DstPort = tlsEndpoints(c.FromClient, conn)
	s.Emit(types.Type_NC_DNS, r)
}

// Close implements StreamParser: a message still incomplete is dropped.
func (p *dnsTCPParser) Close(*ConnInfo, Sink) {
	p.dir[0] = dnsTCPDir{dead: true}
	p.dir[1] = dnsTCPDir{dead: true}
	p.msg, p.dec = nil, nil
}
