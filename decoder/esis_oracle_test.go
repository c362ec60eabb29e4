package decoder

// The tshark oracle entry of the ESIS record (registered in esis_test.go).

import (
	"strings"

	"github.com/netcap/netcap/types"
)

func init() { ourProtocols["esis"] = true }

var esisOracle = tsRecord{
	typ: types.Type_NC_ESIS, protos: []string{"esis"},
	fields: []tsField{
		{ours: "HeaderLength", tshark: "esis.length", want: tsNum("esis.length")},
		{ours: "Version", tshark: "esis.ver", want: tsNum("esis.ver")},
		{ours: "PDUType", tshark: "esis.type", want: tsNum("esis.type")},
		{ours: "HoldingTime", tshark: "esis.htime", want: tsNum("esis.htime")},
		{ours: "Checksum", tshark: "esis.chksum", want: tsNum("esis.chksum")},
		{ours: "SourceAddresses", tshark: "esis.sa, every one, as hex", want: esisAddrs("esis.sa")},
		{ours: "NetworkEntityTitle", tshark: "esis.net as hex", want: esisAddr("esis.net")},
		{ours: "DestinationAddress", tshark: "esis.da as hex", want: esisAddr("esis.da")},
		{ours: "SubnetworkAddress", tshark: "esis.bsnpa as hex", want: esisAddr("esis.bsnpa")},
	},
	skip: map[string]string{
		"OptionTypes": "tshark shows the options only as text of the tree; checked on the cases in esis_test.go",
	},
}

// tsESISAddr turns tshark's address text into plain hex: tshark groups NSAPs
// and system IDs with dots (02.0400, 00000000.) and writes an address of no
// bytes as "<Invalid length of NSAP>" (or of SYSTEM ID), which is empty here.
func tsESISAddr(s string) string {
	if strings.HasPrefix(s, "<") {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(s, ".", ""))
}

func esisAddr(name string) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		v, ok := tsText(name)(k, p)
		return tsESISAddr(v), ok
	}
}

// esisAddrs joins every field called name; the empty list when there is
// none. Not compared in malformed packets, where tshark stops listing.
func esisAddrs(name string) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		if k.malformed {
			return "", false
		}
		var parts []string
		p.walk(func(f *tsNode) bool {
			if f.name == name && !f.proto {
				parts = append(parts, tsESISAddr(f.show))
			}
			return true
		})
		return strings.Join(parts, ","), true
	}
}
