package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "CIP", Layer: layers.LayerTypeCIP, Records: []types.Type{types.Type_NC_CIP},
		Description: "common industrial protocol requests and responses carried by EtherNet/IP (the first service of a message)",
		NewDecoder:  func() Decoder { return &cipDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.CIP{} })
}

type cipDecoder struct {
	r      types.CIP
	status []uint32
}

func (d *cipDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*layers.CIP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Response = c.Response
	r.ServiceID = int32(c.ServiceID)
	r.ClassID = uint32(c.ClassID)
	r.InstanceID = uint32(c.InstanceID)
	r.Status = int32(c.Status)
	if len(c.AdditionalStatus) > 0 {
		d.status = d.status[:0]
		for _, v := range c.AdditionalStatus {
			d.status = append(d.status, uint32(v))
		}
		r.AdditionalStatus = d.status
	}
	r.Data = payload(p, c.Data)
	s.Emit(types.Type_NC_CIP, r)
}
