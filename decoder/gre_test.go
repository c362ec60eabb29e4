package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("GRE", protocolTest{
		cases: greCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeGRE, rec: types.Type_NC_GRE, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(47), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					// Key and sequence number, then an IPv4/UDP packet.
					cat([]byte{0x30, 0x00, 0x08, 0x00, 0, 0, 0, 7, 0, 0, 0, 1}, ipv4Header(17, 8), udpHeader(1, 2, 0)),
					// Checksum and routing present (RFC 1701), then Ethernet.
					cat([]byte{0xc0, 0x00, 0x65, 0x58, 0, 0, 0, 4, 0x08, 0x00, 0, 4, 10, 0, 0, 1, 0, 0, 0, 0}, ethHeader(0x0806)),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_GRE, protos: []string{"gre"},
				fields: []tsField{
					{ours: "ChecksumPresent", tshark: "gre.flags.checksum", want: tsNum("gre.flags.checksum")},
					{ours: "RoutingPresent", tshark: "gre.flags.routing", want: tsNum("gre.flags.routing")},
					{ours: "KeyPresent", tshark: "gre.flags.key", want: tsNum("gre.flags.key")},
					{ours: "SeqPresent", tshark: "gre.flags.sequence_number", want: tsNum("gre.flags.sequence_number")},
					{ours: "StrictSourceRoute", tshark: "gre.flags.strict_source_route", want: tsNum("gre.flags.strict_source_route")},
					{ours: "RecursionControl", tshark: "gre.flags.recursion_control", want: tsNum("gre.flags.recursion_control")},
					{ours: "AckPresent", tshark: "gre.flags.ack (version 1 only; 0 in version 0)", want: greAck},
					{ours: "Flags", tshark: "gre.flags_and_version bits 3-7 (the ack bit and the reserved ones)", want: greBits(3, 0x1f)},
					{ours: "Version", tshark: "gre.flags.version", want: tsNum("gre.flags.version")},
					{ours: "Protocol", tshark: "gre.proto", want: tsNum("gre.proto")},
					{ours: "Key", tshark: "gre.key, or gre.key.payload_length<<16 | gre.key.call_id (version 1)", want: greKey},
					{ours: "Seq", tshark: "gre.sequence_number", want: tsNum("gre.sequence_number")},
				},
				skip: map[string]string{
					"Routing":  "no capture of the corpus has GRE source routes: TestGREHeader checks them on headers written from RFC 1701",
					"Checksum": "no capture of the corpus has a GRE checksum: TestGREHeader checks it",
					"Offset":   "no capture of the corpus has a GRE offset: TestGREHeader checks it",
					"Ack":      "no capture of the corpus has an enhanced-GRE acknowledgment: TestGREHeader checks it",
				},
			},
		},
	})
}

func FuzzGRE(f *testing.F) { fuzzLayer(f, "GRE") }

// greBits reads bits of the GRE flags-and-version word.
func greBits(shift, mask uint64) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		w, ok := p.field("gre.flags_and_version").rawUint()
		return strconv.FormatUint(w>>shift&mask, 10), ok
	}
}

// greAck: the acknowledgment bit means something in enhanced GRE (version
// 1) only; in version 0 it is a reserved bit, which gopacket and tshark
// both keep in the flags.
func greAck(k *tsPacket, p *tsNode) (string, bool) {
	if v, ok := p.field("gre.flags.version").num(); ok && v != 1 {
		return "0", true
	}
	return tsNum("gre.flags.ack")(k, p)
}

// greKey: enhanced GRE splits the key into payload length and call id.
func greKey(k *tsPacket, p *tsNode) (string, bool) {
	if f := p.field("gre.key"); f != nil {
		return tsNum("gre.key")(k, p)
	}
	l, ok1 := p.field("gre.key.payload_length").num()
	c, ok2 := p.field("gre.key.call_id").num()
	if !ok1 || !ok2 {
		return "", false
	}
	return strconv.FormatInt(l<<16|c, 10), true
}

