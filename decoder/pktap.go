package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Apple's PKTAP captures (link type 258, macOS "tcpdump -k"): a header that
// gives its own length (little-endian, at least 108 bytes), the link type
// of the frame that follows, the interface and the process; then the frame
// itself. There is no record of the header; the decoder walks through it to
// the frame's first layer. gopacket has no layer for it. Early macOS wrote
// PKTAP files with link type 149 (USER2); tcpdump and tshark read those as
// PKTAP too.
func init() {
	RegisterLayer(layerTypePKTAP, func() gopacket.DecodingLayer { return &pktapLayer{} })
	RegisterLink(Link{Type: linkTypePKTAP, First: layerTypePKTAP}, Link{Type: linkTypeUser2PKTAP, First: layerTypePKTAP})
}

const (
	linkTypePKTAP      layers.LinkType = 258
	linkTypeUser2PKTAP layers.LinkType = 149
)

var layerTypePKTAP = gopacket.RegisterLayerType(2258, gopacket.LayerTypeMetadata{Name: "PKTAP"})

var errPKTAPShort = errors.New("PKTAP header cut short")

// pktapMinHeader is the length of the version 1 header.
const pktapMinHeader = 108

type pktapLayer struct {
	layers.BaseLayer
	Link layers.LinkType // of the frame inside
}

func (l *pktapLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 12 {
		df.SetTruncated()
		return errPKTAPShort
	}
	n := binary.LittleEndian.Uint32(data[0:4])
	if n < pktapMinHeader || uint64(n) > uint64(len(data)) {
		df.SetTruncated()
		return errPKTAPShort
	}
	l.Link = layers.LinkType(binary.LittleEndian.Uint32(data[8:12]))
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *pktapLayer) CanDecode() gopacket.LayerClass { return layerTypePKTAP }

// NextLayerType is the first layer of the inner frame's link type; PKTAP
// inside PKTAP is refused (it would let a frame nest without end).
func (l *pktapLayer) NextLayerType() gopacket.LayerType {
	if l.Link == linkTypePKTAP || l.Link == linkTypeUser2PKTAP {
		return gopacket.LayerTypeZero
	}
	return FirstLayer(l.Link, l.Payload)
}
