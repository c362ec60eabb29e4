package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// PPPoE sessions (RFC 2516) and PPP (RFC 1661), on DSL links, in PPTP's GRE
// and as link types 9 and 50, carry IP. The framework has no record for them; the
// decoder walks through so that the IP packet gets its records. gopacket
// decodes both only through its allocating packet API, so these are small
// DecodingLayers of our own.
func init() {
	RegisterLayer(layers.LayerTypePPPoE, func() gopacket.DecodingLayer { return &pppoeLayer{} })
	RegisterLayer(layers.LayerTypePPP, func() gopacket.DecodingLayer { return &pppLayer{} })
	// gopacket names no first layer for these link types. PPP in HDLC-like
	// framing (50) starts with the address and control bytes ff 03, which
	// pppLayer skips.
	RegisterLink(Link{Type: layers.LinkTypePPP, First: layers.LayerTypePPP},
		Link{Type: layers.LinkTypePPP_HDLC, First: layers.LayerTypePPP})
}

var errPPPoEShort = errors.New("PPPoE header shorter than 6 bytes")

// pppoeLayer is a PPPoE session header; a PPP protocol field follows.
type pppoeLayer struct {
	layers.BaseLayer
	Code      uint8
	SessionID uint16
	Length    uint16
}

func (p *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 6 {
		df.SetTruncated()
		return errPPPoEShort
	}
	p.Code = data[1]
	p.SessionID = binary.BigEndian.Uint16(data[2:4])
	p.Length = binary.BigEndian.Uint16(data[4:6])
	end := 6 + int(p.Length)
	if end > len(data) {
		end = len(data) // cut by the capture: take what is there
	}
	p.Contents, p.Payload = data[:6], data[6:end]
	return nil
}

func (p *pppoeLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (p *pppoeLayer) NextLayerType() gopacket.LayerType { return layers.LayerTypePPP }

var errPPPShort = errors.New("PPP header cut short")

// pppLayer is a PPP header: the optional address and control bytes (ff 03)
// and the protocol field, one byte when compressed (an odd first byte).
type pppLayer struct {
	layers.BaseLayer
	Protocol uint16
}

func (p *pppLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	off := 0
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		off = 2
	}
	if len(data) <= off {
		df.SetTruncated()
		return errPPPShort
	}
	if data[off]&1 == 1 {
		p.Protocol = uint16(data[off])
		off++
	} else {
		if len(data) < off+2 {
			df.SetTruncated()
			return errPPPShort
		}
		p.Protocol = binary.BigEndian.Uint16(data[off:])
		off += 2
		if _, ok := pppControlProtocols[p.Protocol]; ok {
			// the control layer reads the protocol field itself: it is
			// the one thing that tells LCP from IPCP or PAP
			p.Contents, p.Payload = data[:off-2], data[off-2:]
			return nil
		}
	}
	p.Contents, p.Payload = data[:off], data[off:]
	return nil
}

func (p *pppLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPP }

func (p *pppLayer) NextLayerType() gopacket.LayerType {
	switch p.Protocol {
	case 0x0021:
		return layers.LayerTypeIPv4
	case 0x0057:
		return layers.LayerTypeIPv6
	case 0x0281:
		return layers.LayerTypeMPLS
	}
	if _, ok := pppControlProtocols[p.Protocol]; ok {
		return layerTypePPPControl
	}
	return gopacket.LayerTypeZero
}

func (p *pppLayer) unknownReason() string { return fmt.Sprintf("PPP protocol 0x%04x", p.Protocol) }
