package decoder

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("IPSecAH", protocolTest{
		cases: ipsecAHCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeIPSecAH, rec: types.Type_NC_IPSecAH, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(51), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{cat([]byte{17, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 19}, bytes.Repeat([]byte{0x21}, 12), udpHeader(1, 2, 0))}
			},
		},
		oracle: []tsRecord{
			{
				// Over IPv6 tshark shows AH inside the ipv6 protocol.
				typ: types.Type_NC_IPSecAH, protos: []string{"ah", "ipv6"}, keep: func(p *tsNode) bool { return ahNode(p) != nil },
				fields: []tsField{
					{ours: "Reserved", tshark: "ah.reserved (bytes)", want: inAH(tsRawUint("ah.reserved"))},
					{ours: "SPI", tshark: "ah.spi", want: inAH(tsNum("ah.spi")), got: oursU32("SPI")},
					{ours: "Seq", tshark: "ah.sequence", want: inAH(tsNum("ah.sequence")), got: oursU32("Seq")},
					{ours: "AuthenticationData", tshark: "ah.icv (bytes)", want: inAH(tsRawHex("ah.icv"))},
				},
			},
		},
	})
}

func FuzzIPSecAH(f *testing.F) { fuzzLayer(f, "IPSecAH") }

func inAH(w tsWant) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) { return w(k, ahNode(p)) }
}

// ahNode is the AH protocol p is or holds (tshark nests it in ipv6).
func ahNode(p *tsNode) *tsNode {
	if p.name == "ah" {
		return p
	}
	for _, k := range p.kids {
		if k.proto && k.name == "ah" {
			return k
		}
	}
	return nil
}

// ipsecAHCases are packets of IPSecAH built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ipsecAHCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 66 1 → 2 Len=0
	{name: "AH over IPv4, UDP inside", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00341234000040337c27c0000201c633 64071104000000000100000000132121 21212121212121212121000100020008 0000",
		want: map[string]string{"AuthenticationData": "212121212121212121212121", "Reserved": "0"}},
}
