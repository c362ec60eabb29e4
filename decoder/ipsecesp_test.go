package decoder

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("IPSecESP", protocolTest{
		cases: ipsecESPCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeIPSecESP, rec: types.Type_NC_IPSecESP, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(50), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{cat([]byte{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1}, bytes.Repeat([]byte{0x5a}, 40))}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_IPSecESP, protos: []string{"esp"},
				fields: []tsField{
					{ours: "SPI", tshark: "esp.spi", want: tsNum("esp.spi"), got: oursU32("SPI")},
					{ours: "Seq", tshark: "esp.sequence", want: tsNum("esp.sequence"), got: oursU32("Seq")},
					{ours: "LenEncrypted", tshark: "end of the datagram - esp start - 8", want: espLen},
				},
			},
		},
	})
}

func FuzzIPSecESP(f *testing.F) { fuzzLayer(f, "IPSecESP") }

// espLen is the number of bytes after the ESP SPI and sequence number, up to
// the end of the datagram.
func espLen(k *tsPacket, p *tsNode) (string, bool) {
	return strconv.Itoa(max(datagramEnd(k, p)-p.pos-8, 0)), true
}

// ipsecESPCases are packets of IPSecESP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ipsecESPCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 ESP 82 ESP (SPI=0x12345678)
	{name: "ESP (SPI=0x12345678)", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00441234000040327c18c0000201c633 640712345678000000015a5a5a5a5a5a 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a 5a5a",
		want: map[string]string{"LenEncrypted": "40"}},
}
