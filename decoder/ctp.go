package decoder

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// The Ethernet configuration test protocol (loopback, EtherType 0x9000): a
// skip count, then a list of functions: zero or more forward-data functions
// (the address to send the frame on to) and a reply. EthernetCTP records
// the skip count, EthernetCTPReply the reply; forward-data functions are
// walked through without a record. All numbers are little-endian.
func init() {
	Register(Protocol{
		Name: "EthernetCTP", Layer: layers.LayerTypeEthernetCTP, Records: []types.Type{types.Type_NC_EthernetCTP},
		Description: "Ethernet configuration test protocol (loopback) headers",
		NewDecoder:  func() Decoder { return &ctpDecoder{} },
	}, func() gopacket.DecodingLayer { return &ctpLayer{} })
	Register(Protocol{
		Name: "EthernetCTPReply", Layer: layers.LayerTypeEthernetCTPReply, Records: []types.Type{types.Type_NC_EthernetCTPReply},
		Description: "Ethernet configuration test protocol reply functions",
		NewDecoder:  func() Decoder { return &ctpReplyDecoder{} },
	}, func() gopacket.DecodingLayer { return &ctpReplyLayer{} })
	RegisterLayer(layers.LayerTypeEthernetCTPForwardData, func() gopacket.DecodingLayer { return &ctpForwardLayer{} })
}

// ctpNext is the layer of the function that starts data.
func ctpNext(data []byte) gopacket.LayerType {
	switch {
	case len(data) == 0:
		return gopacket.LayerTypePayload
	case len(data) < 2:
		return layers.LayerTypeEthernetCTPReply // which reports the cut function
	}
	switch layers.EthernetCTPFunction(binary.LittleEndian.Uint16(data)) {
	case layers.EthernetCTPFunctionReply:
		return layers.LayerTypeEthernetCTPReply
	case layers.EthernetCTPFunctionForwardData:
		return layers.LayerTypeEthernetCTPForwardData
	}
	return gopacket.LayerTypeZero // a function we do not know: unknown
}

type ctpLayer struct{ layers.EthernetCTP }

func (c *ctpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 2 {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, a loopback header has 2", len(data))
	}
	c.SkipCount = binary.LittleEndian.Uint16(data)
	c.Contents, c.Payload = data[:2], data[2:]
	return nil
}
func (c *ctpLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeEthernetCTP }
func (c *ctpLayer) NextLayerType() gopacket.LayerType { return ctpNext(c.Payload) }

type ctpForwardLayer struct{ layers.EthernetCTPForwardData }

func (c *ctpForwardLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, a forward-data function has 8", len(data))
	}
	c.Function = layers.EthernetCTPFunction(binary.LittleEndian.Uint16(data))
	c.ForwardAddress = data[2:8]
	c.Contents, c.Payload = data[:8], data[8:]
	return nil
}
func (c *ctpForwardLayer) CanDecode() gopacket.LayerClass {
	return layers.LayerTypeEthernetCTPForwardData
}
func (c *ctpForwardLayer) NextLayerType() gopacket.LayerType { return ctpNext(c.Payload) }

type ctpReplyLayer struct{ layers.EthernetCTPReply }

func (c *ctpReplyLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, a reply function has at least 4", len(data))
	}
	c.Function = layers.EthernetCTPFunction(binary.LittleEndian.Uint16(data))
	c.ReceiptNumber = binary.LittleEndian.Uint16(data[2:])
	c.Data = data[4:]
	c.BaseLayer = layers.BaseLayer{Contents: data}
	return nil
}
func (c *ctpReplyLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeEthernetCTPReply }

// NextLayerType: the reply's data is the rest of the frame.
func (c *ctpReplyLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

type ctpDecoder struct{ r types.EthernetCTP }

func (d *ctpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*ctpLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SkipCount = int32(c.SkipCount)
	s.Emit(types.Type_NC_EthernetCTP, r)
}

type ctpReplyDecoder struct{ r types.EthernetCTPReply }

func (d *ctpReplyDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	c := l.(*ctpReplyLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Function = int32(c.Function)
	r.ReceiptNumber = int32(c.ReceiptNumber)
	r.Data = c.Data
	s.Emit(types.Type_NC_EthernetCTPReply, r)
}
