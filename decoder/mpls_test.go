package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("MPLS", protocolTest{
		cases: mplsCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeMPLS, rec: types.Type_NC_MPLS, link: layers.LinkTypeEthernet,
			below: etherLinkStack, wrap: overEthernet(0x8847), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat([]byte{0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x3f}, ipv4Header(17, 8), udpHeader(1, 2, 0)), // two labels
					{0x00, 0x01, 0x01, 0x40, 0x00, 0x00, 0x00, 0x00},                                                   // a pseudowire: not IP
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_MPLS, protos: []string{"mpls"},
				fields: []tsField{
					{ours: "Label", tshark: "mpls.label", want: tsNum("mpls.label")},
					{ours: "TrafficClass", tshark: "mpls.exp (the former EXP bits)", want: tsFirstNum("mpls.exp", "mpls.tc")},
					{ours: "StackBottom", tshark: "mpls.bottom", want: tsNum("mpls.bottom")},
					{ours: "TTL", tshark: "mpls.ttl", want: tsNum("mpls.ttl")},
				},
			},
		},
	})
}

func FuzzMPLS(f *testing.F) { fuzzLayer(f, "MPLS") }

// mplsCases are packets of MPLS built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var mplsCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 50 1 → 2 Len=0
	{name: "label 16, another label below", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000188470001 00400002013f4500001c123400004011 7c61c0000201c6336407000100020008 0000",
		want: map[string]string{"Label": "16", "StackBottom": "0", "TTL": "64", "TrafficClass": "0"}},
}
