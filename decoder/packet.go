package decoder

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/flowhash"
	"github.com/netcap/netcap/types"
)

// Status says what became of a packet.
type Status uint8

const (
	// Decoded means every layer of the packet was decoded.
	Decoded Status = iota
	// Unknown means the packet holds a layer that no decoder reads; its bytes
	// go to unknown.pcap. Records of the layers below it are kept.
	Unknown
	// Failed means a layer did not decode (malformed, or a recovered panic);
	// the packet goes to errors.pcap. Records of the layers below it are kept.
	Failed
)

// EmptyFrame is the failure reason of a frame whose capture length is 0.
const EmptyFrame = "empty frame (capture length 0)"

// maxLayers bounds the layer chain of one packet, so that a packet made of
// nested tunnels cannot keep a worker busy.
const maxLayers = 32

// maxRepeat bounds how many layers of one type a packet may hold.
const maxRepeat = 8

type chainEntry struct {
	typ gopacket.LayerType
	l   gopacket.DecodingLayer
}

// feedback implements gopacket.DecodeFeedback.
type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

// PacketDecoder decodes packets into records. It is not safe for concurrent
// use: each worker owns one.
type PacketDecoder struct {
	layers      layerTable
	ports       *portTable
	chain       []chainEntry
	strs        AddrStrings
	conns       *connTable    // always on: it gives every record its FlowID, whatever is selected
	defrag      *defragmenter // nil with Options.NoDefrag
	shared      *defragmenter // the fragments every worker sees (Packet.Shared); nil with NoDefrag
	reassembled int           // datagrams the current packet completed
	fragments   int           // fragments the current packet reached
	// decided is set when the current packet is a shared fragment whose
	// chain goes on past the fragment (a datagram it completed, or a first
	// fragment decoded as it is): mine then says whether this worker owns
	// the datagram's flow, and so makes the packet's records.
	decided, mine   bool
	worker, workers int
	// expect reads FTP control segments when the decoder is used on its
	// own (Options.Workers 0): the engine's reader does it otherwise and
	// sets Packet.Expected.
	expect *Expectations
	view   packetView
	stats  Stats
	df     feedback
	// stamp is the sink the protocol decoders emit to, reused for every
	// packet so that wrapping the caller's sink allocates nothing.
	stamp stampSink
}

// stampSink sets the packet context of every record a protocol decoder
// emits, then hands the record to the caller's sink. The context is set in
// this one place rather than by each decoder, so that every record made
// from a packet carries the same context, whatever the protocol: the
// Packet's as Decode filled it for the record's part of the packet (the
// inner packet for records of a tunnelled one), except the fields the
// record's protocol fills from its own layer (Protocol.Own). Records made
// from reassembled streams and the flow records do not pass through it:
// their context is that of the stream's first segment or the flow's, which
// the connection table sets.
type stampSink struct {
	s Sink
	p *Packet
	// c is filled for each record: SetPacket takes a pointer, and a
	// pointer to a local variable would escape to the heap.
	c types.PacketContext
}

func (w *stampSink) Emit(t types.Type, m proto.Message) {
	if r, ok := m.(types.PacketRecord); ok {
		p, c := w.p, &w.c
		// Field by field: a composite literal would be built on the stack
		// and copied in 16-byte moves, which stall on the 8-byte stores
		// just made.
		c.FrameNumber, c.SrcIP, c.DstIP, c.SrcPort, c.DstPort, c.FlowID = p.Frame, p.SrcIP, p.DstIP, p.SrcPort, p.DstPort, p.FlowID
		var keep types.ContextFields
		if int(t) < len(ownContext) {
			keep = ownContext[t]
		}
		r.SetPacket(c, keep)
	}
	w.s.Emit(t, m)
}

