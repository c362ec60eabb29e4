package decoder

import (
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// FDDI frames (link type 10): frame control, destination and source
// address; LLC frames go on to the LLC decoder.
func init() {
	Register(Protocol{
		Name: "FDDI", Layer: layers.LayerTypeFDDI, Records: []types.Type{types.Type_NC_FDDI},
		Description: "FDDI frame headers (link type 10)",
		Oracle:      "no shared capture holds FDDI: TestFDDIAndNortelFields checks built frames",
		NewDecoder:  func() Decoder { return &fddiDecoder{} },
	}, func() gopacket.DecodingLayer { return &fddiLayer{} })
	RegisterLink(Link{Type: layers.LinkTypeFDDI, First: layers.LayerTypeFDDI})
}

// fddiLayer decodes an FDDI header. gopacket's FDDI has only a decode
// function, which swaps the addresses: the destination comes first.
type fddiLayer struct{ layers.FDDI }

const fddiLen = 13

func (f *fddiLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < fddiLen {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, an FDDI header has %d", len(data), fddiLen)
	}
	f.FrameControl = layers.FDDIFrameControl(data[0] & 0xf8)
	f.Priority = data[0] & 0x07
	f.DstMAC = net.HardwareAddr(data[1:7])
	f.SrcMAC = net.HardwareAddr(data[7:13])
	f.Contents, f.Payload = data[:fddiLen], data[fddiLen:]
	return nil
}

func (f *fddiLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeFDDI }

// NextLayerType: asynchronous LLC frames carry LLC; SMT and MAC frames
// have no decoder.
func (f *fddiLayer) NextLayerType() gopacket.LayerType {
	if f.FrameControl == layers.FDDIFrameControlLLC {
		return layers.LayerTypeLLC
	}
	return gopacket.LayerTypeZero
}

type fddiDecoder struct{ r types.FDDI }

func (d *fddiDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	f := l.(*fddiLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.FrameControl = int32(f.FrameControl)
	r.Priority = int32(f.Priority)
	r.SrcMAC = p.Strings.MAC(f.SrcMAC)
	r.DstMAC = p.Strings.MAC(f.DstMAC)
	s.Emit(types.Type_NC_FDDI, r)
}
