package decoder

import (
	"cmp"
	"maps"
	"slices"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/internal/flowhash"
)

// IP defragmentation: each worker reassembles the IPv4 (RFC 791) and IPv6
// (RFC 8200, fragment header) datagrams whose fragments it decodes, so that
// the transport and application layers of a fragmented datagram are decoded
// once, whole, at the frame of the fragment that completes it. That is what
// tshark does with its default preferences (ip.defragment and
// ipv6.defragment on): the fragments before it show no transport layer, the
// completing one shows the reassembled datagram. Every fragment still makes
// its own records up to its IP layer.
//
// Workers. The engine's flow hash (internal/flowhash) spreads flows over
// workers by addresses, protocol and ports; later fragments carry no ports,
// so the engine cannot know the worker of a fragment's flow. It hands every
// packet whose first IP header is a fragment to every worker
// (Packet.Shared), and every worker feeds it to its shared defragmenter:
// all of them see the same fragments in the same order at the same packet
// times (Tick), so their shared defragmenters hold the same datagrams, hit
// the same bounds and complete the same datagrams at the same frames. A
// fragment whose chain ends there (one that completes nothing) is recorded
// by the worker its own hash names (IP pair and protocol; the connection
// table keys such a fragment by no more). A fragment whose chain goes on (it
// completed a datagram, or is a first fragment decoded as it is) is
// recorded, all of it, by the worker of the datagram's flow: the hash of
// the IP header and the transport header after it, the worker that decodes
// the flow's unfragmented packets; the others drop it. So exactly one
// worker emits the packet's records (with Emit: the writer takes one
// worker's own records in emission order, then every worker's ordered
// ones), the datagram is accounted once, to the connection of its flow,
// and the records carry that connection's FlowID and ports, as with one
// worker. Fragments inside a tunnel travel in packets the engine routes by
// the outer header: they go to one worker, and its own defragmenter
// (d.defrag) reassembles them, as do fragments of a shared packet's inner
// datagram.
//
// The price: every worker holds every pending fragment of the shared kind
// (memory x workers, within the same DefragMemory bound each) and decodes
// every fragment up to its IP header. Fragments are rare (256 of the
// 25,838 packets of the shared corpus, in 32 of its 1,020 files), so this
// costs little: on afs.pcap, where 200 of 601 packets are fragments, a run
// takes 0.21 s with 1 worker and 0.25 s with 8 (on 2 cores), 18.7 and
// 20.7 MB resident.
//
// What is a fragment, and the key of its datagram, follow Wireshark's IP
// dissectors (epan/dissectors/packet-ip.c, packet-ipv6.c, epan/reassemble.c):
//
//   - IPv4: (source, destination, protocol, identification), plus the VLAN
//     id when either address is private (RFC 1918) or link-local, as
//     Wireshark adds it there. Wireshark folds protocol, id and VLAN into
//     one 32-bit XOR; we keep them apart, which only differs when two
//     datagrams' XORs collide.
//   - IPv6: (source, destination, identification) of the fragment header
//     that follows the IPv6 header (or its hop-by-hop header).
//   - A fragment joins reassembly only when all of its bytes were captured
//     (and, for IPv4, its total length exceeds its header); otherwise it is
//     decoded as without reassembly: a first fragment's payload as its
//     protocol, a later fragment not at all.
//   - The datagram's length is set by the first fragment without the
//     more-fragments flag; a later one with another end changes nothing.
//   - The datagram is complete when the fragments cover it from offset 0
//     without a gap. Bytes are taken in fragment offset order: where
//     fragments overlap, a byte comes from the fragment with the lowest
//     offset, between equal offsets from the one that arrived first
//     (Wireshark copies the sorted fragments, each only beyond what the
//     previous ones covered). Bytes beyond the datagram's length are
//     dropped.
//   - A complete datagram leaves the table: a fragment with the same key
//     arriving later starts a new datagram, as in Wireshark's single pass.
//   - The next header of an IPv6 datagram is that of its offset-0 fragment
//     (RFC 8200 4.5).
//
// Wireshark has no limits; we do, and count what they drop (Stats):
//   - a datagram larger than 65535 bytes of IP payload (the largest an IP
//     header can describe) is dropped at the fragment that makes it so,
//     as Linux does (ip_fragment.c; the "ping of death");
//   - a datagram not completed DefragTimeout after its first fragment (in
//     packet time, like Linux's ipfrag_time, 30 s, and Suricata's defrag
//     timeout) is dropped: nothing of its transport layer is decoded;
//   - at most DefragMaxDatagrams datagrams and DefragMemory bytes are
//     pending per worker; beyond, the oldest datagram is dropped. The bytes
//     are counted as allocated: the fragments' data and the bookkeeping of
//     their datagram (see datagram.size).
//
// Each fragment costs O(log n) in the fragments of its datagram, whatever
// the order they arrive in: the pieces are kept in arrival order, a Fenwick
// tree over their offsets tells how far the pieces at or before an offset
// reach (which says whether a new fragment adds anything, and how far the
// datagram is complete), and the pieces are sorted once, when the datagram
// is complete.

