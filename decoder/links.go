package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Link headers that carry no record of their own but that the chain must
// walk through to reach the network layer.
func init() {
	RegisterLayer(layers.LayerTypeLinuxSLL, func() gopacket.DecodingLayer { return &layers.LinuxSLL{} })
	RegisterLayer(layers.LayerTypeLinuxSLL2, func() gopacket.DecodingLayer { return &layers.LinuxSLL2{} })
	RegisterLayer(layers.LayerTypeLoopback, func() gopacket.DecodingLayer { return &layers.Loopback{} })
	RegisterLink(
		Link{Type: layers.LinkTypeLinuxSLL, First: layers.LayerTypeLinuxSLL},
		Link{Type: layers.LinkTypeLinuxSLL2, First: layers.LayerTypeLinuxSLL2},
		Link{Type: layers.LinkTypeNull, First: layers.LayerTypeLoopback},
		Link{Type: layers.LinkTypeLoop, First: layers.LayerTypeLoopback},
		Link{Type: layers.LinkTypeIPv4, First: layers.LayerTypeIPv4},
		Link{Type: layers.LinkTypeIPv6, First: layers.LayerTypeIPv6},
		Link{Type: layers.LinkTypeRaw, Pick: rawIP},
		Link{Type: linkTypeRawDLT12, Pick: rawIP},
		Link{Type: linkTypeRawDLT14, Pick: rawIP},
	)
}

// Raw IP as some systems write it in pcap files: the value of their DLT_RAW
// instead of LINKTYPE_RAW (101); libpcap and tshark read both as raw IP.
const (
	linkTypeRawDLT12 layers.LinkType = 12 // most BSDs
	linkTypeRawDLT14 layers.LinkType = 14 // OpenBSD
)

// rawIP tells IPv4 from IPv6 by the version nibble.
func rawIP(data []byte) gopacket.LayerType {
	if len(data) > 0 && data[0]>>4 == 6 {
		return layers.LayerTypeIPv6
	}
	return layers.LayerTypeIPv4
}
