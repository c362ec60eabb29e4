package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "Geneve", Layer: layers.LayerTypeGeneve, Records: []types.Type{types.Type_NC_Geneve},
		Description: "Geneve headers with their options (UDP 6081); the packet inside is decoded too",
		NewDecoder:  func() Decoder { return &geneveDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.Geneve{} })
}

type geneveDecoder struct {
	r    types.Geneve
	opts []*types.GeneveOption
}

func (d *geneveDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	g := l.(*layers.Geneve)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(g.Version)
	r.OptionsLength = int32(g.OptionsLength)
	r.OAMPacket = g.OAMPacket
	r.CriticalOption = g.CriticalOption
	r.Protocol = int32(g.Protocol)
	r.VNI = g.VNI
	if len(g.Options) > 0 {
		r.Options = reuse(&d.opts, len(g.Options))
		for i, o := range g.Options {
			r.Options[i].Class = int32(o.Class)
			r.Options[i].Type = int32(o.Type)
			r.Options[i].Flags = int32(o.Flags)
			r.Options[i].Length = int32(o.Length)
			r.Options[i].Data = o.Data
		}
	}
	s.Emit(types.Type_NC_Geneve, r)
}