// NewPacketDecoder makes a decoder that runs the protocol decoders for which
// enabled returns true for at least one of their record types. opts (at most
// one; DefaultOptions when absent) set the flow and stream limits.
func NewPacketDecoder(enabled func(types.Type) bool, opts ...Options) *PacketDecoder {
	d := &PacketDecoder{
		chain: make([]chainEntry, 0, maxLayers),
		ports: ports(),
	}
	for t, mk := range layerFactories {
		d.layers.slot(t).make = mk
	}
	for _, p := range protocols {
		on := false
		for _, t := range p.Records {
			on = on || enabled(t)
		}
		if on {
			dec := p.NewDecoder()
			for _, t := range append([]gopacket.LayerType{p.Layer}, p.Also...) {
				sl := d.layers.slot(t)
				sl.decoders = append(sl.decoders, dec)
			}
		}
	}
	o := DefaultOptions()
	if len(opts) > 0 {
		o = opts[0]
	}
	o = o.capped()
	d.conns = newConnTable(o, enabled)
	if d.conns != nil {
		d.conns.strs = &d.strs
		d.conns.fragments = func() int64 {
			if d.defrag == nil {
				return 0
			}
			return d.defrag.held + d.shared.held
		}
	}
	if !o.NoDefrag {
		d.defrag = newDefragmenter(o)
		d.shared = newDefragmenter(o)
	}
	d.worker, d.workers = o.Worker, o.Workers
	if o.Workers == 0 && d.conns != nil {
		d.expect = NewExpectations(o.MaxExpected, o.ConnTimeout)
	}
	return d
}

// owns says whether the flow with this hash (internal/flowhash) is this
// worker's, by the rule the engine's reader uses.
func (d *PacketDecoder) owns(h uint64) bool {
	return d.workers <= 1 || h%uint64(d.workers) == uint64(d.worker)
}

// Stateful reports whether the decoder keeps flow or fragment state, and so
// needs Tick for every packet of the capture and Flush at the end.
func (d *PacketDecoder) Stateful() bool { return d.conns != nil || d.defrag != nil }

// Tick tells the decoder the time of a packet of the capture, one it decodes
// or not: flows idle for too long end here, their records emitted ordered.
func (d *PacketDecoder) Tick(ts int64, s Sink) {
	if d.defrag != nil {
		d.defrag.expire(ts)
		d.shared.expire(ts)
	}
	if d.conns != nil {
		d.conns.tick(ts, s)
	}
}

// Flush ends every flow: the input is over.
func (d *PacketDecoder) Flush(s Sink) {
	if d.defrag != nil {
		d.defrag.flush()
		d.shared.flush()
	}
	if d.conns != nil {
		d.conns.flush(s)
	}
}

// Stats returns the stateful decoders' counters.
func (d *PacketDecoder) Stats() Stats {
	st := d.stats
	if d.conns != nil {
		d.conns.statsInto(&st)
	}
	if f := d.defrag; f != nil {
		st.Defragmented, st.DefragTimedOut, st.DefragEvicted = f.stats.reassembled, f.stats.timedOut, f.stats.evicted
		st.DefragOversize, st.DefragPeak = f.stats.oversize, f.stats.pendingPeak
		// Every worker's shared defragmenter is the same: count it once.
		if g := d.shared; d.worker == 0 {
			st.Defragmented += g.stats.reassembled
			st.DefragTimedOut += g.stats.timedOut
			st.DefragEvicted += g.stats.evicted
			st.DefragOversize += g.stats.oversize
		}
		st.DefragPeak = max(st.DefragPeak, d.shared.stats.pendingPeak)
	}
	return st
}

// Held is what a decoder holds at one moment, for monitoring a run while it
// goes: the memory of its reassemblers (what Options.StreamMemory and
// Options.DefragMemory bound) and the flows it tracks.
type Held struct {
	StreamBytes   int64 // memory of out-of-order TCP segments waiting for a hole to fill: data and bookkeeping, as allocated
	FragmentBytes int64 // memory of the IP fragments of incomplete datagrams, in both defragmenters: data and bookkeeping, as allocated
	Connections   int64 // flows tracked
}

// Held reads the decoder's current state. It only reads counters the
// decoders keep anyway: no allocation, no lock. Like every method, it must
// be called from the decoder's own goroutine.
func (d *PacketDecoder) Held() Held {
	var h Held
	if d.conns != nil {
		h.StreamBytes = d.conns.reasm.memory()
		h.Connections = int64(len(d.conns.m))
	}
	if d.defrag != nil {
		h.FragmentBytes = d.defrag.memory() + d.shared.memory()
	}
	return h
}

// FirstLayer maps a capture link type to the layer its frames start with:
// the declared links (RegisterLink), else gopacket's own mapping.
func FirstLayer(link layers.LinkType, data []byte) gopacket.LayerType {
	if l, ok := links[link]; ok {
		if l.Pick != nil {
			return l.Pick(data)
		}
		return l.First
	}
	return link.LayerType()
}

