package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "BFD", Layer: layers.LayerTypeBFD, Records: []types.Type{types.Type_NC_BFD},
		Description: "bidirectional forwarding detection control packets (UDP 3784, 4784, 6784, 7784)",
		NewDecoder:  func() Decoder { return &bfdDecoder{} },
		// gopacket maps single-hop BFD (3784) only; multihop (RFC 5883),
		// BFD on LAG members (RFC 7130) and seamless BFD (RFC 7880) use the
		// same control packet on ports of their own, as tshark knows.
		Ports: []Port{{Transport: UDP, Number: 4784}, {Transport: UDP, Number: 6784}, {Transport: UDP, Number: 7784}},
	}, func() gopacket.DecodingLayer { return &layers.BFD{} })
}

type bfdDecoder struct {
	r    types.BFD
	auth types.BFDAuthHeader
}

// Decode keeps the intervals in microseconds as on the wire.
func (d *bfdDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	b := l.(*layers.BFD)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(b.Version)
	r.Diagnostic = int32(b.Diagnostic)
	r.State = int32(b.State)
	r.Poll = b.Poll
	r.Final = b.Final
	r.ControlPlaneIndependent = b.ControlPlaneIndependent
	r.AuthPresent = b.AuthPresent
	r.Demand = b.Demand
	r.Multipoint = b.Multipoint
	r.DetectMultiplier = int32(b.DetectMultiplier)
	r.MyDiscriminator = int32(b.MyDiscriminator)
	r.YourDiscriminator = int32(b.YourDiscriminator)
	r.DesiredMinTxInterval = int32(b.DesiredMinTxInterval)
	r.RequiredMinRxInterval = int32(b.RequiredMinRxInterval)
	r.RequiredMinEchoRxInterval = int32(b.RequiredMinEchoRxInterval)
	if h := b.AuthHeader; h != nil {
		a := &d.auth
		a.Reset()
		a.AuthType = int32(h.AuthType)
		a.KeyID = int32(h.KeyID)
		a.SequenceNumber = int32(h.SequenceNumber)
		a.Data = h.Data
		r.AuthHeader = a
	}
	s.Emit(types.Type_NC_BFD, r)
}
