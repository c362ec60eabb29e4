package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Teredo (RFC 4380) carries IPv6 in UDP port 3544, after optional
// authentication and origin indications. The framework has no record for it;
// the decoder walks through to the IPv6 packet, a tunnel of its own.
var layerTypeTeredo = gopacket.RegisterLayerType(2300, gopacket.LayerTypeMetadata{Name: "Teredo"})

func init() {
	RegisterLayer(layerTypeTeredo, func() gopacket.DecodingLayer { return &teredoLayer{} }, Port{Transport: UDP, Number: 3544})
}

var errTeredoShort = errors.New("Teredo indication cut short")

type teredoLayer struct {
	layers.BaseLayer
}

func (t *teredoLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	off := 0
	for i := 0; i < 2 && len(data) >= off+2; i++ {
		switch binary.BigEndian.Uint16(data[off:]) {
		case 0x0001: // authentication: id and auth lengths, id, auth, nonce, confirmation
			if len(data) < off+4 {
				df.SetTruncated()
				return errTeredoShort
			}
			n := off + 4 + int(data[off+2]) + int(data[off+3]) + 9
			if len(data) < n {
				df.SetTruncated()
				return errTeredoShort
			}
			off = n
		case 0x0000: // origin indication: port and address
			if len(data) < off+8 {
				df.SetTruncated()
				return errTeredoShort
			}
			off += 8
		default:
			i = 2
		}
	}
	t.Contents, t.Payload = data[:off], data[off:]
	return nil
}

func (t *teredoLayer) CanDecode() gopacket.LayerClass { return layerTypeTeredo }

// NextLayerType is IPv6 when the payload looks like it; anything else on
// port 3544 stays plain UDP payload.
func (t *teredoLayer) NextLayerType() gopacket.LayerType {
	if len(t.Payload) >= 40 && t.Payload[0]>>4 == 6 {
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypePayload
}
