package decoder

import (
	"bytes"
	"encoding/binary"
	"io"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// One fuzz target per protocol decoder. Each target feeds the fuzz bytes to
// PacketDecoder.Decode as the bytes of its layer: the layers below it (an
// Ethernet, IPv4, IPv6 or UDP header with correct lengths) are built in code,
// so that the fuzzer spends its time inside the layer under test and not in
// getting past the headers below it. Seeds are packets of the protocol taken
// from the shared captures at test time, plus a few packets built in code.
//
// Besides "no panic", every input must keep these invariants:
//   - Decode returns Decoded with no reason, or Unknown/Failed with one;
//   - the layers below the fuzz bytes decode as built;
//   - every emitted record is of the message type its Type names, marshals
//     (so its strings are valid UTF-8), carries the packet's frame number and
//     timestamp, and no bytes field, list, or PayloadSize is larger than the
//     frame; PayloadEntropy is within 0..8 bits;
//   - the layer under test gives exactly one record per occurrence in the
//     chain (unless its decoder failed);
//   - the input bytes are not modified;
//   - two decoders that decoded different packets before give the same
//     records (no state leaks from one packet to the next).

// fuzzMax caps the fuzz input: no link layer carries more than 64 KiB, and
// longer inputs only slow the fuzzer down without reaching new code.
const fuzzMax = 65000

// fuzzTarget says how the fuzz bytes become a frame.
type fuzzTarget struct {
	layer gopacket.LayerType
	rec   types.Type
	link  layers.LinkType
	below []gopacket.LayerType // layers the wrapper builds under the fuzz bytes
	wrap  func(b []byte) []byte
	max   int
	built func() [][]byte // seeds built in code: bytes of the layer and above
}

var (
	macA = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macB = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	ip4A = net.IP{192, 0, 2, 1}
	ip4B = net.IP{198, 51, 100, 7}
	ip6A = net.ParseIP("2001:db8::1")
	ip6B = net.ParseIP("2001:db8::2")
)

// ethHeader is an Ethernet II header; typ may also be an 802.3 length.
func ethHeader(typ uint16) []byte {
	b := make([]byte, 14)
	copy(b, macB)
	copy(b[6:], macA)
	binary.BigEndian.PutUint16(b[12:], typ)
	return b
}

// ipv4Header is a 20-byte IPv4 header for a payload of n bytes.
func ipv4Header(proto byte, n int) []byte {
	b := make([]byte, 20)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+n))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	b[8] = 64
	b[9] = proto
	copy(b[12:], ip4A.To4())
	copy(b[16:], ip4B.To4())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	return b
}

// ipv6Header is a 40-byte IPv6 header for a payload of n bytes.
func ipv6Header(next byte, n int) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(n))
	b[6] = next
	b[7] = 64
	copy(b[8:], ip6A)
	copy(b[24:], ip6B)
	return b
}

// udpHeader is a UDP header for a payload of n bytes (checksum 0: none).
func udpHeader(src, dst uint16, n int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b, src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(8+n))
	return b
}

// inetSum is the Internet checksum of b (RFC 1071).
func inetSum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// udp4 is an IPv4 UDP datagram from ip4A to ip4B.
func udp4(src, dst uint16, payload []byte) []byte {
	return cat(ipv4Header(17, 8+len(payload)), udpHeader(src, dst, len(payload)), payload)
}

// tcp4 is an IPv4 TCP segment (PSH, ACK) from ip4A to ip4B.
func tcp4(src, dst uint16, payload []byte) []byte {
	return cat(ipv4Header(6, 20+len(payload)), tcpHeader(src, dst), payload)
}

// icmp4Echo is an IPv4 ICMP echo request from ip4A to ip4B with 32 bytes
// of data.
func icmp4Echo(id, seq uint16) []byte {
	m := make([]byte, 8, 40)
	m[0] = 8 // echo request
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	for i := range 32 {
		m = append(m, byte('a'+i%26))
	}
	binary.BigEndian.PutUint16(m[2:], inetSum(m))
	return cat(ipv4Header(1, len(m)), m)
}

