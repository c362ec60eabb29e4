package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestFrameRelay decodes Frame Relay frames (link type 107): a real one of
// tcpdump's OSPFv3_NBMA_adjacencies.pcap (Cisco encapsulation) and RFC 2427
// ones built here.
func TestFrameRelay(t *testing.T) {
	udp := "4500001c000100004011f9cb0a0000010a0000029c409c4100080000" // IPv4 10.0.0.1:40000 → 10.0.0.2:40001, UDP
	runFrameCases(t, layers.LinkTypeFRelay, []frameCase{
		// 1 0.000000 fe80::3 → fe80::2 OSPF 80 Hello Packet
		{"Cisco encapsulation, IPv6 OSPF", "48e186dd6e00000000245901fe800000000000000000000000000003fe8000000000000000000000000000020301002403030303000000008e9b00000000000664000013001e00780303030300000000",
			Decoded, "", "fe80::3", types.Type_NC_OSPFv3},
		{"RFC 2427, NLPID IPv4", "1841" + "03" + "cc" + udp, Decoded, "", "10.0.0.1", types.Type_NC_IPv4},
		{"RFC 2427 with pad", "1841" + "03" + "00" + "cc" + udp, Decoded, "", "10.0.0.1", types.Type_NC_IPv4},
		{"3-byte address", "80ea9d" + "0800" + udp, Decoded, "", "10.0.0.1", types.Type_NC_IPv4},
		{"NLPID of ISO CLNP", "1841" + "03" + "81" + "0000", Unknown, "Frame Relay NLPID 0x81", "", 0},
		{"address never ends", "18404040", Failed, "Frame Relay header cut short", "", 0},
	})
}
