package decoder

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestLinks: every declared link type starts at a layer the chain can
// decode, and the link types map as tshark reads them.
func TestLinks(t *testing.T) {
	if len(Links()) < 15 {
		t.Fatalf("%d link types declared", len(Links()))
	}
	for _, l := range Links() {
		first := []gopacket.LayerType{l.First}
		if l.Pick != nil {
			first = []gopacket.LayerType{l.Pick([]byte{0x45}), l.Pick([]byte{0x60})}
		}
		for _, f := range first {
			if layerFactories[f] == nil {
				t.Errorf("link type %v starts at %v, which no file registers", l.Type, f)
			}
		}
	}
	for _, tc := range []struct {
		link  layers.LinkType
		frame []byte
		want  gopacket.LayerType
	}{
		{layers.LinkTypeEthernet, nil, layers.LayerTypeEthernet},
		{layers.LinkTypeRaw, []byte{0x45}, layers.LayerTypeIPv4},
		{layers.LinkTypeRaw, []byte{0x60}, layers.LayerTypeIPv6},
		{12, []byte{0x60}, layers.LayerTypeIPv6},
		{14, []byte{0x45}, layers.LayerTypeIPv4},
		{layers.LinkTypeNull, nil, layers.LayerTypeLoopback},
		{layers.LinkTypeIEEE802_11, nil, layers.LayerTypeDot11},
		{189, nil, layers.LayerTypeUSB},
		{layers.LinkTypeLinuxUSB, nil, layerTypeUSBMmapped},
		{layers.LinkTypePPP, nil, layers.LayerTypePPP},
		{layers.LinkTypePPP_HDLC, nil, layers.LayerTypePPP},
		{layers.LinkTypeFDDI, nil, layers.LayerTypeFDDI},
	} {
		if got := FirstLayer(tc.link, tc.frame); got != tc.want {
			t.Errorf("link %v: %v, want %v", tc.link, got, tc.want)
		}
	}
}
