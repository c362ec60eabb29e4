package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "Ethernet", Layer: layers.LayerTypeEthernet, Records: []types.Type{types.Type_NC_Ethernet},
		Description: "Ethernet II and 802.3 frame headers",
		NewDecoder:  func() Decoder { return &ethernetDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.Ethernet{} })
	RegisterLink(Link{Type: layers.LinkTypeEthernet, First: layers.LayerTypeEthernet})
}

type ethernetDecoder struct{ r types.Ethernet }

func (d *ethernetDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	e := l.(*layers.Ethernet)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SrcMAC = p.Strings.MAC(e.SrcMAC)
	r.DstMAC = p.Strings.MAC(e.DstMAC)
	r.EthernetType = int32(e.EthernetType)
	r.PayloadEntropy = entropy(p, e.Payload)
	r.PayloadSize = int32(len(e.Payload))
	s.Emit(types.Type_NC_Ethernet, r)
}
