package decoder

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "OSPFv2", Layer: layers.LayerTypeOSPF, Records: []types.Type{types.Type_NC_OSPFv2},
		Description: "OSPF version 2 packets: hello, database description, link state request, update and acknowledgment",
		NewDecoder:  func() Decoder { return &ospfv2Decoder{} },
	}, func() gopacket.DecodingLayer { return &ospfLayer{} })
	// Both versions are one gopacket layer type: the layer is registered once.
	Register(Protocol{
		Name: "OSPFv3", Layer: layers.LayerTypeOSPF, Records: []types.Type{types.Type_NC_OSPFv3},
		Description: "OSPF version 3 packets: hello, database description, link state request, update and acknowledgment",
		NewDecoder:  func() Decoder { return &ospfv3Decoder{} },
	}, nil)
}

// ospfLayer decodes OSPF by its version byte with gopacket's OSPFv2 or
// OSPFv3 (one layer type, LayerTypeOSPF, for both). Other versions fail.
type ospfLayer struct {
	layers.BaseLayer
	Version uint8
	V2      layers.OSPFv2
	V3      layers.OSPFv3
}

func (o *ospfLayer) LayerType() gopacket.LayerType     { return layers.LayerTypeOSPF }
func (o *ospfLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeOSPF }
func (o *ospfLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

func (o *ospfLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	o.BaseLayer = layers.BaseLayer{}
	o.Version = 0
	if len(data) == 0 {
		return fmt.Errorf("OSPF: empty packet")
	}
	var err error
	switch data[0] {
	case 2:
		err = o.V2.DecodeFromBytes(data, df)
	case 3:
		err = o.V3.DecodeFromBytes(data, df)
	default:
		return fmt.Errorf("OSPF version %d: only versions 2 and 3 are decoded", data[0])
	}
	if err != nil {
		return fmt.Errorf("OSPFv%d: %v", data[0], err)
	}
	o.Version = data[0]
	o.Contents = data
	return nil
}

func lsaHeader(h *layers.LSAheader) *types.LSAheader {
	return &types.LSAheader{
		LSAge: int32(h.LSAge), LSType: int32(h.LSType), LinkStateID: h.LinkStateID, AdvRouter: h.AdvRouter,
		LSSeqNumber: h.LSSeqNumber, LSChecksum: int32(h.LSChecksum), Length: int32(h.Length), LSOptions: int32(h.LSOptions),
	}
}

func lsaHeaders(hs []layers.LSAheader) []*types.LSAheader {
	out := make([]*types.LSAheader, len(hs))
	for i := range hs {
		out[i] = lsaHeader(&hs[i])
	}
	return out
}

func lsReqs(rs []layers.LSReq) []*types.LSReq {
	out := make([]*types.LSReq, len(rs))
	for i, q := range rs {
		out[i] = &types.LSReq{LSType: int32(q.LSType), LSID: q.LSID, AdvRouter: q.AdvRouter}
	}
	return out
}

func dbDesc(d *layers.DbDescPkg) *types.DbDescPkg {
	return &types.DbDescPkg{Options: d.Options, InterfaceMTU: int32(d.InterfaceMTU), Flags: int32(d.Flags),
		DDSeqNumber: d.DDSeqNumber, LSAinfo: lsaHeaders(d.LSAinfo)}
}

func lsaPrefixes(ps []layers.Prefix) []*types.LSAPrefix {
	out := make([]*types.LSAPrefix, len(ps))
	for i, p := range ps {
		out[i] = &types.LSAPrefix{PrefixLength: int32(p.PrefixLength), PrefixOptions: int32(p.PrefixOptions),
			Metric: int32(p.Metric), AddressPrefix: p.AddressPrefix}
	}
	return out
}

// lsUpdate converts the LSAs of a link state update. An OSPFv2 network LSA
// goes to NLSA (the record has no field for its network mask).
func lsUpdate(u *layers.LSUpdate) *types.LSUpdate {
	out := &types.LSUpdate{NumOfLSAs: u.NumOfLSAs, LSAs: make([]*types.LSA, len(u.LSAs))}
	for i := range u.LSAs {
		l := &u.LSAs[i]
		m := &types.LSA{Header: lsaHeader(&l.LSAheader)}
		switch c := l.Content.(type) {
		case layers.RouterLSAV2:
			m.RLSAV2 = &types.RouterLSAV2{Flags: int32(c.Flags), Links: int32(c.Links), Routers: make([]*types.RouterV2, len(c.Routers))}
			for j, r := range c.Routers {
				m.RLSAV2.Routers[j] = &types.RouterV2{Type: int32(r.Type), LinkID: r.LinkID, LinkData: r.LinkData, Metric: uint32(r.Metric)}
			}
		case layers.ASExternalLSAV2:
			m.ASELSAV2 = &types.ASExternalLSAV2{NetworkMask: c.NetworkMask, ExternalBit: int32(c.ExternalBit), Metric: c.Metric,
				ForwardingAddress: c.ForwardingAddress, ExternalRouteTag: c.ExternalRouteTag}
		case layers.NetworkLSAV2:
			m.NLSA = &types.NetworkLSA{AttachedRouter: c.AttachedRouter}
		case layers.RouterLSA:
			m.RLSA = &types.RouterLSA{Flags: int32(c.Flags), Options: c.Options, Routers: make([]*types.Router, len(c.Routers))}
			for j, r := range c.Routers {
				m.RLSA.Routers[j] = &types.Router{Type: int32(r.Type), Metric: int32(r.Metric), InterfaceID: r.InterfaceID,
					NeighborInterfaceID: r.NeighborInterfaceID, NeighborRouterID: r.NeighborRouterID}
			}
		case layers.NetworkLSA:
			m.NLSA = &types.NetworkLSA{Options: c.Options, AttachedRouter: c.AttachedRouter}
		case layers.InterAreaPrefixLSA:
			m.InterAPrefixLSA = &types.InterAreaPrefixLSA{Metric: c.Metric, PrefixLength: int32(c.PrefixLength),
				PrefixOptions: int32(c.PrefixOptions), AddressPrefix: c.AddressPrefix}
		case layers.InterAreaRouterLSA:
			m.IARouterLSA = &types.InterAreaRouterLSA{Options: c.Options, Metric: c.Metric, DestinationRouterID: c.DestinationRouterID}
		case layers.ASExternalLSA:
			m.ASELSA = &types.ASExternalLSA{Flags: int32(c.Flags), Metric: c.Metric, PrefixLength: int32(c.PrefixLength),
				PrefixOptions: int32(c.PrefixOptions), RefLSType: int32(c.RefLSType), AddressPrefix: c.AddressPrefix,
				ForwardingAddress: c.ForwardingAddress, ExternalRouteTag: c.ExternalRouteTag, RefLinkStateID: c.RefLinkStateID}
		case layers.LinkLSA:
			m.LLSA = &types.LinkLSA{RtrPriority: int32(c.RtrPriority), Options: c.Options, LinkLocalAddress: c.LinkLocalAddress,
				NumOfPrefixes: c.NumOfPrefixes, Prefixes: lsaPrefixes(c.Prefixes)}
		case layers.IntraAreaPrefixLSA:
			m.IntraAPrefixLSA = &types.IntraAreaPrefixLSA{NumOfPrefixes: int32(c.NumOfPrefixes), RefLSType: int32(c.RefLSType),
				RefLinkStateID: c.RefLinkStateID, RefAdvRouter: c.RefAdvRouter, Prefixes: lsaPrefixes(c.Prefixes)}
		}
		out.LSAs[i] = m
	}
	return out
}

// The OSPF records are made afresh for each packet: their sub-messages are
// many and OSPF packets are few (routers send one hello every few seconds).
type ospfv2Decoder struct{}

func (d *ospfv2Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	o := l.(*ospfLayer)
	if o.Version != 2 {
		return
	}
	m := &o.V2
	r := &types.OSPFv2{
		Timestamp: p.Timestamp, Version: int32(m.Version), Type: int32(m.Type), PacketLength: int32(m.PacketLength),
		RouterID: m.RouterID, AreaID: m.AreaID, Checksum: int32(m.Checksum), AuType: int32(m.AuType),
		Authentication: int64(m.Authentication),
	}
	switch c := m.Content.(type) {
	case layers.HelloPkgV2:
		r.HelloV2 = &types.HelloPkgV2{InterfaceID: c.InterfaceID, RtrPriority: int32(c.RtrPriority), Options: c.Options,
			HelloInterval: int32(c.HelloInterval), RouterDeadInterval: c.RouterDeadInterval, DesignatedRouterID: c.DesignatedRouterID,
			BackupDesignatedRouterID: c.BackupDesignatedRouterID, NeighborID: c.NeighborID, NetworkMask: c.NetworkMask}
	case layers.DbDescPkg:
		r.DbDesc = dbDesc(&c)
	case []layers.LSReq:
		r.LSR = lsReqs(c)
	case layers.LSUpdate:
		r.LSU = lsUpdate(&c)
	case []layers.LSAheader:
		r.LSAs = lsaHeaders(c)
	}
	s.Emit(types.Type_NC_OSPFv2, r)
}

type ospfv3Decoder struct{}

func (d *ospfv3Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	o := l.(*ospfLayer)
	if o.Version != 3 {
		return
	}
	m := &o.V3
	r := &types.OSPFv3{
		Timestamp: p.Timestamp, Version: int32(m.Version), Type: int32(m.Type), PacketLength: int32(m.PacketLength),
		RouterID: m.RouterID, AreaID: m.AreaID, Checksum: int32(m.Checksum), Instance: int32(m.Instance),
		Reserved: int32(m.Reserved),
	}
	switch c := m.Content.(type) {
	case layers.HelloPkg:
		r.Hello = &types.HelloPkg{InterfaceID: c.InterfaceID, RtrPriority: int32(c.RtrPriority), Options: c.Options,
			HelloInterval: int32(c.HelloInterval), RouterDeadInterval: c.RouterDeadInterval, DesignatedRouterID: c.DesignatedRouterID,
			BackupDesignatedRouterID: c.BackupDesignatedRouterID, NeighborID: c.NeighborID}
	case layers.DbDescPkg:
		r.DbDesc = dbDesc(&c)
	case []layers.LSReq:
		r.LSR = lsReqs(c)
	case layers.LSUpdate:
		r.LSU = lsUpdate(&c)
	case []layers.LSAheader:
		r.LSAs = lsaHeaders(c)
	}
	s.Emit(types.Type_NC_OSPFv3, r)
}
