package decoder

// The tshark oracle entry of the PPPControl record (registered in
// pppcontrol_test.go).

import (
	"strconv"

	"github.com/netcap/netcap/types"
)

var pppControlOracle = []tsRecord{{
	typ: types.Type_NC_PPPControl, protos: []string{"lcp", "ipcp", "ipv6cp", "ccp", "pap", "chap"},
	fields: []tsField{
		{ours: "Protocol", tshark: "the protocol tshark dissects (lcp 0xc021, ipcp 0x8021, ...)", want: pppControlProtocol},
		{ours: "Code", tshark: "ppp.code / pap.code / chap.code", want: tsFirstNum("ppp.code", "pap.code", "chap.code")},
		{ours: "Identifier", tshark: "ppp.identifier / pap.identifier / chap.identifier",
			want: tsFirstNum("ppp.identifier", "pap.identifier", "chap.identifier")},
		{ours: "Length", tshark: "ppp.length / pap.length / chap.length", want: tsFirstNum("ppp.length", "pap.length", "chap.length")},
	},
	skip: map[string]string{
		"OptionTypes": "tshark shows options it does not know as text without a type field; checked in TestPPPControl",
	},
}}

func init() {
	for _, p := range []string{"lcp", "ipcp", "ipv6cp", "ccp", "pap", "chap"} {
		ourProtocols[p] = true
	}
	// gopacket maps EtherType 0x880b to PPP; tshark has no dissector for
	// PPP right after an Ethernet header and shows the bytes as data
	// (tcpdump's ppp_ccp_config_deflate_option_asan.pcap).
	knownDifferences = append(knownDifferences, knownDiff{
		key: "PPPControl (extra)", when: tsEthernetThenData,
		why: "PPP in Ethernet (EtherType 0x880b), which tshark shows as data",
	})
	knownUsed = append(knownUsed, 0) // sized before init functions run
}

// tsEthernetThenData: tshark decoded an Ethernet header and nothing after
// it but raw data.
func tsEthernetThenData(k *tsPacket) bool {
	eth := false
	for _, p := range k.protos {
		switch p.name {
		case "eth":
			eth = true
		case "geninfo", "frame", "data", "fake-field-wrapper", "_ws.malformed":
		default:
			return false
		}
	}
	return eth
}

func pppControlProtocol(_ *tsPacket, p *tsNode) (string, bool) {
	n, ok := map[string]int{"lcp": 0xc021, "ipcp": 0x8021, "ipv6cp": 0x8057, "ccp": 0x80fd, "pap": 0xc023, "chap": 0xc223}[p.name]
	return strconv.Itoa(n), ok
}
