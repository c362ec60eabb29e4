package decoder

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestSwitchTags decodes switch-tagged frames (link types 284, 285, 281,
// 282) built here. tshark does not read these link types, so it checks
// none of them (tcpdump -e reads them).
func TestSwitchTags(t *testing.T) {
	icmp := icmp4Echo(0x3512, 1)
	t.Run("DSA", func(t *testing.T) {
		runFrameCases(t, linkTypeDSATag, []frameCase{
			{"IPv4 ICMP echo request", cat(macB, macA, dsaTag(dsaForward, 0, 1), u16b(0x0800), icmp),
				Decoded, "", "192.0.2.1", types.Type_NC_ICMPv4, ""},
			{"ARP request", cat(macA, macB, dsaTag(dsaFromCPU, 0, 1), u16b(0x0806), dsaARPRequest()),
				Decoded, "", "", types.Type_NC_ARP, ""},
			{"tag cut", cat(macB, macA, dsaTag(dsaForward, 0, 1))[:15], Failed, "shorter than its MACs, tag and EtherType", "", 0, ""},
			{"unknown EtherType", cat(macB, macA, dsaTag(dsaForward, 0, 1), u16b(0x8999), []byte{0}),
				Unknown, "switch-tagged frame EtherType 0x8999", "", 0, ""},
		})
	})
	t.Run("EDSA", func(t *testing.T) {
		runFrameCases(t, linkTypeEDSATag, []frameCase{
			// the MACs, EtherType 0xdada and 2 reserved bytes, the DSA tag, the EtherType
			{"IPv4 ICMP echo request", cat(macB, macA, u16b(0xdada), []byte{0, 0}, dsaTag(dsaForward, 0, 0), u16b(0x0800), icmp),
				Decoded, "", "192.0.2.1", types.Type_NC_ICMPv4, ""},
			// a DSA header read as EDSA: 4 bytes short of the EtherType
			{"DSA header only", cat(macB, macA, dsaTag(dsaForward, 0, 1), u16b(0x0800)), Failed, "shorter than its MACs", "", 0, ""},
		})
	})
	t.Run("Broadcom", func(t *testing.T) {
		runFrameCases(t, linkTypeBRCMTag, []frameCase{
			{"IPv4 DHCP request", cat(layers.EthernetBroadcast, macA, brcmTag(7), u16b(0x0800), dhcpDiscover()),
				Decoded, "", "0.0.0.0", types.Type_NC_DHCPv4, ""},
		})
	})
	t.Run("Broadcom prepended", func(t *testing.T) {
		runFrameCases(t, linkTypeBRCMPrepend, []frameCase{
			{"IPv4 ICMP echo request", cat(brcmTag(5), ethHeader(0x0800), icmp), Decoded, "", "192.0.2.1", types.Type_NC_Ethernet, ""},
			{"tag cut", brcmTag(5)[:3], Failed, "Broadcom tag shorter than 4 bytes", "", 0, ""},
		})
	})
}

// Marvell DSA tag modes (the top 2 bits of the tag).
const (
	dsaFromCPU = 1
	dsaForward = 3
)

// dsaTag is a Marvell DSA tag: mode and source device, port, then an
// untagged frame's zero priority and VLAN ID.
func dsaTag(mode, dev, port byte) []byte {
	return []byte{mode<<6 | dev&0x1f, port << 3, 0, 0}
}

// brcmTag is a Broadcom tag of opcode 1 (egress to the ports of a map),
// with a map of one port.
func brcmTag(port uint) []byte {
	return binary.BigEndian.AppendUint32(nil, 1<<29|1<<port)
}

// dsaARPRequest is an Ethernet ARP request of macA at 192.0.2.1 for
// 198.51.100.7.
func dsaARPRequest() []byte {
	return serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: macA, SourceProtAddress: ip4A.To4(), DstHwAddress: make([]byte, 6), DstProtAddress: ip4B.To4()})
}

// dhcpDiscover is the IPv4 UDP datagram of a DHCP discover of macA, from
// 0.0.0.0:68 to 255.255.255.255:67, checksums computed.
func dhcpDiscover() []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4zero.To4(), DstIP: net.IPv4bcast.To4()}
	udp := &layers.UDP{SrcPort: 68, DstPort: 67}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	dhcp := &layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		Xid: 0x5eed, ClientHWAddr: macA, Options: []layers.DHCPOption{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)}),
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("netcap")),
			layers.NewDHCPOption(layers.DHCPOptEnd, nil)}}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, dhcp); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
