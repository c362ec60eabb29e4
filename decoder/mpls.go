package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "MPLS", Layer: layers.LayerTypeMPLS, Records: []types.Type{types.Type_NC_MPLS},
		Description: "MPLS labels (one record per label of the stack); the IP packet inside is decoded too",
		NewDecoder:  func() Decoder { return &mplsDecoder{} },
		Ports:       []Port{{Transport: UDP, Number: 6635}}, // MPLS in UDP, RFC 7510
	}, func() gopacket.DecodingLayer { return &mplsLayer{} })
}

// mplsLayer is one MPLS label stack entry (RFC 3032) as a DecodingLayer:
// gopacket decodes MPLS only through its packet API, which allocates a layer
// per label.
type mplsLayer struct {
	layers.MPLS
}

var errMPLSShort = errors.New("label stack entry shorter than 4 bytes")

func (m *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errMPLSShort
	}
	v := binary.BigEndian.Uint32(data)
	m.Label = v >> 12
	m.TrafficClass = uint8(v>>9) & 0x7
	m.StackBottom = v&0x100 != 0
	m.TTL = uint8(v)
	m.Contents, m.Payload = data[:4], data[4:]
	return nil
}

func (m *mplsLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeMPLS }

// NextLayerType is the next label, or after the bottom of the stack the
// packet told by its version nibble, as RFC 3032 leaves it to the label's
// meaning and routers (and tshark) guess it this way. A payload that is not
// IP (a pseudowire) is a layer we do not know.
func (m *mplsLayer) NextLayerType() gopacket.LayerType {
	if !m.StackBottom {
		return layers.LayerTypeMPLS
	}
	if len(m.Payload) == 0 {
		return gopacket.LayerTypePayload
	}
	switch m.Payload[0] >> 4 {
	case 4:
		return layers.LayerTypeIPv4
	case 6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

type mplsDecoder struct{ r types.MPLS }

func (d *mplsDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*mplsLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Label = int32(m.Label)
	r.TrafficClass = int32(m.TrafficClass)
	r.StackBottom = m.StackBottom
	r.TTL = int32(m.TTL)
	s.Emit(types.Type_NC_MPLS, r)
}

func (m *mplsLayer) unknownReason() string { return "MPLS payload that is not IP" }
