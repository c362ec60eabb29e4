package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestIPoIB decodes IP over InfiniBand frames (link type 242) of tcpdump's ipoib.pcap.
func TestIPoIB(t *testing.T) {
	runFrameCases(t, linkTypeIPoIB, []frameCase{
		// 1 0.000000 192.168.56.10 → 192.168.56.24 ICMP 128 Echo (ping) request id=0x195f, seq=0/0, ttl=255
		{"IPv4 ICMP", "000000000000000000000000000000002fa3000a80000550fe800000000000000010e000664ab4510800000045000054aefe0000ff011b37c0a8380ac0a8381808002bfb195f000039a3b85c000000007c74080000000000c6f982be307e2db9f00326abfd43bd553bef6a1810b683223f8171e9b2bb671a0c16cbefdebe0713",
			Decoded, "", "192.168.56.10", types.Type_NC_ICMPv4},
		{"cut header", "000000000000000000000000000000002fa3000a80000550fe80", Failed, "shorter than 44 bytes", "", 0},
	})
}
