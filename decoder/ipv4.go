package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "IPv4", Layer: layers.LayerTypeIPv4, Records: []types.Type{types.Type_NC_IPv4},
		Description: "IPv4 headers with options",
		NewDecoder:  func() Decoder { return &ipv4Decoder{} },
		Own:         types.ContextIPs, // the addresses of its own header
	}, func() gopacket.DecodingLayer { return &layers.IPv4{} })
}

type ipv4Decoder struct {
	r    types.IPv4
	opts []*types.IPv4Option
}

// Decode keeps gopacket's units: IHL in 32-bit words, Flags as the 3-bit
// field (DF=2, MF=1), FragOffset in 8-byte units, as the original records did.
func (d *ipv4Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	ip := l.(*layers.IPv4)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(ip.Version)
	r.IHL = int32(ip.IHL)
	r.TOS = int32(ip.TOS)
	r.Length = int32(ip.Length)
	if len(ip.Contents) >= 4 && ip.Contents[2] == 0 && ip.Contents[3] == 0 {
		// A zero length (TCP segmentation offload, BIG TCP) means "the rest
		// of the frame"; gopacket caps it at 65535, tshark and we give the
		// datagram's real length on the wire.
		r.Length = int32(len(ip.Contents) + len(ip.Payload) + p.Length - p.CaptureLength)
	}
	r.Id = int32(ip.Id)
	r.Flags = int32(ip.Flags)
	r.FragOffset = int32(ip.FragOffset)
	r.TTL = int32(ip.TTL)
	r.Protocol = int32(ip.Protocol)
	r.Checksum = int32(ip.Checksum)
	r.SrcIP = p.Strings.IP(ip.SrcIP)
	r.DstIP = p.Strings.IP(ip.DstIP)
	r.Padding = ip.Padding
	if len(ip.Options) > 0 {
		r.Options = reuse(&d.opts, len(ip.Options))
		for i, o := range ip.Options {
			r.Options[i].OptionType = int32(o.OptionType)
			r.Options[i].OptionLength = int32(o.OptionLength)
			r.Options[i].OptionData = o.OptionData
		}
	}
	r.PayloadEntropy = entropy(p, ip.Payload)
	r.PayloadSize = int32(len(ip.Payload))
	s.Emit(types.Type_NC_IPv4, r)
}
