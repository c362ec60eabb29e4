package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("SNAP", protocolTest{
		cases: snapCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeSNAP, rec: types.Type_NC_SNAP, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC}, max: 1497,
			wrap: func(b []byte) []byte { return cat(ethHeader(uint16(3+len(b))), []byte{0xaa, 0xaa, 0x03}, b) },
			built: func() [][]byte {
				return [][]byte{
					cat([]byte{0, 0, 0, 0x08, 0x06}, serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
						HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply,
						SourceHwAddress: macA, SourceProtAddress: ip4A.To4(), DstHwAddress: macB, DstProtAddress: ip4B.To4()})),
					{0x00, 0x00, 0x0c, 0x20, 0x00, 0x02, 0xb4},
				}
			},
		},
		oracle: []tsRecord{
			{
				// tshark keeps SNAP inside its llc protocol.
				typ: types.Type_NC_SNAP, protos: []string{"llc"}, keep: func(p *tsNode) bool { return p.field("llc.oui") != nil },
				fields: []tsField{
					{ours: "OrganizationalCode", tshark: "llc.oui (bytes)", want: tsRawHex("llc.oui")},
					{ours: "Type", tshark: "the 2 bytes after llc.oui (llc.pid, llc.type, ...)", want: snapType},
				},
			},
		},
	})
}

func FuzzSNAP(f *testing.F) { fuzzLayer(f, "SNAP") }

// snapType is the protocol id after the OUI; tshark names it by OUI
// (llc.pid, llc.type, llc.cisco_pid, ...), so it is found by position.
func snapType(_ *tsPacket, p *tsNode) (string, bool) {
	oui := p.field("llc.oui")
	if oui == nil {
		return "", false
	}
	var out *tsNode
	p.walk(func(k *tsNode) bool {
		if k.pos == oui.pos+3 && k.size == 2 && k.value != "" {
			out = k
			return false
		}
		return true
	})
	v, ok := out.rawUint()
	return strconv.FormatUint(v, 10), ok
}

// snapCases are packets of SNAP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var snapCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 ARP 50 192.0.2.1 is at 02:00:00:00:00:01
	{name: "192.0.2.1 is at 02:00:00:00:00:01", link: layers.LinkTypeEthernet,
		hex:  "0200000000020200000000010024aaaa 03000000080600010800060400020200 00000001c0000201020000000002c633 6407",
		want: map[string]string{"OrganizationalCode": "000000", "Type": "2054"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 CDP 124 Device ID: S1 Port ID: FastEthernet0/1
	{name: "Device ID: S1 Port ID: FastEthernet0/1", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001006eaaaa 0300000c200002b40000000100065331 00020011000000010101cc0004c00002 01000300134661737445746865726e65 74302f3100040008000000280005000c 494f532031322e320006001263697363 6f2057532d4333353630000900077674 70000a00060001000b000501",
		want: map[string]string{"OrganizationalCode": "00000c", "Type": "8192"}},
}
