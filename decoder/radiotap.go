package decoder

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Radiotap headers (link type 127) have no record: the chain walks through
// them to the 802.11 frame. Of their fields only the flags matter here:
// whether the frame ends with a frame check sequence, and whether the
// driver padded the 802.11 header to a multiple of four bytes. They pick
// the variant of the Dot11 layer that reads the frame.
func init() {
	RegisterLayer(layers.LayerTypeRadioTap, func() gopacket.DecodingLayer { return &radiotapLayer{} })
	RegisterLink(Link{Type: layers.LinkTypeIEEE80211Radio, First: layers.LayerTypeRadioTap})
}

const (
	radiotapFlagFCS     = 0x10
	radiotapFlagDataPad = 0x20
	radiotapPresentTSFT = 1 << 0
	radiotapPresentFlag = 1 << 1
	radiotapPresentExt  = 1 << 31
)

type radiotapLayer struct {
	flags   uint8
	payload []byte
}

func (r *radiotapLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	r.flags, r.payload = 0, nil
	if len(data) < 8 {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, a radiotap header has at least 8", len(data))
	}
	if data[0] != 0 {
		return fmt.Errorf("radiotap version %d, only version 0 exists", data[0])
	}
	n := int(binary.LittleEndian.Uint16(data[2:4]))
	if n < 8 || n > len(data) {
		df.SetTruncated()
		return fmt.Errorf("radiotap length %d, the frame has %d bytes", n, len(data))
	}
	present := binary.LittleEndian.Uint32(data[4:8])
	// The fields start after the last presence word.
	off := 8
	for w := present; w&radiotapPresentExt != 0; off += 4 {
		if off+4 > n {
			return fmt.Errorf("radiotap presence words run past the %d-byte header", n)
		}
		w = binary.LittleEndian.Uint32(data[off:])
	}
	if present&radiotapPresentTSFT != 0 {
		off = (off+7)&^7 + 8 // a 64-bit timer, aligned to 8 bytes
	}
	if present&radiotapPresentFlag != 0 {
		if off >= n {
			return fmt.Errorf("radiotap flags field past the %d-byte header", n)
		}
		r.flags = data[off]
	}
	r.payload = data[n:]
	return nil
}

func (r *radiotapLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeRadioTap }
func (r *radiotapLayer) LayerPayload() []byte           { return r.payload }

func (r *radiotapLayer) NextLayerType() gopacket.LayerType {
	fcs, pad := r.flags&radiotapFlagFCS != 0, r.flags&radiotapFlagDataPad != 0
	switch {
	case fcs && pad:
		return layerTypeDot11FCSPad
	case fcs:
		return layerTypeDot11FCS
	case pad:
		return layerTypeDot11Pad
	}
	return layers.LayerTypeDot11
}
