package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("Ethernet", protocolTest{
		cases: ethernetCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeEthernet, rec: types.Type_NC_Ethernet, link: layers.LinkTypeEthernet,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
						&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ip4A, DstIP: ip4B},
						&layers.UDP{SrcPort: 5000, DstPort: 53}, gopacket.Payload("hi")),
					cat(ethHeader(0x88cc), []byte{0x02, 0x07, 0x04}), // an ether type without decoder
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_Ethernet, protos: []string{"eth"},
				fields: []tsField{
					{ours: "SrcMAC", tshark: "eth.src", want: tsText("eth.src")},
					{ours: "DstMAC", tshark: "eth.dst", want: tsText("eth.dst")},
					{ours: "EthernetType", tshark: "eth.type (0 for an 802.3 frame, which has eth.len)", want: ethType},
					{ours: "PayloadSize", tshark: "frame.cap_len - end of eth header (802.3: at most eth.len)", want: ethPayloadSize},
				},
				skip: map[string]string{"PayloadEntropy": "netcap's own statistic (and 0 without -entropy)"},
			},
		},
	})
}

func FuzzEthernet(f *testing.F) { fuzzLayer(f, "Ethernet") }

func ethPayloadSize(k *tsPacket, p *tsNode) (string, bool) {
	n := capturedAfter(k, p, p.pos+14)
	if l, ok := p.field("eth.len").num(); ok && p.field("eth.type") == nil {
		n = min(n, int(l))
	}
	return strconv.Itoa(n), true
}

func ethType(_ *tsPacket, p *tsNode) (string, bool) {
	if f := p.field("eth.type"); f != nil {
		v, ok := f.num()
		return strconv.FormatInt(v, 10), ok
	}
	if p.field("eth.len") != nil {
		return "0", true // an 802.3 length: netcap's EthernetType is 0 (LLC follows)
	}
	return "", false
}

// ethernetCases are packets of Ethernet built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ethernetCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 ARP 42 Who has 198.51.100.7? Tell 192.0.2.1
	{name: "Who has 198.51.100.7? Tell 192.0.2.1", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108060001 080006040001020000000001c0000201 000000000000c6336407",
		want: map[string]string{"DstMAC": "02:00:00:00:00:02", "EthernetType": "2054", "PayloadSize": "28", "SrcMAC": "02:00:00:00:00:01"}},
	// tshark: 192.0.2.1 → 198.51.100.7 BFD Control 66 Diag: No Diagnostic, State: Up, Flags: 0x00
	{name: "Diag: No Diagnostic, State: Up, Flags: 0x00", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00341234000040117c49c0000201c633 6407c0000ec80020000020c003180000 000100000002000f4240000f42400000 0000",
		want: map[string]string{"DstMAC": "02:00:00:00:00:02", "EthernetType": "2048", "PayloadSize": "52", "SrcMAC": "02:00:00:00:00:01"}},
}