// dnsQuery is a DNS query for name (type A).
func dnsQuery(id uint16, name string) []byte {
	return serialize(&layers.DNS{ID: id, RD: true, QDCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}})
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func overEthernet(typ uint16) func([]byte) []byte {
	return func(b []byte) []byte { return cat(ethHeader(typ), b) }
}

func overIPv4(proto byte) func([]byte) []byte {
	return func(b []byte) []byte { return cat(ethHeader(0x0800), ipv4Header(proto, len(b)), b) }
}

func overUDP4(src, dst uint16) func([]byte) []byte {
	return func(b []byte) []byte {
		return cat(ethHeader(0x0800), ipv4Header(17, 8+len(b)), udpHeader(src, dst, len(b)), b)
	}
}

// serialize builds a layer stack with gopacket, lengths fixed.
func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	etherLinkStack = []gopacket.LayerType{layers.LayerTypeEthernet}
	ipv4Stack      = []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4}
	udp4Stack      = []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeUDP}
)

// fuzzTargets are the protocols' fuzz targets, by protocol name; each
// protocol's test file adds its own (addProtocolTest).
var fuzzTargets = map[string]*fuzzTarget{}

// tcpHeader is a 20-byte TCP header (PSH, ACK) for a segment.
func tcpHeader(src, dst uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint32(b[4:], 1000)
	binary.BigEndian.PutUint32(b[8:], 2000)
	b[12] = 5 << 4
	b[13] = 0x18
	binary.BigEndian.PutUint16(b[14:], 8192)
	return b
}

func overTCP4(src, dst uint16) func([]byte) []byte {
	return func(b []byte) []byte {
		return cat(ethHeader(0x0800), ipv4Header(6, 20+len(b)), tcpHeader(src, dst), b)
	}
}

// enipSendRRData is an EtherNet/IP SendRRData header whose unconnected data
// item carries n bytes of CIP.
func enipSendRRData(n int) []byte {
	b := make([]byte, 40)
	binary.LittleEndian.PutUint16(b, 0x6f)
	binary.LittleEndian.PutUint16(b[2:], uint16(16+n))
	binary.LittleEndian.PutUint32(b[4:], 0x11223344) // session handle
	binary.LittleEndian.PutUint16(b[30:], 2)         // item count
	binary.LittleEndian.PutUint16(b[36:], 0xb2)      // unconnected data item
	binary.LittleEndian.PutUint16(b[38:], uint16(n))
	return b
}

var (
	tcp4Stack   = []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeTCP}
	ospfv2Hello = cat([]byte{2, 1, 0, 48, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		[]byte{255, 255, 255, 0, 0, 10, 0x12, 1, 0, 0, 0, 40, 10, 0, 0, 1, 0, 0, 0, 0, 10, 0, 0, 2})
	ospfv3Hello = []byte{3, 1, 0, 40, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 0, 5, 1, 0, 0, 0x13, 0, 10, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2}
)

// packetRecords enables the records made from single packets, those of the
// registered protocols. The flow and stream records stay off: they carry
// state from one input to the next (they have fuzz targets of their own,
// and FuzzPipeline runs everything), while these targets check what must
// hold for every single packet.
func packetRecords(t types.Type) bool {
	for _, p := range protocols {
		for _, r := range p.Records {
			if r == t {
				return true
			}
		}
	}
	return false
}

func fuzzLayer(f *testing.F, name string) {
	tg := fuzzTargets[name]
	for _, s := range tg.built() {
		f.Add(s)
	}
	for _, s := range corpusSeeds()[tg.layer] {
		f.Add(s)
	}
	d := newFuzzDecoders()
	f.Fuzz(func(t *testing.T, b []byte) {
		// An empty layer has nothing to decode (and an IPv6 header with
		// payload length 0 announces a jumbogram, which is not what the
		// wrapper means to build).
		if len(b) == 0 || len(b) > tg.max {
			return
		}
		checkFrame(t, tg, d, tg.wrap(b), len(b))
	})
}

