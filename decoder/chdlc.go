package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Cisco HDLC (link type 104) frames carry IP on serial lines: an address
// byte (0x0f unicast, 0x8f broadcast), a control byte and an EtherType.
// There is no record of the header; the decoder walks through it so that
// the packet inside gets its records. gopacket has no layer for it.
func init() {
	RegisterLayer(layerTypeCHDLC, func() gopacket.DecodingLayer { return &chdlcLayer{} })
	RegisterLink(Link{Type: layers.LinkTypeC_HDLC, First: layerTypeCHDLC})
}

var layerTypeCHDLC = gopacket.RegisterLayerType(2104, gopacket.LayerTypeMetadata{Name: "CiscoHDLC"})

var errCHDLCShort = errors.New("Cisco HDLC header shorter than 4 bytes")

type chdlcLayer struct {
	layers.BaseLayer
	Address  uint8
	Protocol layers.EthernetType
}

func (c *chdlcLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errCHDLCShort
	}
	c.Address = data[0]
	c.Protocol = layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
	c.Contents, c.Payload = data[:4], data[4:]
	return nil
}

func (c *chdlcLayer) CanDecode() gopacket.LayerClass { return layerTypeCHDLC }

// NextLayerType follows the EtherType as Ethernet does (IPv4, IPv6, CDP,
// ...), 0x8035 to SLARP and 0xFEFE to the OSI protocols (IS-IS).
func (c *chdlcLayer) NextLayerType() gopacket.LayerType {
	switch c.Protocol {
	case 0x8035:
		return layerTypeSLARP
	case 0xfefe:
		return layerTypeOSI
	}
	return c.Protocol.LayerType()
}

func (c *chdlcLayer) unknownReason() string {
	return fmt.Sprintf("Cisco HDLC protocol 0x%04x", uint16(c.Protocol))
}
