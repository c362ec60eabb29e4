package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// IEEE 802.15.4 MAC frames (link type 195, with the 2-byte FCS at the
// end): a 2-byte frame control, a sequence number unless a 2015
// frame suppresses it, then PAN IDs and addresses as the frame control's
// addressing modes, PAN ID compression bit and frame version say. The
// record holds that header; the auxiliary security header, information
// elements and the payload (6LoWPAN, ZigBee) are not decoded, so frames
// with a payload are unknown packets after it. gopacket has no layer for
// 802.15.4.
func init() {
	Register(Protocol{
		Name: "WPAN", Layer: layerTypeWPAN, Records: []types.Type{types.Type_NC_WPAN},
		Description: "IEEE 802.15.4 MAC headers (link type 195)",
		NewDecoder:  func() Decoder { return &wpanDecoder{} },
	}, func() gopacket.DecodingLayer { return &wpanLayer{} })
	RegisterLink(Link{Type: linkTypeWPAN, First: layerTypeWPAN})
}

const linkTypeWPAN layers.LinkType = 195

var layerTypeWPAN = gopacket.RegisterLayerType(2195, gopacket.LayerTypeMetadata{Name: "IEEE802154"})

var errWPANShort = errors.New("IEEE 802.15.4 header cut short")

type wpanLayer struct {
	layers.BaseLayer
	Control              uint16
	Seq                  int32
	DstPAN, SrcPAN       int32 // -1: none
	DstAddr, SrcAddr     []byte
	FrameType, Version   uint8
	DstMode, SrcMode     uint8
	Compression, SeqSupp bool
}

// wpanAddrLen is the length of an address of a mode (1 is reserved).
func wpanAddrLen(mode uint8) int {
	switch mode {
	case 2:
		return 2
	case 3:
		return 8
	}
	return 0
}

// wpanPANs says which PAN IDs a header carries. Frames of versions 0 and 1
// carry the destination's with a destination address and the source's
// with a source address unless compressed; version 2 frames follow table
// 7-2 of IEEE 802.15.4-2015.
func wpanPANs(version, dst, src uint8, compressed bool) (dstPAN, srcPAN bool) {
	if version < 2 {
		return dst != 0, src != 0 && !compressed
	}
	switch {
	case dst == 0 && src == 0:
		return compressed, false
	case src == 0:
		return !compressed, false
	case dst == 0:
		return false, !compressed
	case dst == 3 && src == 3:
		return !compressed, false
	}
	return true, !compressed
}

func (l *wpanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.Seq, l.DstPAN, l.SrcPAN, l.DstAddr, l.SrcAddr = 0, -1, -1, nil, nil
	if len(data) < 2 {
		df.SetTruncated()
		return errWPANShort
	}
	fc := binary.LittleEndian.Uint16(data)
	l.Control = fc
	l.FrameType = uint8(fc & 0x7)
	l.Compression = fc&0x40 != 0
	l.SeqSupp = fc&0x100 != 0
	l.DstMode, l.Version, l.SrcMode = uint8(fc>>10&3), uint8(fc>>12&3), uint8(fc>>14&3)
	end := len(data) - 2 // the FCS
	if end < 2 {
		df.SetTruncated()
		return errWPANShort
	}
	off := 2
	need := func(n int) bool { return off+n <= end }
	if !l.SeqSupp {
		if !need(1) {
			df.SetTruncated()
			return errWPANShort
		}
		l.Seq = int32(data[off])
		off++
	}
	dstPAN, srcPAN := wpanPANs(l.Version, l.DstMode, l.SrcMode, l.Compression)
	if dstPAN {
		if !need(2) {
			df.SetTruncated()
			return errWPANShort
		}
		l.DstPAN = int32(binary.LittleEndian.Uint16(data[off:]))
		off += 2
	}
	if n := wpanAddrLen(l.DstMode); n > 0 {
		if !need(n) {
			df.SetTruncated()
			return errWPANShort
		}
		l.DstAddr = data[off : off+n]
		off += n
	}
	if srcPAN {
		if !need(2) {
			df.SetTruncated()
			return errWPANShort
		}
		l.SrcPAN = int32(binary.LittleEndian.Uint16(data[off:]))
		off += 2
	}
	if n := wpanAddrLen(l.SrcMode); n > 0 {
		if !need(n) {
			df.SetTruncated()
			return errWPANShort
		}
		l.SrcAddr = data[off : off+n]
		off += n
	}
	l.Contents, l.Payload = data[:off], data[off:end]
	return nil
}

func (l *wpanLayer) CanDecode() gopacket.LayerClass { return layerTypeWPAN }

func (l *wpanLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *wpanLayer) unknownReason() string {
	return fmt.Sprintf("IEEE 802.15.4 frame type %d payload", l.FrameType)
}

// wpanAddr writes an address as tshark does: a short one in hex, an
// extended one (sent least significant byte first) as colon-separated
// bytes, most significant first.
func wpanAddr(b []byte) string {
	switch len(b) {
	case 2:
		return fmt.Sprintf("0x%04x", binary.LittleEndian.Uint16(b))
	case 8:
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x", b[7], b[6], b[5], b[4], b[3], b[2], b[1], b[0])
	}
	return ""
}

type wpanDecoder struct{ r types.WPAN }

func (d *wpanDecoder) Decode(dl gopacket.DecodingLayer, p *Packet, s Sink) {
	l := dl.(*wpanLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.FrameType = int32(l.FrameType)
	r.SecurityEnabled = l.Control&0x08 != 0
	r.FramePending = l.Control&0x10 != 0
	r.AckRequest = l.Control&0x20 != 0
	r.PANIDCompression = l.Compression
	r.SequenceNumberSuppression = l.SeqSupp
	r.IEPresent = l.Control&0x200 != 0
	r.DstAddrMode, r.FrameVersion, r.SrcAddrMode = int32(l.DstMode), int32(l.Version), int32(l.SrcMode)
	r.SequenceNumber = l.Seq
	r.DstPANID, r.SrcPANID = l.DstPAN, l.SrcPAN
	r.DstAddr, r.SrcAddr = wpanAddr(l.DstAddr), wpanAddr(l.SrcAddr)
	s.Emit(types.Type_NC_WPAN, r)
}
