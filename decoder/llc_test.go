package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("LLC", protocolTest{
		cases: llcCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeLLC, rec: types.Type_NC_LLC, link: layers.LinkTypeEthernet,
			below: etherLinkStack, max: 1500, // an 802.3 length field cannot say more
			wrap: func(b []byte) []byte { return cat(ethHeader(uint16(len(b))), b) },
			built: func() [][]byte {
				return [][]byte{
					{0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00}, // spanning tree
					{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}, // SNAP, Cisco
					{0xf0, 0xf1, 0x10, 0x22},                         // I-format control
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_LLC, protos: []string{"llc"},
				fields: []tsField{
					{ours: "DSAP", tshark: "llc.dsap & 0xfe", want: llcSAP("llc.dsap")},
					{ours: "IG", tshark: "llc.dsap.ig", want: tsNum("llc.dsap.ig")},
					{ours: "SSAP", tshark: "llc.ssap & 0xfe", want: llcSAP("llc.ssap")},
					{ours: "CR", tshark: "llc.ssap.cr", want: tsNum("llc.ssap.cr")},
					{ours: "Control", tshark: "llc.control (raw, 1 or 2 bytes)", want: tsRawUint("llc.control")},
				},
			},
		},
	})
}

func FuzzLLC(f *testing.F) { fuzzLayer(f, "LLC") }

func llcSAP(name string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		v, ok := p.field(name).rawUint()
		return strconv.FormatUint(v&0xFE, 10), ok
	}
}

// llcCases are packets of LLC built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var llcCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 LLC 18 I, N(R)=17, N(S)=8; DSAP NetBIOS Individual, SSAP NetBIOS Response
	{name: "I, N(R)=17, N(S)=8; DSAP NetBIOS Individual, SSAP NetBIOS...", link: layers.LinkTypeEthernet,
		hex:  "0200000000020200000000010004f0f1 1022",
		want: map[string]string{"CR": "1", "Control": "4130", "DSAP": "240", "IG": "0", "SSAP": "240"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 CDP 124 Device ID: S1 Port ID: FastEthernet0/1
	{name: "Device ID: S1 Port ID: FastEthernet0/1", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001006eaaaa 0300000c200002b40000000100065331 00020011000000010101cc0004c00002 01000300134661737445746865726e65 74302f3100040008000000280005000c 494f532031322e320006001263697363 6f2057532d4333353630000900077674 70000a00060001000b000501",
		want: map[string]string{"CR": "0", "Control": "3", "DSAP": "170", "IG": "0", "SSAP": "170"}},
}
