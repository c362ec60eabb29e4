package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// EAP (RFC 3748) messages, as EAPOL carries them.
func init() {
	Register(Protocol{
		Name: "EAP", Layer: layers.LayerTypeEAP, Records: []types.Type{types.Type_NC_EAP},
		Description: "extensible authentication protocol messages",
		NewDecoder:  func() Decoder { return &eapDecoder{} },
	}, func() gopacket.DecodingLayer { return &eapLayer{} })
}

// eapLayer is gopacket's EAP, ending the chain: what follows the message's
// length is padding, not a layer of unknown type.
type eapLayer struct{ layers.EAP }

func (e *eapLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

type eapDecoder struct{ r types.EAP }

func (d *eapDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	e := l.(*eapLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Code = int32(e.Code)
	r.Id = int32(e.Id)
	r.Length = int32(e.Length)
	r.Type = int32(e.Type)
	r.TypeData = e.TypeData
	s.Emit(types.Type_NC_EAP, r)
}
