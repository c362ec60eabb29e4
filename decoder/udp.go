package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "UDP", Layer: layers.LayerTypeUDP, Records: []types.Type{types.Type_NC_UDP},
		Description: "UDP datagram headers",
		NewDecoder:  func() Decoder { return &udpDecoder{} },
		Own:         types.ContextPorts, // its own header's ports
	}, func() gopacket.DecodingLayer { return &layers.UDP{} })
}

type udpDecoder struct{ r types.UDP }

func (d *udpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	u := l.(*layers.UDP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SrcPort = int32(u.SrcPort)
	r.DstPort = int32(u.DstPort)
	r.Length = int32(u.Length)
	r.Checksum = int32(u.Checksum)
	r.PayloadEntropy = entropy(p, u.Payload)
	r.PayloadSize = int32(len(u.Payload))
	r.Payload = payload(p, u.Payload)
	s.Emit(types.Type_NC_UDP, r)
}