// greCases are packets of GRE built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var greCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 74 1 → 2 Len=0
	{name: "key and sequence number, IPv4 inside", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003c12340000402f7c23c0000201c633 64073000080000000007000000014500 001c1234000040117c61c0000201c633 64070001000200080000",
		want: map[string]string{"ChecksumPresent": "0", "KeyPresent": "1", "RoutingPresent": "0", "SeqPresent": "1", "StrictSourceRoute": "0"}},
}

// TestGREHeader checks the GRE fields that no capture of the corpus has
// (checksum and offset, source routes, the enhanced-GRE acknowledgment) on
// headers written from RFC 1701 and RFC 2637.
func TestGREHeader(t *testing.T) {
	inner := cat(ipv4Header(17, 8), udpHeader(1, 2, 0))
	tests := []struct {
		name   string
		header []byte
		want   *types.GRE
	}{{
		name: "checksum and routing, two source route entries (RFC 1701)",
		header: []byte{
			0xc0, 0x00, 0x08, 0x00, // C and R bits, version 0, IPv4
			0xbe, 0xef, 0x00, 0x04, // checksum, offset
			0x08, 0x00, 0x00, 0x04, 10, 0, 0, 1, // IP route: family 0x0800, offset 0, length 4
			0x08, 0x00, 0x04, 0x04, 10, 0, 0, 2,
			0x00, 0x00, 0x00, 0x00, // the NULL entry ends the list
		},
		want: &types.GRE{ChecksumPresent: true, RoutingPresent: true, Protocol: 0x0800, Checksum: 0xbeef, Offset: 4,
			Routing: &types.GRERouting{AddressFamily: 0x0800, SRELength: 4, RoutingInformation: []byte{10, 0, 0, 1},
				Next: &types.GRERouting{AddressFamily: 0x0800, SREOffset: 4, SRELength: 4, RoutingInformation: []byte{10, 0, 0, 2}}}},
	}, {
		name: "enhanced GRE with key, sequence and acknowledgment (RFC 2637)",
		header: []byte{
			0x30, 0x81, 0x08, 0x00, // K and S bits, A bit, version 1
			0x00, 0x1c, 0x12, 0x34, // payload length 28, call id 0x1234
			0x00, 0x00, 0x00, 0x05, // sequence
			0x00, 0x00, 0x00, 0x03, // acknowledgment
		},
		want: &types.GRE{KeyPresent: true, SeqPresent: true, AckPresent: true, Flags: 0x10, Version: 1, Protocol: 0x0800,
			Key: 0x001c1234, Seq: 5, Ack: 3},
	}, {
		name:   "version 0 with the reserved bit 0x80 set: no acknowledgment",
		header: []byte{0x00, 0x80, 0x08, 0x00},
		want:   &types.GRE{Flags: 0x10, Protocol: 0x0800},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := cat(ethHeader(0x0800), ipv4Header(47, len(tt.header)+len(inner)), tt.header, inner)
			pd := NewPacketDecoder(func(t types.Type) bool { return t == types.Type_NC_GRE || t == types.Type_NC_UDP })
			var s recordSink
			meta := Packet{Frame: 1, Timestamp: 5}
			if st, reason := pd.Decode(frame, layers.LinkTypeEthernet, &meta, &s); st != Decoded {
				t.Fatalf("status %d: %s", st, reason)
			}
			var got *types.GRE
			udp := 0
			for _, m := range s.recs {
				switch r := m.(type) {
				case *types.GRE:
					got = r
				case *types.UDP:
					udp++
				}
			}
			if got == nil || udp != 1 {
				t.Fatalf("GRE record %v, %d UDP records of the packet inside; want one of each", got, udp)
			}
			want := proto.Clone(tt.want).(*types.GRE)
			want.Timestamp, want.FrameNumber, want.SrcIP, want.DstIP = 5, 1, ip4A.String(), ip4B.String()
			if got.FlowID == "" {
				t.Error("no FlowID: the connection table runs whatever is selected")
			}
			want.FlowID = got.FlowID // a hash of the flow, checked elsewhere
			if !proto.Equal(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}
