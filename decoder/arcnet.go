package decoder

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ARCNET as Linux captures it (link type 129): source and destination
// station (one byte each), a two-byte offset and a protocol id. The ids of
// RFC 1201 framing (IPv4 0xd4, ARP 0xd5, IPv6 0xc4 per RFC 2497) are
// followed by a split flag, four more bytes when it is 0xff, and a
// sequence number; those of the older RFC 1051 framing (IPv4 0xf0, ARP
// 0xf1) by the packet itself. There is no record of the header; the
// decoder walks through it. gopacket has no layer for it.
func init() {
	RegisterLayer(layerTypeARCNET, func() gopacket.DecodingLayer { return &arcnetLayer{} })
	RegisterLink(Link{Type: layers.LinkTypeARCNetLinux, First: layerTypeARCNET})
}

var layerTypeARCNET = gopacket.RegisterLayerType(2129, gopacket.LayerTypeMetadata{Name: "ARCNET"})

var errARCNETShort = errors.New("ARCNET header cut short")

type arcnetLayer struct {
	layers.BaseLayer
	Protocol uint8
}

func (a *arcnetLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 5 {
		df.SetTruncated()
		return errARCNETShort
	}
	a.Protocol = data[4]
	off := 5
	switch a.Protocol {
	case 0xd4, 0xd5, 0xd6, 0xc4: // RFC 1201: split flag, [exception], sequence
		if len(data) < off+1 {
			df.SetTruncated()
			return errARCNETShort
		}
		if data[off] == 0xff {
			off += 4
		}
		off += 3
		if len(data) < off {
			df.SetTruncated()
			return errARCNETShort
		}
	}
	a.Contents, a.Payload = data[:off], data[off:]
	return nil
}

func (a *arcnetLayer) CanDecode() gopacket.LayerClass { return layerTypeARCNET }

func (a *arcnetLayer) NextLayerType() gopacket.LayerType {
	switch a.Protocol {
	case 0xd4, 0xf0:
		return layers.LayerTypeIPv4
	case 0xd5, 0xf1:
		return layers.LayerTypeARP
	case 0xc4:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

func (a *arcnetLayer) unknownReason() string {
	return fmt.Sprintf("ARCNET protocol 0x%02x", a.Protocol)
}
