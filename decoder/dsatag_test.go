package decoder

import (
	"testing"

	"github.com/netcap/netcap/types"
)

// TestSwitchTags decodes frames of tcpdump's dsa.pcap, edsa.pcap,
// brcm-tag.pcap and brcm-tag-prepend.pcap (link types 284, 285, 281, 282).
// tshark does not read these link types; the comments are tcpdump -e's
// lines for the frames.
func TestSwitchTags(t *testing.T) {
	t.Run("DSA", func(t *testing.T) {
		runFrameCases(t, linkTypeDSATag, []frameCase{
			// 00:50:b6:29:10:70 > d6:c5:28:21:3e:af, Marvell DSA mode Forward, dev 0, port 1, untagged, VID 0, FPri 0, ethertype IPv4 (0x0800), length 102: 192.168.30.1 > 192.168.30.2: ICMP echo request, id 13586, seq 1, length 64
			{"IPv4 ICMP echo request", "d6c528213eaf0050b6291070c00a000008004500005436e940004001466cc0a81e01c0a81e020800964f351200018901a95c00000000306c0b0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
				Decoded, "", "192.168.30.1", types.Type_NC_ICMPv4},
			// d6:c5:28:21:3e:af > 00:50:b6:29:10:70, Marvell DSA mode From CPU, target dev 0, port 1, untagged, VID 0, FPri 0, ethertype ARP (0x0806), length 46: Request who-has 192.168.30.1 tell 192.168.30.2, length 28
			{"ARP request", "0050b6291070d6c528213eaf40080000 08060001080006040001d6c528213eafc0a81e02000000000000c0a81e01",
				Decoded, "", "", types.Type_NC_ARP},
			{"tag cut", "d6c528213eaf0050b6291070c00a00", Failed, "shorter than its MACs, tag and EtherType", "", 0},
			{"unknown EtherType", "d6c528213eaf0050b6291070c00a0000899900", Unknown, "switch-tagged frame EtherType 0x8999", "", 0},
		})
	})
	t.Run("EDSA", func(t *testing.T) {
		runFrameCases(t, linkTypeEDSATag, []frameCase{
			// 00:50:b6:29:10:7e > c6:e8:9f:7d:69:da, Marvell EDSA ethertype 0xdada (Unknown), rsvd 0 0, mode Forward, dev 0, port 0, untagged, VID 0, FPri 0, ethertype IPv4 (0x0800), length 106: 192.168.20.1 > 192.168.20.2: ICMP echo request, id 13583, seq 1, length 64
			{"IPv4 ICMP echo request", "c6e89f7d69da0050b629107edada0000c000000008004500005467764000400129dfc0a81401c0a814020800ac11350f00018601a95c000000001bad0d0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
				Decoded, "", "192.168.20.1", types.Type_NC_ICMPv4},
			// the DSA frame above read as EDSA: 4 bytes short of the EtherType
			{"DSA header only", "d6c528213eaf0050b6291070c00a00000800", Failed, "shorter than its MACs", "", 0},
		})
	})
	t.Run("Broadcom", func(t *testing.T) {
		runFrameCases(t, linkTypeBRCMTag, []frameCase{
			// 00:10:18:de:38:1e > ff:ff:ff:ff:ff:ff, BRCM tag OP: IG, TC: 0, TE: None, TS: 0, DST map: 0x0080, ethertype IPv4 (0x0800), length 346: 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from 00:10:18:de:38:1e, length 300
			{"IPv4 DHCP request", "ffffffffffff001018de381e2c00008008004500014800000000401179a600000000ffffffff00440043013402ed01010600236e92041e75000000000000000000000000000000000000001018de381e00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000638253633501013d0701001018de381e3902024037070103060c0f1c2a3c0c756468637020312e32392e320c0a42434d39373237385356ff0000000000000000",
				Decoded, "", "0.0.0.0", types.Type_NC_DHCPv4},
		})
	})
	t.Run("Broadcom prepended", func(t *testing.T) {
		runFrameCases(t, linkTypeBRCMPrepend, []frameCase{
			// BRCM tag OP: EG, CID: 0, RC: exception, TC: 0, port: 5, 68:05:ca:18:47:70 > 8a:62:38:14:5d:0b, ethertype IPv4 (0x0800), length 98: 192.168.1.1 > 192.168.1.151: ICMP echo request, id 2129, seq 1, length 64
			{"IPv4 ICMP echo request", "000020058a6238145d0b6805ca1847700800450000544931400040016d8fc0a80101c0a801970800d5e3085100013fad475c00000000cfed040000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
				Decoded, "", "192.168.1.1", types.Type_NC_Ethernet},
			{"tag cut", "000020", Failed, "Broadcom tag shorter than 4 bytes", "", 0},
		})
	})
}
