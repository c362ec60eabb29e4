package decoder

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("DHCPv6", protocolTest{
		cases: dhcpv6Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeDHCPv6, rec: types.Type_NC_DHCPv6, link: layers.LinkTypeIPv6,
			below: []gopacket.LayerType{layers.LayerTypeIPv6, layers.LayerTypeUDP}, max: fuzzMax,
			wrap: func(b []byte) []byte { return cat(ipv6Header(17, 8+len(b)), udpHeader(546, 547, len(b)), b) },
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.DHCPv6{MsgType: layers.DHCPv6MsgTypeSolicit, TransactionID: []byte{1, 2, 3},
						Options: layers.DHCPv6Options{layers.NewDHCPv6Option(layers.DHCPv6OptClientID, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1})}}),
					serialize(&layers.DHCPv6{MsgType: layers.DHCPv6MsgTypeRelayForward, HopCount: 1, LinkAddr: ip6A, PeerAddr: ip6B,
						Options: layers.DHCPv6Options{layers.NewDHCPv6Option(layers.DHCPv6OptRelayMessage, []byte{1, 0, 0, 1})}}),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_DHCPv6, protos: []string{"dhcpv6"},
				fields: []tsField{
					{ours: "MsgType", tshark: "dhcpv6.msgtype", want: tsNum("dhcpv6.msgtype")},
					{ours: "HopCount", tshark: "dhcpv6.hopcount", want: tsNum("dhcpv6.hopcount")},
					{ours: "LinkAddr", tshark: "dhcpv6.linkaddr", want: tsText("dhcpv6.linkaddr")},
					{ours: "PeerAddr", tshark: "dhcpv6.peeraddr", want: tsText("dhcpv6.peeraddr")},
					{ours: "TransactionID", tshark: "dhcpv6.xid (bytes)", want: tsRawHex("dhcpv6.xid")},
					{ours: "Options.Code", tshark: "dhcpv6.option.type", want: dhcpv6Options(rawUint16At(0))},
					{ours: "Options.Length", tshark: "dhcpv6.option.length", want: dhcpv6Options(rawUint16At(2))},
					{ours: "Options.Data", tshark: "option bytes after code and length", want: dhcpv6Options(rawFrom(4))},
				},
			},
		},
	})
}

func FuzzDHCPv6(f *testing.F) { fuzzLayer(f, "DHCPv6") }

// dhcpv6Options are the options directly in the message (not those inside
// a relayed message).
func dhcpv6Options(val func(*tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		var parts []string
		for _, k := range p.kids {
			if !k.proto && k.name == "dhcpv6.option.type_str" {
				parts = append(parts, val(k))
			}
		}
		return strings.Join(parts, ","), true
	}
}

func rawUint16At(i int) func(*tsNode) string {
	return func(h *tsNode) string {
		b, ok := h.rawBytes()
		if !ok || len(b) < i+2 {
			return "?"
		}
		return strconv.Itoa(int(b[i])<<8 | int(b[i+1]))
	}
}

// dhcpv6Cases are packets of DHCPv6 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var dhcpv6Cases = []packetCase{
	// tshark: 2001:db8::1 → 2001:db8::2 DHCPv6 66 Solicit XID: 0x010203 CID: 00030001020000000001
	{name: "Solicit XID: 0x010203 CID: 00030001020000000001", link: layers.LinkTypeIPv6,
		hex:  "60000000001a114020010db800000000 000000000000000120010db800000000 000000000000000202220223001a0000 010102030001000a0003000102000000 0001",
		want: map[string]string{"MsgType": "1", "Options.Code": "1", "Options.Data": "00030001020000000001", "Options.Length": "10", "TransactionID": "010203"}},
	// tshark: 2001:db8::1 → 2001:db8::2 DHCPv6 90 Relay-forw L: 2001:db8::1 Solicit XID: 0x000001
	{name: "Relay-forw L: 2001:db8::1 Solicit XID: 0x000001", link: layers.LinkTypeIPv6,
		hex:  "600000000032114020010db800000000 000000000000000120010db800000000 00000000000000020222022300320000 0c0120010db800000000000000000000 000120010db800000000000000000000 00020009000401000001",
		want: map[string]string{"HopCount": "1", "LinkAddr": "2001:db8::1", "MsgType": "12", "Options.Code": "9", "PeerAddr": "2001:db8::2"}},
}
