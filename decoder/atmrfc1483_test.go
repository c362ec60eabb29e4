package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestATMRFC1483 decodes LLC-encapsulated ATM frames (link type 100) built
// here.
func TestATMRFC1483(t *testing.T) {
	runFrameCases(t, layers.LinkTypeATM_RFC1483, []frameCase{
		// an IPv4 UDP datagram behind LLC/SNAP (OUI 0, EtherType IPv4), as RFC 2684 routes IPv4
		{"LLC/SNAP IPv4 UDP", cat(llcSNAPIPv4, udp4(40000, 40001, []byte("netcap"))),
			Decoded, "", "192.0.2.1", types.Type_NC_UDP, "llc:ip:udp:data"},
		// an LLC I frame (two-byte control: N(S) 5, N(R) 10) between SAPs no
		// layer of netcap reads: an LLC record, the rest unknown
		{"LLC I frame", cat([]byte{0x30, 0x30, 5 << 1, 10 << 1}, []byte("netcap")), Unknown, "", "", types.Type_NC_LLC, "llc:data"},
	})
}

// llcSNAPIPv4 is an LLC/SNAP header for IPv4: SAPs 0xaa, UI, OUI 0,
// EtherType 0x0800 (RFC 2684, RFC 2225).
var llcSNAPIPv4 = []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}
