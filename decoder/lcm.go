package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// LCM (lightweight communications and marshalling) messages on their
// default UDP port 7667: short and fragmented headers and the channel name.
func init() {
	Register(Protocol{
		Name: "LCM", Layer: layers.LayerTypeLCM, Records: []types.Type{types.Type_NC_LCM},
		Description: "LCM message headers (UDP port 7667)",
		Oracle:      "no shared capture holds LCM: TestLCMFields checks built messages",
		NewDecoder:  func() Decoder { return &lcmDecoder{} },
		Ports:       []Port{{Transport: UDP, Number: lcmPort}},
	}, func() gopacket.DecodingLayer { return &layers.LCM{} })
}

// lcmPort is LCM's default multicast port.
const lcmPort = 7667

type lcmDecoder struct{ r types.LCM }

func (d *lcmDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*layers.LCM)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Magic = int32(m.Magic)
	r.SequenceNumber = int32(m.SequenceNumber)
	r.PayloadSize = int32(m.PayloadSize)
	r.FragmentOffset = int32(m.FragmentOffset)
	r.FragmentNumber = int32(m.FragmentNumber)
	r.TotalFragments = int32(m.TotalFragments)
	r.ChannelName = textOf(m.ChannelName)
	r.Fragmented = m.Fragmented
	s.Emit(types.Type_NC_LCM, r)
}
