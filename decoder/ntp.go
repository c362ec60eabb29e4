package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "NTP", Layer: layers.LayerTypeNTP, Records: []types.Type{types.Type_NC_NTP},
		Description: "network time protocol messages (timestamps as raw 64-bit NTP values)",
		NewDecoder:  func() Decoder { return &ntpDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.NTP{} })
}

type ntpDecoder struct{ r types.NTP }

// NTP modes whose messages are not time packets (RFC 1305 appendix B, and
// ntpd's private mode-7 requests).
const (
	ntpModeControl = 6
	ntpModePrivate = 7
)

func (d *ntpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*layers.NTP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.LeapIndicator = int32(m.LeapIndicator)
	r.Version = int32(m.Version)
	r.Mode = int32(m.Mode)
	r.Stratum = int32(m.Stratum)
	r.Poll = int32(m.Poll)
	r.Precision = int32(m.Precision)
	r.RootDelay = uint32(m.RootDelay)
	r.RootDispersion = uint32(m.RootDispersion)
	r.ReferenceID = uint32(m.ReferenceID)
	r.ReferenceTimestamp = uint64(m.ReferenceTimestamp)
	r.OriginTimestamp = uint64(m.OriginTimestamp)
	r.ReceiveTimestamp = uint64(m.ReceiveTimestamp)
	r.TransmitTimestamp = uint64(m.TransmitTimestamp)
	r.ExtensionBytes = m.ExtensionBytes
	if m.Mode == ntpModeControl || m.Mode == ntpModePrivate {
		// Control and private messages have no time header: what gopacket
		// reads there are other fields (sequence numbers, item counts).
		r.Stratum, r.Poll, r.Precision = 0, 0, 0
		r.RootDelay, r.RootDispersion, r.ReferenceID = 0, 0, 0
		r.ReferenceTimestamp, r.OriginTimestamp, r.ReceiveTimestamp, r.TransmitTimestamp = 0, 0, 0, 0
	}
	s.Emit(types.Type_NC_NTP, r)
}
