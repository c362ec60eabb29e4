package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("VRRPv2", protocolTest{
		cases: vrrpv2Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeVRRP, rec: types.Type_NC_VRRPv2, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(112), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{{0x21, 42, 100, 2, 0, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_VRRPv2, protos: []string{"vrrp"},
				keep: func(p *tsNode) bool { v, _ := p.field("vrrp.version").num(); return v == 2 },
				fields: []tsField{
					{ours: "Version", tshark: "vrrp.version", want: tsNum("vrrp.version")},
					{ours: "Type", tshark: "vrrp.type", want: tsNum("vrrp.type")},
					{ours: "VirtualRtrID", tshark: "vrrp.virt_rtr_id", want: tsNum("vrrp.virt_rtr_id")},
					{ours: "Priority", tshark: "vrrp.prio", want: tsNum("vrrp.prio")},
					{ours: "CountIPAddr", tshark: "vrrp.addr_count", want: tsNum("vrrp.addr_count")},
					{ours: "AuthType", tshark: "vrrp.auth_type", want: tsNum("vrrp.auth_type")},
					{ours: "AdverInt", tshark: "vrrp.adver_int", want: tsNum("vrrp.adver_int")},
					{ours: "Checksum", tshark: "vrrp.checksum", want: tsNum("vrrp.checksum")},
					{ours: "IPAddress", tshark: "vrrp.ip_addr", want: tsAll("vrrp.ip_addr", same)},
				},
			},
		},
	})
}

func FuzzVRRPv2(f *testing.F) { fuzzLayer(f, "VRRPv2") }

// vrrpv2Cases are packets of VRRPv2 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var vrrpv2Cases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 VRRP 58 Announcement (v2)
	{name: "Announcement (v2)", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 002c1234000040707bf2c0000201c633 6407212a6402000100000a0000010a00 00020000000000000000",
		want: map[string]string{"CountIPAddr": "2", "Priority": "100", "Type": "1", "Version": "2", "VirtualRtrID": "42"}},
}
