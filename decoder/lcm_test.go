package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("LCM", protocolTest{
		cases: lcmCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeLCM, rec: types.Type_NC_LCM, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(40000, 7667), max: fuzzMax,
			built: func() [][]byte { return lcmSeeds() },
		},
	})
}

func FuzzLCM(f *testing.F) { fuzzLayer(f, "LCM") }

// lcmCases are packets of LCM built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var lcmCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 64 40000 → 7667 Len=22
	{name: "short message on channel POSE", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00321234000040117c4bc0000201c633 64079c401df3001e00004c4330320000 0009504f53450001020304050607082a",
		want: map[string]string{"Magic": "1279471666", "SequenceNumber": "9", "ChannelName": "POSE", "Fragmented": "0"}},
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 77 40000 → 7667 Len=35
	{name: "first of three fragments, channel CAMERA", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003f1234000040117c3ec0000201c633 64079c401df3002b00004c4330330000 000a0000100000000000000000034341 4d455241000909090909090909",
		want: map[string]string{"Magic": "1279471667", "SequenceNumber": "10", "PayloadSize": "4096", "TotalFragments": "3", "ChannelName": "CAMERA", "Fragmented": "1"}},
}
