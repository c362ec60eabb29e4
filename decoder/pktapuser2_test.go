package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestPKTAPUser2 decodes PKTAP frames of link type 149 (USER2), as early
// macOS wrote them, built here; tcpdump and tshark read them as PKTAP too.
func TestPKTAPUser2(t *testing.T) {
	runFrameCases(t, linkTypeUser2PKTAP, []frameCase{
		{"Ethernet IPv4 DNS", cat(pktapHeader(pktapMinHeader, layers.LinkTypeEthernet), pktapDNSFrame()),
			Decoded, "", "192.0.2.1", types.Type_NC_DNS, "user_dlt:pktap:pcap_pktdata:eth:ethertype:ip:udp:dns"},
		// a header whose length field says 0, below the 108 of version 1
		{"header length 0", cat(pktapHeader(0, layers.LinkTypeEthernet), pktapDNSFrame())[:34], Failed, "PKTAP header cut short", "", 0, ""},
		{"USER2 PKTAP inside PKTAP", cat(pktapHeader(pktapMinHeader, linkTypeUser2PKTAP), []byte{pktapMinHeader, 0, 0, 0}), Unknown, "", "", 0, ""},
	})
}
