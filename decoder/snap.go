package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "SNAP", Layer: layers.LayerTypeSNAP, Records: []types.Type{types.Type_NC_SNAP},
		Description: "802.2 SNAP headers (organization code and protocol)",
		NewDecoder:  func() Decoder { return &snapDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.SNAP{} })
}

type snapDecoder struct{ r types.SNAP }

func (d *snapDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.SNAP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.OrganizationalCode = c.OrganizationalCode
	r.Type = int32(c.Type)
	s.Emit(types.Type_NC_SNAP, r)
}
