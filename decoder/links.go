package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Link headers that carry no record of their own but that the chain must
// walk through to reach the network layer.
func init() {
	RegisterLayer(layers.LayerTypeLinuxSLL, func() gopacket.DecodingLayer { return &layers.LinuxSLL{} })
	RegisterLayer(layers.LayerTypeLinuxSLL2, func() gopacket.DecodingLayer { return &layers.LinuxSLL2{} })
	RegisterLayer(layers.LayerTypeLoopback, func() gopacket.DecodingLayer { return &layers.Loopback{} })
}