// fuzzNames are the protocols with a fuzz target of their own, in the
// registry's order (by name).
func fuzzNames() []string {
	var out []string
	for _, p := range Protocols() {
		if pt := protocolTests[p.Name]; pt != nil && pt.fuzz != nil {
			out = append(out, p.Name)
		}
	}
	return out
}

// FuzzProtocols fuzzes every registered protocol in one run: the first
// input byte picks the protocol (modulo their number, in the registry's
// order), the rest are the bytes of its layer, wrapped as its target says.
// A new protocol is fuzzed here as soon as its test file adds a target;
// FuzzX of a protocol's test file fuzzes that one alone. (Adding a protocol
// shifts which protocol an entry of this target's corpus picks.)
func FuzzProtocols(f *testing.F) {
	names := fuzzNames()
	seeds := corpusSeeds()
	for i, name := range names {
		tg := fuzzTargets[name]
		for _, s := range append(tg.built(), seeds[tg.layer]...) {
			f.Add(append([]byte{byte(i)}, s...))
		}
	}
	d := newFuzzDecoders()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		tg := fuzzTargets[names[int(b[0])%len(names)]]
		b = b[1:]
		if len(b) > tg.max {
			return
		}
		checkFrame(t, tg, d, tg.wrap(b), len(b))
	})
}

// fuzzDecoders are the two decoders a target keeps for all its inputs. The
// one under test decodes the inputs in turn, as a worker's decoder decodes
// the packets of a capture; the other decodes one of the frames built in
// code before each input. So the two have decoded different packets before
// every input, and a record that differs between them carries state from an
// earlier packet. (A decoder made afresh for each input would tell the same
// but costs more than the decoding itself.)
type fuzzDecoders struct {
	pd, other *PacketDecoder
	noise     []fuzzFrameIn
	n         int
}

type fuzzFrameIn struct {
	frame []byte
	link  layers.LinkType
}

func newFuzzDecoders() *fuzzDecoders {
	// Without defragmentation: a fragment completing a datagram that an
	// earlier input started would differ between the two decoders by
	// design. FuzzDefrag fuzzes the defragmenter.
	o := DefaultOptions()
	o.NoDefrag = true
	d := &fuzzDecoders{pd: NewPacketDecoder(packetRecords, o), other: NewPacketDecoder(packetRecords, o)}
	// DNS records are also made from TCP streams (dnstcp.go, fuzzed by
	// FuzzDNSTCP), which turns the flow table on; these targets check
	// single packets, so it stays off.
	d.pd.conns, d.other.conns = nil, nil
	for _, tg := range fuzzTargets {
		for _, s := range tg.built() {
			d.noise = append(d.noise, fuzzFrameIn{tg.wrap(s), tg.link})
		}
	}
	return d
}

// prepareOther has the other decoder decode the next noise frame.
func (d *fuzzDecoders) prepareOther() {
	in := d.noise[d.n%len(d.noise)]
	d.n++
	d.other.Decode(in.frame, in.link, &Packet{Frame: 1, Payloads: true, Entropy: true}, discard{})
}

const (
	fuzzFrame = 42
	fuzzTime  = 1_700_000_000_123_456_789
)

// emitted is a record as the sink saw it, marshalled right away because the
// decoder reuses the message.
type emitted struct {
	typ types.Type
	b   []byte
}

type checkSink struct {
	t     *testing.T
	frame int // frame length, the bound for sizes
	recs  []emitted
}

func (s *checkSink) Emit(typ types.Type, m proto.Message) {
	t := s.t
	t.Helper()
	want := "netcap." + types.Name(typ)
	if got := string(m.ProtoReflect().Descriptor().FullName()); got != want {
		t.Fatalf("record emitted as %v is a %s", typ, got)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("%v record does not marshal: %v", typ, err)
	}
	checkFields(t, typ, m.ProtoReflect(), s.frame, true)
	s.recs = append(s.recs, emitted{typ, b})
}