func init() {
	// The chain walks through an IPv6 fragment header: to the fragment's
	// bytes (gopacket.LayerTypeFragment), or, for an atomic fragment
	// (offset 0, no more fragments), to the header it names.
	RegisterLayer(layers.LayerTypeIPv6Fragment, func() gopacket.DecodingLayer { return &layers.IPv6Fragment{} })
}

// maxDatagramPayload is the most IP payload a reassembled datagram may hold:
// IPv4's total length and IPv6's payload length are 16-bit fields.
const maxDatagramPayload = 65535

// maxHeldPerDatagram bounds the bytes one datagram may hold, overlapping
// fragments included (exact duplicates are not kept).
const maxHeldPerDatagram = 2 * maxDatagramPayload

type fragKey struct {
	src, dst [16]byte
	id       uint32
	vlan     uint16
	proto    uint8 // IPv4 only
	v6       bool
}

// fragPiece is one fragment's bytes: [off, end) of the datagram's payload,
// held at buf[at:at+end-off] of its datagram.
type fragPiece struct {
	off, end, at int
}

type datagram struct {
	key     fragKey
	created int64
	total   int // payload length, -1 until a last fragment is seen
	next    uint8
	covered int         // the payload is complete from 0 up to here
	pieces  []fragPiece // in arrival order; never empty ones
	reach   reachTree   // nil while there are at most linearPieces pieces
	buf     []byte
	memory  int64 // what size returned when last counted in the defragmenter's held
	lruLinks[datagram]
}

// Sizes of the bookkeeping, for datagram.size. A pending datagram also
// takes an entry of the defragmenter's map: a slot holds the key and the
// pointer, and the table is between 3/7 and 7/8 full between growths, so an
// entry costs about two slots.
const (
	datagramSize = int64(unsafe.Sizeof(datagram{}))
	pieceSize    = int64(unsafe.Sizeof(fragPiece{}))
	mapEntrySize = 2 * int64(unsafe.Sizeof(fragKey{})+unsafe.Sizeof((*datagram)(nil)))
)

// size is what the datagram holds as allocated: its struct, its map entry,
// its buffer, its pieces and its tree (capacities: append rounds them as
// the allocator does).
func (d *datagram) size() int64 {
	return datagramSize + mapEntrySize + int64(cap(d.buf)) + int64(cap(d.pieces))*pieceSize + int64(cap(d.reach))*2
}

// linearPieces: up to this many pieces, reachAt scans them; beyond, the
// datagram gets a reachTree.
const linearPieces = 32

// reachTree is a Fenwick tree over fragment offsets in 8-byte units (IPv4
// and IPv6 both count fragment offsets so), holding maxima of piece ends:
// upTo(off) is the furthest end of the pieces that start at or before off,
// in O(log n), and raise adds a piece in O(log n). Ends fit in 16 bits
// (at most maxDatagramPayload); 0 means no piece.
type reachTree []uint16

// reachSlots: offsets 0 to 65528 in 8-byte units, from index 1.
const reachSlots = maxDatagramPayload/8 + 2

func (r reachTree) raise(off, end int) {
	for i := off/8 + 1; i < len(r); i += i & -i {
		r[i] = max(r[i], uint16(end))
	}
}

func (r reachTree) upTo(off int) int {
	m := 0
	for i := min(off/8+1, len(r)-1); i > 0; i -= i & -i {
		m = max(m, int(r[i]))
	}
	return m
}

// reachAt is the furthest end of d's pieces that start at or before off
// (0 when none do).
func (d *datagram) reachAt(off int) int {
	if d.reach != nil {
		return d.reach.upTo(off)
	}
	m := 0
	for _, p := range d.pieces {
		if p.off <= off {
			m = max(m, p.end)
		}
	}
	return m
}

func datagramLinks(d *datagram) *lruLinks[datagram] { return &d.lruLinks }

// DefragStats are the defragmenter's counters.
type defragStats struct {
	reassembled, timedOut, evicted, oversize, pendingPeak int64
}

