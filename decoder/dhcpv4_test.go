package decoder

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("DHCPv4", protocolTest{
		cases: dhcpv4Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeDHCPv4, rec: types.Type_NC_DHCPv4, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(68, 67), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{serialize(&layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet,
					HardwareLen: 6, Xid: 0xdeadbeef, ClientHWAddr: macA, ServerName: []byte("srv"),
					Options: layers.DHCPOptions{
						layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)}),
						layers.NewDHCPOption(layers.DHCPOptHostname, []byte("h\xc3")),
						layers.NewDHCPOption(layers.DHCPOptEnd, nil),
					}})}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_DHCPv4, protos: []string{"dhcp"},
				fields: []tsField{
					{ours: "Operation", tshark: "dhcp.type", want: tsNum("dhcp.type")},
					{ours: "HardwareType", tshark: "dhcp.hw.type", want: tsNum("dhcp.hw.type")},
					{ours: "HardwareLen", tshark: "dhcp.hw.len", want: tsNum("dhcp.hw.len")},
					{ours: "HardwareOpts", tshark: "dhcp.hops", want: tsNum("dhcp.hops")},
					{ours: "Xid", tshark: "dhcp.id", want: tsNum("dhcp.id")},
					// tshark byte-swaps secs when it guesses the client wrote it
					// little-endian (expert info dhcp.secs_le); the wire value is
					// its bytes.
					{ours: "Secs", tshark: "dhcp.secs (bytes, big-endian)", want: tsRawUint("dhcp.secs")},
					{ours: "Flags", tshark: "dhcp.flags", want: tsNum("dhcp.flags")},
					{ours: "ClientIP", tshark: "dhcp.ip.client", want: tsText("dhcp.ip.client")},
					{ours: "YourClientIP", tshark: "dhcp.ip.your", want: tsText("dhcp.ip.your")},
					{ours: "NextServerIP", tshark: "dhcp.ip.server", want: tsText("dhcp.ip.server")},
					{ours: "RelayAgentIP", tshark: "dhcp.ip.relay", want: tsText("dhcp.ip.relay")},
					{ours: "ClientHWAddr", tshark: "dhcp.hw.mac_addr / dhcp.hw.addr", want: tsText("dhcp.hw.mac_addr", "dhcp.hw.addr")},
					{ours: "ServerName", tshark: "dhcp.server (bytes)", want: tsRawHex("dhcp.server")},
					{ours: "File", tshark: "dhcp.file (bytes)", want: tsRawHex("dhcp.file")},
					{ours: "Options.Type", tshark: "dhcp.option.type (byte; End excluded)", want: dhcpOptions(rawByte(0))},
					{ours: "Options.Length", tshark: "dhcp.option.length", want: dhcpOptions(func(h *tsNode) string {
						if b, ok := h.rawBytes(); ok && len(b) == 1 {
							return "0" // Pad
						}
						return rawByte(1)(h)
					})},
					{ours: "Options.Data", tshark: "option bytes after type and length", want: dhcpOptions(rawFrom(2))},
				},
			},
		},
	})
}

func FuzzDHCPv4(f *testing.F) { fuzzLayer(f, "DHCPv4") }

// dhcpOptions are the top-level DHCP options but End, which gopacket ends
// the list with rather than keeping as an option.
func dhcpOptions(val func(*tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		var parts []string
		for _, k := range p.kids {
			if k.proto || k.name != "dhcp.option.type" {
				continue
			}
			if b, ok := k.rawBytes(); ok && len(b) > 0 && b[0] == 255 {
				continue
			}
			parts = append(parts, val(k))
		}
		return strings.Join(parts, ","), true
	}
}

// dhcpv4Cases are packets of DHCPv4 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var dhcpv4Cases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 DHCP 292 DHCP Discover - Transaction ID 0xdeadbeef
	{name: "DHCP Discover - Transaction ID 0xdeadbeef", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 01161234000040117b67c0000201c633 6407004400430102000001010600dead beef0000000000000000000000000000 00000000000002000000000100000000 00000000000073727600000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 000000000000638253633501010c0268 c3ff00ff",
		want: map[string]string{"HardwareLen": "6", "HardwareOpts": "0", "HardwareType": "1", "Operation": "1", "Xid": "3735928559"}},
}
