package decoder

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/types"
)

// contextSink keeps every record with the packet context Decode had set in
// the Packet at the moment the record was emitted.
type contextSink struct {
	meta *Packet
	recs []contextRecord
}

type contextRecord struct {
	t       types.Type
	m       proto.Message
	at      types.PacketContext // the Packet's context when it was emitted
	ordered bool
}

func (s *contextSink) Emit(t types.Type, m proto.Message) {
	p := s.meta
	s.recs = append(s.recs, contextRecord{t: t, m: proto.Clone(m),
		at: types.PacketContext{FrameNumber: p.Frame, SrcIP: p.SrcIP, DstIP: p.DstIP, SrcPort: p.SrcPort, DstPort: p.DstPort, FlowID: p.FlowID}})
}

func (s *contextSink) EmitOrdered(t types.Type, m proto.Message, _ int64) {
	s.Emit(t, m)
	s.recs[len(s.recs)-1].ordered = true
}

// recordContext reads the context fields of a record by their names in
// netcap.proto, independently of the generated SetPacket; ok is false for
// a record without FrameNumber.
func recordContext(m proto.Message) (c types.PacketContext, ok bool) {
	r := m.ProtoReflect()
	fs := r.Descriptor().Fields()
	get := func(n string) protoreflect.Value {
		f := fs.ByName(protoreflect.Name(n))
		if f == nil {
			return protoreflect.Value{}
		}
		return r.Get(f)
	}
	if fs.ByName("FrameNumber") == nil {
		return c, false
	}
	c.FrameNumber = get("FrameNumber").Int()
	c.SrcIP, c.DstIP, c.FlowID = get("SrcIP").String(), get("DstIP").String(), get("FlowID").String()
	c.SrcPort, c.DstPort = int32(get("SrcPort").Int()), int32(get("DstPort").Int())
	return c, true
}

// ownContextOf returns the context fields that the k-th record of type t of
// the packet takes from its own layer, read from that layer in the decoded
// chain, and which fields those are. The test knows the rule for each
// record on its own, so that a wrong Protocol.Own fails it.
// Addresses are rendered as the decoders render them (AddrStrings: an
// IPv4-mapped IPv6 address keeps its ::ffff: prefix, as tshark shows it).
func ownContextOf(t types.Type, k int, chain []chainEntry, strs *AddrStrings) (c types.PacketContext, own types.ContextFields, err error) {
	nth := func(lt gopacket.LayerType, keep func(gopacket.DecodingLayer) bool) gopacket.DecodingLayer {
		i := 0
		for _, e := range chain {
			if e.typ == lt && (keep == nil || keep(e.l)) {
				if i == k {
					return e.l
				}
				i++
			}
		}
		return nil
	}
	var l gopacket.DecodingLayer
	switch t {
	case types.Type_NC_IPv4:
		l = nth(layers.LayerTypeIPv4, nil)
	case types.Type_NC_IPv6:
		l = nth(layers.LayerTypeIPv6, nil)
	case types.Type_NC_IPv6HopByHop:
		l = nth(layers.LayerTypeIPv6, func(l gopacket.DecodingLayer) bool { return l.(*layers.IPv6).HopByHop != nil })
	case types.Type_NC_TCP:
		l = nth(layers.LayerTypeTCP, nil)
	case types.Type_NC_UDP:
		l = nth(layers.LayerTypeUDP, nil)
	case types.Type_NC_SCTP:
		l = nth(layers.LayerTypeSCTP, nil)
	default:
		return c, 0, nil
	}
	switch l := l.(type) {
	case *layers.IPv4:
		return types.PacketContext{SrcIP: strs.IP(l.SrcIP), DstIP: strs.IP(l.DstIP)}, types.ContextIPs, nil
	case *layers.IPv6:
		return types.PacketContext{SrcIP: strs.IP(l.SrcIP), DstIP: strs.IP(l.DstIP)}, types.ContextIPs, nil
	case *layers.TCP:
		return types.PacketContext{SrcPort: int32(l.SrcPort), DstPort: int32(l.DstPort)}, types.ContextPorts, nil
	case *layers.UDP:
		return types.PacketContext{SrcPort: int32(l.SrcPort), DstPort: int32(l.DstPort)}, types.ContextPorts, nil
	case *layers.SCTP:
		return types.PacketContext{SrcPort: int32(l.SrcPort), DstPort: int32(l.DstPort)}, types.ContextPorts, nil
	}
	return c, 0, fmt.Errorf("%v record %d: no such layer in the chain %v", t, k, chain)
}

