package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestIPNet decodes Solaris IPNET frames (link type 226) of tcpdump's e1000g.pcap.
func TestIPNet(t *testing.T) {
	runFrameCases(t, linkTypeIPNet, []frameCase{
		// 1 0.000000 129.146.106.55 → 10.5.233.117 ICMP 108 Echo (ping) request id=0x1af5, seq=0/0, ttl=249
		{"IPv4 ICMP", "01020000000000540000000200000000ffffffff0000000045000054e58e0000f901fcd581926a370a05e975080032e21af50000ed760d4bb9630b0008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
			Decoded, "", "129.146.106.55", types.Type_NC_ICMPv4},
		{"family 99", "01630000000000040000000200000000ffffffff0000000000000000", Unknown, "IPNET address family 99", "", 0},
		{"cut header", "0102000000000054", Failed, "IPNET header shorter than 24 bytes", "", 0},
	})
}
