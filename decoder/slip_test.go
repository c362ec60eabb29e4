package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestSLIP decodes SLIP frames (link type 8). tshark reads them as data;
// the comments are tcpdump's lines for the frames of its captures.
func TestSLIP(t *testing.T) {
	runFrameCases(t, layers.LinkTypeSLIP, []frameCase{
		// tcpdump's icmp6_nodeinfo_oobr.pcap:
		// IP6 a072:7f00:1:7f00:1:e01a:17:6785 > c903::a002:8018:fe30:0:204: ICMP6, who-are-you reply [|icmp6], length 4
		{"IPv6 ICMPv6", "00000000000000000000000008004510603c9c3700043a06a0727f0000017f000001e01a00176785c90300000000a0028018fe30000002048c00040208",
			Decoded, "", "a072:7f00:1:7f00:1:e01a:17:6785", types.Type_NC_IPv6},
		// a received frame of an IPv4 UDP datagram (10.0.0.1 > 10.0.0.2)
		{"IPv4 UDP", "00000000000000000000000000000000 4500001c000100004011f9cb0a0000010a0000029c409c4100080000",
			Decoded, "", "10.0.0.1", types.Type_NC_UDP},
		// tcpdump's slip-bad-direction.pcap: Invalid direction 231 ip v14
		{"version 14", "e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7ca0000525400123502080027bdc82e0800",
			Unknown, "SLIP packet of IP version 14", "", 0},
		{"header cut", "0000000000", Failed, "SLIP header shorter than 16 bytes", "", 0},
	})
}
