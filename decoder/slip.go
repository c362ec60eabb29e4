package decoder

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// SLIP captures (link type 8, BSD's format): a 16-byte header of a
// direction byte (0 received, 1 sent) and the first bytes of the link's
// Van Jacobson compressed header, then the packet. tcpdump reads the packet
// as IPv4 or IPv6 by its version nibble and names anything else by its
// version; a compressed TCP/IP header (first byte 0x7_ or 0x8_ and above)
// has no version to read and stays unknown. tshark reads SLIP frames as
// plain data. There is no record of the header; the decoder walks through
// it. gopacket has no layer for it.
func init() {
	RegisterLayer(layerTypeSLIP, func() gopacket.DecodingLayer { return &slipLayer{} })
	RegisterLink(Link{Type: layers.LinkTypeSLIP, First: layerTypeSLIP})
}

var layerTypeSLIP = gopacket.RegisterLayerType(2008, gopacket.LayerTypeMetadata{Name: "SLIP"})

var errSLIPShort = errors.New("SLIP header shorter than 16 bytes")

// slipHeader is the length of the header before the packet.
const slipHeader = 16

type slipLayer struct {
	layers.BaseLayer
	Version uint8 // the packet's version nibble; 0 without a packet
}

func (l *slipLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < slipHeader {
		df.SetTruncated()
		return errSLIPShort
	}
	l.Version = 0
	if len(data) > slipHeader {
		l.Version = data[slipHeader] >> 4
	}
	l.Contents, l.Payload = data[:slipHeader], data[slipHeader:]
	return nil
}

func (l *slipLayer) CanDecode() gopacket.LayerClass { return layerTypeSLIP }

func (l *slipLayer) NextLayerType() gopacket.LayerType {
	switch l.Version {
	case 4:
		return layers.LayerTypeIPv4
	case 6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

func (l *slipLayer) unknownReason() string {
	return fmt.Sprintf("SLIP packet of IP version %d (compressed header)", l.Version)
}
