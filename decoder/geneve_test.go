package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("Geneve", protocolTest{
		cases: geneveCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeGeneve, rec: types.Type_NC_Geneve, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(50000, 6081), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat([]byte{0x00, 0x00, 0x65, 0x58, 0, 0, 5, 0}, ethHeader(0x0800), ipv4Header(17, 8), udpHeader(1, 2, 0)),
					// One 4-byte option, then IPv4.
					cat([]byte{0x01, 0x40, 0x08, 0x00, 0, 0, 6, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4}, ipv4Header(17, 8), udpHeader(1, 2, 0)),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_Geneve, protos: []string{"geneve"},
				fields: []tsField{
					{ours: "Version", tshark: "geneve.version", want: tsNum("geneve.version")},
					{ours: "OptionsLength", tshark: "geneve.option.length of the header (bytes)", want: tsNum("geneve.option.length")},
					{ours: "OAMPacket", tshark: "geneve.flags.oam", want: tsNum("geneve.flags.oam")},
					{ours: "CriticalOption", tshark: "geneve.flags.critical", want: tsNum("geneve.flags.critical")},
					{ours: "Protocol", tshark: "geneve.proto_type", want: tsNum("geneve.proto_type")},
					{ours: "VNI", tshark: "geneve.vni", want: tsNum("geneve.vni")},
					{ours: "Options.Class", tshark: "geneve.option.class", want: tsList("geneve.option.class", childNum("geneve.option.class"))},
					{ours: "Options.Type", tshark: "geneve.option.type", want: tsList("geneve.option.class", childNum("geneve.option.type"))},
					{ours: "Options.Flags", tshark: "top 3 bits of the option's 4th byte", want: tsList("geneve.option.class", rawBits(3, 5, 0x7))},
					{ours: "Options.Length", tshark: "geneve.option.length (bytes, header included)", want: tsList("geneve.option.class", childNum("geneve.option.length"))},
					{ours: "Options.Data", tshark: "the option's bytes after its 4-byte header", want: tsList("geneve.option.class", rawFrom(4))},
				},
			},
		},
	})
}

func FuzzGeneve(f *testing.F) { fuzzLayer(f, "Geneve") }

// rawBits reads bits of byte i of the holder's bytes.
func rawBits(i int, shift, mask uint8) func(*tsNode) string {
	return func(h *tsNode) string {
		b, ok := h.rawBytes()
		if !ok || len(b) <= i {
			return "?"
		}
		return strconv.Itoa(int(b[i] >> shift & mask))
	}
}

// geneveCases are packets of Geneve built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var geneveCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 UDP 92 1 → 2 Len=0
	{name: "no options, Ethernet inside", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 004e1234000040117c2fc0000201c633 6407c35017c1003a0000000065580000 05000200000000020200000000010800 4500001c1234000040117c61c0000201 c63364070001000200080000",
		want: map[string]string{"CriticalOption": "0", "OAMPacket": "0", "OptionsLength": "0", "Protocol": "25944", "Version": "0"}},
}
