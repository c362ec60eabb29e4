package decoder

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// Cisco SLARP (Serial Line Address Resolution Protocol) rides in Cisco HDLC
// frames with protocol 0x8035: a 4-byte packet type, then for an address
// request (0) or reply (1) the sender's IPv4 address and netmask, and for
// a line keepalive (2) two sequence numbers and a reliability field. The
// keepalives are most of what a quiet serial link carries, and they tell
// when it went down. gopacket has no layer for it.
func init() {
	Register(Protocol{
		Name: "SLARP", Layer: layerTypeSLARP, Records: []types.Type{types.Type_NC_SLARP},
		Description: "Cisco SLARP address requests, replies and serial line keepalives (Cisco HDLC)",
		NewDecoder:  func() Decoder { return &slarpDecoder{} },
	}, func() gopacket.DecodingLayer { return &slarpLayer{} })
}

var layerTypeSLARP = gopacket.RegisterLayerType(2312, gopacket.LayerTypeMetadata{Name: "SLARP"})

var errSLARPShort = errors.New("SLARP packet cut short")

const (
	slarpRequest   = 0
	slarpReply     = 1
	slarpKeepalive = 2
)

type slarpLayer struct {
	layers.BaseLayer
	Type             uint32
	Address, Netmask []byte // requests and replies
	MySeq, YourSeq   uint32 // keepalives
	Reliability      uint16
}

func (l *slarpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.Address, l.Netmask, l.MySeq, l.YourSeq, l.Reliability = nil, nil, 0, 0, 0
	if len(data) < 4 {
		df.SetTruncated()
		return errSLARPShort
	}
	l.Type = binary.BigEndian.Uint32(data)
	n := 4
	switch l.Type {
	case slarpRequest, slarpReply:
		n = 12
		if len(data) < n {
			df.SetTruncated()
			return errSLARPShort
		}
		l.Address, l.Netmask = data[4:8], data[8:12]
	case slarpKeepalive:
		n = 14
		if len(data) < n {
			df.SetTruncated()
			return errSLARPShort
		}
		l.MySeq = binary.BigEndian.Uint32(data[4:])
		l.YourSeq = binary.BigEndian.Uint32(data[8:])
		l.Reliability = binary.BigEndian.Uint16(data[12:])
	}
	// what follows (padding to the minimum frame) is part of the packet
	l.Contents, l.Payload = data, nil
	return nil
}

func (l *slarpLayer) CanDecode() gopacket.LayerClass { return layerTypeSLARP }

func (l *slarpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type slarpDecoder struct{ r types.SLARP }

func (d *slarpDecoder) Decode(dl gopacket.DecodingLayer, p *Packet, s Sink) {
	l := dl.(*slarpLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.PacketType = int32(l.Type)
	if l.Address != nil {
		r.Address = netip.AddrFrom4([4]byte(l.Address)).String()
		r.Netmask = netip.AddrFrom4([4]byte(l.Netmask)).String()
	}
	r.MySequence, r.YourSequence, r.Reliability = l.MySeq, l.YourSeq, int32(l.Reliability)
	s.Emit(types.Type_NC_SLARP, r)
}
