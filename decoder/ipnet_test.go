package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestIPNet decodes Solaris IPNET frames (link type 226) built here.
func TestIPNet(t *testing.T) {
	icmp := icmp4Echo(0x1af5, 0)
	runFrameCases(t, linkTypeIPNet, []frameCase{
		{"IPv4 ICMP", cat(ipnetHeader(2, len(icmp)), icmp), Decoded, "", "192.0.2.1", types.Type_NC_ICMPv4, "ipnet:ip:icmp:data"},
		{"family 99", cat(ipnetHeader(99, 4), make([]byte, 4)), Unknown, "IPNET address family 99", "", 0, ""},
		{"cut header", ipnetHeader(2, len(icmp))[:8], Failed, "IPNET header shorter than 24 bytes", "", 0, ""},
	})
}

// ipnetHeader is the 24-byte IPNET header of an outbound packet of n bytes
// (version 1, address family, hook 0x0000, length, interface 3, no group
// interface, the global zone as source and destination).
func ipnetHeader(family byte, n int) []byte {
	b := make([]byte, 24)
	b[0], b[1] = 1, family
	binary.BigEndian.PutUint32(b[4:], uint32(n))
	binary.BigEndian.PutUint32(b[8:], 3)
	return b
}
