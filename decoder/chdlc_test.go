package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestCHDLC decodes real Cisco HDLC frames (link type 104) from
// suricata-verify's decode-chdlc-01 and tcpdump's HDLC.pcap.
func TestCHDLC(t *testing.T) {
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		// 1 0.000000 192.168.2.7 → 65.55.116.183 TCP 52 4938 → 80 [SYN] Seq=0 Win=16384 Len=0 MSS=1460 SACK_PERM
		{"IPv4 TCP SYN", "0f00080045000030155a400080066cd0c0a8020741377 4b7134a00509c34096c00000000700240001147000002040 5b401010402",
			Decoded, "", "192.168.2.7", types.Type_NC_TCP},
		// 1 0.000000 N/A → N/A SLARP 24 Line keepalive, outgoing sequence 5, returned sequence 2
		{"SLARP keepalive", "8f0080350000000200000005000000 02ffff0078f0a20000", Decoded, "", "", types.Type_NC_SLARP},
		{"cut header", "0f00", Failed, "Cisco HDLC header shorter than 4 bytes", "", 0},
	})
}
