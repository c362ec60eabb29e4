package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "DHCPv6", Layer: layers.LayerTypeDHCPv6, Records: []types.Type{types.Type_NC_DHCPv6},
		Description: "DHCP for IPv6 (client/server and relay messages)",
		NewDecoder:  func() Decoder { return &dhcpv6Decoder{} },
	}, func() gopacket.DecodingLayer { return &layers.DHCPv6{} })
}

type dhcpv6Decoder struct {
	r    types.DHCPv6
	opts []*types.DHCPv6Option
}

func (d *dhcpv6Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*layers.DHCPv6)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.MsgType = int32(m.MsgType)
	r.HopCount = int32(m.HopCount)
	r.LinkAddr = ipText(m.LinkAddr)
	r.PeerAddr = ipText(m.PeerAddr)
	r.TransactionID = m.TransactionID
	if len(m.Options) > 0 {
		r.Options = reuse(&d.opts, len(m.Options))
		for i, o := range m.Options {
			r.Options[i].Code = int32(o.Code)
			r.Options[i].Length = int32(o.Length)
			r.Options[i].Data = o.Data
		}
	}
	s.Emit(types.Type_NC_DHCPv6, r)
}
