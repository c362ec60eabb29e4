package decoder

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math"
	"net"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// LinkFlow, NetworkFlow and TransportFlow aggregate traffic by MAC pair, IP
// pair and port pair. Their keys are coarser than the flow hash that shards
// packets over workers (one IP pair has many connections, on many workers),
// so they are not kept in the workers: the engine's writer, which sees every
// packet once and in capture order, feeds LayerFlows. One goroutine, no lock,
// and the result does not depend on the number of workers.

// Endpoints is what the layer-flow models need of a packet. The worker fills
// it while decoding (Packet.Endpoints) and the engine hands it to the writer.
type Endpoints struct {
	HasMAC           bool
	SrcMAC, DstMAC   [6]byte
	IPLen            uint8 // 4 or 16, 0 without an IP layer
	SrcIP, DstIP     [16]byte
	HasPorts         bool
	Proto            uint8 // IP protocol of the ports (TCP, UDP, SCTP)
	SrcPort, DstPort uint16
}

// layerAgg is one aggregate. Its key holds the two endpoints, smaller first;
// their text is made when the record is written, so that an aggregate costs
// the same whatever its addresses (a flood of spoofed ones makes one each).
type layerAgg[K comparable] struct {
	key                   K
	aSrc                  bool // the first packet came from the key's first endpoint
	first, last           int64
	frameFirst, frameLast int64
	packets, bytes        [2]int64
	lruLinks[layerAgg[K]]
}

type layerMap[K comparable] struct {
	typ types.Type
	m   map[K]*layerAgg[K]
	lruList[layerAgg[K]]
	// text gives the source and destination (addresses, or ports with
	// their protocol) of an aggregate whose first packet went from src
	// to dst, and its Proto field.
	text func(k K, aSrc bool) (src, dst string, sport, dport int32, proto string)
}

func newLayerMap[K comparable](t types.Type, text func(K, bool) (string, string, int32, int32, string)) layerMap[K] {
	return layerMap[K]{typ: t, m: map[K]*layerAgg[K]{}, text: text,
		lruList: lruList[layerAgg[K]]{links: func(a *layerAgg[K]) *lruLinks[layerAgg[K]] { return &a.lruLinks }}}
}

// ends returns the first and second half of a key's endpoint bytes in the
// direction of the first packet.
func ends(a, b []byte, aSrc bool) ([]byte, []byte) {
	if aSrc {
		return a, b
	}
	return b, a
}

func linkText(k [12]byte, aSrc bool) (string, string, int32, int32, string) {
	src, dst := ends(k[:6], k[6:], aSrc)
	return net.HardwareAddr(src).String(), net.HardwareAddr(dst).String(), 0, 0, "Ethernet"
}

func networkText(k [33]byte, aSrc bool) (string, string, int32, int32, string) {
	n := int(k[32])
	src, dst := ends(k[:n], k[16:16+n], aSrc)
	proto := "IPv4"
	if n == 16 {
		proto = "IPv6"
	}
	return net.IP(src).String(), net.IP(dst).String(), 0, 0, proto
}

func transportText(k [5]byte, aSrc bool) (string, string, int32, int32, string) {
	src, dst := ends(k[:2], k[2:4], aSrc)
	return "", "", int32(binary.BigEndian.Uint16(src)), int32(binary.BigEndian.Uint16(dst)), transportName(k[4])
}

// LayerFlows makes LinkFlow, NetworkFlow and TransportFlow records.
type LayerFlows struct {
	timeout   int64
	clock     int64
	nextSweep int64
	link      layerMap[[12]byte]
	network   layerMap[[33]byte]
	transport layerMap[[5]byte]
	emit      func(types.Type, proto.Message)
	memcap    int64 // bytes the aggregates may take, at LayerFlowBytes each; 0: no bound
	evicted   int64
	lf        types.LinkFlow
	nf        types.NetworkFlow
	tf        types.TransportFlow
}

