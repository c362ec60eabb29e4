package decoder

import (
	"encoding/hex"
	"hash/fnv"
	"net"
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

type layerAgg struct {
	aSrc                  bool // direction of the first packet, for client/server counts
	src, dst              string
	sport, dport          int32
	proto                 string
	first, last           int64
	frameFirst, frameLast int64
	packets, bytes        [2]int64
	key                   any
	lruLinks[layerAgg]
}

type layerMap[K comparable] struct {
	typ types.Type
	m   map[K]*layerAgg
	lruList[layerAgg]
}

func aggLinks(a *layerAgg) *lruLinks[layerAgg] { return &a.lruLinks }

// LayerFlows makes LinkFlow, NetworkFlow and TransportFlow records.
type LayerFlows struct {
	timeout   int64
	clock     int64
	nextSweep int64
	link      layerMap[[12]byte]
	network   layerMap[[33]byte]
	transport layerMap[[5]byte]
	emit      func(types.Type, proto.Message)
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
		lf.link = layerMap[[12]byte]{typ: types.Type_NC_LinkFlow, m: map[[12]byte]*layerAgg{}, lruList: lruList[layerAgg]{links: aggLinks}}
	}
	if enabled(types.Type_NC_NetworkFlow) {
		lf.network = layerMap[[33]byte]{typ: types.Type_NC_NetworkFlow, m: map[[33]byte]*layerAgg{}, lruList: lruList[layerAgg]{links: aggLinks}}
	}
	if enabled(types.Type_NC_TransportFlow) {
		lf.transport = layerMap[[5]byte]{typ: types.Type_NC_TransportFlow, m: map[[5]byte]*layerAgg{}, lruList: lruList[layerAgg]{links: aggLinks}}
	}
	return lf
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
		account(&lf.link, k, swapped, frame, ts, length, func(ag *layerAgg) {
			ag.src, ag.dst, ag.proto = net.HardwareAddr(e.SrcMAC[:]).String(), net.HardwareAddr(e.DstMAC[:]).String(), "Ethernet"
		})
	}
	if e.IPLen != 0 && lf.network.m != nil {
		var k [33]byte
		n := int(e.IPLen)
		a, b, swapped := order(e.SrcIP[:n], e.DstIP[:n])
		copy(k[:16], a)
		copy(k[16:32], b)
		k[32] = e.IPLen
		account(&lf.network, k, swapped, frame, ts, length, func(ag *layerAgg) {
			ag.src, ag.dst = net.IP(e.SrcIP[:n]).String(), net.IP(e.DstIP[:n]).String()
			ag.proto = map[uint8]string{4: "IPv4", 16: "IPv6"}[e.IPLen]
		})
	}
	if e.HasPorts && lf.transport.m != nil {
		var k [5]byte
		var sp, dp [2]byte
		sp[0], sp[1], dp[0], dp[1] = byte(e.SrcPort>>8), byte(e.SrcPort), byte(e.DstPort>>8), byte(e.DstPort)
		a, b, swapped := order(sp[:], dp[:])
		copy(k[:2], a)
		copy(k[2:4], b)
		k[4] = e.Proto
		account(&lf.transport, k, swapped, frame, ts, length, func(ag *layerAgg) {
			ag.sport, ag.dport, ag.proto = int32(e.SrcPort), int32(e.DstPort), transportName(e.Proto)
		})
	}
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

func account[K comparable](l *layerMap[K], k K, swapped bool, frame, ts int64, length int, init func(*layerAgg)) {
	ag := l.m[k]
	if ag == nil {
		ag = &layerAgg{aSrc: !swapped, first: ts, frameFirst: frame, key: k}
		init(ag)
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
	for a := l.head; a != nil && lf.clock-a.last > lf.timeout; a = l.head {
		lf.write(l.typ, a)
		l.remove(a)
		delete(l.m, a.key.(K))
	}
}

// Flush writes every open aggregate, oldest first: the input is over.
func (lf *LayerFlows) Flush() {
	flushMap(lf, &lf.link)
	flushMap(lf, &lf.network)
	flushMap(lf, &lf.transport)
}

func flushMap[K comparable](lf *LayerFlows, l *layerMap[K]) {
	// Write in order of first frame, not of last activity.
	var all []*layerAgg
	for a := l.head; a != nil; a = a.lruLinks.next {
		all = append(all, a)
	}
	sortByFirst(all)
	for _, a := range all {
		lf.write(l.typ, a)
	}
	l.head, l.tail = nil, nil
	clear(l.m)
}

func sortByFirst(all []*layerAgg) {
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].frameFirst < all[j-1].frameFirst; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
}

func layerUID(proto string, frame int64, a, b string) string {
	h := fnv.New64a()
	h.Write([]byte(proto + a + b + strconv.FormatInt(frame, 10)))
	return hex.EncodeToString(h.Sum(nil))
}

func (lf *LayerFlows) write(t types.Type, a *layerAgg) {
	var m proto.Message
	switch t {
	case types.Type_NC_LinkFlow:
		lf.lf.Reset()
		lf.lf.SrcMAC, lf.lf.DstMAC = a.src, a.dst
		lf.lf.UID = layerUID(a.proto, a.frameFirst, a.src, a.dst)
		m = &lf.lf
	case types.Type_NC_NetworkFlow:
		lf.nf.Reset()
		lf.nf.SrcIP, lf.nf.DstIP = a.src, a.dst
		lf.nf.UID = layerUID(a.proto, a.frameFirst, a.src, a.dst)
		m = &lf.nf
	case types.Type_NC_TransportFlow:
		lf.tf.Reset()
		lf.tf.SrcPort, lf.tf.DstPort = a.sport, a.dport
		lf.tf.UID = layerUID(a.proto, a.frameFirst, strconv.Itoa(int(a.sport)), strconv.Itoa(int(a.dport)))
		m = &lf.tf
	default:
		return
	}
	setCounters(m.ProtoReflect(), a)
	lf.emit(t, m)
}

// setCounters fills the fields the three layer-flow records share (same
// names in netcap.proto). They are written once per aggregate, not per
// packet, so setting them by name costs nothing that matters.
func setCounters(m protoreflect.Message, a *layerAgg) {
	fields := m.Descriptor().Fields()
	set := func(name string, v protoreflect.Value) { m.Set(fields.ByName(protoreflect.Name(name)), v) }
	i64 := protoreflect.ValueOfInt64
	set("TimestampFirst", i64(a.first))
	set("TimestampLast", i64(a.last))
	set("Duration", i64(a.last-a.first))
	set("Proto", protoreflect.ValueOfString(a.proto))
	set("TotalSize", i64(a.bytes[0]+a.bytes[1]))
	set("NumPackets", i64(a.packets[0]+a.packets[1]))
	set("NumPacketsClientToServer", i64(a.packets[0]))
	set("NumPacketsServerToClient", i64(a.packets[1]))
	set("BytesClientToServer", i64(a.bytes[0]))
	set("BytesServerToClient", i64(a.bytes[1]))
	set("FrameFirst", i64(a.frameFirst))
	set("FrameLast", i64(a.frameLast))
}
