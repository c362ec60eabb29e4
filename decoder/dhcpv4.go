package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "DHCPv4", Layer: layers.LayerTypeDHCPv4, Records: []types.Type{types.Type_NC_DHCPv4},
		Description: "DHCP for IPv4 (BOOTP header and options)",
		NewDecoder:  func() Decoder { return &dhcpv4Decoder{} },
	}, func() gopacket.DecodingLayer { return &layers.DHCPv4{} })
}

type dhcpv4Decoder struct {
	r    types.DHCPv4
	opts []*types.DHCPOption
}

func (d *dhcpv4Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*layers.DHCPv4)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Operation = int32(m.Operation)
	r.HardwareType = int32(m.HardwareType)
	r.HardwareLen = int32(m.HardwareLen)
	r.HardwareOpts = int32(m.RelayHops) // the BOOTP "hops" byte, named HardwareOpts since the original
	r.Xid = m.Xid
	r.Secs = int32(m.Secs)
	r.Flags = int32(m.Flags)
	r.ClientIP = ipText(m.ClientIP)
	r.YourClientIP = ipText(m.YourClientIP)
	r.NextServerIP = ipText(m.NextServerIP)
	r.RelayAgentIP = ipText(m.RelayAgentIP)
	r.ClientHWAddr = macText(m.ClientHWAddr)
	r.ServerName = m.ServerName
	r.File = m.File
	if len(m.Options) > 0 {
		r.Options = reuse(&d.opts, len(m.Options))
		for i, o := range m.Options {
			r.Options[i].Type = int32(o.Type)
			r.Options[i].Length = int32(o.Length)
			r.Options[i].Data = o.Data
		}
	}
	s.Emit(types.Type_NC_DHCPv4, r)
}
