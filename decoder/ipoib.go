package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IP over InfiniBand as Linux captures it (link type 242): the destination
// and source hardware addresses (20 bytes each), then the 4-byte header of
// RFC 4391 section 6 whose first two bytes are an EtherType. There is no
// record of the header; the decoder walks through it. gopacket has no
// layer for it.
func init() {
	RegisterLayer(layerTypeIPoIB, func() gopacket.DecodingLayer { return &ipoibLayer{} })
	RegisterLink(Link{Type: linkTypeIPoIB, First: layerTypeIPoIB})
}

const linkTypeIPoIB layers.LinkType = 242

var layerTypeIPoIB = gopacket.RegisterLayerType(2242, gopacket.LayerTypeMetadata{Name: "IPoIB"})

var errIPoIBShort = errors.New("IP over InfiniBand header shorter than 44 bytes")

type ipoibLayer struct {
	layers.BaseLayer
	Type layers.EthernetType
}

func (l *ipoibLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 44 {
		df.SetTruncated()
		return errIPoIBShort
	}
	l.Type = layers.EthernetType(binary.BigEndian.Uint16(data[40:42]))
	l.Contents, l.Payload = data[:44], data[44:]
	return nil
}

func (l *ipoibLayer) CanDecode() gopacket.LayerClass { return layerTypeIPoIB }

func (l *ipoibLayer) NextLayerType() gopacket.LayerType { return l.Type.LayerType() }
