package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestJuniper decodes Juniper Ethernet frames (link type 178) of tcpdump's
// bgp-aigp.pcap and isis_poi.pcap, and hostile ones.
func TestJuniper(t *testing.T) {
	runFrameCases(t, linkTypeJuniperEther, []frameCase{
		// 1 0.000000 172.16.20.5 → 172.16.20.3 BGP 218 UPDATE Message, UPDATE Message
		{"IPv4 TCP BGP", "4d474380001003010106010e01028c0004044c0100000050568b5e9f0050568b6dde080045c000b688f7000040067062ac101405ac101403e8ef00b3e9e02e03c72f6b7d80184000e11200000101080a01f37b4601f2e577ffffffffffffffffffffffffffffffff0064020000004d400101024002008004040000000040050400000064c00804fde82bc1800904ac101504800a04ac101405801a0b01000b00000000000007d0900e001100010404ac1014050038494401ac101504ffffffffffffffffffffffffffffffff001e0200000007900f0003000104",
			Decoded, "", "172.16.20.5", types.Type_NC_TCP},
		// 1 0.000000 LucentTe_18:ae:00 → DEC-MAP-(or-OSI?)-Intermediate-System-Hello? ISIS LSP 82 L2 LSP, LSP-ID: 1280.9201.9098.00-00, Sequence: 0x000001e2, Lifetime: 0s
		{"802.3 LLC IS-IS", "4d474385001003010106010e01028a0004044b01000009002b00000500058618ae00002efefe03831b010014010000002b00001280920190980000000001e20000030d0701128092020074890550325f7265",
			Decoded, "", "", types.Type_NC_ISIS},
		// the header of the first frame without link header (flag 0x02), then its IPv4 packet
		{"no link header, IPv4", "4d474382001003010106010e01028c0004044c010000 00000000 45c000b688f7000040067062ac101405ac101403e8ef00b3e9e02e03c72f6b7d80184000e11200000101080a01f37b4601f2e577",
			Decoded, "", "172.16.20.5", types.Type_NC_TCP},
		// tcpdump's juniper_header-heapoverflow.pcap: extensions of 0x3030 bytes in a 262-byte frame
		{"extensions past the frame", "4d474385003030303030303030", Failed, "Juniper header cut short", "", 0},
		{"no magic", "4d474485000000", Failed, "without its magic number", "", 0},
		{"no link header, not IP", "4d474302000000001111", Unknown, "Juniper frame without link header or IP", "", 0},
	})
}