// pick returns the fields of c in set, the others of rest.
func pick(c, rest types.PacketContext, set types.ContextFields) types.PacketContext {
	out := rest
	if set&types.ContextFrameNumber != 0 {
		out.FrameNumber = c.FrameNumber
	}
	if set&types.ContextSrcIP != 0 {
		out.SrcIP = c.SrcIP
	}
	if set&types.ContextDstIP != 0 {
		out.DstIP = c.DstIP
	}
	if set&types.ContextSrcPort != 0 {
		out.SrcPort = c.SrcPort
	}
	if set&types.ContextDstPort != 0 {
		out.DstPort = c.DstPort
	}
	if set&types.ContextFlowID != 0 {
		out.FlowID = c.FlowID
	}
	return out
}

// TestPacketContext checks the packet context of every record the packet
// decoders make, on the packets built for the fuzz targets (every
// registered protocol has one) and, when present, on every packet of the
// shared captures: a record's FrameNumber, SrcIP, DstIP, SrcPort, DstPort
// and FlowID are those Decode had set in the Packet when the record was
// emitted (the inner packet's inside a tunnel), except the fields its
// protocol takes from its own layer (Protocol.Own), which equal that
// layer's. Every protocol whose records carry the context must have made
// at least one record.
func TestPacketContext(t *testing.T) {
	own := map[types.Type]types.ContextFields{}
	protoOf := map[types.Type]string{}
	for _, p := range protocols {
		for _, rt := range p.Records {
			own[rt], protoOf[rt] = p.Own, p.Name
		}
	}
	streamTypes := map[types.Type]bool{}
	for _, p := range streamProtocols {
		for _, rt := range p.Records {
			streamTypes[rt] = true
		}
	}
	checked := map[string]int{}
	var failures int
	check := func(where string, pd *PacketDecoder, meta *Packet, s *contextSink) {
		if meta.Skipped {
			return
		}
		hasTCP := false
		for _, e := range pd.chain {
			hasTCP = hasTCP || e.typ == layers.LayerTypeTCP
		}
		nth := map[types.Type]int{}
		for _, r := range s.recs {
			name, ok := protoOf[r.t]
			// Flow and stream records keep the context of their flow or
			// first segment (checked by their own tests); DNS is both, a
			// stream record only over TCP.
			if !ok || r.ordered || (streamTypes[r.t] && hasTCP) {
				continue
			}
			got, ok := recordContext(r.m)
			if !ok {
				continue
			}
			k := nth[r.t]
			nth[r.t]++
			layer, fields, err := ownContextOf(r.t, k, pd.chain, &pd.strs)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				failures++
				continue
			}
			if fields != own[r.t] {
				t.Errorf("%s: %v record: the protocol declares own context fields %b, its layer gives %b", where, r.t, own[r.t], fields)
				failures++
				continue
			}
			want := pick(layer, r.at, fields)
			if want.FrameNumber != meta.Frame {
				t.Errorf("%s: %v record emitted with the Packet's frame %d, want %d", where, r.t, want.FrameNumber, meta.Frame)
			}
			if got != want {
				t.Errorf("%s: %v record context %+v, want %+v", where, r.t, got, want)
				failures++
			}
			checked[name]++
		}
		if failures > 20 {
			t.Fatal("too many failures")
		}
	}
	names := make([]string, 0, len(fuzzTargets))
	for n := range fuzzTargets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tg := fuzzTargets[n]
		pd := NewPacketDecoder(func(types.Type) bool { return true })
		for i, seed := range tg.built() {
			s := &contextSink{}
			meta := Packet{Frame: int64(100 + i), Timestamp: int64(i+1) * 1e9, Payloads: true}
			s.meta = &meta
			pd.Decode(tg.wrap(seed), tg.link, &meta, s)
			check(fmt.Sprintf("%s seed %d", n, i), pd, &meta, s)
		}
	}
	files := 0
	filepath.WalkDir(corpusDir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		files++
		pd := NewPacketDecoder(func(types.Type) bool { return true })
		frame := int64(0)
		s := &contextSink{}
		eachPacket(path, 5000, func(data []byte, link layers.LinkType) {
			frame++
			meta := Packet{Frame: frame, Timestamp: frame * 1e6}
			s.meta, s.recs = &meta, s.recs[:0]
			pd.Decode(data, link, &meta, s)
			check(fmt.Sprintf("%s frame %d", path, frame), pd, &meta, s)
		})
		return nil
	})
	if files == 0 {
		t.Logf("shared captures absent (%s): built packets only", corpusDir)
	}
	for _, p := range Protocols() {
		context := false
		for _, rt := range p.Records {
			mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + types.Name(rt)))
			if err != nil {
				t.Fatalf("%s: record %v: %v", p.Name, rt, err)
			}
			_, ok := mt.New().Interface().(types.PacketRecord)
			context = context || ok
		}
		if context && checked[p.Name] == 0 {
			t.Errorf("%s: no record checked; give its fuzz target a built packet that makes one", p.Name)
		}
	}
	t.Logf("records checked per protocol: %v", checked)
}
