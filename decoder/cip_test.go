package decoder

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("CIP", protocolTest{
		cases: cipCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeCIP, rec: types.Type_NC_CIP, link: layers.LinkTypeEthernet,
			below: append(append([]gopacket.LayerType{}, tcp4Stack...), layers.LayerTypeENIP), max: fuzzMax,
			wrap: func(b []byte) []byte { return overTCP4(40000, 44818)(cat(enipSendRRData(len(b)), b)) },
			built: func() [][]byte {
				return [][]byte{
					{0x0e, 2, 0x20, 1, 0x24, 1},          // get attribute single, class 1 instance 1
					{0x8e, 0, 0, 1, 0x05, 0x01, 1, 2, 3}, // response with one additional status
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_CIP, protos: []string{"cip"},
				fields: []tsField{
					{ours: "Response", tshark: "cip.rr", want: tsNum("cip.rr")},
					{ours: "ServiceID", tshark: "cip.sc", want: tsNum("cip.sc")},
					// tshark shows a response with its request's path (generated
					// fields); the path is on the wire in requests only, and only
					// requests have it in the record.
					{ours: "ClassID", tshark: "cip.class (requests; 0 in responses)", want: cipRequest(tsNum("cip.class"))},
					{ours: "InstanceID", tshark: "cip.instance (requests; 0 in responses)", want: cipRequest(tsNum("cip.instance"))},
					{ours: "Status", tshark: "cip.genstat (responses)", want: tsFirstNum("cip.genstat")},
					{ours: "AdditionalStatus", tshark: "cip.addstat_size (compared when 0: no words)", want: func(_ *tsPacket, p *tsNode) (string, bool) {
						v, ok := p.field("cip.addstat_size").num()
						return "", ok && v == 0
					}},
				},
				skip: map[string]string{"Data": "filled only with -payload"},
			},
		},
	})
}

func FuzzCIP(f *testing.F) { fuzzLayer(f, "CIP") }

func cipRequest(w tsWant) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		if v, ok := p.field("cip.rr").num(); ok && v == 1 {
			return "0", true
		}
		return w(k, p)
	}
}

// cipCases are packets of CIP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var cipCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 CIP 100 Identity - Get Attribute Single
	{name: "Identity - Get Attribute Single", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00561234000040067c32c0000201c633 64079c40af12000003e8000007d05018 2000000000006f001600443322110000 00000000000000000000000000000000 00000000020000000000b20006000e02 20012401",
		want: map[string]string{"ClassID": "1", "InstanceID": "1", "Response": "0", "ServiceID": "14"}},
	// tshark: 192.0.2.1 → 198.51.100.7 CIP 103 Success: Get Attribute Single
	{name: "Success: Get Attribute Single", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00591234000040067c2fc0000201c633 64079c40af12000003e8000007d05018 2000000000006f001900443322110000 00000000000000000000000000000000 00000000020000000000b20009008e00 00010501010203",
		want: map[string]string{"ClassID": "0", "InstanceID": "0", "Response": "1", "ServiceID": "14", "Status": "0"}},
}
