package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "GRE", Layer: layers.LayerTypeGRE, Records: []types.Type{types.Type_NC_GRE},
		Description: "Generic Routing Encapsulation headers; the packet inside is decoded too",
		NewDecoder:  func() Decoder { return &greDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.GRE{} })
}

type greDecoder struct {
	r       types.GRE
	routing []*types.GRERouting
}

func (d *greDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	g := l.(*layers.GRE)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.ChecksumPresent = g.ChecksumPresent
	r.RoutingPresent = g.RoutingPresent
	r.KeyPresent = g.KeyPresent
	r.SeqPresent = g.SeqPresent
	r.StrictSourceRoute = g.StrictSourceRoute
	r.AckPresent = g.AckPresent
	r.RecursionControl = int32(g.RecursionControl)
	r.Flags = int32(g.Flags)
	r.Version = int32(g.Version)
	r.Protocol = int32(g.Protocol)
	r.Checksum = int32(g.Checksum)
	r.Offset = int32(g.Offset)
	r.Key = g.Key
	r.Seq = g.Seq
	r.Ack = g.Ack
	// The source route entries form a list (at most 32, gopacket's bound);
	// the records of the list are reused from packet to packet.
	n := 0
	for e := g.GRERouting; e != nil; e = e.Next {
		n++
	}
	if n > 0 {
		rs := reuse(&d.routing, n)
		i := 0
		for e := g.GRERouting; e != nil; e = e.Next {
			rs[i].AddressFamily = int32(e.AddressFamily)
			rs[i].SREOffset = int32(e.SREOffset)
			rs[i].SRELength = int32(e.SRELength)
			rs[i].RoutingInformation = e.RoutingInformation
			if i > 0 {
				rs[i-1].Next = rs[i]
			}
			i++
		}
		r.Routing = rs[0]
	}
	s.Emit(types.Type_NC_GRE, r)
}
