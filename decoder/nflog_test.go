package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestNFLog decodes Linux NFLOG frames (link type 239) of tcpdump's nflog.pcap.
func TestNFLog(t *testing.T) {
	runFrameCases(t, linkTypeNFLog, []frameCase{
		// 1 0.000000 74.82.42.42 → 10.0.0.20 DNS 180 Standard query response 0x4371 A example.com A 93.184.216.119
		{"IPv4 DNS", "02000014080001000800012705000a00000000000800040000000002100008000006ffffb8a386b9c3d6000006000f000001000006001100000e0000120010000811961c10c8b8a386b9c3d6080000001400030000000000522a1f9e00000000000960fc4d00090045000049000040003711c5144a522a2a0a0000140035a65900356ddf437181800001000100000000076578616d706c6503636f6d0000010001c00c0001000100002f9600045db8d877000000",
			Decoded, "", "74.82.42.42", types.Type_NC_DNS},
		{"no payload attribute", "0200001408000100080001270500", Failed, "without a payload attribute", "", 0},
		{"attribute longer than the frame", "02000014ff000900", Failed, "cut short", "", 0},
		{"family 7", "0700001408000900aabbccdd", Unknown, "NFLOG address family 7", "", 0},
	})
}
