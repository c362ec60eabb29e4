package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestCLIP decodes Linux Classical IP over ATM frames (link type 106)
// built here.
func TestCLIP(t *testing.T) {
	udp := udp4(40000, 40001, []byte("netcap"))
	runFrameCases(t, linkTypeLinuxATMCLIP, []frameCase{
		// an IPv4 UDP datagram as a VC-multiplexed circuit carries it
		{"IPv4 UDP", udp, Decoded, "", "192.0.2.1", types.Type_NC_UDP, "clip:ip:udp:data"},
		// the same datagram behind the LLC/SNAP header of RFC 2225 (OUI 0,
		// EtherType IPv4); tshark's CLIP dissector reads only the
		// VC-multiplexed form and takes the LLC header for IP
		{"LLC/SNAP IPv4 UDP", cat(llcSNAPIPv4, udp), Decoded, "", "192.0.2.1", types.Type_NC_SNAP, ""},
		// the first byte of an IPv4 header and nothing else
		{"one byte", udp[:1], Failed, "IPv4", "", 0, ""},
	})
}
