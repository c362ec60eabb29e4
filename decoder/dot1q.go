package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "Dot1Q", Layer: layers.LayerTypeDot1Q, Records: []types.Type{types.Type_NC_Dot1Q},
		Description: "802.1Q VLAN tags (one record per tag)",
		NewDecoder:  func() Decoder { return &dot1qDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.Dot1Q{} })
}

type dot1qDecoder struct{ r types.Dot1Q }

func (d *dot1qDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	q := l.(*layers.Dot1Q)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Priority = int32(q.Priority)
	r.DropEligible = q.DropEligible
	r.VLANIdentifier = int32(q.VLANIdentifier)
	r.Type = int32(q.Type)
	s.Emit(types.Type_NC_Dot1Q, r)
}
