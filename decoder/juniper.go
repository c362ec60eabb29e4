package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Juniper routers' captures of Ethernet interfaces (link type 178,
// JUNIPER_ETHER) start with Juniper's own header: the magic "MGC", a flags
// byte, and, when flag 0x80 is set, a 2-byte length of extension TLVs
// (interface indexes, media type) followed by them. Then comes the Ethernet
// frame; when flag 0x02 says the router stripped the link header, 4 more
// bytes and an IP packet (tcpdump tells IPv4 from IPv6 by its version,
// as here). There is no record of the header; the decoder walks through it.
// gopacket has no layer for it.
func init() {
	RegisterLayer(layerTypeJuniper, func() gopacket.DecodingLayer { return &juniperLayer{} })
	RegisterLink(Link{Type: linkTypeJuniperEther, First: layerTypeJuniper})
}

const linkTypeJuniperEther layers.LinkType = 178

var layerTypeJuniper = gopacket.RegisterLayerType(2178, gopacket.LayerTypeMetadata{Name: "Juniper"})

var (
	errJuniperShort = errors.New("Juniper header cut short")
	errJuniperMagic = errors.New("Juniper header without its magic number MGC")
)

const (
	juniperFlagExt  = 0x80 // extension TLVs follow the flags
	juniperFlagNoL2 = 0x02 // no link-layer header: IP after 4 more bytes
)

type juniperLayer struct {
	layers.BaseLayer
	Flags uint8
}

func (l *juniperLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errJuniperShort
	}
	if data[0] != 'M' || data[1] != 'G' || data[2] != 'C' {
		return errJuniperMagic
	}
	l.Flags = data[3]
	n := 4
	if l.Flags&juniperFlagExt != 0 {
		if len(data) < 6 {
			df.SetTruncated()
			return errJuniperShort
		}
		n = 6 + int(binary.BigEndian.Uint16(data[4:6]))
	}
	if l.Flags&juniperFlagNoL2 != 0 {
		n += 4
	}
	if len(data) < n {
		df.SetTruncated()
		return errJuniperShort
	}
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *juniperLayer) CanDecode() gopacket.LayerClass { return layerTypeJuniper }

func (l *juniperLayer) NextLayerType() gopacket.LayerType {
	if l.Flags&juniperFlagNoL2 == 0 {
		return layers.LayerTypeEthernet
	}
	if len(l.Payload) > 0 {
		switch l.Payload[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4
		case 6:
			return layers.LayerTypeIPv6
		}
	}
	return gopacket.LayerTypeZero
}

func (l *juniperLayer) unknownReason() string { return "Juniper frame without link header or IP" }