// NewLayerFlows returns nil when none of the three records is enabled. Flows
// idle longer than timeout (packet time; 0: never) are written early.
func NewLayerFlows(enabled func(types.Type) bool, timeout time.Duration, emit func(types.Type, proto.Message)) *LayerFlows {
	if !enabled(types.Type_NC_LinkFlow) && !enabled(types.Type_NC_NetworkFlow) && !enabled(types.Type_NC_TransportFlow) {
		return nil
	}
	lf := &LayerFlows{timeout: int64(timeout), emit: emit}
	if enabled(types.Type_NC_LinkFlow) {
		lf.link = newLayerMap(types.Type_NC_LinkFlow, linkText)
	}
	if enabled(types.Type_NC_NetworkFlow) {
		lf.network = newLayerMap(types.Type_NC_NetworkFlow, networkText)
	}
	if enabled(types.Type_NC_TransportFlow) {
		lf.transport = newLayerMap(types.Type_NC_TransportFlow, transportText)
	}
	return lf
}

// LayerFlowBytes is what a memory cap counts for one aggregate: one costs
// 120 to 200 bytes (TestLayerFlowSize), but the maps keep the room of
// deleted entries for a while when aggregates come and go at the cap
// (TestLayerFlowsMemcap).
const LayerFlowBytes = 384

// SetMemCap bounds the memory of the aggregates: when a new one would go
// beyond memcap bytes, the aggregates idle longest are written early and
// counted (Evicted). 0: no bound.
func (lf *LayerFlows) SetMemCap(memcap int64) { lf.memcap = memcap }

// Evicted returns how many aggregates were written early for the memory cap.
func (lf *LayerFlows) Evicted() int64 { return lf.evicted }

// shed writes the aggregates idle longest until the rest fit in the cap.
func (lf *LayerFlows) shed() {
	for lf.memcap > 0 && int64(len(lf.link.m)+len(lf.network.m)+len(lf.transport.m))*LayerFlowBytes > lf.memcap {
		oldest := min(headLast(&lf.link), headLast(&lf.network), headLast(&lf.transport))
		switch {
		case oldest == math.MaxInt64:
			return
		case oldest == headLast(&lf.link):
			evictHead(lf, &lf.link)
		case oldest == headLast(&lf.network):
			evictHead(lf, &lf.network)
		default:
			evictHead(lf, &lf.transport)
		}
		lf.evicted++
	}
}

// headLast is the last activity of the aggregate idle longest.
func headLast[K comparable](l *layerMap[K]) int64 {
	if l.head == nil {
		return math.MaxInt64
	}
	return l.head.last
}

func evictHead[K comparable](lf *LayerFlows, l *layerMap[K]) {
	a := l.head
	write(lf, l, a)
	l.remove(a)
	delete(l.m, a.key)
}

// Packet accounts one packet; calls must come in capture order.
func (lf *LayerFlows) Packet(e *Endpoints, frame, ts int64, length int) {
	if ts > lf.clock {
		lf.clock = ts
	}
	if lf.timeout > 0 && lf.clock >= lf.nextSweep {
		lf.nextSweep = lf.clock + sweepEvery
		expire(lf, &lf.link)
		expire(lf, &lf.network)
		expire(lf, &lf.transport)
	}
	if e.HasMAC && lf.link.m != nil {
		var k [12]byte
		a, b, swapped := order(e.SrcMAC[:], e.DstMAC[:])
		copy(k[:6], a)
		copy(k[6:], b)
		account(&lf.link, k, swapped, frame, ts, length)
	}
	if e.IPLen != 0 && lf.network.m != nil {
		var k [33]byte
		n := int(e.IPLen)
		a, b, swapped := order(e.SrcIP[:n], e.DstIP[:n])
		copy(k[:16], a)
		copy(k[16:32], b)
		k[32] = e.IPLen
		account(&lf.network, k, swapped, frame, ts, length)
	}
	if e.HasPorts && lf.transport.m != nil {
		var k [5]byte
		var sp, dp [2]byte
		sp[0], sp[1], dp[0], dp[1] = byte(e.SrcPort>>8), byte(e.SrcPort), byte(e.DstPort>>8), byte(e.DstPort)
		a, b, swapped := order(sp[:], dp[:])
		copy(k[:2], a)
		copy(k[2:4], b)
		k[4] = e.Proto
		account(&lf.transport, k, swapped, frame, ts, length)
	}
	lf.shed()
}

// order returns the two endpoints smaller first, and whether they were swapped.
func order(a, b []byte) ([]byte, []byte, bool) {
	for i := range a {
		if a[i] != b[i] {
			if a[i] > b[i] {
				return b, a, true
			}
			return a, b, false
		}
	}
	return a, b, false
}

