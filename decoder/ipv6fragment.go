package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	// The layer itself is registered by the defragmenter (defrag.go), which
	// the chain walks through; this adds the record of the header.
	Register(Protocol{
		Name: "IPv6Fragment", Layer: layers.LayerTypeIPv6Fragment, Records: []types.Type{types.Type_NC_IPv6Fragment},
		Description: "IPv6 fragment extension headers, one record per fragment",
		NewDecoder:  func() Decoder { return &ipv6FragmentDecoder{} },
	}, nil)
}

type ipv6FragmentDecoder struct{ r types.IPv6Fragment }

func (d *ipv6FragmentDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	f := l.(*layers.IPv6Fragment)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.NextHeader = int32(f.NextHeader)
	r.Reserved1 = int32(f.Reserved1)
	r.FragmentOffset = int32(f.FragmentOffset)
	r.Reserved2 = int32(f.Reserved2)
	r.MoreFragments = f.MoreFragments
	r.Identification = f.Identification
	s.Emit(types.Type_NC_IPv6Fragment, r)
}
