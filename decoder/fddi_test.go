package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("FDDI", protocolTest{
		cases: fddiCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeFDDI, rec: types.Type_NC_FDDI, link: layers.LinkTypeFDDI,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{cat([]byte{0x50}, macB, macA, []byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ipv4Header(17, 8), udpHeader(1, 2, 0))}
			},
		},
	})
}

func FuzzFDDI(f *testing.F) { fuzzLayer(f, "FDDI") }

// fddiCases are packets of FDDI built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var fddiCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 49 1 → 2 Len=0
	{name: "async LLC frame, SNAP, IPv4 inside", link: layers.LinkTypeFDDI,
		hex:  "50020000000002020000000001aaaa03 00000008004500001c1234000040117c 61c0000201c633640700010002000800 00",
		want: map[string]string{"FrameControl": "80", "Priority": "0"}},
}

func TestFDDIAndNortelFields(t *testing.T) {
	// FDDI: frame control 0x51 (LLC, priority 1), destination first.
	frame := cat([]byte{0x51}, macB, macA, []byte{0xaa, 0xaa, 3, 0, 0, 0x81, 0x01, 0xa2}, []byte{192, 0, 2, 9, 0, 0, 1, 12, 2, 3, 4})
	recs := decodeOne(t, frame, layers.LinkTypeFDDI)
	f := one[*types.FDDI](t, recs, types.Type_NC_FDDI)
	if f.FrameControl != 0x50 || f.Priority != 1 || f.DstMAC != macB.String() || f.SrcMAC != macA.String() {
		t.Errorf("FDDI: %v", f)
	}
	n := one[*types.NortelDiscovery](t, recs, types.Type_NC_NortelDiscovery)
	if n.IPAddress != "192.0.2.9" || string(n.SegmentID) != "\x00\x00\x01" || n.Chassis != 12 || n.Backplane != 2 || n.State != 3 || n.NumLinks != 4 {
		t.Errorf("Nortel: %v", n)
	}
}
