package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// PPP's control protocols negotiate and authenticate a link: LCP (RFC
// 1661), the network control protocols IPCP (RFC 1332), IPv6CP (RFC 5072)
// and CCP (RFC 1962), and the authentication protocols PAP and CHAP (RFC
// 1334, 1994). All start with a code, an identifier and a length; the
// configure packets of LCP and the network control protocols then carry
// type-length options. The record holds that header and the option types;
// PAP credentials and CHAP values are left out. gopacket has no layer for
// them.
func init() {
	Register(Protocol{
		Name: "PPPControl", Layer: layerTypePPPControl, Records: []types.Type{types.Type_NC_PPPControl},
		Description: "PPP LCP, IPCP, IPv6CP, CCP, PAP and CHAP packet headers and option types",
		NewDecoder:  func() Decoder { return &pppControlDecoder{} },
	}, func() gopacket.DecodingLayer { return &pppControlLayer{} })
}

var layerTypePPPControl = gopacket.RegisterLayerType(2313, gopacket.LayerTypeMetadata{Name: "PPPControl"})

var errPPPControlShort = errors.New("PPP control packet shorter than 4 bytes")

// pppControlProtocols are the PPP protocol numbers read as control packets;
// true for those whose configure packets carry options.
var pppControlProtocols = map[uint16]bool{
	0xc021: true,  // LCP
	0x8021: true,  // IPCP
	0x8057: true,  // IPv6CP
	0x80fd: true,  // CCP
	0xc023: false, // PAP
	0xc223: false, // CHAP
}

// pppControlLayer starts at the PPP protocol field, which the PPP layer
// leaves to it (control protocols never compress it to one byte).
type pppControlLayer struct {
	layers.BaseLayer
	Protocol         uint16
	Code, Identifier uint8
	Length           uint16
	OptionTypes      []int32
}

func (l *pppControlLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.OptionTypes = l.OptionTypes[:0]
	if len(data) < 6 {
		df.SetTruncated()
		return errPPPControlShort
	}
	l.Protocol = binary.BigEndian.Uint16(data)
	l.Contents, l.Payload = data, nil
	data = data[2:]
	l.Code, l.Identifier = data[0], data[1]
	l.Length = binary.BigEndian.Uint16(data[2:])
	if !pppControlProtocols[l.Protocol] || l.Code < 1 || l.Code > 4 {
		return nil
	}
	end := min(len(data), int(l.Length))
	for off := 4; off+2 <= end; {
		n := int(data[off+1])
		if n < 2 || off+n > end {
			break
		}
		l.OptionTypes = append(l.OptionTypes, int32(data[off]))
		off += n
	}
	return nil
}

func (l *pppControlLayer) CanDecode() gopacket.LayerClass { return layerTypePPPControl }

func (l *pppControlLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type pppControlDecoder struct{ r types.PPPControl }

func (d *pppControlDecoder) Decode(dl gopacket.DecodingLayer, p *Packet, s Sink) {
	l := dl.(*pppControlLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Protocol = int32(l.Protocol)
	r.Code, r.Identifier, r.Length = int32(l.Code), int32(l.Identifier), int32(l.Length)
	r.OptionTypes = l.OptionTypes
	s.Emit(types.Type_NC_PPPControl, r)
}
