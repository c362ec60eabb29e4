package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("Dot1Q", protocolTest{
		cases: dot1qCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeDot1Q, rec: types.Type_NC_Dot1Q, link: layers.LinkTypeEthernet,
			below: etherLinkStack, wrap: overEthernet(0x8100), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.Dot1Q{Priority: 3, VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
						&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeARP}),
					cat([]byte{0x20, 0x64, 0x08, 0x00}, ipv4Header(17, 8), udpHeader(1, 2, 0)),
				}
			},
		},
		oracle: []tsRecord{
			{
				// 802.1ad service tags (0x88a8) are Dot1Q records too.
				typ: types.Type_NC_Dot1Q, protos: []string{"vlan", "ieee8021ad"},
				fields: []tsField{
					{ours: "Priority", tshark: "vlan.priority", want: tsFirstNum("vlan.priority", "ieee8021ad.priority")},
					{ours: "DropEligible", tshark: "vlan.dei", want: tsFirstNum("vlan.dei", "ieee8021ad.dei")},
					{ours: "VLANIdentifier", tshark: "vlan.id", want: tsFirstNum("vlan.id", "ieee8021ad.id")},
					{ours: "Type", tshark: "vlan.etype / vlan.len", want: tsFirstNum("vlan.etype", "vlan.len", "ieee8021ah.etype")},
				},
			},
		},
	})
}

func FuzzDot1Q(f *testing.F) { fuzzLayer(f, "Dot1Q") }

// dot1qCases are packets of Dot1Q built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var dot1qCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 46 1 → 2 Len=0
	{name: "VLAN 100, priority 1, IPv4 inside", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000181002064 08004500001c1234000040117c61c000 0201c63364070001000200080000",
		want: map[string]string{"DropEligible": "0", "Priority": "1", "Type": "2048", "VLANIdentifier": "100"}},
}
