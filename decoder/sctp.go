package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "SCTP", Layer: layers.LayerTypeSCTP, Records: []types.Type{types.Type_NC_SCTP},
		Description: "SCTP common headers (ports, verification tag, checksum); the chunks are not recorded",
		NewDecoder:  func() Decoder { return &sctpDecoder{} },
		Own:         types.ContextPorts, // its own header's ports
	}, func() gopacket.DecodingLayer { return &layers.SCTP{} })
}

// The chunks after the header end the chain (see Decode in packet.go): the
// record, like the original's, holds the common header only.

type sctpDecoder struct{ r types.SCTP }

func (d *sctpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	h := l.(*layers.SCTP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SrcPort = int32(h.SrcPort)
	r.DstPort = int32(h.DstPort)
	r.VerificationTag = h.VerificationTag
	r.Checksum = h.Checksum
	s.Emit(types.Type_NC_SCTP, r)
}
