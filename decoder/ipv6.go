package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "IPv6", Layer: layers.LayerTypeIPv6, Records: []types.Type{types.Type_NC_IPv6, types.Type_NC_IPv6HopByHop},
		Description: "IPv6 headers (with the hop-by-hop options header when present; that header is also a record of its own)",
		NewDecoder:  func() Decoder { return &ipv6Decoder{} },
		Own:         types.ContextIPs, // the addresses of its own header
	}, func() gopacket.DecodingLayer { return &layers.IPv6{} })
}

type ipv6Decoder struct {
	r    types.IPv6
	hbh  types.IPv6HopByHop
	opts []*types.IPv6HopByHopOption
	// own is the hop-by-hop header as a record of its own, with the
	// packet's context, except its addresses, which are those of the IPv6
	// header it belongs to (Protocol.Own); it shares the options with hbh,
	// which is the HopByHop field of the IPv6 record.
	own types.IPv6HopByHop
}

func (d *ipv6Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	ip := l.(*layers.IPv6)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(ip.Version)
	r.TrafficClass = int32(ip.TrafficClass)
	r.FlowLabel = ip.FlowLabel
	r.Length = int32(ip.Length)
	r.NextHeader = int32(ip.NextHeader)
	r.HopLimit = int32(ip.HopLimit)
	r.SrcIP = p.Strings.IP(ip.SrcIP)
	r.DstIP = p.Strings.IP(ip.DstIP)
	r.PayloadEntropy = entropy(p, ip.Payload)
	r.PayloadSize = int32(len(ip.Payload))
	if h := ip.HopByHop; h != nil {
		d.hbh.Reset()
		d.hbh.Timestamp = p.Timestamp
		d.hbh.Options = reuse(&d.opts, len(h.Options))
		for i, o := range h.Options {
			d.hbh.Options[i].OptionType = int32(o.OptionType)
			d.hbh.Options[i].OptionLength = int32(o.OptionLength)
			d.hbh.Options[i].ActualLength = int32(o.ActualLength)
			d.hbh.Options[i].OptionData = o.OptionData
		}
		r.HopByHop = &d.hbh
	}
	s.Emit(types.Type_NC_IPv6, r)
	if r.HopByHop != nil {
		o := &d.own
		o.Reset()
		o.Timestamp = p.Timestamp
		o.Options = d.hbh.Options
		o.SrcIP, o.DstIP = r.SrcIP, r.DstIP // the header it belongs to
		s.Emit(types.Type_NC_IPv6HopByHop, o)
	}
}
