package decoder

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("LinkLayerDiscovery", protocolTest{
		cases: linkLayerDiscoveryCases,
		// Link-layer and discovery records.
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeLinkLayerDiscovery, rec: types.Type_NC_LinkLayerDiscovery, link: layers.LinkTypeEthernet,
			below: etherLinkStack, wrap: overEthernet(0x88cc), max: fuzzMax,
			built: func() [][]byte { return [][]byte{lldpSeed()} },
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_LinkLayerDiscovery, protos: []string{"lldp"},
				fields: []tsField{
					{ours: "ChassisID.Subtype", tshark: "lldp.chassis.subtype", want: tsNum("lldp.chassis.subtype")},
					{ours: "ChassisID.ID", tshark: "chassis TLV bytes after the subtype", want: tlvBytes("lldp.chassis.subtype", 3)},
					{ours: "PortID.Subtype", tshark: "lldp.port.subtype", want: tsNum("lldp.port.subtype")},
					{ours: "PortID.ID", tshark: "port TLV bytes after the subtype", want: tlvBytes("lldp.port.subtype", 3)},
					{ours: "TTL", tshark: "lldp.time_to_live", want: tsNum("lldp.time_to_live")},
					{ours: "Values.Type", tshark: "lldp.tlv.type of the TLVs but chassis, port, TTL and End", want: lldpValues(childNum("lldp.tlv.type"))},
					{ours: "Values.Length", tshark: "lldp.tlv.len", want: lldpValues(childNum("lldp.tlv.len"))},
					{ours: "Values.Value", tshark: "TLV bytes after the header", want: lldpValues(rawFrom(2))},
				},
			},
			{
				typ: types.Type_NC_LinkLayerDiscoveryInfo, protos: []string{"lldp"},
				partial: "the TLVs decoded into fields; tshark names each organisation's sub-TLVs its own way, and every TLV's " +
					"bytes are compared whole in LinkLayerDiscovery.Values",
				fields: []tsField{
					{ours: "PortDescription", tshark: "lldp.port.desc", want: rawTextOr("lldp.port.desc")},
					{ours: "SysName", tshark: "lldp.tlv.system.name", want: rawTextOr("lldp.tlv.system.name")},
					{ours: "SysDescription", tshark: "lldp.tlv.system.desc", want: rawTextOr("lldp.tlv.system.desc")},
					{ours: "OrgTLVs.OUI", tshark: "lldp.orgtlv.oui", want: tsList("lldp.orgtlv.oui", childNum("lldp.orgtlv.oui"))},
				},
			},
		},
	})
}

func FuzzLinkLayerDiscovery(f *testing.F) { fuzzLayer(f, "LinkLayerDiscovery") }

// tlvBytes is the hex of the TLV that holds child, from offset i on.
func tlvBytes(child string, i int) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		hs := p.holders(child)
		if len(hs) == 0 {
			return "", false
		}
		return hs[0].hexWild(i), true
	}
}

// lldpValues lists the TLVs other than chassis, port, TTL and End, as
// gopacket keeps them.
func lldpValues(val func(*tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		var parts []string
		for _, h := range p.holders("lldp.tlv.type") {
			if t, _ := h.child("lldp.tlv.type").num(); t <= 3 {
				continue
			}
			parts = append(parts, val(h))
		}
		return strings.Join(parts, ","), true
	}
}

// linkLayerDiscoveryCases are packets of LinkLayerDiscovery built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var linkLayerDiscoveryCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 LLDP 95 MA/02:00:00:00:00:01 IN/eth0 120 SysN=switch1 SysD=a switch
	{name: "MA/02:00:00:00:00:01 IN/eth0 120 SysN=switch1 SysD=a switch", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000188cc0207 04020000000001040505657468300602 0078080675706c696e6b0a0773776974 6368310c0861207377697463680e0400 140004100c0501c00002010200000007 00fe060080c2010005120201020000",
		want: map[string]string{"ChassisID.ID": "020000000001", "ChassisID.Subtype": "4", "PortID.ID": "65746830", "PortID.Subtype": "5", "TTL": "120"}},
}

func TestLLDPInfoFields(t *testing.T) {
	recs := decodeOne(t, cat(ethHeader(0x88cc), lldpSeed()), layers.LinkTypeEthernet)
	in := one[*types.LinkLayerDiscoveryInfo](t, recs, types.Type_NC_LinkLayerDiscoveryInfo)
	// capabilities 0x0014 (bridge, router) enabled 0x0004 (bridge)
	c := in.SysCapabilities
	if c == nil || !c.SystemCap.Bridge || !c.SystemCap.Router || c.SystemCap.Other || !c.EnabledCap.Bridge || c.EnabledCap.Router {
		t.Errorf("capabilities: %v", c)
	}
	m := in.MgmtAddress
	if m == nil || m.Subtype != 1 || string(m.Address) != string(ip4A.To4()) || m.InterfaceSubtype != 2 || m.InterfaceNumber != 7 {
		t.Errorf("management address: %v", m)
	}
	if len(in.OrgTLVs) != 1 || in.OrgTLVs[0].OUI != 0x0080c2 || in.OrgTLVs[0].SubType != 1 || len(in.Unknown) != 1 || in.Unknown[0].Type != 9 {
		t.Errorf("org and unknown TLVs: %v %v", in.OrgTLVs, in.Unknown)
	}
	if in.SysName != "switch1" || in.PortDescription != "uplink" {
		t.Errorf("names: %v", in)
	}
}

// lldpSeed is an LLDPDU with the mandatory TLVs and one of each decoded
// optional TLV.
func lldpSeed() []byte {
	return cat(
		tlv7(1, cat([]byte{4}, macA)),
		tlv7(2, []byte("\x05eth0")),
		tlv7(3, []byte{0, 120}),
		tlv7(4, []byte("uplink")),
		tlv7(5, []byte("switch1")),
		tlv7(6, []byte("a switch")),
		tlv7(7, []byte{0, 0x14, 0, 0x04}),
		tlv7(8, cat([]byte{5, 1}, ip4A.To4(), []byte{2, 0, 0, 0, 7, 0})),
		tlv7(127, []byte{0x00, 0x80, 0xc2, 0x01, 0x00, 0x05}),
		tlv7(9, []byte{1, 2}), // reserved type: an unknown TLV
		tlv7(0, nil),
	)
}

// tlv7 is an LLDP TLV: 7 bits of type, 9 bits of length.
func tlv7(typ int, v []byte) []byte {
	h := uint16(typ)<<9 | uint16(len(v))
	return cat([]byte{byte(h >> 8), byte(h)}, v)
}