type defragmenter struct {
	timeout      int64
	maxDatagrams int
	maxBytes     int64
	m            map[fragKey]*datagram
	order        lruList[datagram] // by creation: the oldest at the head
	held         int64             // memory of the pending datagrams (datagram.size)
	clock        int64
	outs         [][]byte // reassembled payloads, one per nesting level of a packet
	free         []*datagram
	deleted      int // datagrams deleted from m since it was made
	stats        defragStats
}

func newDefragmenter(o Options) *defragmenter {
	f := &defragmenter{
		timeout:      int64(o.DefragTimeout),
		maxDatagrams: o.DefragMaxDatagrams,
		maxBytes:     o.DefragMemory,
		m:            map[fragKey]*datagram{},
	}
	f.order.links = datagramLinks
	return f
}

// add takes one fragment (payload bytes [off, off+len(data)) of its datagram;
// more is the more-fragments flag) at packet time ts. next is the protocol
// the fragment names (IPv6: its fragment header's next header). limit is the
// largest payload the datagram may reach. When the fragment completes its
// datagram, add returns the datagram's payload (valid until the next call)
// and protocol. slot numbers the datagrams completed by one packet (IP in
// IP): the layers decoded from one must stay valid while the next is built.
func (f *defragmenter) add(k *fragKey, off int, more bool, data []byte, next uint8, limit int, ts int64, slot int) ([]byte, uint8, bool) {
	f.expire(ts)
	end := off + len(data)
	d := f.m[*k]
	if d != nil && f.timeout > 0 && ts-d.created > f.timeout {
		// Time went back, or the sweep has not run: the same rule.
		f.stats.timedOut++
		f.drop(d)
		d = nil
	}
	if end > limit || end > maxDatagramPayload {
		f.stats.oversize++
		if d != nil {
			f.drop(d)
		}
		return nil, 0, false
	}
	if d == nil {
		if f.maxDatagrams > 0 && len(f.m) >= f.maxDatagrams {
			f.stats.evicted++
			f.drop(f.order.head)
		}
		d = f.newDatagram(k, max(ts, f.clock))
	}
	if !more && d.total < 0 {
		d.total = end
	}
	if off == 0 {
		d.next = next
	}
	if !f.keep(d, off, end, data) {
		return nil, 0, false
	}
	// Within DefragMemory: the oldest other datagrams make room.
	for f.maxBytes > 0 && f.held > f.maxBytes && f.order.head != nil && f.order.head != d {
		f.stats.evicted++
		f.drop(f.order.head)
	}
	if d.total < 0 || d.covered < d.total {
		return nil, 0, false
	}
	out := f.assemble(d, slot)
	nh := d.next
	f.stats.reassembled++
	f.drop(d)
	return out, nh, true
}

// keep adds a fragment's bytes to d, unless it has none or fragments
// already there, which win over it, cover them all. It reports false when
// d was dropped.
func (f *defragmenter) keep(d *datagram, off, end int, data []byte) bool {
	// The pieces that win over the new one are those with an offset up
	// to its own; they all start at or before it, so they cover it when
	// one of them reaches its end. (An empty piece would add nothing to
	// the datagram either.)
	if end == off || d.reachAt(off) >= end {
		return true
	}
	n := len(data)
	if len(d.buf)+n > maxHeldPerDatagram {
		f.stats.evicted++
		f.drop(d)
		return false
	}
	d.pieces = append(d.pieces, fragPiece{off: off, end: end, at: len(d.buf)})
	d.buf = append(d.buf, data...)
	switch {
	case d.reach != nil:
		d.reach.raise(off, end)
	case len(d.pieces) > linearPieces:
		d.reach = make(reachTree, reachSlots)
		for _, p := range d.pieces {
			d.reach.raise(p.off, p.end)
		}
	}
	for {
		r := d.reachAt(d.covered)
		if r <= d.covered {
			break
		}
		d.covered = r
	}
	f.account(d)
	return true
}

// account brings f.held up to date with what d holds now.
func (f *defragmenter) account(d *datagram) {
	m := d.size()
	f.held += m - d.memory
	d.memory = m
}

// memory returns the bytes the pending datagrams hold, as allocated: their
// fragments' data and their bookkeeping. It is what Options.DefragMemory
// bounds. (Up to freeKept dropped datagrams wait for reuse besides, with
// their small buffers.)
func (f *defragmenter) memory() int64 { return f.held }

