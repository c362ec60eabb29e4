package decoder

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("IPv6", protocolTest{
		cases: ipv6Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeIPv6, rec: types.Type_NC_IPv6, link: layers.LinkTypeIPv6,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat(ipv6Header(17, 12), udpHeader(546, 547, 4), []byte{1, 0, 0, 1}),
					// hop-by-hop header with a router alert option, then ICMPv6
					cat(ipv6Header(0, 16), []byte{58, 0, 5, 2, 0, 0, 1, 0}, []byte{143, 0, 0, 0, 0, 0, 0, 0}),
					cat(ipv6Header(44, 8), []byte{6, 0, 0, 8, 0, 0, 0, 1}), // a later fragment
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_IPv6, protos: []string{"ipv6"},
				fields: []tsField{
					{ours: "Version", tshark: "ipv6.version", want: tsNum("ipv6.version")},
					{ours: "TrafficClass", tshark: "ipv6.tclass", want: tsNum("ipv6.tclass")},
					{ours: "FlowLabel", tshark: "ipv6.flow", want: tsNum("ipv6.flow")},
					{ours: "Length", tshark: "ipv6.plen", want: tsNum("ipv6.plen")},
					{ours: "NextHeader", tshark: "ipv6.nxt", want: tsNum("ipv6.nxt")},
					{ours: "HopLimit", tshark: "ipv6.hlim", want: tsNum("ipv6.hlim")},
					{ours: "SrcIP", tshark: "ipv6.src", want: tsText("ipv6.src")},
					{ours: "DstIP", tshark: "ipv6.dst", want: tsText("ipv6.dst")},
					{ours: "HopByHop.Timestamp", tshark: "frame.time_epoch (when there is a hop-by-hop header)", want: func(k *tsPacket, p *tsNode) (string, bool) {
						if hopByHop(p) == nil {
							return "-", true
						}
						ns, ok := epochNanos(k.epoch)
						return strconv.FormatInt(ns, 10), ok
					}},
					{ours: "HopByHop.Options.OptionType", tshark: "ipv6.opt.type in ipv6.hopopts", want: hbhOptions(func(o *tsNode) string {
						return childNum("ipv6.opt.type")(o)
					})},
					{ours: "HopByHop.Options.OptionLength", tshark: "ipv6.opt.length in ipv6.hopopts", want: hbhOptions(func(o *tsNode) string {
						if o.child("ipv6.opt.length") == nil {
							return "0" // Pad1 has no length byte
						}
						return childNum("ipv6.opt.length")(o)
					})},
					{ours: "HopByHop.Options.ActualLength", tshark: "1 for Pad1, else ipv6.opt.length + 2", want: hbhOptions(func(o *tsNode) string {
						n, ok := hbhLen(o)
						if !ok {
							return "?"
						}
						return strconv.Itoa(n)
					})},
					{ours: "HopByHop.Options.OptionData", tshark: "ipv6.opt.length bytes after type and length", want: hbhOptions(func(o *tsNode) string {
						n, ok := hbhLen(o)
						if !ok {
							return "?"
						}
						return o.hexRange(min(2, n), n)
					})},
					{ours: "PayloadSize", tshark: "min(ipv6.plen, captured) - hop-by-hop header", want: ipv6PayloadSize},
				},
				skip: map[string]string{
					"PayloadEntropy":                   "netcap's own statistic (and 0 without -entropy)",
					"HopByHop.Options.OptionAlignment": "gopacket's alignment hint for writing options; not on the wire, never filled",
					"HopByHop.FrameNumber":             "the embedded header shares the IPv6 record's packet fields",
					"HopByHop.SrcIP":                   "the embedded header shares the IPv6 record's packet fields",
					"HopByHop.DstIP":                   "the embedded header shares the IPv6 record's packet fields",
					"HopByHop.SrcPort":                 "the embedded header shares the IPv6 record's packet fields",
					"HopByHop.DstPort":                 "the embedded header shares the IPv6 record's packet fields",
					"HopByHop.FlowID":                  "the embedded header shares the IPv6 record's packet fields",
				},
				own: map[string]bool{"SrcIP": true, "DstIP": true},
			},
			{
				// the hop-by-hop header as a record of its own (also the HopByHop
				// field of the IPv6 record): one per IPv6 header that has one
				typ: types.Type_NC_IPv6HopByHop, protos: []string{"ipv6"}, keep: func(p *tsNode) bool { return hopByHop(p) != nil },
				fields: []tsField{
					{ours: "Options.OptionType", tshark: "ipv6.opt.type in ipv6.hopopts", want: hbhOptions(childNum("ipv6.opt.type"))},
					{ours: "Options.OptionLength", tshark: "ipv6.opt.length in ipv6.hopopts", want: hbhOptions(func(o *tsNode) string {
						if o.child("ipv6.opt.length") == nil {
							return "0" // Pad1 has no length byte
						}
						return childNum("ipv6.opt.length")(o)
					})},
					{ours: "Options.ActualLength", tshark: "1 for Pad1, else ipv6.opt.length + 2", want: hbhOptions(func(o *tsNode) string {
						n, ok := hbhLen(o)
						if !ok {
							return "?"
						}
						return strconv.Itoa(n)
					})},
					{ours: "Options.OptionData", tshark: "ipv6.opt.length bytes after type and length", want: hbhOptions(func(o *tsNode) string {
						n, ok := hbhLen(o)
						if !ok {
							return "?"
						}
						return o.hexRange(min(2, n), n)
					})},
				},
				skip: map[string]string{
					"Options.OptionAlignment": "gopacket's alignment hint for writing options; not on the wire, never filled",
				},
			},
		},
	})
}