// checkFields walks a record and its sub-messages.
func checkFields(t *testing.T, typ types.Type, m protoreflect.Message, frame int, top bool) {
	t.Helper()
	fds := m.Descriptor().Fields()
	if top {
		if fd := fds.ByName("FrameNumber"); fd == nil || m.Get(fd).Int() != fuzzFrame {
			t.Fatalf("%v record: FrameNumber is not the packet's (%d)", typ, fuzzFrame)
		}
		if fd := fds.ByName("Timestamp"); fd == nil || m.Get(fd).Int() != fuzzTime {
			t.Fatalf("%v record: Timestamp is not the packet's (%d)", typ, fuzzTime)
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			if l.Len() > frame {
				t.Fatalf("%v record: %s has %d entries, more than the %d bytes of the frame", typ, fd.Name(), l.Len(), frame)
			}
			for i := 0; i < l.Len(); i++ {
				switch fd.Kind() {
				case protoreflect.MessageKind:
					checkFields(t, typ, l.Get(i).Message(), frame, false)
				case protoreflect.BytesKind:
					if n := len(l.Get(i).Bytes()); n > frame {
						t.Fatalf("%v record: %s[%d] holds %d bytes, the frame has %d", typ, fd.Name(), i, n, frame)
					}
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			checkFields(t, typ, v.Message(), frame, false)
		case fd.Kind() == protoreflect.BytesKind:
			if n := len(v.Bytes()); n > frame {
				t.Fatalf("%v record: %s holds %d bytes, the frame has %d", typ, fd.Name(), n, frame)
			}
		case fd.Name() == "PayloadSize" && typ != types.Type_NC_LCM: // LCM's is the announced message size, a wire field
			if n := v.Int(); n < 0 || n > int64(frame) {
				t.Fatalf("%v record: PayloadSize %d, the frame has %d bytes", typ, n, frame)
			}
		case fd.Name() == "PayloadEntropy":
			if e := v.Float(); math.IsNaN(e) || e < 0 || e > 8 {
				t.Fatalf("%v record: PayloadEntropy %v outside 0..8", typ, e)
			}
		}
		return true
	})
}

// checkFrame decodes one frame and checks the invariants; n is the number of
// fuzz bytes in it. It returns the records.
func checkFrame(t *testing.T, tg *fuzzTarget, d *fuzzDecoders, frame []byte, n int) []emitted {
	t.Helper()
	orig := bytes.Clone(frame)
	decode := func(pd *PacketDecoder) (Status, string, []emitted) {
		meta := Packet{Frame: fuzzFrame, Timestamp: fuzzTime, CaptureLength: len(frame), Length: len(frame), Payloads: true, Entropy: true}
		s := &checkSink{t: t, frame: len(frame)}
		st, reason := pd.Decode(frame, tg.link, &meta, s)
		return st, reason, s.recs
	}
	st, reason, recs := decode(d.pd)
	switch {
	case st == Decoded && reason != "":
		t.Fatalf("status Decoded with a reason: %q", reason)
	case (st == Unknown || st == Failed) && reason == "":
		t.Fatalf("status %d without a reason", st)
	case st > Failed:
		t.Fatalf("invalid status %d (%q)", st, reason)
	}
	if !bytes.Equal(frame, orig) {
		t.Fatalf("Decode modified its input")
	}
	chain := d.pd.Layers()
	for i, l := range tg.below {
		if i >= len(chain) || chain[i] != l {
			t.Fatalf("the layers built under the fuzz bytes did not decode: got %v, want %v first (%d %q)", chain, tg.below, st, reason)
		}
	}
	occurrences, records := 0, 0
	for _, l := range chain {
		if l == tg.layer {
			occurrences++
		}
	}
	for _, r := range recs {
		if r.typ == tg.rec {
			records++
		}
	}
	if n > 0 && st == Decoded && occurrences == 0 {
		t.Fatalf("packet decoded without reaching %v: %v", tg.layer, chain)
	}
	if records != occurrences && !(st == Failed && strings.Contains(reason, " record: ")) {
		t.Fatalf("%d %v layers gave %d %v records (status %d %q)", occurrences, tg.layer, records, tg.rec, st, reason)
	}

	// A decoder with another history must give the same.
	d.prepareOther()
	st2, reason2, recs2 := decode(d.other)
	if st2 != st || reason2 != reason || len(recs2) != len(recs) {
		t.Fatalf("decoder under test: status %d %q, %d records; other decoder: %d %q, %d records", st, reason, len(recs), st2, reason2, len(recs2))
	}
	for i := range recs {
		if recs[i].typ != recs2[i].typ || !bytes.Equal(recs[i].b, recs2[i].b) {
			t.Fatalf("record %d (%v) differs between two decoders that decoded different packets before", i, recs[i].typ)
		}
	}
	return recs
}

// TestFuzzHarness checks that every target's wrapper reaches its layer with
// the seeds built in code, so that the fuzzers test what they are named after.
func TestFuzzHarness(t *testing.T) {
	fuzzed := map[gopacket.LayerType]bool{}
	for _, tg := range fuzzTargets {
		fuzzed[tg.layer] = true
	}
	for _, p := range protocols {
		// The ICMPv6 message bodies are reached through FuzzICMPv6.
		if !fuzzed[p.Layer] && !strings.HasPrefix(p.Name, "ICMPv6") {
			t.Errorf("protocol %s (layer %v) has no fuzz target (addProtocolTest in its test file)", p.Name, p.Layer)
		}
	}
	d := newFuzzDecoders()
	for name, tg := range fuzzTargets {
		for i, s := range tg.built() {
			recs := checkFrame(t, tg, d, tg.wrap(s), len(s))
			// A decoder that decoded nothing before gives the same.
			fresh := checkFrame(t, tg, newFuzzDecoders(), tg.wrap(s), len(s))
			for j := range recs {
				if j >= len(fresh) || !bytes.Equal(recs[j].b, fresh[j].b) {
					t.Errorf("%s: built seed %d: record %d (%v) differs from a fresh decoder's", name, i, j, recs[j].typ)
				}
			}
			found := false
			for _, l := range d.pd.Layers() {
				found = found || l == tg.layer
			}
			if !found {
				t.Errorf("%s: built seed %d does not reach %v: %v", name, i, tg.layer, d.pd.Layers())
			}
		}
	}
}

// TestFuzzHarnessFirstBytes sets each of the first bytes of every seed
// built in code to every value: the invariants must hold for all of them.
// A fuzz byte that picks what the layers below decode as (a protocol
// number, an NLPID, a function code) must be fixed by the wrapper, else the
// fuzzer, drawing another value, finds the layer under test missing:
// FuzzISIS failed so in make test's short fuzz pass when its first byte was
// ES-IS's NLPID. Here such a wrapper fails every run, not one in hundreds.
func TestFuzzHarnessFirstBytes(t *testing.T) {
	const positions = 4
	d := newFuzzDecoders()
	for _, name := range slices.Sorted(maps.Keys(fuzzTargets)) {
		tg := fuzzTargets[name]
		t.Run(name, func(t *testing.T) {
			var si, i int
			var m []byte
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("input: built seed %d, byte %d set to %#x: %q", si, i, m[i], m)
				}
			})
			for s := range slices.Values(tg.built()) {
				for i = range min(len(s), positions) {
					m = bytes.Clone(s)
					for v := range 256 {
						m[i] = byte(v)
						checkFrame(t, tg, d, tg.wrap(m), len(m))
					}
				}
				si++
			}
		})
	}
}