// terminal layers end the chain without making the packet unknown: plain
// payload, IP fragments (the loop hands them to the defragmenter first), and
// TLS, whose records come from the reassembled stream rather than from single
// segments. LayerTypeZero is not
// terminal: it is what gopacket answers for an EtherType, IP protocol or link
// type it does not know, and bytes of an unknown type are an unknown packet.
func terminal(t gopacket.LayerType) bool {
	return t == gopacket.LayerTypePayload || t == gopacket.LayerTypeFragment || t == layers.LayerTypeTLS
}

// Decode decodes one packet and emits its records to s. meta carries the
// frame number, time and lengths; Decode fills its context fields. The reason
// names the unknown layer or the failure.
func (d *PacketDecoder) Decode(data []byte, link layers.LinkType, meta *Packet, s Sink) (st Status, reason string) {
	d.chain = d.chain[:0]
	d.reassembled, d.fragments, d.decided = 0, 0, false
	meta.Strings = &d.strs
	meta.Skipped = false
	d.df.truncated = false
	if len(data) == 0 {
		// A frame of no bytes decodes to nothing; counted as an error
		// packet, so that every frame read is a record, an unknown or an
		// error packet.
		d.context(meta, nil, true)
		return Failed, EmptyFrame
	}
	if d.expect != nil && meta.Expected == nil {
		if seg, ok := flowhash.TCP(data, link); ok {
			meta.Expected, _, _ = d.expect.Packet(&seg, 0, meta.Timestamp)
		}
	}
	typ := FirstLayer(link, data)
	st = Decoded
	for len(data) > 0 {
		if typ == gopacket.LayerTypeFragment {
			// An IP fragment: the datagram's payload if this one
			// completes it (decoded here, at the last fragment's frame,
			// as tshark shows it), else the chain ends.
			typ, data = d.defragment(data, meta)
			continue
		}
		if terminal(typ) {
			break
		}
		if len(d.chain) == maxLayers {
			st, reason = Failed, fmt.Sprintf("more than %d layers", maxLayers)
			break
		}
		l, ok := d.instance(typ)
		if !ok {
			st, reason = Unknown, d.unknownReason(typ, link)
			break
		}
		if err := decodeLayer(l, data, &d.df); err != nil {
			st, reason = Failed, fmt.Sprintf("%v: %v", typ, err)
			break
		}
		d.chain = append(d.chain, chainEntry{typ, l})
		if bad := badIPVersion(l); bad != "" {
			// gopacket decodes an IP header whatever its version nibble
			// says; what follows a header of the wrong version is not
			// what its protocol field claims, so stop, as tshark does.
			st, reason = Failed, bad
			break
		}
		next := l.NextLayerType()
		switch typ {
		case layers.LayerTypeTCP:
			next = d.ports.afterTCP(l.(*layers.TCP), next)
		case layers.LayerTypeUDP:
			next = d.ports.afterUDP(l.(*layers.UDP), next)
		case layers.LayerTypeGRE:
			// ERSPAN type I has no header of its own: the mirrored
			// frame follows GRE directly, which has no sequence number
			// then (type II and III have one).
			if g := l.(*layers.GRE); g.Protocol == layers.EthernetTypeERSPAN && !g.SeqPresent {
				next = layers.LayerTypeEthernet
			}
		case layers.LayerTypeSCTP:
			// gopacket names SIP or Diameter after the header by port,
			// but chunks follow it, the messages inside DATA chunks.
			next = gopacket.LayerTypePayload
		}
		typ, data = next, l.LayerPayload()
	}
	mine := !meta.NotOwner
	if d.decided {
		mine = d.mine
	}
	if !mine {
		// Another worker makes this packet's records: the owner of the
		// fragment (its IP pair and protocol) when the chain ends at it, the
		// owner of the datagram's flow when it goes on.
		meta.Skipped = true
		return Decoded, ""
	}
	// A tunnel carries a packet of its own: from the layer after it on,
	// records get the inner packet's context and flow, so that an inner TCP
	// record names the inner hosts and joins the inner connection. The
	// tunnel's own records and the layer flows (MAC, IP and port pairs)
	// keep the outer packet's.
	start, depth := 0, uint8(0)
	d.stamp.s, d.stamp.p = s, meta
	for i := 1; i <= len(d.chain); i++ {
		if i < len(d.chain) && !tunnelStart(d.chain, start, i) {
			continue
		}
		seg := d.chain[start:i]
		d.context(meta, seg, start == 0)
		if d.conns != nil {
			d.view.read(seg)
			d.view.depth = depth
			d.conns.packet(&d.view, meta, s)
		}
		depth++
		for _, e := range seg {
			for _, dec := range d.layers.get(e.typ).protocolDecoders() {
				if err := runDecoder(dec, e.l, meta, &d.stamp); err != nil && st != Failed {
					st, reason = Failed, fmt.Sprintf("%v record: %v", e.typ, err)
				}
			}
		}
		start = i
	}
	// The caller's sink and packet are not kept past the call.
	d.stamp.s, d.stamp.p = nil, nil
	if len(d.chain) == 0 {
		d.context(meta, nil, true)
	}
	return st, reason
}

