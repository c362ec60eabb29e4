package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "LLC", Layer: layers.LayerTypeLLC, Records: []types.Type{types.Type_NC_LLC},
		Description: "802.2 logical link control headers",
		NewDecoder:  func() Decoder { return &llcDecoder{} },
	}, func() gopacket.DecodingLayer { return &llcLayer{} })
}

// llcLayer is gopacket's LLC that also follows SAP 0xFE, the OSI network
// layer (IS-IS over Ethernet), which gopacket leaves undecoded.
type llcLayer struct{ layers.LLC }

func (l *llcLayer) NextLayerType() gopacket.LayerType {
	if l.DSAP == 0xfe && l.SSAP == 0xfe {
		return layerTypeOSI
	}
	return l.LLC.NextLayerType()
}

type llcDecoder struct{ r types.LLC }

func (d *llcDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := &l.(*llcLayer).LLC
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.DSAP = int32(c.DSAP)
	r.IG = c.IG
	r.SSAP = int32(c.SSAP)
	r.CR = c.CR
	r.Control = int32(c.Control)
	s.Emit(types.Type_NC_LLC, r)
}