// assemble copies the pieces in offset order (equal offsets in arrival
// order), each beyond what the ones before it covered.
func (f *defragmenter) assemble(d *datagram, slot int) []byte {
	slices.SortStableFunc(d.pieces, func(a, b fragPiece) int { return cmp.Compare(a.off, b.off) })
	for len(f.outs) <= slot {
		f.outs = append(f.outs, nil)
	}
	if cap(f.outs[slot]) < d.total {
		f.outs[slot] = make([]byte, d.total, max(d.total, 2048))
	}
	out := f.outs[slot][:d.total]
	pos := 0
	for _, p := range d.pieces {
		if pos >= d.total {
			break
		}
		if p.end <= pos {
			continue
		}
		from := max(p.off, pos)
		to := min(p.end, d.total)
		copy(out[from:to], d.buf[p.at+from-p.off:])
		pos = max(pos, to)
	}
	return out
}

func (f *defragmenter) newDatagram(k *fragKey, ts int64) *datagram {
	var d *datagram
	if n := len(f.free); n > 0 {
		d, f.free = f.free[n-1], f.free[:n-1]
	} else {
		d = &datagram{}
	}
	d.key, d.created, d.total, d.next, d.covered = *k, ts, -1, 0, 0
	f.m[*k] = d
	f.order.pushBack(d)
	f.account(d)
	if n := int64(len(f.m)); n > f.stats.pendingPeak {
		f.stats.pendingPeak = n
	}
	return d
}

// freeKept bounds the datagrams kept for reuse; freeBufKept and
// freePiecesKept the buffers they keep.
const (
	freeKept       = 64
	freeBufKept    = 2048
	freePiecesKept = 8
)

func (f *defragmenter) drop(d *datagram) {
	delete(f.m, d.key)
	f.deleted++
	if f.deleted > 4*len(f.m)+1024 {
		// A Go map never gives room back, and one that keeps losing
		// old keys and taking new ones grows on: a copy holds the
		// entries in the room they need (maps.Clone would copy the
		// room too).
		m := make(map[fragKey]*datagram, len(f.m))
		maps.Copy(m, f.m)
		f.m, f.deleted = m, 0
	}
	f.order.remove(d)
	f.held -= d.memory
	d.memory = 0
	d.pieces, d.buf, d.reach = d.pieces[:0], d.buf[:0], nil
	if cap(d.buf) > freeBufKept {
		d.buf = nil
	}
	if cap(d.pieces) > freePiecesKept {
		d.pieces = nil
	}
	if len(f.free) < freeKept {
		f.free = append(f.free, d)
	}
}

// expire drops the datagrams not completed within the timeout of packet
// time ts (the clock never goes back).
func (f *defragmenter) expire(ts int64) {
	if ts > f.clock {
		f.clock = ts
	}
	if f.timeout <= 0 {
		return
	}
	for d := f.order.head; d != nil && f.clock-d.created > f.timeout; d = f.order.head {
		f.stats.timedOut++
		f.drop(d)
	}
}

// flush drops every pending datagram: the input is over, they stay
// incomplete.
func (f *defragmenter) flush() {
	for d := f.order.head; d != nil; d = f.order.head {
		f.stats.timedOut++
		f.drop(d)
	}
}

// privateOrLinkLocal4 says whether Wireshark puts the VLAN id in the key of
// a datagram with this IPv4 address: RFC 1918 and 169.254/16.
func privateOrLinkLocal4(a []byte) bool {
	return a[0] == 10 || a[0] == 172 && a[1]&0xf0 == 16 || a[0] == 192 && a[1] == 168 || a[0] == 169 && a[1] == 254
}

// defragment is called by the layer loop when the chain reaches a
// fragment's payload. It returns the layer to continue with and its bytes:
// the reassembled datagram's payload when this fragment completes it, a
// first fragment's own payload when it cannot join reassembly, and
// gopacket.LayerTypeFragment (which ends the chain) otherwise.
func (d *PacketDecoder) defragment(data []byte, meta *Packet) (gopacket.LayerType, []byte) {
	f := d.defrag
	decide := meta.Shared && d.fragments == 0
	d.fragments++
	if decide && f != nil {
		f = d.shared
	}
	typ, out, h := d.defragmentWith(f, data, meta)
	if decide && typ != gopacket.LayerTypeFragment {
		// The engine gave this fragment to every worker; the datagram's
		// transport layer and what follows belong to the flow's worker.
		d.decided, d.mine = true, d.owns(h)
		if !d.mine {
			return gopacket.LayerTypeFragment, nil
		}
	}
	return typ, out
}

