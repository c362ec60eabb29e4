package decoder

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IPv6 routing headers (segment routing too) and destination options come
// between the IPv6 header and the transport header. The framework has no
// record for them; the decoder walks through so that the transport and
// application layers get their records. (Hop-by-hop options are decoded
// inside the IPv6 record, fragment headers by the defragmenter.)
func init() {
	RegisterLayer(layers.LayerTypeIPv6Routing, func() gopacket.DecodingLayer { return &ipv6ExtLayer{typ: layers.LayerTypeIPv6Routing} })
	RegisterLayer(layers.LayerTypeIPv6Destination, func() gopacket.DecodingLayer { return &ipv6ExtLayer{typ: layers.LayerTypeIPv6Destination} })
}

var errIPv6ExtShort = errors.New("extension header cut short")

// ipv6ExtLayer is an IPv6 extension header in the common format (RFC 8200
// 4.2): next header, length in 8-byte units not counting the first 8.
type ipv6ExtLayer struct {
	layers.BaseLayer
	typ        gopacket.LayerType
	NextHeader layers.IPProtocol
}

func (e *ipv6ExtLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 2 {
		df.SetTruncated()
		return errIPv6ExtShort
	}
	n := (int(data[1]) + 1) * 8
	if len(data) < n {
		df.SetTruncated()
		return errIPv6ExtShort
	}
	e.NextHeader = layers.IPProtocol(data[0])
	e.Contents, e.Payload = data[:n], data[n:]
	return nil
}

func (e *ipv6ExtLayer) CanDecode() gopacket.LayerClass    { return e.typ }
func (e *ipv6ExtLayer) NextLayerType() gopacket.LayerType { return e.NextHeader.LayerType() }
