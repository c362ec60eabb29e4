package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "ICMPv4", Layer: layers.LayerTypeICMPv4, Records: []types.Type{types.Type_NC_ICMPv4},
		Description: "ICMP for IPv4; TypeCode is type<<8 | code",
		NewDecoder:  func() Decoder { return &icmpv4Decoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv4{} })
}

type icmpv4Decoder struct{ r types.ICMPv4 }

func (d *icmpv4Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv4)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.TypeCode = int32(c.TypeCode)
	r.Checksum = int32(c.Checksum)
	r.Id = int32(c.Id)
	r.Seq = int32(c.Seq)
	s.Emit(types.Type_NC_ICMPv4, r)
}
