package decoder

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("EAP", protocolTest{
		cases: eapCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeEAP, rec: types.Type_NC_EAP, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeEAPOL}, max: 0xffff,
			wrap: func(b []byte) []byte {
				return cat(ethHeader(0x888e), []byte{1, 0, byte(len(b) >> 8), byte(len(b))}, b)
			},
			built: func() [][]byte { return [][]byte{{2, 7, 0, 10, 1, 'u', 's', 'e', 'r', '1'}, {3, 7, 0, 4}} },
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_EAP, protos: []string{"eap"},
				fields: []tsField{
					{ours: "Code", tshark: "eap.code", want: tsNum("eap.code")},
					{ours: "Id", tshark: "eap.id", want: tsNum("eap.id")},
					{ours: "Length", tshark: "eap.len", want: tsNum("eap.len")},
					{ours: "Type", tshark: "eap.type (0 for success and failure)", want: numOr("eap.type", "0")},
				},
				skip: map[string]string{"TypeData": "tshark splits the type data into per-method fields"},
			},
		},
	})
}

func FuzzEAP(f *testing.F) { fuzzLayer(f, "EAP") }

// eapCases are packets of EAP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var eapCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 EAP 28 Response, Identity
	{name: "Response, Identity", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001888e0100 000a0207000a017573657231",
		want: map[string]string{"Code": "2", "Id": "7", "Length": "10", "Type": "1"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 EAP 22 Success
	{name: "Success", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001888e0100 000403070004",
		want: map[string]string{"Code": "3", "Id": "7", "Length": "4", "Type": "0"}},
}
