package decoder

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("BFD", protocolTest{
		cases: bfdCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeBFD, rec: types.Type_NC_BFD, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(49152, 3784), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.BFD{Version: 1, State: layers.BFDStateUp, DetectMultiplier: 3, MyDiscriminator: 1,
						YourDiscriminator: 2, DesiredMinTxInterval: 1000000, RequiredMinRxInterval: 1000000}),
					serialize(&layers.BFD{Version: 1, State: layers.BFDStateInit, AuthPresent: true, DetectMultiplier: 5, MyDiscriminator: 7,
						AuthHeader: &layers.BFDAuthHeader{AuthType: layers.BFDAuthTypeKeyedMD5, KeyID: 2, SequenceNumber: 5,
							Data: layers.BFDAuthData(bytes.Repeat([]byte{0xab}, 16))}}),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_BFD, protos: []string{"bfd"},
				fields: []tsField{
					{ours: "Version", tshark: "bfd.version", want: tsNum("bfd.version")},
					{ours: "Diagnostic", tshark: "bfd.diag", want: tsNum("bfd.diag")},
					{ours: "State", tshark: "bfd.sta", want: tsNum("bfd.sta")},
					{ours: "Poll", tshark: "bfd.flags.p", want: tsNum("bfd.flags.p")},
					{ours: "Final", tshark: "bfd.flags.f", want: tsNum("bfd.flags.f")},
					{ours: "ControlPlaneIndependent", tshark: "bfd.flags.c", want: tsNum("bfd.flags.c")},
					{ours: "AuthPresent", tshark: "bfd.flags.a", want: tsNum("bfd.flags.a")},
					{ours: "Demand", tshark: "bfd.flags.d", want: tsNum("bfd.flags.d")},
					{ours: "Multipoint", tshark: "bfd.flags.m", want: tsNum("bfd.flags.m")},
					{ours: "DetectMultiplier", tshark: "bfd.detect_time_multiplier", want: tsNum("bfd.detect_time_multiplier")},
					{ours: "MyDiscriminator", tshark: "bfd.my_discriminator", want: tsNum("bfd.my_discriminator"), got: oursU32("MyDiscriminator")},
					{ours: "YourDiscriminator", tshark: "bfd.your_discriminator", want: tsNum("bfd.your_discriminator"), got: oursU32("YourDiscriminator")},
					{ours: "DesiredMinTxInterval", tshark: "bfd.desired_min_tx_interval", want: tsNum("bfd.desired_min_tx_interval"), got: oursU32("DesiredMinTxInterval")},
					{ours: "RequiredMinRxInterval", tshark: "bfd.required_min_rx_interval", want: tsNum("bfd.required_min_rx_interval"), got: oursU32("RequiredMinRxInterval")},
					{ours: "RequiredMinEchoRxInterval", tshark: "bfd.required_min_echo_interval", want: tsNum("bfd.required_min_echo_interval"), got: oursU32("RequiredMinEchoRxInterval")},
					{ours: "AuthHeader.AuthType", tshark: "bfd.auth.type", want: bfdAuth(tsNum("bfd.auth.type"))},
					{ours: "AuthHeader.KeyID", tshark: "bfd.auth.key", want: bfdAuth(tsNum("bfd.auth.key"))},
					{ours: "AuthHeader.SequenceNumber", tshark: "bfd.auth.seq_num (0 for a password)", want: bfdAuth(func(k *tsPacket, p *tsNode) (string, bool) {
						if p.field("bfd.auth.seq_num") == nil {
							return "0", true
						}
						return tsNum("bfd.auth.seq_num")(k, p)
					})},
					{ours: "AuthHeader.Data", tshark: "bfd.checksum / bfd.auth.password (bytes)", want: bfdAuth(bfdAuthData)},
				},
			},
		},
	})
}

func FuzzBFD(f *testing.F) { fuzzLayer(f, "BFD") }

// bfdAuth compares an authentication field when the packet has an
// authentication section; else our AuthHeader is absent.
func bfdAuth(w tsWant) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		if p.field("bfd.auth.type") == nil {
			return "-", true
		}
		return w(k, p)
	}
}

func bfdAuthData(k *tsPacket, p *tsNode) (string, bool) {
	for _, n := range []string{"bfd.checksum", "bfd.auth.password"} {
		if f := p.field(n); f != nil {
			b, ok := f.rawBytes()
			return hex.EncodeToString(b), ok
		}
	}
	return "", true
}

// bfdCases are packets of BFD built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var bfdCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 BFD Control 66 Diag: No Diagnostic, State: Up, Flags: 0x00
	{name: "Diag: No Diagnostic, State: Up, Flags: 0x00", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00341234000040117c49c0000201c633 6407c0000ec80020000020c003180000 000100000002000f4240000f42400000 0000",
		want: map[string]string{"Diagnostic": "0", "Final": "0", "Poll": "0", "State": "3", "Version": "1"}},
	// tshark: 192.0.2.1 → 198.51.100.7 BFD Control 90 Diag: No Diagnostic, State: Init, Flags: 0x04
	{name: "Diag: No Diagnostic, State: Init, Flags: 0x04", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 004c1234000040117c31c0000201c633 6407c0000ec800380000208405300000 00070000000000000000000000000000 00000218020000000005abababababab abababababababababab",
		want: map[string]string{"Diagnostic": "0", "Final": "0", "Poll": "0", "State": "2", "Version": "1"}},
}
