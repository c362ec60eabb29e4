package decoder

import (
	"net"
	"strings"
	"unicode/utf8"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// CDP (Cisco Discovery Protocol, over SNAP 00:00:0c/0x2000): a
// CiscoDiscovery record with the header and the TLVs as they are, and a
// CiscoDiscoveryInfo record with the TLVs decoded, per frame.
func init() {
	Register(Protocol{
		Name: "CiscoDiscovery", Layer: layers.LayerTypeCiscoDiscovery,
		Records:     []types.Type{types.Type_NC_CiscoDiscovery, types.Type_NC_CiscoDiscoveryInfo},
		Description: "CDP: header and TLVs, and the decoded device, port, address and platform details",
		NewDecoder:  func() Decoder { return &cdpDecoder{} },
	}, newBuiltLayer(layers.LayerTypeCiscoDiscovery))
}

type cdpDecoder struct {
	r      types.CiscoDiscovery
	info   types.CiscoDiscoveryInfo
	vals   []*types.CiscoDiscoveryValue
	hello  types.CDPHello
	caps   types.CDPCapabilities
	vReply types.CDPVLANDialogue
	vQuery types.CDPVLANDialogue
	loc    types.CDPLocation
	pReq   types.CDPPowerDialogue
	pAv    types.CDPPowerDialogue
	poe    types.CDPSparePairPoE
	ew     types.CDPEnergyWise
	nets   []*types.IPNet
}

func (d *cdpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	b := l.(*builtLayer)
	c, ok := b.find(layers.LayerTypeCiscoDiscovery).(*layers.CiscoDiscovery)
	if !ok {
		return
	}
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version, r.TTL, r.Checksum = int32(c.Version), int32(c.TTL), int32(c.Checksum)
	if len(c.Values) > 0 {
		r.Values = reuse(&d.vals, len(c.Values))
		for i, v := range c.Values {
			r.Values[i].Type, r.Values[i].Length, r.Values[i].Value = int32(v.Type), int32(v.Length), v.Value
		}
	}
	s.Emit(types.Type_NC_CiscoDiscovery, r)

	in, ok := b.find(layers.LayerTypeCiscoDiscoveryInfo).(*layers.CiscoDiscoveryInfo)
	if !ok {
		return
	}
	info := &d.info
	info.Reset()
	info.Timestamp = p.Timestamp
	info.DeviceID = textOf(in.DeviceID)
	info.Addresses = ipTexts(in.Addresses)
	info.PortID = textOf(in.PortID)
	info.Version = textOf(in.Version)
	info.Platform = textOf(in.Platform)
	if len(in.IPPrefixes) > 0 {
		info.IPPrefixes = reuse(&d.nets, len(in.IPPrefixes))
		for i, n := range in.IPPrefixes {
			info.IPPrefixes[i].IP, info.IPPrefixes[i].IPMask = ipText(n.IP), net.IP(n.Mask).String()
		}
	}
	info.VTPDomain = textOf(in.VTPDomain)
	info.NativeVLAN = int32(in.NativeVLAN)
	info.FullDuplex = in.FullDuplex
	info.PowerConsumption = int32(in.PowerConsumption)
	info.MTU = in.MTU
	info.ExtendedTrust = int32(in.ExtendedTrust)
	info.UntrustedCOS = int32(in.UntrustedCOS)
	info.SysName = textOf(in.SysName)
	info.SysOID = textOf(in.SysOID)
	info.MgmtAddresses = ipTexts(in.MgmtAddresses)
	// The sub-messages are set when their TLV is in the frame.
	for _, v := range c.Values {
		switch v.Type {
		case layers.CDPTLVHello:
			h := &in.CDPHello
			d.hello = types.CDPHello{OUI: h.OUI, ProtocolID: int32(h.ProtocolID), ClusterMaster: ipText(h.ClusterMaster),
				Unknown1: ipText(h.Unknown1), Version: int32(h.Version), SubVersion: int32(h.SubVersion), Status: int32(h.Status),
				Unknown2: int32(h.Unknown2), ClusterCommander: macText(h.ClusterCommander), SwitchMAC: macText(h.SwitchMAC),
				Unknown3: int32(h.Unknown3), ManagementVLAN: int32(h.ManagementVLAN)}
			info.CDPHello = &d.hello
		case layers.CDPTLVCapabilities:
			c := in.Capabilities
			d.caps = types.CDPCapabilities{L3Router: c.L3Router, TBBridge: c.TBBridge, SPBridge: c.SPBridge, L2Switch: c.L2Switch,
				IsHost: c.IsHost, IGMPFilter: c.IGMPFilter, L1Repeater: c.L1Repeater, IsPhone: c.IsPhone, RemotelyManaged: c.RemotelyManaged}
			info.Capabilities = &d.caps
		case layers.CDPTLVVLANReply:
			d.vReply = types.CDPVLANDialogue{ID: int32(in.VLANReply.ID), VLAN: int32(in.VLANReply.VLAN)}
			info.VLANReply = &d.vReply
		case layers.CDPTLVVLANQuery:
			d.vQuery = types.CDPVLANDialogue{ID: int32(in.VLANQuery.ID), VLAN: int32(in.VLANQuery.VLAN)}
			info.VLANQuery = &d.vQuery
		case layers.CDPTLVLocation:
			d.loc = types.CDPLocation{Type: int32(in.Location.Type), Location: textOf(in.Location.Location)}
			info.Location = &d.loc
		case layers.CDPTLVPowerRequested:
			d.pReq = types.CDPPowerDialogue{ID: int32(in.PowerRequest.ID), MgmtID: int32(in.PowerRequest.MgmtID), Values: in.PowerRequest.Values}
			info.PowerRequest = &d.pReq
		case layers.CDPTLVPowerAvailable:
			d.pAv = types.CDPPowerDialogue{ID: int32(in.PowerAvailable.ID), MgmtID: int32(in.PowerAvailable.MgmtID), Values: in.PowerAvailable.Values}
			info.PowerAvailable = &d.pAv
		case layers.CDPTLVSparePairPOE:
			e := in.SparePairPoe
			d.poe = types.CDPSparePairPoE{PSEFourWire: e.PSEFourWire, PDArchShared: e.PDArchShared, PDRequestOn: e.PDRequestOn, PSEOn: e.PSEOn}
			info.SparePairPoe = &d.poe
		case layers.CDPTLVEnergyWise:
			e := &in.EnergyWise
			d.ew = types.CDPEnergyWise{EncryptedData: e.EncryptedData, Unknown1: e.Unknown1, SequenceNumber: e.SequenceNumber,
				ModelNumber: textOf(e.ModelNumber), Unknown2: int32(e.Unknown2), HardwareID: textOf(e.HardwareID),
				SerialNum: textOf(e.SerialNum), Unknown3: e.Unknown3, Role: textOf(e.Role), Domain: textOf(e.Domain),
				Name: textOf(e.Name), ReplyUnknown1: e.ReplyUnknown1, ReplyUnknown2: e.ReplyUnknown2, ReplyUnknown3: e.ReplyUnknown3,
				ReplyPort: e.ReplyPort, ReplyAddress: e.ReplyAddress}
			info.EnergyWise = &d.ew
		}
	}
	if len(in.Unknown) > 0 {
		info.Unknown = make([]*types.CiscoDiscoveryValue, len(in.Unknown))
		for i, v := range in.Unknown {
			info.Unknown[i] = &types.CiscoDiscoveryValue{Type: int32(v.Type), Length: int32(v.Length), Value: v.Value}
		}
	}
	s.Emit(types.Type_NC_CiscoDiscoveryInfo, info)
}

// ipTexts renders addresses, nil for none. gopacket stores CDP's IPv4
// addresses in 16 bytes (net.IPv4); they are written as a.b.c.d, as tshark
// shows them.
func ipTexts(ips []net.IP) []string {
	if len(ips) == 0 {
		return nil
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		out[i] = ipText(ip)
	}
	return out
}

// textOf is Text for a string: valid UTF-8 is returned as is, without a
// copy.
func textOf(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
