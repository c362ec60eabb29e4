package decoder

import (
	"bytes"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

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
//
// This file holds the table, its packet entry point and its timeouts; the
// other jobs have files of their own: conntrack_acct.go the per-direction
// accounting, conntrack_state.go the history and TCP state,
// conntrack_stream.go the stream dispatch, conntrack_records.go the
// Connection and Flow records.

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

// conn is one connection. The addresses are those of key (the client is a
// when clientIsA); their text is made when the records are written.
type conn struct {
	key         connKey
	uid         string
	first, last int64
	dir         [2]direction // 0: client to server
	app         string
	st          *streamState  // nil until a payload is to be parsed
	feat        *flowFeatures // FlowFeatures selected: made at the second packet
	feat0       featPacket    // FlowFeatures selected: the first packet
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

type connTable struct {
	files               *FileStore // for ConnInfo.Files
	opts                Options
	m                   map[connKey]*conn
	tcp, other, closing connList
	clock, nextSweep    int64
	emitConn, emitFlow  bool
	emitFeatures        bool
	streams             []StreamProtocol
	reasm               reasmStats
	counters            StreamCounters
	stats               Stats
	conn                types.Connection
	flow                types.Flow
	features            types.FlowFeatures
	oneFeat             flowFeatures // the features of a flow of one packet, as it is written
	featConns           int64        // connections with a flowFeatures
	chunk               Chunk
	arrTS, arrFrame     int64 // the packet that delivers stream bytes now
	ordered             orderedSink
	sink                Sink // the sink deliveries go to right now
	keyBuf              []byte
	strs                *AddrStrings // the decoder's cache of address text
	fragments           func() int64 // bytes the decoder's defragmenters hold
	streamConns         int64        // connections with a streamState
	// links are the data connections the reader tied to a control
	// connection (ftpdata.go); nil until the first.
	links map[*conn]*dataLink
}

// newConnTable makes the connection table. It always runs: it owns flow
// identity, the FlowID every packet record carries, which must not depend on
// what the user selected. Connection and Flow records and the stream parsers
// are its consumers, switched on by the selection.
func newConnTable(opts Options, enabled func(types.Type) bool) *connTable {
	t := &connTable{
		opts:         opts,
		m:            map[connKey]*conn{},
		emitConn:     enabled(types.Type_NC_Connection),
		emitFlow:     enabled(types.Type_NC_Flow),
		emitFeatures: enabled(types.Type_NC_FlowFeatures),
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
		// A Connection record names its application protocol (and what
		// an upgrade started in it): with Connection records every
		// parser runs, so that the name does not depend on which other
		// records were selected.
		on := t.emitConn
		for _, r := range p.Records {
			on = on || enabled(r)
		}
		if on {
			t.streams = append(t.streams, p)
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
	if p.Expected != nil && v.depth == 0 && v.tcp != nil {
		t.tie(c, p.Expected)
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

// memory is what the worker's MemCap counts now.
func (t *connTable) memory() int64 {
	n := int64(len(t.m))*ConnBytes + t.streamConns*StreamStateBytes + t.reasm.bufferedNow
	n += t.featConns * FlowFeaturesBytes
	n += int64(len(t.links)) * dataLinkBytes
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
	if t.emitFeatures {
		t.emitFeatureRecord(c, out)
	}
	if t.emitFlow {
		for d := range c.dir {
			if c.dir[d].packets > 0 {
				t.emitFlowRecord(c, d, cid, reason, s)
			}
		}
	}
	if t.links != nil {
		delete(t.links, c)
	}
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
