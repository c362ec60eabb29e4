package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestATMRFC1483 decodes LLC-encapsulated ATM frames (link type 100).
func TestATMRFC1483(t *testing.T) {
	runFrameCases(t, layers.LinkTypeATM_RFC1483, []frameCase{
		// an IPv4 UDP datagram behind LLC/SNAP (OUI 0, EtherType IPv4), as RFC 2684 routes IPv4
		{"LLC/SNAP IPv4 UDP", "aaaa030000000800 4500001c000100004011f9cb0a0000010a0000029c409c4100080000", Decoded, "", "10.0.0.1", types.Type_NC_UDP},
		// the start of tcpdump's llc-xid-heapoverflow.pcap:
		// 1 0.000000 → LLC 262144 I, N(R)=24, N(S)=24; DSAP 0x30 Individual, SSAP 0x30 Command
		{"LLC I frame", "303030303030303030303030", Unknown, "", "", types.Type_NC_LLC},
	})
}
