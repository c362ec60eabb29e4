package decoder

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("ICMPv4", protocolTest{
		cases: icmpv4Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeICMPv4, rec: types.Type_NC_ICMPv4, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(1), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 77, Seq: 1}, gopacket.Payload("abcdefgh")),
					cat([]byte{3, 3, 0, 0, 0, 0, 0, 0}, ipv4Header(17, 8), udpHeader(1, 53, 0)),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv4, protos: []string{"icmp"},
				fields: []tsField{
					{ours: "TypeCode", tshark: "icmp.type<<8 | icmp.code", want: typeCode("icmp.type", "icmp.code")},
					{ours: "Checksum", tshark: "icmp.checksum", want: tsNum("icmp.checksum")},
					{ours: "Id", tshark: "icmp.ident", want: tsNum("icmp.ident")},
					{ours: "Seq", tshark: "icmp.seq", want: tsNum("icmp.seq")},
				},
			},
		},
	})
}

func FuzzICMPv4(f *testing.F) { fuzzLayer(f, "ICMPv4") }

// icmpv4Cases are packets of ICMPv4 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv4Cases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 ICMP 50 Echo (ping) request id=0x004d, seq=1/256, ttl=64
	{name: "Echo (ping) request id=0x004d, seq=1/256, ttl=64", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00241234000040017c69c0000201c633 640708000000004d0001616263646566 6768",
		want: map[string]string{"Checksum": "0", "Id": "77", "Seq": "1", "TypeCode": "2048"}},
	// tshark: 192.0.2.1 → 198.51.100.7 ICMP 70 Destination unreachable (Port unreachable)
	{name: "Destination unreachable (Port unreachable)", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00381234000040017c55c0000201c633 640703030000000000004500001c1234 000040117c61c0000201c63364070001 003500080000",
		want: map[string]string{"Checksum": "0", "TypeCode": "771"}},
}
