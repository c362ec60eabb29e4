package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("IPv6Fragment", protocolTest{
		cases: ipv6FragmentCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeIPv6Fragment, rec: types.Type_NC_IPv6Fragment, link: layers.LinkTypeIPv6,
			below: []gopacket.LayerType{layers.LayerTypeIPv6},
			wrap:  func(b []byte) []byte { return cat(ipv6Header(44, len(b)), b) }, max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					cat([]byte{17, 0, 0, 1, 0, 0, 0, 9}, udpHeader(5000, 53, 8), []byte("fragment")), // first of two
					cat([]byte{17, 0, 0, 16, 0, 0, 0, 9}, []byte("the rest")),                        // the last one
					cat([]byte{58, 0, 0, 0, 0, 0, 0, 3}, []byte{128, 0, 0, 0, 0, 1, 0, 1}),           // atomic: ICMPv6 echo
				}
			},
		},
		oracle: []tsRecord{
			{
				// the fragment header of an IPv6 packet, which tshark shows
				// inside the ipv6 protocol
				typ: types.Type_NC_IPv6Fragment, protos: []string{"ipv6"}, keep: func(p *tsNode) bool { return ipv6FragHeader(p) != nil },
				fields: []tsField{
					{ours: "NextHeader", tshark: "ipv6.fraghdr.nxt", want: fragNum("ipv6.fraghdr.nxt")},
					{ours: "Reserved1", tshark: "ipv6.fraghdr.reserved_octet", want: fragNum("ipv6.fraghdr.reserved_octet")},
					{ours: "FragmentOffset", tshark: "ipv6.fraghdr.offset (8-byte units)", want: fragNum("ipv6.fraghdr.offset")},
					{ours: "Reserved2", tshark: "ipv6.fraghdr.reserved_bits", want: fragNum("ipv6.fraghdr.reserved_bits")},
					{ours: "MoreFragments", tshark: "ipv6.fraghdr.more", want: fragNum("ipv6.fraghdr.more")},
					{ours: "Identification", tshark: "ipv6.fraghdr.ident", want: fragNum("ipv6.fraghdr.ident")},
				},
			},
		},
	})
}

func FuzzIPv6Fragment(f *testing.F) { fuzzLayer(f, "IPv6Fragment") }

// fragNum is a number of the IPv6 fragment header.
func fragNum(name string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		v, ok := ipv6FragHeader(p).child(name).num()
		return strconv.FormatInt(v, 10), ok
	}
}

// ipv6FragHeader is the fragment header tshark shows inside an ipv6
// protocol, nil if it has none.
func ipv6FragHeader(p *tsNode) *tsNode {
	for _, k := range p.kids {
		if k.proto && k.name == "ipv6.fraghdr" {
			return k
		}
	}
	return nil
}

// ipv6FragmentCases are packets of IPv6Fragment built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ipv6FragmentCases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 IPv6 56 IPv6 fragment (off=16 more=n ident=0x00000009 nxt=17)
	{name: "IPv6 fragment (off=16 more=n ident=0x00000009 nxt=17)", link: layers.LinkTypeIPv6,
		hex:  "6000000000102c4020010db800000000 000000000000000120010db800000000 00000000000000021100001000000009 7468652072657374",
		want: map[string]string{"FragmentOffset": "2", "MoreFragments": "0", "NextHeader": "17", "Reserved1": "0", "Reserved2": "0"}},
	// tshark: 2001:db8::1 → 2001:db8::2 ICMPv6 56 Echo (ping) request id=0x0001, seq=1, hop limit=64
	{name: "Echo (ping) request id=0x0001, seq=1, hop limit=64", link: layers.LinkTypeIPv6,
		hex:  "6000000000102c4020010db800000000 000000000000000120010db800000000 00000000000000023a00000000000003 8000000000010001",
		want: map[string]string{"FragmentOffset": "0", "MoreFragments": "0", "NextHeader": "58", "Reserved1": "0", "Reserved2": "0"}},
}
