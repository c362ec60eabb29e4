package decoder

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("ENIP", protocolTest{
		cases: enipCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeENIP, rec: types.Type_NC_ENIP, link: layers.LinkTypeEthernet,
			below: tcp4Stack, wrap: overTCP4(40000, 44818), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat([]byte{0x65, 0, 4, 0}, make([]byte, 20), []byte{1, 0, 0, 0}), // register session
					cat([]byte{0x63, 0}, make([]byte, 22)),                           // list identity
					cat(enipSendRRData(6), []byte{0x0e, 2, 0x20, 1, 0x24, 1}),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ENIP, protos: []string{"enip"},
				keep: func(p *tsNode) bool { return p.field("enip.command") != nil },
				fields: []tsField{
					{ours: "Command", tshark: "enip.command", want: tsNum("enip.command")},
					{ours: "Length", tshark: "enip.length", want: tsNum("enip.length")},
					{ours: "SessionHandle", tshark: "enip.session", want: tsNum("enip.session")},
					{ours: "Status", tshark: "enip.status", want: tsNum("enip.status")},
					// In a List Identity request tshark reads the context's first
					// two bytes as the maximum response delay (enip.listid_delay).
					{ours: "SenderContext", tshark: "enip.listid_delay + enip.context (bytes)", want: func(k *tsPacket, p *tsNode) (string, bool) {
						ctx, ok := tsRawHex("enip.context")(k, p)
						if d := p.field("enip.listid_delay"); d != nil {
							ctx = strings.ToLower(d.value) + ctx
						}
						return ctx, ok
					}},
					{ours: "Options", tshark: "enip.options", want: tsNum("enip.options")},
					{ours: "CommandSpecific.Cmd", tshark: "enip.command", want: tsNum("enip.command")},
				},
				skip: map[string]string{
					"CommandSpecific.Data": "gopacket's command-specific bytes up to the data item; tshark splits them into CPF items",
				},
			},
		},
	})
}

func FuzzENIP(f *testing.F) { fuzzLayer(f, "ENIP") }

// enipCases are packets of ENIP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var enipCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 ENIP 82 Register Session (Req), Session: 0x00000000
	{name: "Register Session (Req), Session: 0x00000000", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00441234000040067c44c0000201c633 64079c40af12000003e8000007d05018 20000000000065000400000000000000 00000000000000000000000000000100 0000",
		want: map[string]string{"Command": "101", "Length": "4", "SenderContext": "0000000000000000", "SessionHandle": "0", "Status": "0"}},
	// tshark: 192.0.2.1 → 198.51.100.7 ENIP 78 List Identity (Req)
	{name: "List Identity (Req)", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00401234000040067c48c0000201c633 64079c40af12000003e8000007d05018 20000000000063000000000000000000 0000000000000000000000000000",
		want: map[string]string{"Command": "99", "Length": "0", "SenderContext": "0000000000000000", "SessionHandle": "0", "Status": "0"}},
}