func FuzzIPv6(f *testing.F) { fuzzLayer(f, "IPv6") }

func ipv6PayloadSize(k *tsPacket, p *tsNode) (string, bool) {
	l, ok := p.field("ipv6.plen").num()
	if !ok {
		return "", false
	}
	h := hopByHop(p)
	if j, ok := h.field("ipv6.opt.jumbo").num(); ok && l == 0 && h != nil {
		l = j // a jumbogram: the length is in the hop-by-hop header
	}
	n := min(int(l), capturedAfter(k, p, p.pos+40))
	if h != nil {
		n -= h.size
	}
	return strconv.Itoa(max(n, 0)), true
}

// hbhLen is an option's size from its type and length bytes. The size
// tshark gives its Pad1 items is not reliable (it has shown 39 bytes).
func hbhLen(o *tsNode) (int, bool) {
	if t, _ := o.child("ipv6.opt.type").num(); t == 0 {
		return 1, true
	}
	l, ok := o.child("ipv6.opt.length").num()
	return int(l) + 2, ok
}

// hbhOptions lists the options of the hop-by-hop header.
func hbhOptions(val func(*tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		h := hopByHop(p)
		if h == nil {
			return "-", true
		}
		var parts []string
		for _, o := range h.holders("ipv6.opt.type") {
			parts = append(parts, val(o))
		}
		return strings.Join(parts, ","), true
	}
}

// hopByHop is the hop-by-hop header, which tshark nests in ipv6 as a
// protocol of its own.
func hopByHop(p *tsNode) *tsNode {
	for _, k := range p.kids {
		if k.proto && k.name == "ipv6.hopopts" {
			return k
		}
	}
	return nil
}

// ipv6Cases are packets of IPv6 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ipv6Cases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 DHCPv6 52 Solicit XID: 0x000001
	{name: "Solicit XID: 0x000001", link: layers.LinkTypeIPv6,
		hex:  "60000000000c114020010db800000000 000000000000000120010db800000000 000000000000000202220223000c0000 01000001",
		want: map[string]string{"FlowLabel": "0", "Length": "12", "NextHeader": "17", "TrafficClass": "0", "Version": "6"}},
	// tshark: 2001:db8::1 → 2001:db8::2 DHCPv6 66 Solicit XID: 0x010203 CID: 00030001020000000001
	{name: "Solicit XID: 0x010203 CID: 00030001020000000001", link: layers.LinkTypeIPv6,
		hex:  "60000000001a114020010db800000000 000000000000000120010db800000000 000000000000000202220223001a0000 010102030001000a0003000102000000 0001",
		want: map[string]string{"FlowLabel": "0", "Length": "26", "NextHeader": "17", "TrafficClass": "0", "Version": "6"}},
}