// tunnelStart reports whether chain[i] begins a packet carried inside the
// packet that starts at chain[start]: the layer after a GRE, VXLAN, Geneve
// or EtherIP header, or an IP header in a packet that already has one (IP
// in IP, 6in4, MPLS over UDP or GRE).
func tunnelStart(chain []chainEntry, start, i int) bool {
	switch chain[i-1].typ {
	case layers.LayerTypeGRE, layers.LayerTypeVXLAN, layers.LayerTypeGeneve, layers.LayerTypeEtherIP, layerTypeTeredo:
		return true
	}
	if t := chain[i].typ; t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
		for _, e := range chain[start:i] {
			if e.typ == layers.LayerTypeIPv4 || e.typ == layers.LayerTypeIPv6 {
				return true
			}
		}
	}
	return false
}

// badIPVersion names an IP header whose version nibble contradicts the
// layer it was decoded as (an EtherType of IPv6 on an IPv4 header, or 0).
func badIPVersion(l gopacket.DecodingLayer) string {
	switch ip := l.(type) {
	case *layers.IPv4:
		if ip.Version != 4 {
			return fmt.Sprintf("IPv4: header has version %d", ip.Version)
		}
	case *layers.IPv6:
		if ip.Version != 6 {
			return fmt.Sprintf("IPv6: header has version %d", ip.Version)
		}
	}
	return ""
}

// unknownReason names what could not be decoded: the link type for the first
// layer, the layer's name when gopacket knows it, or which layer carried bytes
// of an unknown type.
func (d *PacketDecoder) unknownReason(t gopacket.LayerType, link layers.LinkType) string {
	if len(d.chain) == 0 {
		return fmt.Sprintf("link type %d (%v)", int(link), link)
	}
	if t != gopacket.LayerTypeZero {
		return t.String()
	}
	prev := d.chain[len(d.chain)-1]
	// A layer of ours says itself what it could not follow.
	if r, ok := prev.l.(interface{ unknownReason() string }); ok {
		return r.unknownReason()
	}
	switch l := prev.l.(type) {
	case *layers.Ethernet:
		return fmt.Sprintf("EtherType 0x%04x", uint16(l.EthernetType))
	case *layers.Dot1Q:
		return fmt.Sprintf("EtherType 0x%04x", uint16(l.Type))
	case *layers.IPv4:
		return fmt.Sprintf("IP protocol %d", uint8(l.Protocol))
	case *layers.IPv6:
		return fmt.Sprintf("IP protocol %d", uint8(l.NextHeader))
	}
	return "unknown layer after " + prev.typ.String()
}

// instance returns a DecodingLayer for the next occurrence of t in the packet.
func (d *PacketDecoder) instance(t gopacket.LayerType) (gopacket.DecodingLayer, bool) {
	sl := d.layers.get(t)
	if sl == nil || sl.make == nil {
		return nil, false
	}
	// The occurrence number is how often t is already in the chain: the
	// chain is at most maxLayers long, cheaper to scan than a map to clear.
	n := 0
	for _, e := range d.chain {
		if e.typ == t {
			n++
		}
	}
	if n >= maxRepeat {
		return nil, false
	}
	if n < len(sl.instances) {
		return sl.instances[n], true
	}
	l := sl.make()
	sl.instances = append(sl.instances, l)
	return l, true
}

// layerSlot is what a decoder keeps per layer type: how to make the
// gopacket layer, the instances made (one per occurrence in a packet) and
// the protocol decoders that read it.
type layerSlot struct {
	make      func() gopacket.DecodingLayer
	instances []gopacket.DecodingLayer
	decoders  []Decoder
}

// protocolDecoders is nil-safe: a layer type may have no slot.
func (sl *layerSlot) protocolDecoders() []Decoder {
	if sl == nil {
		return nil
	}
	return sl.decoders
}

