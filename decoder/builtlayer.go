package decoder

import (
	"errors"

	"github.com/gopacket/gopacket"
)

// builtLayer is a DecodingLayer for the gopacket layers that have only a
// decode function and no DecodeFromBytes (LLDP, CDP): it runs that function
// with a PacketBuilder of its own that collects the layers the function adds
// and follows its NextDecoder calls inside the protocol. The function
// allocates its layers, which is acceptable for these rare discovery
// frames and not for the common ones.
type builtLayer struct {
	typ       gopacket.LayerType
	layers    []gopacket.Layer
	next      gopacket.LayerType
	payload   []byte
	truncated bool
	depth     int
	opts      gopacket.DecodeOptions
}

// maxBuiltDepth bounds the NextDecoder calls of one decode.
const maxBuiltDepth = 8

func newBuiltLayer(t gopacket.LayerType) func() gopacket.DecodingLayer {
	return func() gopacket.DecodingLayer { return &builtLayer{typ: t} }
}

func (b *builtLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	clear(b.layers)
	b.layers, b.next, b.payload, b.truncated, b.depth = b.layers[:0], gopacket.LayerTypePayload, nil, false, 0
	err := b.typ.Decode(data, b)
	if b.truncated {
		df.SetTruncated()
	}
	if err == nil && len(b.layers) == 0 {
		err = errors.New("no layer decoded")
	}
	return err
}

func (b *builtLayer) CanDecode() gopacket.LayerClass    { return b.typ }
func (b *builtLayer) NextLayerType() gopacket.LayerType { return b.next }
func (b *builtLayer) LayerPayload() []byte              { return b.payload }

// find returns the first collected layer of type t.
func (b *builtLayer) find(t gopacket.LayerType) gopacket.Layer {
	for _, l := range b.layers {
		if l.LayerType() == t {
			return l
		}
	}
	return nil
}

// The gopacket.PacketBuilder methods.

func (b *builtLayer) SetTruncated()                                 { b.truncated = true }
func (b *builtLayer) AddLayer(l gopacket.Layer)                     { b.layers = append(b.layers, l) }
func (b *builtLayer) SetLinkLayer(gopacket.LinkLayer)               {}
func (b *builtLayer) SetNetworkLayer(gopacket.NetworkLayer)         {}
func (b *builtLayer) SetTransportLayer(gopacket.TransportLayer)     {}
func (b *builtLayer) SetApplicationLayer(gopacket.ApplicationLayer) {}
func (b *builtLayer) SetErrorLayer(gopacket.ErrorLayer)             {}
func (b *builtLayer) DumpPacketData()                               {}
func (b *builtLayer) DecodeOptions() *gopacket.DecodeOptions        { return &b.opts }

// NextDecoder decodes the last layer's payload with next when next is a
// function of the same protocol; a layer type ends the walk here and is
// handed to the chain as the next layer.
func (b *builtLayer) NextDecoder(next gopacket.Decoder) error {
	if len(b.layers) == 0 {
		return errors.New("NextDecoder before any layer")
	}
	last := b.layers[len(b.layers)-1].LayerPayload()
	if t, ok := next.(gopacket.LayerType); ok {
		b.next, b.payload = t, last
		return nil
	}
	b.depth++
	if b.depth > maxBuiltDepth {
		return errors.New("too many nested layers")
	}
	return next.Decode(last, b)
}
