package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("ICMPv6", protocolTest{
		cases: icmpv6Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeICMPv6, rec: types.Type_NC_ICMPv6, link: layers.LinkTypeIPv6,
			below: []gopacket.LayerType{layers.LayerTypeIPv6}, max: fuzzMax,
			wrap: func(b []byte) []byte { return cat(ipv6Header(58, len(b)), b) },
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)},
						&layers.ICMPv6Echo{Identifier: 9, SeqNumber: 1}, gopacket.Payload("ping")),
					serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)},
						&layers.ICMPv6NeighborSolicitation{TargetAddress: ip6B,
							Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: macA}}}),
					serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)},
						&layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: ip6A,
							Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: macB}}}),
					serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterSolicitation, 0)},
						&layers.ICMPv6RouterSolicitation{}),
					serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterAdvertisement, 0)},
						&layers.ICMPv6RouterAdvertisement{HopLimit: 64, RouterLifetime: 1800,
							Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptMTU, Data: []byte{0, 0, 0, 0, 5, 0xdc}}}}),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv6, protos: []string{"icmpv6"},
				fields: []tsField{
					{ours: "TypeCode", tshark: "icmpv6.type<<8 | icmpv6.code", want: typeCode("icmpv6.type", "icmpv6.code")},
					{ours: "Checksum", tshark: "icmpv6.checksum", want: tsNum("icmpv6.checksum")},
				},
			},
		},
	})
	addProtocolTest("ICMPv6Echo", protocolTest{
		cases:    icmpv6EchoCases,
		fuzzedBy: "ICMPv6",
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv6Echo, protos: []string{"icmpv6"}, keep: icmpv6Type(128, 129),
				fields: []tsField{
					{ours: "Identifier", tshark: "icmpv6.echo.identifier", want: tsNum("icmpv6.echo.identifier")},
					{ours: "SeqNumber", tshark: "icmpv6.echo.sequence_number", want: tsNum("icmpv6.echo.sequence_number")},
				},
			},
		},
	})
	addProtocolTest("ICMPv6NeighborAdvertisement", protocolTest{
		cases:    icmpv6NeighborAdvertisementCases,
		fuzzedBy: "ICMPv6",
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv6NeighborAdvertisement, protos: []string{"icmpv6"}, keep: icmpv6Type(136),
				fields: append([]tsField{
					{ours: "Flags", tshark: "icmpv6.nd.na.flag (top byte)", want: func(_ *tsPacket, p *tsNode) (string, bool) {
						v, ok := p.field("icmpv6.nd.na.flag").rawUint()
						return strconv.FormatUint(v>>24, 10), ok
					}},
					{ours: "TargetAddress", tshark: "icmpv6.nd.na.target_address", want: tsText("icmpv6.nd.na.target_address")},
				}, ndOptions()...),
			},
		},
	})
	addProtocolTest("ICMPv6NeighborSolicitation", protocolTest{
		cases:    icmpv6NeighborSolicitationCases,
		fuzzedBy: "ICMPv6",
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv6NeighborSolicitation, protos: []string{"icmpv6"}, keep: icmpv6Type(135),
				fields: append([]tsField{
					{ours: "TargetAddress", tshark: "icmpv6.nd.ns.target_address", want: tsText("icmpv6.nd.ns.target_address")},
				}, ndOptions()...),
			},
		},
	})
	addProtocolTest("ICMPv6RouterAdvertisement", protocolTest{
		cases:    icmpv6RouterAdvertisementCases,
		fuzzedBy: "ICMPv6",
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv6RouterAdvertisement, protos: []string{"icmpv6"}, keep: icmpv6Type(134),
				fields: append([]tsField{
					{ours: "HopLimit", tshark: "icmpv6.nd.ra.cur_hop_limit", want: tsNum("icmpv6.nd.ra.cur_hop_limit")},
					{ours: "Flags", tshark: "icmpv6.nd.ra.flag", want: tsRawUint("icmpv6.nd.ra.flag")},
					{ours: "RouterLifetime", tshark: "icmpv6.nd.ra.router_lifetime", want: tsNum("icmpv6.nd.ra.router_lifetime")},
					{ours: "ReachableTime", tshark: "icmpv6.nd.ra.reachable_time", want: tsNum("icmpv6.nd.ra.reachable_time")},
					{ours: "RetransTimer", tshark: "icmpv6.nd.ra.retrans_timer", want: tsNum("icmpv6.nd.ra.retrans_timer")},
				}, ndOptions()...),
			},
		},
	})
	addProtocolTest("ICMPv6RouterSolicitation", protocolTest{
		cases:    icmpv6RouterSolicitationCases,
		fuzzedBy: "ICMPv6",
		oracle: []tsRecord{
			{
				typ: types.Type_NC_ICMPv6RouterSolicitation, protos: []string{"icmpv6"}, keep: icmpv6Type(133),
				fields: ndOptions(),
			},
		},
	})
}

