package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("UDP", protocolTest{
		cases: udpCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeUDP, rec: types.Type_NC_UDP, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(17), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat(udpHeader(5353, 5353, 12), make([]byte, 12)),
					cat(udpHeader(9999, 9998, 3), []byte("abc")),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_UDP, protos: []string{"udp"},
				fields: []tsField{
					{ours: "SrcPort", tshark: "udp.srcport", want: tsNum("udp.srcport")},
					{ours: "DstPort", tshark: "udp.dstport", want: tsNum("udp.dstport")},
					{ours: "Length", tshark: "udp.length", want: tsNum("udp.length")},
					{ours: "Checksum", tshark: "udp.checksum", want: tsNum("udp.checksum")},
					{ours: "PayloadSize", tshark: "min(udp.length, captured) - 8", want: udpPayloadSize},
				},
				skip: map[string]string{
					"PayloadEntropy": "netcap's own statistic (and 0 without -entropy)",
					"Payload":        "filled only with -payload",
				},
				own: map[string]bool{"SrcPort": true, "DstPort": true},
			},
		},
	})
}

func FuzzUDP(f *testing.F) { fuzzLayer(f, "UDP") }

func udpPayloadSize(k *tsPacket, p *tsNode) (string, bool) {
	l, ok := p.field("udp.length").num()
	if !ok {
		return "", false
	}
	avail := min(capturedAfter(k, p, p.pos), datagramEnd(k, p)-p.pos)
	if l == 0 {
		l = int64(avail)
	}
	return strconv.Itoa(max(min(int(l), avail)-8, 0)), true
}

// udpCases are packets of UDP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var udpCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 MDNS 54 Standard query 0x0000
	{name: "Standard query 0x0000", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00281234000040117c55c0000201c633 640714e914e900140000000000000000 000000000000",
		want: map[string]string{"Checksum": "0", "DstPort": "5353", "Length": "20", "PayloadSize": "12", "SrcPort": "5353"}},
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 45 9999 → 9998 Len=3
	{name: "3 bytes of payload", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 001f1234000040117c5ec0000201c633 6407270f270e000b0000616263",
		want: map[string]string{"Checksum": "0", "DstPort": "9998", "Length": "11", "PayloadSize": "3", "SrcPort": "9999"}},
}
