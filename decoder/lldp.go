package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// LLDP (IEEE 802.1AB): one LinkLayerDiscovery record with the mandatory
// TLVs and the others as type-length-value, and one LinkLayerDiscoveryInfo
// record with the optional TLVs decoded, per frame.
func init() {
	Register(Protocol{
		Name: "LinkLayerDiscovery", Layer: layers.LayerTypeLinkLayerDiscovery,
		Records:     []types.Type{types.Type_NC_LinkLayerDiscovery, types.Type_NC_LinkLayerDiscoveryInfo},
		Description: "LLDP: chassis, port, TTL and the optional TLVs (system name, capabilities, management address)",
		NewDecoder:  func() Decoder { return &lldpDecoder{} },
	}, newBuiltLayer(layers.LayerTypeLinkLayerDiscovery))
}

type lldpDecoder struct {
	r       types.LinkLayerDiscovery
	info    types.LinkLayerDiscoveryInfo
	chassis types.LLDPChassisID
	port    types.LLDPPortID
	caps    types.LLDPSysCapabilities
	sysCap  types.LLDPCapabilities
	enCap   types.LLDPCapabilities
	mgmt    types.LLDPMgmtAddress
	vals    []*types.LinkLayerDiscoveryValue
	unknown []*types.LinkLayerDiscoveryValue
	orgs    []*types.LLDPOrgSpecificTLV
}

func (d *lldpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	b := l.(*builtLayer)
	c, ok := b.find(layers.LayerTypeLinkLayerDiscovery).(*layers.LinkLayerDiscovery)
	if !ok {
		return
	}
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	d.chassis.Subtype, d.chassis.ID = int32(c.ChassisID.Subtype), c.ChassisID.ID
	d.port.Subtype, d.port.ID = int32(c.PortID.Subtype), c.PortID.ID
	r.ChassisID, r.PortID = &d.chassis, &d.port
	r.TTL = int32(c.TTL)
	if len(c.Values) > 0 {
		r.Values = reuse(&d.vals, len(c.Values))
		for i, v := range c.Values {
			r.Values[i].Type, r.Values[i].Length, r.Values[i].Value = int32(v.Type), int32(v.Length), v.Value
		}
	}
	s.Emit(types.Type_NC_LinkLayerDiscovery, r)

	in, ok := b.find(layers.LayerTypeLinkLayerDiscoveryInfo).(*layers.LinkLayerDiscoveryInfo)
	if !ok {
		return
	}
	info := &d.info
	info.Reset()
	info.Timestamp = p.Timestamp
	info.PortDescription = textOf(in.PortDescription)
	info.SysName = textOf(in.SysName)
	info.SysDescription = textOf(in.SysDescription)
	unknown := 0
	for _, v := range c.Values {
		switch v.Type {
		case layers.LLDPTLVSysCapabilities:
			lldpCaps(&d.sysCap, in.SysCapabilities.SystemCap)
			lldpCaps(&d.enCap, in.SysCapabilities.EnabledCap)
			d.caps.SystemCap, d.caps.EnabledCap = &d.sysCap, &d.enCap
			info.SysCapabilities = &d.caps
		case layers.LLDPTLVMgmtAddress:
			m := in.MgmtAddress
			d.mgmt = types.LLDPMgmtAddress{Subtype: int32(m.Subtype), Address: m.Address,
				InterfaceSubtype: int32(m.InterfaceSubtype), InterfaceNumber: m.InterfaceNumber, OID: textOf(m.OID)}
			info.MgmtAddress = &d.mgmt
		case layers.LLDPTLVEnd, layers.LLDPTLVPortDescription, layers.LLDPTLVSysName, layers.LLDPTLVSysDescription, layers.LLDPTLVOrgSpecific:
		default:
			unknown++
		}
	}
	if unknown > 0 {
		info.Unknown = reuse(&d.unknown, unknown)
		i := 0
		for _, v := range c.Values {
			switch v.Type {
			case layers.LLDPTLVEnd, layers.LLDPTLVPortDescription, layers.LLDPTLVSysName, layers.LLDPTLVSysDescription,
				layers.LLDPTLVOrgSpecific, layers.LLDPTLVSysCapabilities, layers.LLDPTLVMgmtAddress:
				continue
			}
			info.Unknown[i].Type, info.Unknown[i].Length, info.Unknown[i].Value = int32(v.Type), int32(v.Length), v.Value
			i++
		}
	}
	if len(in.OrgTLVs) > 0 {
		info.OrgTLVs = reuse(&d.orgs, len(in.OrgTLVs))
		for i, o := range in.OrgTLVs {
			info.OrgTLVs[i].OUI, info.OrgTLVs[i].SubType, info.OrgTLVs[i].Info = uint32(o.OUI), int32(o.SubType), o.Info
		}
	}
	s.Emit(types.Type_NC_LinkLayerDiscoveryInfo, info)
}

func lldpCaps(dst *types.LLDPCapabilities, c layers.LLDPCapabilities) {
	*dst = types.LLDPCapabilities{Other: c.Other, Repeater: c.Repeater, Bridge: c.Bridge, WLANAP: c.WLANAP,
		Router: c.Router, Phone: c.Phone, DocSis: c.DocSis, StationOnly: c.StationOnly, CVLAN: c.CVLAN,
		SVLAN: c.SVLAN, TMPR: c.TMPR}
}
