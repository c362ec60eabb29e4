package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// ICMPv6 and the message bodies gopacket decodes after it; every message is a
// record of its own, as in the original netcap.
func init() {
	Register(Protocol{
		Name: "ICMPv6", Layer: layers.LayerTypeICMPv6, Records: []types.Type{types.Type_NC_ICMPv6},
		Description: "ICMP for IPv6; TypeCode is type<<8 | code",
		NewDecoder:  func() Decoder { return &icmpv6Decoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv6{} })
	Register(Protocol{
		Name: "ICMPv6Echo", Layer: layers.LayerTypeICMPv6Echo, Records: []types.Type{types.Type_NC_ICMPv6Echo},
		Description: "ICMPv6 echo request and reply bodies",
		NewDecoder:  func() Decoder { return &icmpv6EchoDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv6Echo{} })
	Register(Protocol{
		Name: "ICMPv6NeighborSolicitation", Layer: layers.LayerTypeICMPv6NeighborSolicitation,
		Records:     []types.Type{types.Type_NC_ICMPv6NeighborSolicitation},
		Description: "neighbor discovery: neighbor solicitations",
		NewDecoder:  func() Decoder { return &icmpv6NSDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv6NeighborSolicitation{} })
	Register(Protocol{
		Name: "ICMPv6NeighborAdvertisement", Layer: layers.LayerTypeICMPv6NeighborAdvertisement,
		Records:     []types.Type{types.Type_NC_ICMPv6NeighborAdvertisement},
		Description: "neighbor discovery: neighbor advertisements",
		NewDecoder:  func() Decoder { return &icmpv6NADecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv6NeighborAdvertisement{} })
	Register(Protocol{
		Name: "ICMPv6RouterSolicitation", Layer: layers.LayerTypeICMPv6RouterSolicitation,
		Records:     []types.Type{types.Type_NC_ICMPv6RouterSolicitation},
		Description: "neighbor discovery: router solicitations",
		NewDecoder:  func() Decoder { return &icmpv6RSDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv6RouterSolicitation{} })
	Register(Protocol{
		Name: "ICMPv6RouterAdvertisement", Layer: layers.LayerTypeICMPv6RouterAdvertisement,
		Records:     []types.Type{types.Type_NC_ICMPv6RouterAdvertisement},
		Description: "neighbor discovery: router advertisements",
		NewDecoder:  func() Decoder { return &icmpv6RADecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.ICMPv6RouterAdvertisement{} })
}

type icmpv6Decoder struct{ r types.ICMPv6 }

func (d *icmpv6Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv6)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.TypeCode = int32(c.TypeCode)
	r.Checksum = int32(c.Checksum)
	s.Emit(types.Type_NC_ICMPv6, r)
}

type icmpv6EchoDecoder struct{ r types.ICMPv6Echo }

func (d *icmpv6EchoDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv6Echo)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Identifier = int32(c.Identifier)
	r.SeqNumber = int32(c.SeqNumber)
	s.Emit(types.Type_NC_ICMPv6Echo, r)
}

// options converts neighbor discovery options into pooled sub-messages.
func options(pool *[]*types.ICMPv6Option, opts layers.ICMPv6Options) []*types.ICMPv6Option {
	if len(opts) == 0 {
		return nil
	}
	out := reuse(pool, len(opts))
	for i, o := range opts {
		out[i].Type = int32(o.Type)
		out[i].Data = o.Data
	}
	return out
}

type icmpv6NSDecoder struct {
	r    types.ICMPv6NeighborSolicitation
	opts []*types.ICMPv6Option
}

func (d *icmpv6NSDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv6NeighborSolicitation)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.TargetAddress = ipText(c.TargetAddress)
	r.Options = options(&d.opts, c.Options)
	s.Emit(types.Type_NC_ICMPv6NeighborSolicitation, r)
}

type icmpv6NADecoder struct {
	r    types.ICMPv6NeighborAdvertisement
	opts []*types.ICMPv6Option
}

func (d *icmpv6NADecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv6NeighborAdvertisement)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Flags = int32(c.Flags)
	r.TargetAddress = ipText(c.TargetAddress)
	r.Options = options(&d.opts, c.Options)
	s.Emit(types.Type_NC_ICMPv6NeighborAdvertisement, r)
}

type icmpv6RSDecoder struct {
	r    types.ICMPv6RouterSolicitation
	opts []*types.ICMPv6Option
}

func (d *icmpv6RSDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv6RouterSolicitation)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Options = options(&d.opts, c.Options)
	s.Emit(types.Type_NC_ICMPv6RouterSolicitation, r)
}

type icmpv6RADecoder struct {
	r    types.ICMPv6RouterAdvertisement
	opts []*types.ICMPv6Option
}

func (d *icmpv6RADecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.ICMPv6RouterAdvertisement)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.HopLimit = int32(c.HopLimit)
	r.Flags = int32(c.Flags)
	r.RouterLifetime = int32(c.RouterLifetime)
	r.ReachableTime = c.ReachableTime
	r.RetransTimer = c.RetransTimer
	r.Options = options(&d.opts, c.Options)
	s.Emit(types.Type_NC_ICMPv6RouterAdvertisement, r)
}
