package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frame Relay (link type 107) carries IP on wide-area links. The Q.922
// address (2 to 4 bytes: each byte's lowest bit ends it) is followed either
// by the UI control byte 0x03 and an NLPID (RFC 2427: 0xcc IPv4, 0x8e IPv6,
// 0x80 SNAP, a 0x00 pad allowed before it), or, in Cisco's encapsulation,
// directly by an EtherType; tshark tells them apart the same way. An OSI PDU
// (IS-IS, ES-IS) may also follow an I, S or U control field other than UI
// off the signalling DLCI 0, when the bytes are no EtherType. There is
// no record of the header; the decoder walks through it. gopacket has no
// layer for it.
func init() {
	RegisterLayer(layerTypeFrameRelay, func() gopacket.DecodingLayer { return &frameRelayLayer{} })
	RegisterLink(Link{Type: layers.LinkTypeFRelay, First: layerTypeFrameRelay})
}

var layerTypeFrameRelay = gopacket.RegisterLayerType(2107, gopacket.LayerTypeMetadata{Name: "FrameRelay"})

var errFrameRelayShort = errors.New("Frame Relay header cut short")

type frameRelayLayer struct {
	layers.BaseLayer
	// NLPID is the network layer protocol identifier of RFC 2427
	// encapsulation; 0 in Cisco's, where EtherType says what follows.
	NLPID     uint8
	EtherType layers.EthernetType
}

func (f *frameRelayLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	f.NLPID, f.EtherType = 0, 0
	off := 0
	for off < 4 && off < len(data) {
		off++
		if data[off-1]&1 == 1 {
			break
		}
	}
	if off < 2 || data[off-1]&1 == 0 || len(data) < off+2 {
		df.SetTruncated()
		return errFrameRelayShort
	}
	if data[off] == 0x03 {
		off++
		if data[off] == 0x00 { // pad
			off++
		}
		if len(data) <= off {
			df.SetTruncated()
			return errFrameRelayShort
		}
		f.NLPID = data[off]
		if f.NLPID != nlpidESIS && f.NLPID != nlpidISIS {
			off++ // the NLPID of ES-IS and IS-IS is the first byte of their PDU
		}
	} else if n := frameRelayControl(data[off:]); n > 0 && osiNLPID(data[off+n]) && frameRelayDLCI(data[:off]) != 0 &&
		layers.EthernetType(binary.BigEndian.Uint16(data[off:])).LayerType() == gopacket.LayerTypeZero {
		// A Q.922 control field other than UI (an I or S frame has 2
		// bytes, a U frame 1) before an OSI PDU, where the two bytes are no
		// EtherType we know: tshark reads it so (tcpdump's esis_snpa_asan
		// captures hold ES-IS in I frames). DLCI 0 carries the link's
		// signalling (LAPF), which tshark shows as data.
		off += n
		f.NLPID = data[off]
	} else {
		f.EtherType = layers.EthernetType(binary.BigEndian.Uint16(data[off:]))
		off += 2
	}
	f.Contents, f.Payload = data[:off], data[off:]
	return nil
}

// frameRelayDLCI is the DLCI of a Q.922 address of 2 to 4 bytes: 6 bits
// of the first byte, 4 of the second, 7 of a third that is not the last,
// and 6 of the last byte of a 3 or 4 byte address unless its D/C bit says
// it holds DL-CORE control instead.
func frameRelayDLCI(a []byte) int {
	dlci := int(a[0]>>2)<<4 | int(a[1]>>4)
	if len(a) == 4 {
		dlci = dlci<<7 | int(a[2]>>1)
	}
	if last := a[len(a)-1]; len(a) > 2 && last&0x02 == 0 {
		dlci = dlci<<6 | int(last>>2)
	}
	return dlci
}

// frameRelayControl is the length of the control field that b starts
// with, when a byte follows it: 2 for I and S frames (modulo 128, as in
// Q.922), 1 for U frames; 0 when nothing follows.
func frameRelayControl(b []byte) int {
	n := 2
	if b[0]&0x03 == 0x03 {
		n = 1
	}
	if len(b) <= n {
		return 0
	}
	return n
}

func (f *frameRelayLayer) CanDecode() gopacket.LayerClass { return layerTypeFrameRelay }

func (f *frameRelayLayer) NextLayerType() gopacket.LayerType {
	if f.NLPID == 0 {
		return f.EtherType.LayerType()
	}
	switch f.NLPID {
	case 0xcc:
		return layers.LayerTypeIPv4
	case 0x8e:
		return layers.LayerTypeIPv6
	case 0x80:
		return layers.LayerTypeSNAP
	case nlpidESIS, nlpidISIS:
		return layerTypeOSI
	}
	return gopacket.LayerTypeZero
}

func (f *frameRelayLayer) unknownReason() string {
	if f.NLPID == 0 {
		return fmt.Sprintf("Frame Relay EtherType 0x%04x", uint16(f.EtherType))
	}
	return fmt.Sprintf("Frame Relay NLPID 0x%02x", f.NLPID)
}
