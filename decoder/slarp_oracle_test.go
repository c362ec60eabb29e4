package decoder

// The tshark oracle entry of the SLARP record (registered in slarp_test.go).

import "github.com/netcap/netcap/types"

func init() { ourProtocols["slarp"] = true }

var slarpOracle = []tsRecord{{
	typ: types.Type_NC_SLARP, protos: []string{"slarp"},
	fields: []tsField{
		{ours: "PacketType", tshark: "slarp.ptype", want: tsNum("slarp.ptype")},
		{ours: "Address", tshark: "slarp.address", want: tsText("slarp.address")},
		{ours: "Netmask", tshark: "slarp.netmask", want: tsText("slarp.netmask")},
		{ours: "MySequence", tshark: "slarp.mysequence", want: tsNum("slarp.mysequence")},
		{ours: "YourSequence", tshark: "slarp.yoursequence", want: tsNum("slarp.yoursequence")},
		{ours: "Reliability", tshark: "slarp.reliability", want: tsNum("slarp.reliability")},
	},
}}
