package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

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
