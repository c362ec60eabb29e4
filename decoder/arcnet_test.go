package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestARCNET decodes Linux ARCNET frames (link type 129) of tcpdump's
// arcnet-rfc1051-arp-icmp-http.pcap, arcnet-rfc1201-arp-icmp-http.pcap and
// heapoverflow-atalk_2.pcap.
func TestARCNET(t *testing.T) {
	runFrameCases(t, layers.LinkTypeARCNetLinux, []frameCase{
		// 1 0.000000 0xbe → 0x00 ARP 23 Who has 10.80.131.254? Tell 10.80.131.1 (RFC 1051)
		{"RFC 1051 ARP", "be00ed08f1000708000104000 1be0a508301000a5083fe", Decoded, "", "", types.Type_NC_ARP},
		// 1 0.000000 0xbe → 0x00 ARP 26 Who has 10.80.131.254? Tell 10.80.131.1 (RFC 1201)
		{"RFC 1201 ARP", "be00ea08d50001650007080001040001be0a508301000a5083fe", Decoded, "", "", types.Type_NC_ARP},
		// 3 0.001396 10.80.131.1 → 10.80.131.254 ICMP 92 Echo (ping) request id=0xe800, seq=0/0, ttl=64
		{"RFC 1201 IPv4 ICMP", "be50a8e7d4000166450000540000400040011f0a0a5083010a5083fe0800925ee8000000681f6ed9000cbb9808090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
			Decoded, "", "10.80.131.1", types.Type_NC_ICMPv4},
		// 1 0.000000 0x30 → 0x30 DDP (AppleTalk: no record in netcap)
		{"AppleTalk", "30303030dd30303030303030", Unknown, "ARCNET protocol 0xdd", "", 0},
		{"RFC 1201 cut in its sequence", "be00ea08d500", Failed, "ARCNET header cut short", "", 0},
	})
}
