package decoder

import (
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// ES-IS (ISO 9542) is how OSI end systems and routers on one subnetwork
// find each other: end systems announce their addresses (ESH), routers
// their network entity titles (ISH), and routers redirect end systems to a
// better next hop (RD). It is reached like IS-IS, through the OSI layer
// (NLPID 0x82). The record holds the fixed header, the addresses of the
// PDU type and the option codes. gopacket has no layer for it.
func init() {
	Register(Protocol{
		Name: "ESIS", Layer: layerTypeESIS, Records: []types.Type{types.Type_NC_ESIS},
		Description: "ES-IS (ISO 9542) end system and intermediate system hellos and redirects over LLC, Cisco HDLC and Frame Relay",
		NewDecoder:  func() Decoder { return &esisDecoder{} },
	}, func() gopacket.DecodingLayer { return &esisLayer{} })
}

var layerTypeESIS = gopacket.RegisterLayerType(2340, gopacket.LayerTypeMetadata{Name: "ESIS"})

// ES-IS PDU types.
const (
	esisESH = 2
	esisISH = 4
	esisRD  = 6
)

var errESISShort = errors.New("ES-IS header cut short")

// esisLayer reads an ES-IS PDU. Every read is bounded by the bytes
// captured and by the header length the PDU gives; an address whose length
// runs past them ends the PDU's reading there, as in tcpdump.
type esisLayer struct {
	layers.BaseLayer
	HeaderLength, Version, PDUType uint8
	HoldingTime, Checksum          uint16
	Sources                        [][]byte
	NET, DA, SNPA                  []byte
	OptionTypes                    []int32
}

func (l *esisLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.Sources, l.OptionTypes = l.Sources[:0], l.OptionTypes[:0]
	l.NET, l.DA, l.SNPA = nil, nil, nil
	if len(data) < 9 {
		df.SetTruncated()
		return errESISShort
	}
	l.HeaderLength, l.Version, l.PDUType = data[1], data[2], data[4]&0x1f
	l.HoldingTime = binary.BigEndian.Uint16(data[5:])
	l.Checksum = binary.BigEndian.Uint16(data[7:])
	l.Contents, l.Payload = data, nil
	end := min(len(data), int(l.HeaderLength))
	off := 9
	// addr reads a length byte and the address after it; false when either
	// runs past the end.
	addr := func() ([]byte, bool) {
		if off >= end || off+1+int(data[off]) > end {
			return nil, false
		}
		a := data[off+1 : off+1+int(data[off])]
		off += 1 + len(a)
		return a, true
	}
	switch l.PDUType {
	case esisESH:
		if off >= end {
			return nil
		}
		n := int(data[off])
		off++
		for range n {
			a, ok := addr()
			if !ok {
				return nil
			}
			l.Sources = append(l.Sources, a)
		}
	case esisISH:
		a, ok := addr()
		if !ok {
			return nil
		}
		l.NET = a
	case esisRD:
		var ok bool
		if l.DA, ok = addr(); !ok {
			return nil
		}
		if l.SNPA, ok = addr(); !ok {
			return nil
		}
		// the title of the router is optional: a length of 0 when absent
		if l.NET, ok = addr(); !ok {
			return nil
		}
	default:
		return nil
	}
	for off+2 <= end {
		code, size := data[off], int(data[off+1])
		if off+2+size > end {
			break
		}
		l.OptionTypes = append(l.OptionTypes, int32(code))
		off += 2 + size
	}
	return nil
}

func (l *esisLayer) CanDecode() gopacket.LayerClass { return layerTypeESIS }

func (l *esisLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

type esisDecoder struct {
	r       types.ESIS
	sources []string
}

// hexOrEmpty writes an address as hex; empty when absent or of no bytes.
func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return hex.EncodeToString(b)
}

func (d *esisDecoder) Decode(dl gopacket.DecodingLayer, p *Packet, s Sink) {
	l := dl.(*esisLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.HeaderLength = int32(l.HeaderLength)
	r.Version = int32(l.Version)
	r.PDUType = int32(l.PDUType)
	r.HoldingTime = int32(l.HoldingTime)
	r.Checksum = int32(l.Checksum)
	d.sources = d.sources[:0]
	for _, a := range l.Sources {
		d.sources = append(d.sources, hex.EncodeToString(a))
	}
	r.SourceAddresses = d.sources
	r.NetworkEntityTitle = hexOrEmpty(l.NET)
	r.DestinationAddress = hexOrEmpty(l.DA)
	r.SubnetworkAddress = hexOrEmpty(l.SNPA)
	r.OptionTypes = l.OptionTypes
	s.Emit(types.Type_NC_ESIS, r)
}
