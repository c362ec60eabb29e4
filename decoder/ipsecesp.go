package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "IPSecESP", Layer: layers.LayerTypeIPSecESP, Records: []types.Type{types.Type_NC_IPSecESP},
		Description: "IPsec encapsulating security payload headers; LenEncrypted counts the bytes after SPI and sequence number",
		NewDecoder:  func() Decoder { return &ipsecESPDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.IPSecESP{} })
}

type ipsecESPDecoder struct{ r types.IPSecESP }

func (d *ipsecESPDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	e := l.(*layers.IPSecESP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SPI = int32(e.SPI)
	r.Seq = int32(e.Seq)
	r.LenEncrypted = int32(len(e.Encrypted))
	s.Emit(types.Type_NC_IPSecESP, r)
}
