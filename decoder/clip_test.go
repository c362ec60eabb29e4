package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestCLIP decodes Linux Classical IP over ATM frames (link type 106).
func TestCLIP(t *testing.T) {
	runFrameCases(t, linkTypeLinuxATMCLIP, []frameCase{
		// an IPv4 UDP datagram as a VC-multiplexed circuit carries it
		{"IPv4 UDP", "4500001c000100004011f9cb0a0000010a0000029c409c4100080000", Decoded, "", "10.0.0.1", types.Type_NC_UDP},
		// the same datagram behind the LLC/SNAP header of RFC 2225 (OUI 0, EtherType IPv4)
		{"LLC/SNAP IPv4 UDP", "aaaa030000000800 4500001c000100004011f9cb0a0000010a0000029c409c4100080000", Decoded, "", "10.0.0.1", types.Type_NC_SNAP},
		// tcpdump's heap-overflow-2.pcap: 1 0.000000 Bogus IP version (3) in tshark
		{"one byte", "30", Failed, "IPv4", "", 0},
	})
}