func FuzzICMPv6(f *testing.F) { fuzzLayer(f, "ICMPv6") }

func icmpv6Type(types ...int64) func(*tsNode) bool {
	return func(p *tsNode) bool {
		t, _ := p.field("icmpv6.type").num()
		for _, x := range types {
			if t == x {
				return true
			}
		}
		return false
	}
}

// ndOptions are the compared fields of neighbor discovery options.
func ndOptions() []tsField {
	return []tsField{
		{ours: "Options.Type", tshark: "icmpv6.opt.type", want: tsList("icmpv6.opt.type", childNum("icmpv6.opt.type"))},
		{ours: "Options.Data", tshark: "icmpv6.opt bytes after type and length", want: tsList("icmpv6.opt.type", rawFrom(2))},
	}
}

// icmpv6Cases are packets of ICMPv6 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv6Cases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 52 Echo (ping) request id=0x0009, seq=1, hop limit=64
	{name: "Echo (ping) request id=0x0009, seq=1, hop limit=64", link: layers.LinkTypeIPv6,
		hex:  "60000000000c3a4020010db800000000 000000000000000120010db800000000 00000000000000028000000000090001 70696e67",
		want: map[string]string{"Checksum": "0", "TypeCode": "32768"}},
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 72 Neighbor Solicitation for 2001:db8::2 from 02:00:00:00:00:01
	{name: "Neighbor Solicitation for 2001:db8::2 from 02:00:00:00:00:01", link: layers.LinkTypeIPv6,
		hex:  "6000000000203a4020010db800000000 000000000000000120010db800000000 00000000000000028700000000000000 20010db8000000000000000000000002 0101020000000001",
		want: map[string]string{"Checksum": "0", "TypeCode": "34560"}},
}

// icmpv6EchoCases are packets of ICMPv6Echo built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv6EchoCases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 52 Echo (ping) request id=0x0009, seq=1, hop limit=64
	{name: "Echo (ping) request id=0x0009, seq=1, hop limit=64", link: layers.LinkTypeIPv6,
		hex:  "60000000000c3a4020010db800000000 000000000000000120010db800000000 00000000000000028000000000090001 70696e67",
		want: map[string]string{"Identifier": "9", "SeqNumber": "1"}},
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 56 Echo (ping) request id=0x0001, seq=1, hop limit=64
	{name: "Echo (ping) request id=0x0001, seq=1, hop limit=64", link: layers.LinkTypeIPv6,
		hex:  "6000000000102c4020010db800000000 000000000000000120010db800000000 00000000000000023a00000000000003 8000000000010001",
		want: map[string]string{"Identifier": "1", "SeqNumber": "1"}},
}

// icmpv6NeighborAdvertisementCases are packets of ICMPv6NeighborAdvertisement built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv6NeighborAdvertisementCases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 72 Neighbor Advertisement 2001:db8::1 (sol, ovr) is at 02:00:00:00:00:02
	{name: "Neighbor Advertisement 2001:db8::1 (sol, ovr) is at 02:00...", link: layers.LinkTypeIPv6,
		hex:  "6000000000203a4020010db800000000 000000000000000120010db800000000 00000000000000028800000060000000 20010db8000000000000000000000001 0201020000000002",
		want: map[string]string{"Flags": "96", "Options.Data": "020000000002", "Options.Type": "2", "TargetAddress": "2001:db8::1"}},
}

// icmpv6NeighborSolicitationCases are packets of ICMPv6NeighborSolicitation built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv6NeighborSolicitationCases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 72 Neighbor Solicitation for 2001:db8::2 from 02:00:00:00:00:01
	{name: "Neighbor Solicitation for 2001:db8::2 from 02:00:00:00:00:01", link: layers.LinkTypeIPv6,
		hex:  "6000000000203a4020010db800000000 000000000000000120010db800000000 00000000000000028700000000000000 20010db8000000000000000000000002 0101020000000001",
		want: map[string]string{"Options.Data": "020000000001", "Options.Type": "1", "TargetAddress": "2001:db8::2"}},
}

// icmpv6RouterAdvertisementCases are packets of ICMPv6RouterAdvertisement built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv6RouterAdvertisementCases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 64 Router Advertisement
	{name: "Router Advertisement", link: layers.LinkTypeIPv6,
		hex:  "6000000000183a4020010db800000000 000000000000000120010db800000000 00000000000000028600000040000708 000000000000000005010000000005dc",
		want: map[string]string{"Flags": "0", "HopLimit": "64", "ReachableTime": "0", "RetransTimer": "0", "RouterLifetime": "1800"}},
}

// icmpv6RouterSolicitationCases are packets of ICMPv6RouterSolicitation built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var icmpv6RouterSolicitationCases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 48 Router Solicitation
	{name: "Router Solicitation", link: layers.LinkTypeIPv6,
		hex:  "6000000000083a4020010db800000000 000000000000000120010db800000000 00000000000000028500000000000000",
		want: map[string]string{"Options.Type": ""}},
}