// denseLayers bounds the layer type numbers kept in a slice: gopacket's own
// and this package's (2190-2300) are below it; larger ones go to a map.
const denseLayers = 4096

// layerTable finds a layer type's slot with one slice index instead of two
// map lookups per layer (3 % of the CPU of a capture with all records).
type layerTable struct {
	dense [denseLayers]*layerSlot
	rest  map[gopacket.LayerType]*layerSlot
}

func (lt *layerTable) get(t gopacket.LayerType) *layerSlot {
	if uint(t) < denseLayers {
		return lt.dense[t]
	}
	return lt.rest[t]
}

// slot returns t's slot, making it when absent.
func (lt *layerTable) slot(t gopacket.LayerType) *layerSlot {
	if sl := lt.get(t); sl != nil {
		return sl
	}
	sl := &layerSlot{}
	if uint(t) < denseLayers {
		lt.dense[t] = sl
	} else {
		if lt.rest == nil {
			lt.rest = map[gopacket.LayerType]*layerSlot{}
		}
		lt.rest[t] = sl
	}
	return sl
}

// decodeLayer runs DecodeFromBytes and turns a panic inside gopacket into an
// error: gopacket does not protect direct DecodeFromBytes calls.
func decodeLayer(l gopacket.DecodingLayer, data []byte, df gopacket.DecodeFeedback) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in decoder: %v", r)
		}
	}()
	return l.DecodeFromBytes(data, df)
}

func runDecoder(dec Decoder, l gopacket.DecodingLayer, p *Packet, s Sink) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	dec.Decode(l, p, s)
	return nil
}

// context fills the packet context from the first network layer of the
// chain segment and the first transport layer after it. Only the outermost
// segment fills the endpoints of the layer-flow models.
func (d *PacketDecoder) context(p *Packet, seg []chainEntry, outer bool) {
	p.SrcIP, p.DstIP, p.SrcPort, p.DstPort, p.FlowID = "", "", 0, 0, ""
	ep := &p.Endpoints
	var inner Endpoints
	if outer {
		*ep = Endpoints{}
	} else {
		ep = &inner
	}
	network := false
	ports := func(proto uint8, sp, dp uint16) {
		p.SrcPort, p.DstPort = int32(sp), int32(dp)
		ep.HasPorts, ep.Proto, ep.SrcPort, ep.DstPort = true, proto, sp, dp
	}
	for _, e := range seg {
		switch l := e.l.(type) {
		case *layers.Ethernet:
			if !ep.HasMAC && !network && len(l.SrcMAC) == 6 && len(l.DstMAC) == 6 {
				ep.HasMAC = true
				copy(ep.SrcMAC[:], l.SrcMAC)
				copy(ep.DstMAC[:], l.DstMAC)
			}
		case *layers.IPv4:
			if !network {
				p.SrcIP, p.DstIP, network = d.strs.IP(l.SrcIP), d.strs.IP(l.DstIP), true
				d.ipEndpoints(ep, l.SrcIP, l.DstIP)
			}
		case *layers.IPv6:
			if !network {
				p.SrcIP, p.DstIP, network = d.strs.IP(l.SrcIP), d.strs.IP(l.DstIP), true
				d.ipEndpoints(ep, l.SrcIP, l.DstIP)
			}
		case *layers.TCP:
			ports(6, uint16(l.SrcPort), uint16(l.DstPort))
			return
		case *layers.UDP:
			ports(17, uint16(l.SrcPort), uint16(l.DstPort))
			return
		case *layers.SCTP:
			ports(132, uint16(l.SrcPort), uint16(l.DstPort))
			return
		}
	}
}

func (d *PacketDecoder) ipEndpoints(ep *Endpoints, src, dst []byte) {
	if len(src) != len(dst) || (len(src) != 4 && len(src) != 16) {
		return
	}
	ep.IPLen = uint8(len(src))
	copy(ep.SrcIP[:], src)
	copy(ep.DstIP[:], dst)
}

// Layers returns the layer types decoded from the last packet, outermost
// first (for tests).
func (d *PacketDecoder) Layers() []gopacket.LayerType {
	out := make([]gopacket.LayerType, len(d.chain))
	for i, e := range d.chain {
		out[i] = e.typ
	}
	return out
}

// Truncated reports whether a layer of the last packet was cut short.
func (d *PacketDecoder) Truncated() bool { return d.df.truncated }
