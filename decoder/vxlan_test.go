package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("VXLAN", protocolTest{
		cases: vxlanCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeVXLAN, rec: types.Type_NC_VXLAN, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(50000, 4789), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat([]byte{0x08, 0, 0, 0, 0, 0x12, 0x34, 0}, ethHeader(0x0800), ipv4Header(17, 8), udpHeader(1, 2, 0)),
					cat([]byte{0x88, 0x40, 0x00, 0x2a, 0, 0, 1, 0}, ethHeader(0x0806)), // group policy
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_VXLAN, protos: []string{"vxlan"},
				fields: []tsField{
					{ours: "ValidIDFlag", tshark: "vxlan.flag_i", want: tsNum("vxlan.flag_i")},
					{ours: "VNI", tshark: "vxlan.vni", want: tsNum("vxlan.vni")},
					{ours: "GBPExtension", tshark: "vxlan.flag_g", want: tsNum("vxlan.flag_g")},
					{ours: "GBPDontLearn", tshark: "vxlan.flag_d", want: tsNum("vxlan.flag_d")},
					{ours: "GBPApplied", tshark: "vxlan.flag_a", want: tsNum("vxlan.flag_a")},
					{ours: "GBPGroupPolicyID", tshark: "vxlan.gbp", want: tsNum("vxlan.gbp")},
				},
			},
		},
	})
}

func FuzzVXLAN(f *testing.F) { fuzzLayer(f, "VXLAN") }

// vxlanCases are packets of VXLAN built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var vxlanCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 92 1 → 2 Len=0
	{name: "VNI 4660, Ethernet inside", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 004e1234000040117c2fc0000201c633 6407c35012b5003a0000080000000012 34000200000000020200000000010800 4500001c1234000040117c61c0000201 c63364070001000200080000",
		want: map[string]string{"GBPApplied": "0", "GBPDontLearn": "0", "GBPExtension": "0", "VNI": "4660", "ValidIDFlag": "1"}},
}
