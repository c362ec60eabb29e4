package decoder

import (
	"encoding/hex"
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
	r.SrcProtocolAddress = protoAddrText(a.SourceProtAddress)
	r.DstHwAddress = hwText(a.DstHwAddress)
	r.DstProtocolAddress = protoAddrText(a.DstProtAddress)
	r.FrameNumber, r.SrcIP, r.DstIP, r.SrcPort, r.DstPort, r.FlowID = p.Frame, p.SrcIP, p.DstIP, p.SrcPort, p.DstPort, p.FlowID
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

// protoAddrText renders a 4 or 16 byte protocol address as an IP, anything
// else as hex.
func protoAddrText(b []byte) string {
	if len(b) == net.IPv4len || len(b) == net.IPv6len {
		return net.IP(b).String()
	}
	return hex.EncodeToString(b)
}
