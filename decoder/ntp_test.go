package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("NTP", protocolTest{
		cases: ntpCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeNTP, rec: types.Type_NC_NTP, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(123, 123), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.NTP{Version: 4, Mode: 3, Poll: 6, Precision: -20, TransmitTimestamp: 0xe0000000_80000000}),
					cat(serialize(&layers.NTP{Version: 4, Mode: 4, Stratum: 2, ReferenceID: 0x7f000001}), make([]byte, 20)),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_NTP, protos: []string{"ntp"},
				fields: []tsField{
					{ours: "LeapIndicator", tshark: "ntp.flags.li", want: tsNum("ntp.flags.li")},
					{ours: "Version", tshark: "ntp.flags.vn", want: tsNum("ntp.flags.vn")},
					{ours: "Mode", tshark: "ntp.flags.mode", want: tsNum("ntp.flags.mode")},
					{ours: "Stratum", tshark: "ntp.stratum", want: ntpTop("ntp.stratum", false)},
					{ours: "Poll", tshark: "ntp.ppoll (a signed exponent)", want: ntpTop("ntp.ppoll", true)},
					{ours: "Precision", tshark: "ntp.precision (a signed exponent)", want: ntpTop("ntp.precision", true)},
					{ours: "RootDelay", tshark: "ntp.rootdelay (raw 16.16)", want: ntpTop("ntp.rootdelay", false)},
					{ours: "RootDispersion", tshark: "ntp.rootdispersion (raw 16.16)", want: ntpTop("ntp.rootdispersion", false)},
					{ours: "ReferenceID", tshark: "ntp.refid (raw)", want: ntpTop("ntp.refid", false)},
					{ours: "ReferenceTimestamp", tshark: "ntp.reftime (raw 32.32)", want: ntpTop("ntp.reftime", false)},
					{ours: "OriginTimestamp", tshark: "ntp.org (raw 32.32)", want: ntpTop("ntp.org", false)},
					{ours: "ReceiveTimestamp", tshark: "ntp.rec (raw 32.32)", want: ntpTop("ntp.rec", false)},
					{ours: "TransmitTimestamp", tshark: "ntp.xmt (raw 32.32)", want: ntpTop("ntp.xmt", false)},
				},
				skip: map[string]string{
					"ExtensionBytes": "the bytes after the 48-byte header; tshark splits them into typed extension/MAC fields",
				},
			},
		},
	})
}

func FuzzNTP(f *testing.F) { fuzzLayer(f, "NTP") }

// ntpTop reads a field of the NTP time header from its bytes. Only fields
// directly in the ntp protocol count: control and private messages (modes 6
// and 7) have another layout, whose items reuse some of these names. tshark
// declares poll and precision unsigned but reads them as the signed
// exponents they are (0xe7 is 2^-25 s).
func ntpTop(name string, signed bool) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		v, ok := p.child(name).rawUint()
		if signed {
			return strconv.Itoa(int(int8(v))), ok
		}
		return strconv.FormatUint(v, 10), ok
	}
}

// ntpCases are packets of NTP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ntpCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 NTP 90 NTP Version 4, client
	{name: "NTP Version 4, client", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 004c1234000040117c31c0000201c633 6407007b007b00380000230006ec0000 00000000000000000000000000000000 00000000000000000000000000000000 0000e000000080000000",
		want: map[string]string{"LeapIndicator": "0", "Mode": "3", "Poll": "6", "Stratum": "0", "Version": "4"}},
	// tshark: 192.0.2.1 → 198.51.100.7 NTP 110 NTP Version 4, server
	{name: "NTP Version 4, server", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00601234000040117c1dc0000201c633 6407007b007b004c0000240200000000 0000000000007f000001000000000000 00000000000000000000000000000000 00000000000000000000000000000000 0000000000000000000000000000",
		want: map[string]string{"LeapIndicator": "0", "Mode": "4", "Poll": "0", "Stratum": "2", "Version": "4"}},
}
