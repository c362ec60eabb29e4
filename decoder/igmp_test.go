package decoder

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("IGMP", protocolTest{
		cases: igmpCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeIGMP, rec: types.Type_NC_IGMP, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(2), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					{0x16, 0, 0, 0, 239, 1, 2, 3},                                   // v2 report
					{0x11, 100, 0, 0, 0, 0, 0, 0},                                   // v2 general query
					{0x11, 0x8a, 0, 0, 239, 1, 2, 3, 0x0a, 0x90, 0, 1, 10, 0, 0, 9}, // v3 query, one source
					{0x22, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 1, 239, 1, 1, 1, 10, 0, 0, 1,
						4, 1, 0, 0, 239, 2, 2, 2, 0xaa, 0xbb, 0xcc, 0xdd}, // v3 report, two records
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_IGMP, protos: []string{"igmp"},
				fields: []tsField{
					{ours: "Version", tshark: "igmp.version", want: tsNum("igmp.version")},
					{ours: "Type", tshark: "igmp.type", want: tsNum("igmp.type")},
					{ours: "MaxResponseTime", tshark: "igmp.max_resp (tenths of a second) in ns", want: tsScaled("igmp.max_resp", 100_000_000)},
					{ours: "Checksum", tshark: "igmp.checksum", want: tsNum("igmp.checksum")},
					{ours: "GroupAddress", tshark: "igmp.maddr (none in a v3 report)", want: igmpTop("", tsText("igmp.maddr"))},
					{ours: "SupressRouterProcessing", tshark: "igmp.s", want: tsNum("igmp.s")},
					{ours: "RobustnessValue", tshark: "igmp.qrv", want: tsNum("igmp.qrv")},
					{ours: "IntervalTime", tshark: "igmp.qqic (seconds) in ns", want: tsScaled("igmp.qqic", 1_000_000_000)},
					{ours: "NumberOfSources", tshark: "igmp.num_src of a query", want: igmpTop("0", tsNum("igmp.num_src"))},
					{ours: "SourceAddresses", tshark: "igmp.saddr of a query", want: igmpTop("", tsAll("igmp.saddr", same))},
					{ours: "NumberOfGroupRecords", tshark: "igmp.num_grp_recs", want: tsNum("igmp.num_grp_recs")},
					{ours: "GroupRecords.Type", tshark: "igmp.record_type", want: tsList("igmp.record_type", childNum("igmp.record_type"))},
					{ours: "GroupRecords.AuxDataLen", tshark: "igmp.aux_data_len", want: tsList("igmp.record_type", childNum("igmp.aux_data_len"))},
					{ours: "GroupRecords.NumberOfSources", tshark: "igmp.num_src of each record", want: tsList("igmp.record_type", childNum("igmp.num_src"))},
					{ours: "GroupRecords.MulticastAddress", tshark: "igmp.maddr of each record", want: tsList("igmp.record_type", childText("igmp.maddr"))},
					{ours: "GroupRecords.SourceAddresses", tshark: "igmp.saddr of each record", want: tsList("igmp.record_type", childAll("igmp.saddr"))},
				},
			},
		},
	})
}

func FuzzIGMP(f *testing.F) { fuzzLayer(f, "IGMP") }

// tsScaled is a number tshark shows in other units, times f.
func tsScaled(name string, f int64) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		v, ok := p.field(name).num()
		return strconv.FormatInt(v*f, 10), ok
	}
}

func igmpTop(report string, w tsWant) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		if igmpV3Report(p) {
			return report, true
		}
		return w(k, p)
	}
}

// igmpV3Report: fields of the v3 report's group records share names with
// the query's (igmp.maddr, igmp.num_src).
func igmpV3Report(p *tsNode) bool {
	v, ok := p.field("igmp.type").num()
	return ok && v == 0x22
}

// childText renders the holder's child called name, or "" without one.
func childText(name string) func(*tsNode) string {
	return func(h *tsNode) string {
		if c := h.child(name); c != nil {
			return c.show
		}
		return ""
	}
}

// childAll joins the holder's children called name with ";".
func childAll(name string) func(*tsNode) string {
	return func(h *tsNode) string {
		var parts []string
		for _, c := range h.kids {
			if c.name == name && !c.proto {
				parts = append(parts, c.show)
			}
		}
		return strings.Join(parts, ";")
	}
}

// igmpCases are packets of IGMP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var igmpCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 IGMPv2 42 Membership Report group 239.1.2.3
	{name: "Membership Report group 239.1.2.3", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 001c1234000040027c70c0000201c633 640716000000ef010203",
		want: map[string]string{"Checksum": "0", "GroupAddress": "239.1.2.3", "MaxResponseTime": "0", "Type": "22", "Version": "2"}},
	// tshark: 192.0.2.1 → 198.51.100.7 IGMPv2 42 Membership Query, general
	{name: "Membership Query, general", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 001c1234000040027c70c0000201c633 64071164000000000000",
		want: map[string]string{"Checksum": "0", "GroupAddress": "0.0.0.0", "MaxResponseTime": "10000000000", "Type": "17", "Version": "2"}},
}