// defragmentWith is defragment with the defragmenter f (nil: no
// reassembly). When the chain goes on, h is the flow hash of the datagram
// (internal/flowhash.Datagram): that of the IP header and the bytes after
// it, as the engine hashes an unfragmented packet of the same flow.
func (d *PacketDecoder) defragmentWith(f *defragmenter, data []byte, meta *Packet) (typ gopacket.LayerType, out []byte, h uint64) {
	n := len(d.chain)
	if n == 0 {
		return gopacket.LayerTypeFragment, nil, 0
	}
	var k fragKey
	var off, limit int
	var more bool
	var next uint8
	var src, dst []byte
	switch l := d.chain[n-1].l.(type) {
	case *layers.IPv4:
		if len(l.SrcIP) != 4 || len(l.DstIP) != 4 {
			return gopacket.LayerTypeFragment, nil, 0
		}
		off, more, next = int(l.FragOffset)*8, l.Flags&layers.IPv4MoreFragments != 0, uint8(l.Protocol)
		hl := int(l.IHL) * 4
		if f == nil || int(l.Length) <= hl || len(l.Payload) != int(l.Length)-hl {
			typ, out = firstFragment(off, l.Protocol.LayerType(), data)
			return typ, out, flowhash.Datagram(l.SrcIP, l.DstIP, next, out)
		}
		src, dst = l.SrcIP, l.DstIP
		copy(k.src[:], src)
		copy(k.dst[:], dst)
		k.id, k.proto = uint32(l.Id), next
		if privateOrLinkLocal4(l.SrcIP) || privateOrLinkLocal4(l.DstIP) {
			k.vlan = d.vlanID()
		}
		limit = maxDatagramPayload - hl
	case *layers.IPv6Fragment:
		if n < 2 {
			return gopacket.LayerTypeFragment, nil, 0
		}
		ip, ok := d.chain[n-2].l.(*layers.IPv6)
		if !ok || len(ip.SrcIP) != 16 || len(ip.DstIP) != 16 {
			return gopacket.LayerTypeFragment, nil, 0
		}
		off, more, next = int(l.FragmentOffset)*8, l.MoreFragments, uint8(l.NextHeader)
		hbh := 0
		if ip.HopByHop != nil {
			hbh = ip.HopByHop.ActualLength
		}
		if f == nil || ip.Length == 0 || len(ip.Payload)+hbh != int(ip.Length) {
			typ, out = firstFragment(off, l.NextHeader.LayerType(), data)
			return typ, out, flowhash.Datagram(ip.SrcIP, ip.DstIP, next, out)
		}
		src, dst = ip.SrcIP, ip.DstIP
		copy(k.src[:], src)
		copy(k.dst[:], dst)
		k.id, k.v6 = l.Identification, true
		limit = maxDatagramPayload - hbh
	default:
		return gopacket.LayerTypeFragment, nil, 0
	}
	out, proto, ok := f.add(&k, off, more, data, next, limit, meta.Timestamp, d.reassembled)
	if !ok {
		return gopacket.LayerTypeFragment, nil, 0
	}
	d.reassembled++
	// The connection table keys the datagram by its transport header's
	// protocol and ports when it has one, else by the protocol the
	// completing fragment names (IPv4: the same for all fragments, it is
	// in the key); so does the hash.
	hp := next
	if proto == 6 || proto == 17 || proto == 132 {
		hp = proto
	}
	h = flowhash.Datagram(src, dst, hp, out)
	if len(out) == 0 {
		return gopacket.LayerTypePayload, nil, h
	}
	return nextAfterIP(layers.IPProtocol(proto), k.v6), out, h
}

// firstFragment: without reassembly, the first fragment's payload is decoded
// as what its protocol says, as tshark does; later fragments are not.
func firstFragment(off int, t gopacket.LayerType, data []byte) (gopacket.LayerType, []byte) {
	if off != 0 {
		return gopacket.LayerTypeFragment, nil
	}
	return t, data
}

// nextAfterIP is the layer a reassembled datagram's payload starts with.
func nextAfterIP(p layers.IPProtocol, v6 bool) gopacket.LayerType {
	t := p.LayerType()
	if !v6 && layers.LayerClassIPv6Extension.Contains(t) {
		return gopacket.LayerTypeZero // as gopacket's IPv4 says
	}
	return t
}

// vlanID is the id of the innermost VLAN tag before the network layer, as
// Wireshark's pinfo->vlan_id.
func (d *PacketDecoder) vlanID() uint16 {
	var id uint16
	for _, e := range d.chain {
		if q, ok := e.l.(*layers.Dot1Q); ok {
			id = q.VLANIdentifier
		}
	}
	return id
}