// corpusDir is where the shared captures are, seen from this package.
const corpusDir = "../../shared/pcaps"

var (
	seedsOnce sync.Once
	seeds     map[gopacket.LayerType][][]byte
)

// corpusSeeds returns, for each fuzzed layer, the bytes of that layer and
// above from packets of the shared captures: at most one packet per capture
// and layer, so that the seeds come from as many captures as possible. It
// returns nothing when the captures are absent.
func corpusSeeds() map[gopacket.LayerType][][]byte {
	seedsOnce.Do(func() {
		seeds = map[gopacket.LayerType][][]byte{}
		want := map[gopacket.LayerType]int{}
		for _, tg := range fuzzTargets {
			want[tg.layer] = tg.max
		}
		const perLayer, maxSeed = 32, 2048
		pd := NewPacketDecoder(func(types.Type) bool { return false })
		filepath.WalkDir(corpusDir, func(path string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return nil
			}
			taken := map[gopacket.LayerType]bool{}
			eachPacket(path, 5000, func(data []byte, link layers.LinkType) {
				data = data[:len(data):len(data)]
				pd.Decode(data, link, &Packet{}, discard{})
				for _, e := range pd.chain {
					limit, ok := want[e.typ]
					if !ok || taken[e.typ] || len(seeds[e.typ]) >= perLayer {
						continue
					}
					l, ok := e.l.(gopacket.Layer)
					if !ok {
						continue
					}
					b := cat(l.LayerContents(), l.LayerPayload())
					if len(b) == 0 || len(b) > limit || len(b) > maxSeed {
						continue
					}
					taken[e.typ] = true
					seeds[e.typ] = append(seeds[e.typ], b)
				}
			})
			return nil
		})
	})
	return seeds
}

