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
		Own:         types.ContextPorts, // its own header's ports
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
	// gopacket drops an option whose contents it rejects (an MPTCP option of
	// a length its subtype does not have) and keeps it and the rest as
	// padding. The header still holds it as a kind-length-value option, as
	// tshark lists it, so the list goes on from there.
	var rest []byte
	if n := len(t.Options); len(t.Padding) > 0 && (n == 0 || t.Options[n-1].OptionType != layers.TCPOptionKindEndList) {
		rest = t.Padding
	}
	extra := 0
	more := func(byte, byte, []byte) { extra++ }
	moreOptions(rest, more)
	if n := len(t.Options) + extra; n > 0 {
		r.Options = reuse(&d.opts, n)
		for i, o := range t.Options {
			r.Options[i].OptionType = int32(o.OptionType)
			r.Options[i].OptionLength = int32(o.OptionLength)
			r.Options[i].OptionData = o.OptionData
		}
		i := len(t.Options)
		if rest != nil {
			r.Padding = moreOptions(rest, func(kind, length byte, data []byte) {
				o := r.Options[i]
				o.OptionType, o.OptionLength, o.OptionData = int32(kind), int32(length), data
				i++
			})
		}
	}
	r.PayloadEntropy = entropy(p, t.Payload)
	r.PayloadSize = int32(len(t.Payload))
	r.Payload = payload(p, t.Payload)
	s.Emit(types.Type_NC_TCP, r)
}

// moreOptions reads kind-length-value TCP options from b, calling fn for
// each, up to and including an End of list. It returns what follows the End
// of list, or the bytes from the first option that does not fit.
func moreOptions(b []byte, fn func(kind, length byte, data []byte)) (rest []byte) {
	for len(b) > 0 {
		switch layers.TCPOptionKind(b[0]) {
		case layers.TCPOptionKindEndList:
			fn(b[0], 1, nil)
			return b[1:]
		case layers.TCPOptionKindNop:
			fn(b[0], 1, nil)
			b = b[1:]
			continue
		}
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return b
		}
		fn(b[0], b[1], b[2:b[1]])
		b = b[b[1]:]
	}
	return nil
}
