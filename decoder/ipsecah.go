package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "IPSecAH", Layer: layers.LayerTypeIPSecAH, Records: []types.Type{types.Type_NC_IPSecAH},
		Description: "IPsec authentication headers (the protected payload is decoded further)",
		NewDecoder:  func() Decoder { return &ipsecAHDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.IPSecAH{} })
}

type ipsecAHDecoder struct{ r types.IPSecAH }

func (d *ipsecAHDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	a := l.(*layers.IPSecAH)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Reserved = int32(a.Reserved)
	r.SPI = int32(a.SPI)
	r.Seq = int32(a.Seq)
	r.AuthenticationData = a.AuthenticationData
	s.Emit(types.Type_NC_IPSecAH, r)
}
