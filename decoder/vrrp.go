package decoder

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "VRRPv2", Layer: layers.LayerTypeVRRP, Records: []types.Type{types.Type_NC_VRRPv2},
		Description: "virtual router redundancy protocol version 2 advertisements",
		NewDecoder:  func() Decoder { return &vrrpv2Decoder{} },
	}, func() gopacket.DecodingLayer { return &vrrpLayer{} })
}

// vrrpLayer is gopacket's VRRPv2 that refuses other versions: gopacket reads
// any version with the v2 layout, but a VRRPv3 header (RFC 5798) has no
// authentication type and a 12-bit interval where v2 has them, so what a v2
// record would say of it is wrong.
type vrrpLayer struct{ layers.VRRPv2 }

func (v *vrrpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) > 0 && data[0]>>4 != 2 {
		return fmt.Errorf("VRRP version %d: only version 2 is decoded", data[0]>>4)
	}
	return v.VRRPv2.DecodeFromBytes(data, df)
}

type vrrpv2Decoder struct {
	r     types.VRRPv2
	addrs []string
}

func (d *vrrpv2Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	v := &l.(*vrrpLayer).VRRPv2
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(v.Version)
	r.Type = int32(v.Type)
	r.VirtualRtrID = int32(v.VirtualRtrID)
	r.Priority = int32(v.Priority)
	r.CountIPAddr = int32(v.CountIPAddr)
	r.AuthType = int32(v.AuthType)
	r.AdverInt = int32(v.AdverInt)
	r.Checksum = int32(v.Checksum)
	d.addrs = d.addrs[:0]
	for _, a := range v.IPAddress {
		d.addrs = append(d.addrs, p.Strings.IP(a))
	}
	r.IPAddress = d.addrs
	s.Emit(types.Type_NC_VRRPv2, r)
}
