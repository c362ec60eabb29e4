package decoder

import (
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "ARP", Layer: layers.LayerTypeARP, Records: []types.Type{types.Type_NC_ARP},
		Description: "address resolution requests and replies",
		NewDecoder:  func() Decoder { return &arpDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ARP{} })
}

type arpDecoder struct{ r types.ARP }

func (d *arpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	a := l.(*layers.ARP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.AddrType = int32(a.AddrType)
	r.Protocol = int32(a.Protocol)
	r.HwAddressSize = int32(a.HwAddressSize)
	r.ProtocolAddressSize = int32(a.ProtAddressSize)
	r.Operation = int32(a.Operation)
	r.SrcHwAddress = hwText(a.SourceHwAddress)
	r.SrcProtocolAddress = protoAddrText(a.SourceProtAddress, a.Protocol)
	r.DstHwAddress = hwText(a.DstHwAddress)
	r.DstProtocolAddress = protoAddrText(a.DstProtAddress, a.Protocol)
	s.Emit(types.Type_NC_ARP, r)
}

// hwText renders a hardware address as a MAC when it has 6 bytes and as
// colon-separated hex otherwise, the way tshark does.
func hwText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return net.HardwareAddr(b).String()
}

// arpProtoAX25IP is the AX.25 layer-3 protocol id for IP, which ARP over
// amateur radio puts in the protocol type field.
const arpProtoAX25IP = 0xcc

// protoAddrText renders an IPv4 protocol address (protocol IPv4, 4 bytes) as
// an IP and anything else as colon-separated hex, the way tshark does: four
// bytes of another protocol are not an IP address.
func protoAddrText(b []byte, proto layers.EthernetType) string {
	if len(b) == net.IPv4len && (proto == layers.EthernetTypeIPv4 || proto == arpProtoAX25IP) {
		return net.IP(b).String()
	}
	return hwText(b)
}
