package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("ARP", protocolTest{
		cases: arpCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeARP, rec: types.Type_NC_ARP, link: layers.LinkTypeEthernet,
			below: etherLinkStack, wrap: overEthernet(0x0806), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
					HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
					SourceHwAddress: macA, SourceProtAddress: ip4A.To4(), DstHwAddress: make([]byte, 6), DstProtAddress: ip4B.To4()})}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ARP, protos: []string{"arp"},
				fields: []tsField{
					{ours: "AddrType", tshark: "arp.hw.type", want: tsNum("arp.hw.type")},
					{ours: "Protocol", tshark: "arp.proto.type", want: tsNum("arp.proto.type")},
					{ours: "HwAddressSize", tshark: "arp.hw.size", want: tsNum("arp.hw.size")},
					{ours: "ProtocolAddressSize", tshark: "arp.proto.size", want: tsNum("arp.proto.size")},
					{ours: "Operation", tshark: "arp.opcode", want: tsNum("arp.opcode")},
					{ours: "SrcHwAddress", tshark: "arp.src.hw_mac / arp.src.hw", want: tsText("arp.src.hw_mac", "arp.src.hw")},
					{ours: "SrcProtocolAddress", tshark: "arp.src.proto_ipv4 / arp.src.proto", want: tsText("arp.src.proto_ipv4", "arp.src.proto")},
					{ours: "DstHwAddress", tshark: "arp.dst.hw_mac / arp.dst.hw", want: tsText("arp.dst.hw_mac", "arp.dst.hw")},
					{ours: "DstProtocolAddress", tshark: "arp.dst.proto_ipv4 / arp.dst.proto", want: tsText("arp.dst.proto_ipv4", "arp.dst.proto")},
				},
			},
		},
	})
}

func FuzzARP(f *testing.F) { fuzzLayer(f, "ARP") }

// arpCases are packets of ARP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var arpCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 ARP 42 Who has 198.51.100.7? Tell 192.0.2.1
	{name: "Who has 198.51.100.7? Tell 192.0.2.1", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108060001 080006040001020000000001c0000201 000000000000c6336407",
		want: map[string]string{"AddrType": "1", "HwAddressSize": "6", "Operation": "1", "Protocol": "2048", "ProtocolAddressSize": "4"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 ARP 50 192.0.2.1 is at 02:00:00:00:00:01
	{name: "192.0.2.1 is at 02:00:00:00:00:01", link: layers.LinkTypeEthernet,
		hex:  "0200000000020200000000010024aaaa 03000000080600010800060400020200 00000001c0000201020000000002c633 6407",
		want: map[string]string{"AddrType": "1", "HwAddressSize": "6", "Operation": "2", "Protocol": "2048", "ProtocolAddressSize": "4"}},
}
