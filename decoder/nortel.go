package decoder

import (
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// The Nortel Discovery Protocol (SONMP, over SNAP 00:00:81/0x01a2): an
// 11-byte hello with the sender's IP address, segment, chassis and
// backplane type.
func init() {
	Register(Protocol{
		Name: "NortelDiscovery", Layer: layers.LayerTypeNortelDiscovery, Records: []types.Type{types.Type_NC_NortelDiscovery},
		Description: "Nortel discovery (SONMP) hellos",
		Oracle:      "no shared capture holds Nortel discovery: TestFDDIAndNortelFields checks a built frame",
		NewDecoder:  func() Decoder { return &nortelDecoder{} },
	}, func() gopacket.DecodingLayer { return &nortelLayer{} })
}

// nortelLayer decodes the NortelDiscovery header; gopacket has only a
// decode function for it.
type nortelLayer struct {
	layers.NortelDiscovery
}

const nortelLen = 11

func (n *nortelLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < nortelLen {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, a Nortel discovery hello has %d", len(data), nortelLen)
	}
	n.IPAddress = net.IP(data[0:4])
	n.SegmentID = data[4:7]
	n.Chassis = layers.NDPChassisType(data[7])
	n.Backplane = layers.NDPBackplaneType(data[8])
	n.State = layers.NDPState(data[9])
	n.NumLinks = data[10]
	n.Contents, n.Payload = data[:nortelLen], data[nortelLen:]
	return nil
}

func (n *nortelLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeNortelDiscovery }

// NextLayerType: what follows the hello is padding.
func (n *nortelLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

type nortelDecoder struct{ r types.NortelDiscovery }

func (d *nortelDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	n := l.(*nortelLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.IPAddress = p.Strings.IP(n.IPAddress)
	r.SegmentID = n.SegmentID
	r.Chassis = int32(n.Chassis)
	r.Backplane = int32(n.Backplane)
	r.State = int32(n.State)
	r.NumLinks = int32(n.NumLinks)
	s.Emit(types.Type_NC_NortelDiscovery, r)
}
