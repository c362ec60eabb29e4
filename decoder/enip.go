package decoder

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "ENIP", Layer: layers.LayerTypeENIP, Records: []types.Type{types.Type_NC_ENIP},
		Description: "EtherNet/IP encapsulation headers (TCP and UDP 44818, one message per segment or datagram)",
		NewDecoder:  func() Decoder { return &enipDecoder{} },
		Segments:    true,
		// UDP 2222 carries class 0/1 implicit I/O: a common packet format
		// item list without the encapsulation header gopacket would read
		// there (an unknown packet, named as such).
		// gopacket also maps TCP 2222 to ENIP, where Wireshark (and the
		// ODVA port list) have none; SSH servers and honeypots listen
		// there, so its segments go to the stream parsers.
		Ports: []Port{{Transport: UDP, Number: 2222, Layer: layerTypeCIPIO, First: true},
			{Transport: TCP, Number: 2222, Layer: gopacket.LayerTypePayload, First: true}},
	}, func() gopacket.DecodingLayer { return &enipLayer{} })
}

// layerTypeCIPIO names EtherNet/IP implicit I/O (UDP 2222): no record type
// holds it, so its packets are unknown, with this name as the reason.
var layerTypeCIPIO = gopacket.RegisterLayerType(102222, gopacket.LayerTypeMetadata{Name: "EtherNet/IP implicit I/O (UDP 2222)"})

// enipLayer is gopacket's ENIP that accepts only the encapsulation commands
// the specification defines (CIP Vol. 2, 2-3.2): any other is not an
// encapsulation header.
type enipLayer struct{ layers.ENIP }

func (e *enipLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) >= 2 {
		switch c := layers.ENIPCommand(binary.LittleEndian.Uint16(data)); c {
		case layers.ENIPCommandNOP, layers.ENIPCommandListServices, layers.ENIPCommandListIdentity,
			layers.ENIPCommandListInterfaces, layers.ENIPCommandRegisterSession, layers.ENIPCommandUnregisterSession,
			layers.ENIPCommandSendRRData, layers.ENIPCommandSendUnitData, layers.ENIPCommandIndicateStatus,
			layers.ENIPCommandCancel:
		default:
			return fmt.Errorf("ENIP: command 0x%04x is not an EtherNet/IP encapsulation command", uint16(c))
		}
	}
	e.ENIP = layers.ENIP{}
	return e.ENIP.DecodeFromBytes(data, df)
}

type enipDecoder struct {
	r   types.ENIP
	csd types.ENIPCommandSpecificData
}

func (d *enipDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	e := &l.(*enipLayer).ENIP
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Command = uint32(e.Command)
	r.Length = uint32(e.Length)
	r.SessionHandle = e.SessionHandle
	r.Status = e.Status
	r.SenderContext = e.SenderContext
	r.Options = e.Options
	d.csd.Reset()
	d.csd.Cmd = uint32(e.CommandSpecific.Cmd)
	d.csd.Data = e.CommandSpecific.Data
	r.CommandSpecific = &d.csd
	s.Emit(types.Type_NC_ENIP, r)
}
