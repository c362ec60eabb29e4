package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "VXLAN", Layer: layers.LayerTypeVXLAN, Records: []types.Type{types.Type_NC_VXLAN},
		Description: "VXLAN headers (UDP 4789); the Ethernet frame inside is decoded too",
		NewDecoder:  func() Decoder { return &vxlanDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.VXLAN{} })
}

type vxlanDecoder struct{ r types.VXLAN }

func (d *vxlanDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	v := l.(*layers.VXLAN)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.ValidIDFlag = v.ValidIDFlag
	r.VNI = v.VNI
	r.GBPExtension = v.GBPExtension
	r.GBPDontLearn = v.GBPDontLearn
	r.GBPApplied = v.GBPApplied
	r.GBPGroupPolicyID = int32(v.GBPGroupPolicyID)
	s.Emit(types.Type_NC_VXLAN, r)
}
