package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("SCTP", protocolTest{
		cases: sctpCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeSCTP, rec: types.Type_NC_SCTP, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(132), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					{0x84, 0xc1, 0x1a, 0x30, 0, 0, 0, 0, 0x25, 0x9e, 0xf4, 0x3f, 1, 0, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1},
					{0x13, 0xc4, 0x13, 0xc4, 1, 2, 3, 4, 0, 0, 0, 0, 0, 3, 0, 8, 0, 0, 0, 0}, // SIP ports, a DATA chunk
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_SCTP, protos: []string{"sctp"},
				fields: []tsField{
					{ours: "SrcPort", tshark: "sctp.srcport", want: tsNum("sctp.srcport")},
					{ours: "DstPort", tshark: "sctp.dstport", want: tsNum("sctp.dstport")},
					{ours: "VerificationTag", tshark: "sctp.verification_tag", want: tsNum("sctp.verification_tag")},
					{ours: "Checksum", tshark: "sctp.checksum (bytes, big-endian)", want: tsRawUint("sctp.checksum")},
				},
				own: map[string]bool{"SrcPort": true, "DstPort": true},
			},
		},
	})
}

func FuzzSCTP(f *testing.F) { fuzzLayer(f, "SCTP") }

// sctpCases are packets of SCTP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var sctpCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 SCTP 66 INIT
	{name: "INIT", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00341234000040847bd6c0000201c633 640784c11a3000000000259ef43f0100 00140000000100010000000a000a0000 0001",
		want: map[string]string{"Checksum": "631174207", "DstPort": "6704", "SrcPort": "33985", "VerificationTag": "0"}},
	// tshark: 192.0.2.1 → 198.51.100.7 SCTP 54 DATA
	{name: "DATA", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00281234000040847be2c0000201c633 640713c413c401020304000000000003 000800000000",
		want: map[string]string{"Checksum": "0", "DstPort": "5060", "SrcPort": "5060", "VerificationTag": "16909060"}},
}
