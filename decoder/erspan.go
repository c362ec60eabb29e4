package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ERSPAN type II carries mirrored Ethernet frames inside GRE behind a header
// of 8 bytes. netcap has no record for the header (the framework has none);
// it walks through it so that the mirrored frame gets its records. Type I,
// without a header, is told apart in the layer loop.
func init() {
	RegisterLayer(layers.LayerTypeERSPANII, func() gopacket.DecodingLayer { return &layers.ERSPANII{} })
}
