package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Solaris ipnet captures (link type 226, "IPNET"): a 24-byte header of
// version, address family (2 IPv4, 26 IPv6), hook type, packet length and
// interface and zone ids, then the IP packet. There is no record of the
// header; the decoder walks through it. gopacket has no layer for it.
func init() {
	RegisterLayer(layerTypeIPNet, func() gopacket.DecodingLayer { return &ipnetLayer{} })
	RegisterLink(Link{Type: linkTypeIPNet, First: layerTypeIPNet})
}

const linkTypeIPNet layers.LinkType = 226

var layerTypeIPNet = gopacket.RegisterLayerType(2226, gopacket.LayerTypeMetadata{Name: "IPNET"})

var errIPNetShort = errors.New("IPNET header shorter than 24 bytes")

type ipnetLayer struct {
	layers.BaseLayer
	Family uint8
}

func (l *ipnetLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 24 {
		df.SetTruncated()
		return errIPNetShort
	}
	l.Family = data[1]
	end := 24 + int(binary.BigEndian.Uint32(data[4:8]))
	if end < 24 || end > len(data) {
		end = len(data) // cut by the capture: take what is there
	}
	l.Contents, l.Payload = data[:24], data[24:end]
	return nil
}

func (l *ipnetLayer) CanDecode() gopacket.LayerClass { return layerTypeIPNet }

func (l *ipnetLayer) NextLayerType() gopacket.LayerType {
	switch l.Family {
	case 2:
		return layers.LayerTypeIPv4
	case 26:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

func (l *ipnetLayer) unknownReason() string { return fmt.Sprintf("IPNET address family %d", l.Family) }
