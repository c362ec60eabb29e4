package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Switch chips that hand frames to a Linux host (DSA, "distributed switch
// architecture") add a tag naming the switch port; captured on the host's
// conduit interface the frames carry it, with link types of their own:
//
//   - 284 Marvell DSA: destination and source MAC, a 4-byte tag, then the
//     EtherType;
//   - 285 Marvell EDSA: the MACs, an EtherType (0xdada by default) with 2
//     reserved bytes, the 4-byte DSA tag, then the EtherType;
//   - 281 Broadcom tag: the MACs, a 4-byte tag, then the EtherType;
//   - 282 Broadcom tag prepended: the 4-byte tag, then the Ethernet frame.
//
// tshark has no dissector for these link types; tcpdump reads them as above.
// There is no record of the tag; the decoder walks through it to the
// packet that follows (the MAC addresses of the first three give no
// Ethernet record, since gopacket's Ethernet layer cannot read a frame with
// the tag in its middle). gopacket has no layer for them.
func init() {
	RegisterLayer(layerTypeDSATag, func() gopacket.DecodingLayer { return &dsaTagLayer{} })
	RegisterLayer(layerTypeEDSATag, func() gopacket.DecodingLayer { return &dsaTagLayer{extended: true} })
	RegisterLayer(layerTypeBRCMPrepend, func() gopacket.DecodingLayer { return &brcmPrependLayer{} })
	RegisterLink(
		Link{Type: linkTypeBRCMTag, First: layerTypeDSATag},
		Link{Type: linkTypeBRCMPrepend, First: layerTypeBRCMPrepend},
		Link{Type: linkTypeDSATag, First: layerTypeDSATag},
		Link{Type: linkTypeEDSATag, First: layerTypeEDSATag},
	)
}

const (
	linkTypeBRCMTag     layers.LinkType = 281
	linkTypeBRCMPrepend layers.LinkType = 282
	linkTypeDSATag      layers.LinkType = 284
	linkTypeEDSATag     layers.LinkType = 285
)

var (
	// layerTypeDSATag reads both the Marvell DSA and the Broadcom tag: the
	// same 4 bytes between the MACs and the EtherType.
	layerTypeDSATag      = gopacket.RegisterLayerType(2284, gopacket.LayerTypeMetadata{Name: "SwitchTag"})
	layerTypeEDSATag     = gopacket.RegisterLayerType(2285, gopacket.LayerTypeMetadata{Name: "EDSA"})
	layerTypeBRCMPrepend = gopacket.RegisterLayerType(2282, gopacket.LayerTypeMetadata{Name: "BRCMPrepend"})
)

var (
	errDSATagShort      = errors.New("switch-tagged frame shorter than its MACs, tag and EtherType")
	errBRCMPrependShort = errors.New("Broadcom tag shorter than 4 bytes")
)

type dsaTagLayer struct {
	layers.BaseLayer
	extended bool // EDSA: 4 more bytes before the tag
	Type     layers.EthernetType
}

func (l *dsaTagLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	n := 18 // MACs, tag, EtherType
	if l.extended {
		n = 22
	}
	if len(data) < n {
		df.SetTruncated()
		return errDSATagShort
	}
	l.Type = layers.EthernetType(binary.BigEndian.Uint16(data[n-2 : n]))
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *dsaTagLayer) CanDecode() gopacket.LayerClass {
	if l.extended {
		return layerTypeEDSATag
	}
	return layerTypeDSATag
}

func (l *dsaTagLayer) NextLayerType() gopacket.LayerType { return l.Type.LayerType() }

func (l *dsaTagLayer) unknownReason() string {
	return fmt.Sprintf("switch-tagged frame EtherType 0x%04x", uint16(l.Type))
}

type brcmPrependLayer struct{ layers.BaseLayer }

func (l *brcmPrependLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errBRCMPrependShort
	}
	l.Contents, l.Payload = data[:4], data[4:]
	return nil
}

func (l *brcmPrependLayer) CanDecode() gopacket.LayerClass { return layerTypeBRCMPrepend }

func (l *brcmPrependLayer) NextLayerType() gopacket.LayerType { return layers.LayerTypeEthernet }
