package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "TCP", Layer: layers.LayerTypeTCP, Records: []types.Type{types.Type_NC_TCP},
		Description: "TCP segment headers with options",
		NewDecoder:  func() Decoder { return &tcpDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.TCP{} })
}

type tcpDecoder struct {
	r    types.TCP
	opts []*types.TCPOption
}

// Decode keeps DataOffset in 32-bit words as the original record did.
func (d *tcpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	t := l.(*layers.TCP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SrcPort = int32(t.SrcPort)
	r.DstPort = int32(t.DstPort)
	r.SeqNum = t.Seq
	r.AckNum = t.Ack
	r.DataOffset = int32(t.DataOffset)
	r.FIN, r.SYN, r.RST, r.PSH, r.ACK = t.FIN, t.SYN, t.RST, t.PSH, t.ACK
	r.URG, r.ECE, r.CWR, r.NS = t.URG, t.ECE, t.CWR, t.NS
	r.Window = int32(t.Window)
	r.Checksum = int32(t.Checksum)
	r.Urgent = int32(t.Urgent)
	r.Padding = t.Padding
	if len(t.Options) > 0 {
		r.Options = reuse(&d.opts, len(t.Options))
		for i, o := range t.Options {
			r.Options[i].OptionType = int32(o.OptionType)
			r.Options[i].OptionLength = int32(o.OptionLength)
			r.Options[i].OptionData = o.OptionData
		}
	}
	r.PayloadEntropy = entropy(p, t.Payload)
	r.PayloadSize = int32(len(t.Payload))
	r.Payload = payload(p, t.Payload)
	r.FrameNumber, r.SrcIP, r.DstIP, r.FlowID = p.Frame, p.SrcIP, p.DstIP, p.FlowID
	s.Emit(types.Type_NC_TCP, r)
}