type discard struct{}

func (discard) Emit(types.Type, proto.Message) {}

// eachPacket calls fn for at most limit packets of a pcap or pcapng file,
// silently stopping at the first error.
func eachPacket(path string, limit int, fn func([]byte, layers.LinkType)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return
	}
	var next func() ([]byte, layers.LinkType, error)
	if binary.LittleEndian.Uint32(magic[:]) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return
		}
		next = func() ([]byte, layers.LinkType, error) {
			data, ci, err := r.ReadPacketData()
			link := r.LinkType()
			if err == nil && len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					link = lt
				}
			}
			return data, link, err
		}
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			return
		}
		r.SetSnaplen(262144)
		next = func() ([]byte, layers.LinkType, error) {
			data, _, err := r.ReadPacketData()
			return data, r.LinkType(), err
		}
	}
	for i := 0; i < limit; i++ {
		data, link, err := next()
		if err != nil {
			return // io.EOF, or a cut or corrupt capture: keep what we have
		}
		fn(data, link)
	}
}

// FuzzDefrag sends fragments, 4 bytes each: a byte of datagram (id, 0-3) and
// more-fragments flag (bit 2), the offset in 8-byte units (2 bytes, up to
// 4 KiB) and the length less one. Each fragment's bytes are its own number,
// so overlaps show which one a byte came from. The defragmenter must give
// what a plain model of Wireshark's rules gives (a byte comes from the
// covering fragment with the lowest offset, the first among equals; the first
// last fragment sets the length; a complete datagram leaves), and the packet
// decoder, fed the same fragments as IPv4 and IPv6 frames, must reassemble
// the same datagrams without failing below UDP.
func FuzzDefrag(f *testing.F) {
	f.Add([]byte{4, 0, 0, 39, 0, 0, 5, 19})                                    // two fragments in order
	f.Add([]byte{0, 0, 5, 19, 4, 0, 0, 39})                                    // reversed
	f.Add([]byte{4, 0, 4, 39, 4, 0, 4, 39, 0, 0, 9, 7, 4, 0, 0, 47})           // equal offsets, overlap
	f.Add([]byte{5, 0, 0, 7, 4, 0, 0, 15, 1, 0, 1, 7, 0, 0, 2, 7, 0, 0, 2, 3}) // two datagrams, two tails
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4*200 {
			return
		}
		type mfrag struct {
			off   int
			data  []byte
			order int
		}
		type mdatagram struct {
			frags []mfrag
			total int
		}
		model := map[uint32]*mdatagram{}
		var wantDone []int // ops that complete a datagram
		var wantData [][]byte
		df := newDefragmenter(Options{})
		o := DefaultOptions()
		o.DefragTimeout = 0
		pd4 := NewPacketDecoder(func(types.Type) bool { return true }, o)
		pd6 := NewPacketDecoder(func(types.Type) bool { return true }, o)
		for i := 0; i+4 <= len(b); i += 4 {
			id, more := uint32(b[i]&3), b[i]&4 != 0
			off := int(binary.BigEndian.Uint16(b[i+1:])%512) * 8
			data := bytes.Repeat([]byte{byte(i / 4)}, int(b[i+3])+1)
			if off == 0 && !more {
				continue // not a fragment
			}

			// The model.
			m := model[id]
			if m == nil {
				m = &mdatagram{total: -1}
				model[id] = m
			}
			if !more && m.total < 0 {
				m.total = off + len(data)
			}
			m.frags = append(m.frags, mfrag{off, data, i})
			var whole []byte
			if m.total >= 0 {
				whole = make([]byte, m.total)
				for p := 0; p < m.total && whole != nil; p++ {
					best := -1
					for j, fr := range m.frags {
						if p >= fr.off && p < fr.off+len(fr.data) && (best < 0 || fr.off < m.frags[best].off) {
							best = j
						}
					}
					if best < 0 {
						whole = nil
						break
					}
					whole[p] = m.frags[best].data[p-m.frags[best].off]
				}
			}
			if whole != nil {
				delete(model, id)
				wantDone = append(wantDone, i)
				wantData = append(wantData, whole)
			}

			// The defragmenter.
			k := fragKey{id: id, proto: 17}
			got, _, done := df.add(&k, off, more, data, 17, maxDatagramPayload-20, 0, 0)
			if done != (whole != nil) {
				t.Fatalf("fragment %d (id %d, %d+%d, more %v): complete %v, model %v", i/4, id, off, len(data), more, done, whole != nil)
			}
			if done && !bytes.Equal(got, whole) {
				t.Fatalf("fragment %d: datagram\n% x\nmodel\n% x", i/4, got, whole)
			}

			// The packet decoder, over IPv4 and IPv6.
			ip4 := ipv4Header(17, len(data))
			binary.BigEndian.PutUint16(ip4[4:], uint16(id))
			fo := uint16(off / 8)
			if more {
				fo |= 0x2000
			}
			binary.BigEndian.PutUint16(ip4[6:], fo)
			fh := []byte{17, 0, 0, 0, 0, 0, 0, byte(id)}
			binary.BigEndian.PutUint16(fh[2:], uint16(off))
			if more {
				fh[3] |= 1
			}
			for _, c := range []struct {
				pd    *PacketDecoder
				frame []byte
			}{
				{pd4, cat(ethHeader(0x0800), ip4, data)},
				{pd6, cat(ethHeader(0x86dd), ipv6Header(44, 8+len(data)), fh, data)},
			} {
				meta := Packet{Frame: int64(i/4 + 1), Timestamp: fuzzTime, CaptureLength: len(c.frame), Length: len(c.frame)}
				// The datagram's bytes are fragment numbers, so its UDP
				// header is made up: UDP may refuse it, or its ports pick a
				// protocol (DNS when two fragments make port 53) whose
				// decoder fails. Below UDP nothing may fail.
				st, reason := c.pd.Decode(c.frame, layers.LinkTypeEthernet, &meta, discard{})
				if st == Failed && !strings.Contains(reason, "UDP") && !slices.Contains(c.pd.Layers(), layers.LayerTypeUDP) {
					t.Fatalf("fragment %d: status %d %q (layers %v)", i/4, st, reason, c.pd.Layers())
				}
			}
		}
		for _, pd := range []*PacketDecoder{pd4, pd6} {
			if n := pd.Stats().Defragmented; n != int64(len(wantDone)) {
				t.Fatalf("packet decoder reassembled %d datagrams, the model %d", n, len(wantDone))
			}
			pd.Flush(discard{})
			if st := pd.Stats(); st.Defragmented+st.DefragTimedOut < int64(len(wantDone)+len(model)) || pd.defrag.held != 0 || len(pd.defrag.m) != 0 {
				t.Fatalf("after flush: %+v, %d bytes and %d datagrams held", st, pd.defrag.held, len(pd.defrag.m))
			}
		}
	})
}

// overSNAP wraps b in an 802.3 frame with LLC/SNAP (oui and type).
func overSNAP(ouiType []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		return cat(ethHeader(uint16(3+len(ouiType)+len(b))), []byte{0xaa, 0xaa, 0x03}, ouiType, b)
	}
}
