package decoder

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("EthernetCTP", protocolTest{
		cases: ethernetCTPCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeEthernetCTP, rec: types.Type_NC_EthernetCTP, link: layers.LinkTypeEthernet,
			below: etherLinkStack, wrap: overEthernet(0x9000), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{cat([]byte{8, 0, 2, 0}, macA, []byte{1, 0, 7, 0}, []byte("data"))}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_EthernetCTP, protos: []string{"loop"},
				fields: []tsField{{ours: "SkipCount", tshark: "loop.skipcount", want: tsNum("loop.skipcount")}},
			},
		},
	})
	addProtocolTest("EthernetCTPReply", protocolTest{
		cases: ethernetCTPReplyCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeEthernetCTPReply, rec: types.Type_NC_EthernetCTPReply, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeEthernetCTP}, max: fuzzMax,
			// The fuzz bytes start at the function code, which the wrapper
			// sets to reply (1): another code is another layer, not this one.
			wrap: func(b []byte) []byte {
				f := cat(ethHeader(0x9000), []byte{0, 0}, b)
				if len(f) >= 18 {
					f[16], f[17] = 1, 0
				}
				return f
			},
			built: func() [][]byte { return [][]byte{{1, 0, 3, 0, 0x55, 0x55}} },
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_EthernetCTPReply, protos: []string{"loop"}, keep: func(p *tsNode) bool { return p.field("loop.receipt_number") != nil },
				fields: []tsField{
					{ours: "Function", tshark: "loop.function before loop.receipt_number", want: func(_ *tsPacket, p *tsNode) (string, bool) {
						rn := p.field("loop.receipt_number")
						var fn *tsNode
						p.walk(func(k *tsNode) bool {
							if k.name == "loop.function" && k.pos == rn.pos-2 {
								fn = k
							}
							return true
						})
						v, ok := fn.num()
						return strconv.FormatInt(v, 10), ok
					}},
					{ours: "ReceiptNumber", tshark: "loop.receipt_number", want: tsNum("loop.receipt_number")},
					{ours: "Data", tshark: "the data after the reply (data.data)", want: func(k *tsPacket, p *tsNode) (string, bool) {
						for _, q := range k.protos {
							if f := q.field("data.data"); f != nil && f.pos >= p.pos {
								return strings.ToLower(f.value), true
							}
						}
						return "", true
					}},
				},
			},
		},
	})
}

func FuzzEthernetCTP(f *testing.F)      { fuzzLayer(f, "EthernetCTP") }
func FuzzEthernetCTPReply(f *testing.F) { fuzzLayer(f, "EthernetCTPReply") }

// ethernetCTPCases are packets of EthernetCTP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ethernetCTPCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 LOOP 32 Reply
	{name: "Reply", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000190000800 02000200000000010100070064617461",
		want: map[string]string{"SkipCount": "8"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 LOOP 22 Reply
	{name: "Reply", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000190000000 010003005555",
		want: map[string]string{"SkipCount": "0"}},
}

// ethernetCTPReplyCases are packets of EthernetCTPReply built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ethernetCTPReplyCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 LOOP 22 Reply
	{name: "Reply", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000190000000 010003005555",
		want: map[string]string{"Data": "5555", "Function": "1", "ReceiptNumber": "3"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 LOOP 32 Reply
	{name: "Reply", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000190000800 02000200000000010100070064617461",
		want: map[string]string{"Data": "64617461", "Function": "1", "ReceiptNumber": "7"}},
}