func account[K comparable](l *layerMap[K], k K, swapped bool, frame, ts int64, length int) {
	ag := l.m[k]
	if ag == nil {
		ag = &layerAgg[K]{aSrc: !swapped, first: ts, frameFirst: frame, key: k}
		l.m[k] = ag
	}
	d := 0
	if swapped == ag.aSrc {
		d = 1
	}
	ag.packets[d]++
	ag.bytes[d] += int64(length)
	if ts > ag.last {
		ag.last = ts
	}
	ag.frameLast = frame
	l.moveToBack(ag)
}

func expire[K comparable](lf *LayerFlows, l *layerMap[K]) {
	for l.head != nil && lf.clock-l.head.last > lf.timeout {
		evictHead(lf, l)
	}
}

// Flush writes every open aggregate, oldest first: the input is over.
func (lf *LayerFlows) Flush() {
	flushMap(lf, &lf.link)
	flushMap(lf, &lf.network)
	flushMap(lf, &lf.transport)
}

func flushMap[K comparable](lf *LayerFlows, l *layerMap[K]) {
	// Write in order of first frame, not of last activity. A packet
	// starts at most one aggregate of a kind, so first frames differ.
	all := make([]*layerAgg[K], 0, len(l.m))
	for a := l.head; a != nil; a = a.lruLinks.next {
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b *layerAgg[K]) int { return cmp.Compare(a.frameFirst, b.frameFirst) })
	for _, a := range all {
		write(lf, l, a)
	}
	l.head, l.tail = nil, nil
	clear(l.m)
}

func layerUID(proto string, frame int64, a, b string) string {
	h := fnv.New64a()
	h.Write([]byte(proto + a + b + strconv.FormatInt(frame, 10)))
	return hex.EncodeToString(h.Sum(nil))
}

func write[K comparable](lf *LayerFlows, l *layerMap[K], a *layerAgg[K]) {
	var m proto.Message
	src, dst, sport, dport, proto := l.text(a.key, a.aSrc)
	switch l.typ {
	case types.Type_NC_LinkFlow:
		lf.lf.Reset()
		lf.lf.SrcMAC, lf.lf.DstMAC = src, dst
		lf.lf.UID = layerUID(proto, a.frameFirst, src, dst)
		m = &lf.lf
	case types.Type_NC_NetworkFlow:
		lf.nf.Reset()
		lf.nf.SrcIP, lf.nf.DstIP = src, dst
		lf.nf.UID = layerUID(proto, a.frameFirst, src, dst)
		m = &lf.nf
	case types.Type_NC_TransportFlow:
		lf.tf.Reset()
		lf.tf.SrcPort, lf.tf.DstPort = sport, dport
		lf.tf.UID = layerUID(proto, a.frameFirst, strconv.Itoa(int(sport)), strconv.Itoa(int(dport)))
		m = &lf.tf
	default:
		return
	}
	setCounters(m.ProtoReflect(), proto, a.first, a.last, a.frameFirst, a.frameLast, a.packets, a.bytes)
	lf.emit(l.typ, m)
}

// setCounters fills the fields the three layer-flow records share (same
// names in netcap.proto). They are written once per aggregate, not per
// packet, so setting them by name costs nothing that matters.
func setCounters(m protoreflect.Message, proto string, first, last, frameFirst, frameLast int64, packets, bytes [2]int64) {
	fields := m.Descriptor().Fields()
	set := func(name string, v protoreflect.Value) { m.Set(fields.ByName(protoreflect.Name(name)), v) }
	i64 := protoreflect.ValueOfInt64
	set("TimestampFirst", i64(first))
	set("TimestampLast", i64(last))
	set("Duration", i64(last-first))
	set("Proto", protoreflect.ValueOfString(proto))
	set("TotalSize", i64(bytes[0]+bytes[1]))
	set("NumPackets", i64(packets[0]+packets[1]))
	set("NumPacketsClientToServer", i64(packets[0]))
	set("NumPacketsServerToClient", i64(packets[1]))
	set("BytesClientToServer", i64(bytes[0]))
	set("BytesServerToClient", i64(bytes[1]))
	set("FrameFirst", i64(frameFirst))
	set("FrameLast", i64(frameLast))
}
