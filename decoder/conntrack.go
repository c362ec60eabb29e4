package decoder

import (
	"bytes"
	"encoding/hex"
	"hash/fnv"
	"math"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The connection table: one per worker, holding the flows whose packets the
// engine routes to that worker (both directions of a flow hash alike). It
// makes the Connection records (both directions) and the Flow records (one
// per direction), feeds TCP payloads through the reassembler to the stream
// parsers (HTTP, TLS), and sets every packet's FlowID to its connection's UID
// so that records of all types join.
//
// Time is packet time: idle timeouts are checked as the capture's clock
// advances, on every worker at the same packets (every worker sees the time
// of every packet), so a one-hour capture read in a second expires the same
// flows at the same places, whatever the number of workers.

// connKey identifies a connection whatever the direction: a is the smaller
// address:port endpoint.
type connKey struct {
	a, b   [16]byte
	pa, pb uint16
	proto  uint8
	v6     bool
	// depth is how many tunnels the packet is inside (0 for the outer
	// packet), as Suricata's recursion level: the same addresses and ports
	// inside a tunnel and outside it are two connections. It also keeps the
	// connection in one worker, which the engine picks by the outer packet.
	depth uint8
}

// direction is what one side sent. A SYN flood makes a connection per
// packet, so what every connection carries is kept small: counters of TCP
// flags are 32 bits (they stop at the largest value rather than wrap), and
// the stream state lives apart (streamState), made at the first payload.
type direction struct {
	packets, bytes, payload int64
	first, last             int64
	frameFirst, frameLast   int64
	flags                   [9]uint32
	finSeq                  uint32
	isn                     uint32 // sequence number of its SYN
	history                 uint8  // bit per history letter already recorded
	fin, finAcked           bool
	syn                     bool // a SYN was seen from this side
}

// conn is one connection. The addresses are those of key (the client is a
// when clientIsA); their text is made when the records are written.
type conn struct {
	key         connKey
	uid         string
	first, last int64
	dir         [2]direction // 0: client to server
	app         string
	st          *streamState // nil until a payload is to be parsed
	list        *connList
	lruLinks[conn]
	link                 int32  // gopacket.LayerType of the first layer
	cport, sport         uint16 // client and server port (ICMP: type and code of the first packet)
	clientMAC, serverMAC [6]byte
	history              [2 * len(historyLetters)]byte // Zeek's history, in order; 0 after the last letter
	hasMAC               bool
	clientIsA            bool
	clientIsSrc          bool // the first packet came from the client
	initiatorKnown       bool
	handshake            bool // the client's SYN and the server's SYN-ACK were seen
	closing              bool
	rst                  [2]bool
}

// endReason is why a connection's records were written: the EndReason
// field of its Connection and Flow records.
type endReason uint8

const (
	endFIN            endReason = iota // TCP: both FINs acknowledged (and the close delay over)
	endRST                             // TCP: a RST was seen (and the close delay over)
	endTimeout                         // idle longer than -conn-timeout or -flow-timeout
	endReused                          // a new SYN on the same addresses and ports
	endMaxConnections                  // ended early: the worker reached -max-connections
	endMemcap                          // ended early: the worker reached its share of -memcap
	endOfInput                         // still open when the input ended
)

var endReasonText = [...]string{endFIN: "fin", endRST: "rst", endTimeout: "timeout", endReused: "reused",
	endMaxConnections: "max-connections", endMemcap: "memcap", endOfInput: "end-of-input"}

// streamState is what a TCP connection needs once it carries payload for the
// stream parsers: the reassemblers, the detection and the parser.
type streamState struct {
	dir        [2]dirStream
	detectDone bool
	parser     StreamParser
	info       ConnInfo
	out        [2]deliverFunc
}

// dirStream is the stream state of one direction.
type dirStream struct {
	stream      halfStream
	detectTried bool // detection on this side ended without a parser
	dropped     int  // bytes not handed over before a parser was chosen
	// head holds the first bytes of this side while a detector answers
	// DetectMore (fewer than StreamDetectMax), with the time and frame of
	// the segment that carried the first of them.
	head              []byte
	headTS, headFrame int64
}

// connList is a list of connections ordered by last activity (closing ones by
// close time), so expired ones are found at the head.
type connList struct {
	lruList[conn]
	timeout int64
}

func connLinks(c *conn) *lruLinks[conn] { return &c.lruLinks }

func (l *connList) push(c *conn) {
	c.list = l
	l.pushBack(c)
}

func (l *connList) remove(c *conn) {
	l.lruList.remove(c)
	c.list = nil
}

// orderedSink turns every record into an ordered one with the key of the
// connection being ended: records made while a flow times out or at the end
// of input are not caused by the packet at hand.
type orderedSink struct {
	s   Sink
	key int64
}

func (o *orderedSink) Emit(t types.Type, m proto.Message) { o.EmitOrdered(t, m, o.key) }

func (o *orderedSink) EmitOrdered(t types.Type, m proto.Message, key int64) {
	if os, ok := o.s.(OrderedSink); ok {
		os.EmitOrdered(t, m, key)
		return
	}
	o.s.Emit(t, m)
}

type connTable struct {
	files               *FileStore // for ConnInfo.Files
	opts                Options
	m                   map[connKey]*conn
	tcp, other, closing connList
	clock, nextSweep    int64
	emitConn, emitFlow  bool
	streams             []StreamProtocol
	reasm               reasmStats
	counters            StreamCounters
	stats               Stats
	conn                types.Connection
	flow                types.Flow
	chunk               Chunk
	arrTS, arrFrame     int64 // the packet that delivers stream bytes now
	ordered             orderedSink
	sink                Sink // the sink deliveries go to right now
	keyBuf              []byte
	strs                *AddrStrings // the decoder's cache of address text
	fragments           func() int64 // bytes the decoder's defragmenters hold
	streamConns         int64        // connections with a streamState
}

// newConnTable makes the connection table. It always runs: it owns flow
// identity, the FlowID every packet record carries, which must not depend on
// what the user selected. Connection and Flow records and the stream parsers
// are its consumers, switched on by the selection.
func newConnTable(opts Options, enabled func(types.Type) bool) *connTable {
	t := &connTable{
		opts:     opts,
		m:        map[connKey]*conn{},
		emitConn: enabled(types.Type_NC_Connection),
		emitFlow: enabled(types.Type_NC_Flow),
	}
	if enabled(types.Type_NC_File) && opts.Files != nil {
		t.files = opts.Files
	}
	for _, l := range []*connList{&t.tcp, &t.other, &t.closing} {
		l.links = connLinks
	}
	t.tcp.timeout = int64(opts.ConnTimeout)
	t.other.timeout = int64(opts.FlowTimeout)
	t.closing.timeout = int64(opts.CloseDelay)
	for _, p := range streamProtocols {
		for _, r := range p.Records {
			if enabled(r) {
				t.streams = append(t.streams, p)
				break
			}
		}
	}
	return t
}

// sweepEvery is how far the packet clock advances between timeout checks.
const sweepEvery = int64(time.Second)

// tick advances the clock to ts and ends connections idle for too long.
func (t *connTable) tick(ts int64, s Sink) {
	if ts > t.clock {
		t.clock = ts
	}
	if t.clock < t.nextSweep {
		return
	}
	t.nextSweep = t.clock + sweepEvery
	for _, l := range []*connList{&t.closing, &t.tcp, &t.other} {
		if l.timeout <= 0 && l != &t.closing {
			continue
		}
		for c := l.head; c != nil && t.clock-c.last > l.timeout; c = l.head {
			if l != &t.closing {
				t.stats.TimedOut++
			}
			t.end(c, s, endTimeout)
		}
	}
}

// flush ends every connection: the input is over.
func (t *connTable) flush(s Sink) {
	for _, l := range []*connList{&t.closing, &t.tcp, &t.other} {
		for c := l.head; c != nil; c = l.head {
			t.end(c, s, endOfInput)
		}
	}
}

// packetView is what the table reads from a decoded packet.
type packetView struct {
	eth            *layers.Ethernet
	ip4            *layers.IPv4
	ip6            *layers.IPv6
	tcp            *layers.TCP
	udp            *layers.UDP
	sctp           *layers.SCTP
	icmp4          *layers.ICMPv4
	icmp6          *layers.ICMPv6
	app            gopacket.LayerType
	link           gopacket.LayerType
	payload        int
	src, dst       []byte
	sport, dport   uint16
	proto          uint8
	afterTransport bool
	networkSeen    bool
	depth          uint8 // tunnels the packet is inside
}

func (v *packetView) read(chain []chainEntry) {
	*v = packetView{}
	for i, e := range chain {
		if i == 0 {
			v.link = e.typ
		}
		if v.afterTransport {
			if v.app == 0 {
				v.app = e.typ
			}
			continue
		}
		switch l := e.l.(type) {
		case *layers.Ethernet:
			if v.eth == nil && !v.networkSeen {
				v.eth = l
			}
		case *layers.IPv4:
			if !v.networkSeen {
				v.ip4, v.networkSeen = l, true
				v.src, v.dst, v.proto = l.SrcIP.To4(), l.DstIP.To4(), uint8(l.Protocol)
			}
		case *layers.IPv6:
			if !v.networkSeen {
				v.ip6, v.networkSeen = l, true
				v.src, v.dst, v.proto = l.SrcIP.To16(), l.DstIP.To16(), uint8(l.NextHeader)
				if l.HopByHop != nil {
					v.proto = uint8(l.HopByHop.NextHeader)
				}
			}
		case *layers.IPv6Fragment:
			// The protocol of a fragmented datagram: a fragment that
			// does not complete it has no transport header and is not
			// given to a flow of a protocol with ports.
			if v.ip6 != nil && i > 0 && chain[i-1].l == gopacket.DecodingLayer(v.ip6) {
				v.proto = uint8(l.NextHeader)
			}
		case *layers.TCP:
			if v.networkSeen {
				v.tcp, v.afterTransport = l, true
				v.sport, v.dport, v.payload, v.proto = uint16(l.SrcPort), uint16(l.DstPort), len(l.Payload), 6
			}
		case *layers.UDP:
			if v.networkSeen {
				v.udp, v.afterTransport = l, true
				v.sport, v.dport, v.payload, v.proto = uint16(l.SrcPort), uint16(l.DstPort), len(l.Payload), 17
			}
		case *layers.SCTP:
			if v.networkSeen {
				v.sctp, v.afterTransport = l, true
				v.sport, v.dport, v.proto = uint16(l.SrcPort), uint16(l.DstPort), 132
			}
		case *layers.ICMPv4:
			if v.networkSeen {
				v.icmp4, v.afterTransport = l, true
				v.sport, v.dport, v.payload, v.proto = uint16(l.TypeCode.Type()), uint16(l.TypeCode.Code()), len(l.Payload), 1
			}
		case *layers.ICMPv6:
			if v.networkSeen {
				v.icmp6, v.afterTransport = l, true
				v.sport, v.dport, v.payload, v.proto = uint16(l.TypeCode.Type()), uint16(l.TypeCode.Code()), len(l.Payload), 58
			}
		}
	}
}

// hasPorts says whether the protocol's flows are told apart by ports (or ICMP
// type/code): without its transport header (a later IP fragment) a packet of
// such a protocol cannot be given to a flow.
func hasTransport(proto uint8) bool {
	switch proto {
	case 6, 17, 132, 1, 58:
		return true
	}
	return false
}

// packet accounts one packet to its connection and sets p.FlowID.
func (t *connTable) packet(v *packetView, p *Packet, s Sink) {
	if !v.networkSeen || len(v.src) != len(v.dst) || (len(v.src) != 4 && len(v.src) != 16) {
		return
	}
	if hasTransport(v.proto) && !v.afterTransport {
		return
	}
	sport, dport := v.sport, v.dport
	oneWay := false
	switch v.proto {
	case 1:
		sport, dport, oneWay = icmpPorts(uint8(v.sport), uint8(v.dport), icmp4Pairs)
	case 58:
		sport, dport, oneWay = icmpPorts(uint8(v.sport), uint8(v.dport), icmp6Pairs)
	case 6, 17, 132:
	default:
		sport, dport = 0, 0
	}
	srcIsA := true
	if c := bytes.Compare(v.src, v.dst); c > 0 || c == 0 && sport > dport {
		srcIsA = false
	}
	if oneWay {
		// A one-way ICMP message has its own flow per direction.
		srcIsA = true
	}
	var k connKey
	k.proto, k.v6, k.depth = v.proto, len(v.src) == 16, v.depth
	if srcIsA {
		copy(k.a[:], v.src)
		copy(k.b[:], v.dst)
		k.pa, k.pb = sport, dport
	} else {
		copy(k.a[:], v.dst)
		copy(k.b[:], v.src)
		k.pa, k.pb = dport, sport
	}

	c := t.m[k]
	if c != nil && v.tcp != nil && v.tcp.SYN && !v.tcp.ACK && t.reused(c, srcIsA, v.tcp.Seq) {
		// The ports are reused by a new connection.
		t.end(c, s, endReused)
		c = nil
	}
	if c == nil {
		c = t.open(k, v, p, srcIsA, s)
		if c == nil {
			return
		}
	}
	d := 0
	if srcIsA != c.clientIsA {
		d = 1
	}
	t.account(c, d, v, p, s)
	p.FlowID = c.uid
}

// reused tells whether a SYN starts a new connection on the ports of c: c
// was closed, or its sender already sent a SYN with another initial sequence
// number (a scanner or a client reusing its source port), as tshark decides.
func (t *connTable) reused(c *conn, srcIsA bool, seq uint32) bool {
	if c.closing {
		return true
	}
	d := 0
	if srcIsA != c.clientIsA {
		d = 1
	}
	return c.dir[d].syn && c.dir[d].isn != seq
}

func (t *connTable) frameFirst(c *conn) int64 {
	f := c.dir[0].frameFirst
	if f == 0 || (c.dir[1].frameFirst != 0 && c.dir[1].frameFirst < f) {
		f = c.dir[1].frameFirst
	}
	return f
}

// open starts a connection at its first packet.
func (t *connTable) open(k connKey, v *packetView, p *Packet, srcIsA bool, s Sink) *conn {
	if t.opts.MaxConnections > 0 && len(t.m) >= t.opts.MaxConnections {
		t.evictOldest(s, endMaxConnections)
	}
	if t.opts.MemCap > 0 {
		// Emergency mode: the oldest make room, the table never grows
		// beyond the cap.
		for len(t.m) > 0 && t.memory()+ConnBytes > t.opts.MemCap {
			t.evictOldest(s, endMemcap)
		}
	}
	c := &conn{key: k, first: p.Timestamp, last: p.Timestamp, link: int32(v.link)}
	clientIsSrc := true
	switch {
	case v.tcp != nil && v.tcp.SYN && !v.tcp.ACK:
		c.initiatorKnown = true
	case v.tcp != nil && v.tcp.SYN && v.tcp.ACK:
		clientIsSrc, c.initiatorKnown = false, true
	case v.tcp != nil:
		// Mid-stream: guess that the well-known port is the server's.
		clientIsSrc = !(v.sport < 1024 && v.dport >= 1024)
	case v.icmp4 != nil || v.icmp6 != nil:
		c.initiatorKnown = true
		// A reply seen first: the client is the one it goes to.
		if typ := v.sport; typ == 0 || typ == 14 || typ == 16 || typ == 18 || typ == 129 || typ == 136 || typ == 140 || typ == 145 {
			clientIsSrc = false
		}
	default:
		c.initiatorKnown = true
	}
	c.clientIsSrc = clientIsSrc
	c.cport, c.sport, c.clientIsA = v.sport, v.dport, srcIsA
	if v.eth != nil && len(v.eth.SrcMAC) == 6 && len(v.eth.DstMAC) == 6 {
		c.hasMAC = true
		copy(c.clientMAC[:], v.eth.SrcMAC)
		copy(c.serverMAC[:], v.eth.DstMAC)
	}
	if !clientIsSrc {
		c.cport, c.sport, c.clientIsA = c.sport, c.cport, !srcIsA
		c.clientMAC, c.serverMAC = c.serverMAC, c.clientMAC
	}
	h := fnv.New64a()
	h.Write([]byte(t.communityID(c)))
	h.Write([]byte(strconv.FormatInt(p.Frame, 10)))
	if k.depth > 0 {
		h.Write([]byte{'/', k.depth})
	}
	c.uid = hex.EncodeToString(h.Sum(nil))
	if v.app != 0 && v.app != gopacket.LayerTypePayload {
		c.app = v.app.String()
	}
	t.m[k] = c
	if k.proto == 6 {
		t.tcp.push(c)
	} else {
		t.other.push(c)
	}
	if n := int64(len(t.m)); n > t.stats.ConnectionsPeak {
		t.stats.ConnectionsPeak = n
	}
	return c
}

// ips returns the client's and the server's address.
func (c *conn) ips() (client, server []byte) {
	n := 4
	if c.key.v6 {
		n = 16
	}
	if c.clientIsA {
		return c.key.a[:n], c.key.b[:n]
	}
	return c.key.b[:n], c.key.a[:n]
}

// communityID is the connection's Community ID, from the client's view (it
// orders the endpoints itself); an ICMP flow's from its first packet's.
func (t *connTable) communityID(c *conn) string {
	cip, sip := c.ips()
	t.keyBuf = t.keyBuf[:0]
	if (c.key.proto == 1 || c.key.proto == 58) && !c.clientIsSrc {
		return communityID(t.keyBuf, sip, cip, c.key.proto, c.sport, c.cport)
	}
	return communityID(t.keyBuf, cip, sip, c.key.proto, c.cport, c.sport)
}

// endpoints returns the text of the client's and the server's address and
// MAC address ("" without an Ethernet layer).
func (t *connTable) endpoints(c *conn) (cip, sip, cmac, smac string) {
	a, b := c.ips()
	cip, sip = t.strs.IP(a), t.strs.IP(b)
	if c.hasMAC {
		cmac, smac = t.strs.MAC(c.clientMAC[:]), t.strs.MAC(c.serverMAC[:])
	}
	return cip, sip, cmac, smac
}

// streamOf returns the connection's stream state, made on first use.
func (t *connTable) streamOf(c *conn) *streamState {
	if c.st != nil {
		return c.st
	}
	st := &streamState{}
	t.streamConns++
	cip, sip, cmac, smac := t.endpoints(c)
	st.info = ConnInfo{ClientIP: cip, ServerIP: sip, ClientPort: int32(c.cport), ServerPort: int32(c.sport),
		ClientMAC: cmac, ServerMAC: smac, FlowID: c.uid, Handshake: c.handshake, Counters: &t.counters, Files: t.files}
	for d := range st.out {
		st.out[d] = func(data []byte, missed int, ts, frame int64) { t.deliver(c, d, data, missed, ts, frame) }
	}
	for d := range c.dir {
		if c.dir[d].syn {
			st.dir[d].stream.start(c.dir[d].isn + 1)
		}
	}
	c.st = st
	return st
}

func (c *conn) linkName() string {
	if c.link == 0 {
		return ""
	}
	return gopacket.LayerType(c.link).String()
}

func (c *conn) network() string {
	if c.key.v6 {
		return "IPv6"
	}
	return "IPv4"
}

func transportName(proto uint8) string {
	switch proto {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 132:
		return "SCTP"
	case 1:
		return "ICMPv4"
	case 58:
		return "ICMPv6"
	}
	return layers.IPProtocol(proto).String()
}

// history letters, Zeek's: upper case for the client, lower case for the
// server, each recorded once per direction.
const historyLetters = "SHADFRG"

func (c *conn) mark(d int, letter byte) {
	i := bytes.IndexByte([]byte(historyLetters), letter)
	if c.dir[d].history&(1<<i) != 0 {
		return
	}
	c.dir[d].history |= 1 << i
	if d == 1 {
		letter += 'a' - 'A'
	}
	if n := bytes.IndexByte(c.history[:], 0); n >= 0 {
		c.history[n] = letter
	}
}

// historyText is the history as the Connection record has it.
func (c *conn) historyText() string {
	n := bytes.IndexByte(c.history[:], 0)
	if n < 0 {
		n = len(c.history)
	}
	return string(c.history[:n])
}

// account adds one packet of direction d (0: client to server).
func (t *connTable) account(c *conn, d int, v *packetView, p *Packet, s Sink) {
	dir := &c.dir[d]
	if dir.packets == 0 {
		dir.first, dir.frameFirst = p.Timestamp, p.Frame
	}
	dir.packets++
	dir.bytes += int64(p.Length)
	dir.payload += int64(v.payload)
	dir.last, dir.frameLast = p.Timestamp, p.Frame
	if p.Timestamp > c.last {
		c.last = p.Timestamp
	}
	if c.list != nil && !c.closing {
		c.list.moveToBack(c)
	}
	if v.tcp == nil {
		return
	}
	tcp := v.tcp
	for i, on := range [9]bool{tcp.FIN, tcp.RST, tcp.ACK, tcp.SYN, tcp.URG, tcp.ECE, tcp.PSH, tcp.CWR, tcp.NS} {
		if on && dir.flags[i] < math.MaxUint32 {
			dir.flags[i]++
		}
	}
	if tcp.SYN && !dir.syn {
		dir.syn, dir.isn = true, tcp.Seq
	}
	if tcp.SYN && tcp.ACK && d == 1 && c.dir[0].syn {
		c.handshake = true
		if c.st != nil {
			c.st.info.Handshake = true
		}
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		c.mark(d, 'S')
	case tcp.SYN && tcp.ACK:
		c.mark(d, 'H')
	case tcp.ACK && v.payload == 0 && !tcp.FIN && !tcp.RST:
		c.mark(d, 'A')
	}
	if v.payload > 0 {
		c.mark(d, 'D')
	}
	if tcp.FIN {
		c.mark(d, 'F')
		dir.fin = true
		dir.finSeq = tcp.Seq + uint32(v.payload)
	}
	if tcp.RST {
		c.mark(d, 'R')
		c.rst[d] = true
	}
	other := &c.dir[1-d]
	if tcp.ACK && other.fin && seqDiff(tcp.Ack, other.finSeq+1) >= 0 {
		other.finAcked = true
	}

	if len(t.streams) > 0 && (c.st != nil || v.payload > 0) {
		st := t.streamOf(c)
		ds := &st.dir[d].stream
		t.sink = s
		t.arrTS, t.arrFrame = p.Timestamp, p.Frame
		if tcp.SYN && !ds.started {
			ds.start(tcp.Seq + 1)
		}
		if v.payload > 0 {
			// TCP Fast Open carries data in the SYN: it starts at Seq+1.
			seq := tcp.Seq
			if tcp.SYN {
				seq++
			}
			if st.parser == nil && st.detectDone {
				// Nobody reads this connection: do not buffer it.
			} else {
				ds.add(seq, tcp.Payload, p.Timestamp, p.Frame, t.opts.StreamMemoryPerConn, t.opts.StreamMemory, &t.reasm, st.out[d])
			}
		}
		if tcp.FIN || tcp.RST {
			ds.flush(&t.reasm, st.out[d])
		}
	}

	if !c.closing && (c.rst[0] || c.rst[1] || c.dir[0].finAcked && c.dir[1].finAcked) {
		// Closed; it stays a while for its trailing packets.
		c.closing = true
		c.list.remove(c)
		c.last = p.Timestamp
		t.closing.push(c)
	}
}

// deliver hands in-order bytes of direction d to the connection's parser,
// detecting the protocol on the first bytes.
func (t *connTable) deliver(c *conn, d int, data []byte, missed int, ts, frame int64) {
	st := c.st
	dir := &st.dir[d]
	if st.parser == nil {
		if st.detectDone {
			return
		}
		if dir.detectTried || missed > 0 {
			// Bytes after a gap are not the start of anything: detection
			// starts again on the next chunk.
			dir.dropped += missed + len(dir.head) + len(data)
			dir.head = dir.head[:0]
			return
		}
		if !t.detect(c, d, data, ts, frame) {
			return
		}
	}
	t.feed(c, d, data, missed, ts, frame)
}

// feed hands a chunk to the parser. Bytes of this side seen before the
// parser was chosen (the other side told the protocol) reach it as missed
// bytes, so that it never pairs messages across them.
func (t *connTable) feed(c *conn, d int, data []byte, missed int, ts, frame int64) {
	st := c.st
	if st == nil || st.parser == nil {
		return // stopped by a panic while earlier bytes were fed
	}
	dir := &st.dir[d]
	missed += dir.dropped
	dir.dropped = 0
	t.chunk = Chunk{FromClient: d == 0, Data: data, Missed: missed, Timestamp: ts, Frame: frame,
		ArrivalTimestamp: t.arrTS, ArrivalFrame: t.arrFrame}
	defer t.stopOnPanic(st)
	st.parser.Feed(&t.chunk, &st.info, t.sink)
}

// stopOnPanic, deferred around a parser call, turns a panic into a count
// and stops the connection's parser: a parser that panicked may hold broken
// state, and what it would say next cannot be trusted. The worker goes on.
func (t *connTable) stopOnPanic(st *streamState) {
	if recover() != nil {
		t.counters.Panics++
		st.parser = nil
		st.detectDone = true
	}
}

// detect runs the detectors on the first bytes of direction d, which end
// with data. It returns true when a parser was chosen and data is to be fed
// to it; the bytes held before data have been fed already, those of both
// sides, oldest first.
func (t *connTable) detect(c *conn, d int, data []byte, ts, frame int64) bool {
	st := c.st
	dir := &st.dir[d]
	first := data
	if len(dir.head) > 0 {
		// Only the bytes the detectors see are added; the rest of data
		// is added when more are needed.
		first = append(dir.head, data[:min(len(data), StreamDetectLimit-len(dir.head))]...)
	}
	if len(first) > StreamDetectLimit {
		first = first[:StreamDetectLimit]
	}
	more := false
	var sp *StreamProtocol
	for i := range t.streams {
		switch v := t.detectOne(&t.streams[i], first, d == 0, &st.info); v {
		case DetectYes:
			sp = &t.streams[i]
		case DetectMore:
			more = true
		}
		if sp != nil {
			break
		}
	}
	if sp == nil {
		if more && len(dir.head)+len(data) < StreamDetectMax {
			if len(dir.head) == 0 {
				dir.headTS, dir.headFrame = ts, frame
			}
			dir.head = append(dir.head, data...)
			return false
		}
		dir.detectTried = true
		dir.dropped += len(dir.head) + len(data)
		dir.head = nil
		if st.dir[0].detectTried && st.dir[1].detectTried {
			st.detectDone = true
			st.dir[0].stream.release(&t.reasm)
			st.dir[1].stream.release(&t.reasm)
		}
		return false
	}
	st.parser = sp.New()
	c.app = sp.Name
	st.detectDone = true
	// What both sides held while detectors wanted more, in capture order.
	o := 1 - d
	if len(st.dir[o].head) > 0 && (len(dir.head) == 0 || st.dir[o].headFrame < dir.headFrame) {
		t.feedHead(c, o)
	}
	t.feedHead(c, d)
	t.feedHead(c, o)
	return true
}

// detectOne runs a detector, which must not bring the worker down.
func (t *connTable) detectOne(sp *StreamProtocol, first []byte, fromClient bool, conn *ConnInfo) (v Detection) {
	defer func() {
		if recover() != nil {
			t.counters.Panics++
			v = DetectNo
		}
	}()
	return sp.Detect(first, fromClient, conn)
}

// feedHead hands the bytes direction d held during detection to the parser.
func (t *connTable) feedHead(c *conn, d int) {
	dir := &c.st.dir[d]
	if len(dir.head) == 0 {
		return
	}
	head := dir.head
	dir.head = nil
	t.feed(c, d, head, 0, dir.headTS, dir.headFrame)
}

// memory is what the worker's MemCap counts now.
func (t *connTable) memory() int64 {
	n := int64(len(t.m))*ConnBytes + t.streamConns*StreamStateBytes + t.reasm.bufferedNow
	if t.fragments != nil {
		n += t.fragments()
	}
	return n
}

// evictOldest ends the least recently active connection early.
func (t *connTable) evictOldest(s Sink, why endReason) {
	var victim *conn
	for _, l := range []*connList{&t.closing, &t.other, &t.tcp} {
		if l.head != nil && (victim == nil || l.head.last < victim.last) {
			victim = l.head
		}
	}
	if victim == nil {
		return
	}
	if why == endMemcap {
		t.stats.EvictedMemcap++
	} else {
		t.stats.Evicted++
	}
	t.end(victim, s, why)
}

// end writes the connection's records and forgets it. s is the worker's
// sink (never t.ordered itself): end wraps it so that every record is ordered.
// A connection closed by FINs or a RST keeps that reason whatever ends it.
func (t *connTable) end(c *conn, s Sink, why endReason) {
	switch {
	case c.closing && (c.rst[0] || c.rst[1]):
		why = endRST
	case c.closing:
		why = endFIN
	}
	if o, ok := s.(*orderedSink); ok {
		s = o.s
	}
	key := t.frameFirst(c)
	t.ordered.s, t.ordered.key = s, key
	out := &t.ordered
	if st := c.st; st != nil {
		t.sink = out
		t.arrTS, t.arrFrame = c.last, max(c.dir[0].frameLast, c.dir[1].frameLast)
		for d := range st.dir {
			st.dir[d].stream.flush(&t.reasm, st.out[d])
		}
		if st.parser != nil {
			func() {
				defer t.stopOnPanic(st)
				st.parser.Close(&st.info, out)
			}()
		}
		st.dir[0].stream.release(&t.reasm)
		st.dir[1].stream.release(&t.reasm)
		t.streamConns--
	}
	if c.list != nil {
		c.list.remove(c)
	}
	delete(t.m, c.key)
	t.stats.Connections++
	var cid string
	if t.emitConn || t.emitFlow {
		cid = t.communityID(c)
	}
	reason := endReasonText[why]
	if t.emitConn {
		t.emitConnection(c, cid, reason, out)
	}
	if t.emitFlow {
		for d := range c.dir {
			if c.dir[d].packets > 0 {
				t.emitFlowRecord(c, d, cid, reason, s)
			}
		}
	}
}

// appName is the application protocol for the records: the detected
// one, and the one found inside it after an upgrade ("HTTP/TLS").
func (c *conn) appName() string {
	if c.st != nil {
		if u, ok := c.st.parser.(upgraded); ok {
			if inner := u.Inner(); inner != "" {
				return c.app + "/" + inner
			}
		}
	}
	return c.app
}

func (t *connTable) emitConnection(c *conn, cid, reason string, s *orderedSink) {
	r := &t.conn
	r.Reset()
	a, b := &c.dir[0], &c.dir[1]
	r.TimestampFirst, r.TimestampLast = c.first, c.last
	r.Duration = c.last - c.first
	r.LinkProto, r.NetworkProto, r.TransportProto, r.ApplicationProto = c.linkName(), c.network(), transportName(c.key.proto), c.appName()
	cip, sip, cmac, smac := t.endpoints(c)
	r.SrcMAC, r.DstMAC = cmac, smac
	r.SrcIP, r.SrcPort, r.DstIP, r.DstPort = cip, int32(c.cport), sip, int32(c.sport)
	r.TotalSize = a.bytes + b.bytes
	r.AppPayloadSize = a.payload + b.payload
	r.NumPackets = a.packets + b.packets
	r.UID, r.CommunityID = c.uid, cid
	r.NumPacketsClientToServer, r.NumPacketsServerToClient = a.packets, b.packets
	r.BytesClientToServer, r.BytesServerToClient = a.bytes, b.bytes
	r.PayloadBytesClientToServer, r.PayloadBytesServerToClient = a.payload, b.payload
	f := func(i int) int64 { return int64(a.flags[i]) + int64(b.flags[i]) }
	r.NumFINFlags, r.NumRSTFlags, r.NumACKFlags, r.NumSYNFlags = f(0), f(1), f(2), f(3)
	r.NumURGFlags, r.NumECEFlags, r.NumPSHFlags, r.NumCWRFlags, r.NumNSFlags = f(4), f(5), f(6), f(7), f(8)
	r.State = c.state()
	r.History = c.historyText()
	r.InitiatorKnown = c.initiatorKnown
	r.FrameFirst = t.frameFirst(c)
	r.FrameLast = max(a.frameLast, b.frameLast)
	r.EndReason = reason
	s.EmitOrdered(types.Type_NC_Connection, r, r.FrameFirst)
}

func (t *connTable) emitFlowRecord(c *conn, d int, cid, reason string, s Sink) {
	r := &t.flow
	r.Reset()
	dir := &c.dir[d]
	srcIP, dstIP, srcMAC, dstMAC := t.endpoints(c)
	sport, dport := int32(c.cport), int32(c.sport)
	if d == 1 {
		srcIP, dstIP, srcMAC, dstMAC, sport, dport = dstIP, srcIP, dstMAC, srcMAC, dport, sport
	}
	r.TimestampFirst, r.TimestampLast, r.Duration = dir.first, dir.last, dir.last-dir.first
	r.LinkProto, r.NetworkProto, r.TransportProto, r.ApplicationProto = c.linkName(), c.network(), transportName(c.key.proto), c.appName()
	r.SrcMAC, r.DstMAC = srcMAC, dstMAC
	r.SrcIP, r.SrcPort, r.DstIP, r.DstPort = srcIP, sport, dstIP, dport
	r.TotalSize, r.AppPayloadSize, r.NumPackets = dir.bytes, dir.payload, dir.packets
	r.UID = c.uid + "-" + strconv.Itoa(d)
	r.CommunityID = cid
	f := func(i int) int64 { return int64(dir.flags[i]) }
	r.NumFINFlags, r.NumRSTFlags, r.NumACKFlags, r.NumSYNFlags = f(0), f(1), f(2), f(3)
	r.NumURGFlags, r.NumECEFlags, r.NumPSHFlags, r.NumCWRFlags, r.NumNSFlags = f(4), f(5), f(6), f(7), f(8)
	r.FrameFirst, r.FrameLast = dir.frameFirst, dir.frameLast
	r.EndReason = reason
	t.ordered.s = s
	t.ordered.EmitOrdered(types.Type_NC_Flow, r, r.FrameFirst)
}

// state is Zeek's conn_state for TCP; for other protocols S0 (one side
// only) or SF (both sides sent).
func (c *conn) state() string {
	a, b := &c.dir[0], &c.dir[1]
	if c.key.proto != 6 {
		if b.packets == 0 {
			return "S0"
		}
		return "SF"
	}
	has := func(d int, letter byte) bool {
		return c.dir[d].history&(1<<bytes.IndexByte([]byte(historyLetters), letter)) != 0
	}
	synC, synackS := has(0, 'S'), has(1, 'H')
	switch {
	case !synC && !synackS:
		return "OTH"
	case c.rst[0] && !synackS && synC:
		return "RSTOS0"
	case c.rst[1] && synC && !synackS:
		return "REJ"
	case c.rst[1] && synackS && !synC:
		return "RSTRH"
	case c.rst[0]:
		return "RSTO"
	case c.rst[1]:
		return "RSTR"
	case synC && !synackS && a.fin:
		return "SH"
	case synC && !synackS:
		return "S0"
	case a.fin && b.fin:
		return "SF"
	case a.fin:
		return "S2"
	case b.fin:
		return "S3"
	}
	return "S1"
}

// statsInto adds the table's counters to st.
func (t *connTable) statsInto(st *Stats) {
	st.Add(t.stats)
	st.StreamBytes += t.reasm.delivered
	st.MissedBytes += t.reasm.missed
	st.OverlapBytes += t.reasm.overlap
	st.OutOfOrder += t.reasm.outOfOrder
	st.MemoryLimitHits += t.reasm.limitHits
	st.StreamMemoryPeak = max(st.StreamMemoryPeak, t.reasm.bufferedMax)
	st.Stream.add(t.counters)
}
