package decoder

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestFrameRelay decodes Frame Relay frames (link type 107): a real one of
// tcpdump's OSPFv3_NBMA_adjacencies.pcap (Cisco encapsulation) and RFC 2427
// ones built here.
func TestFrameRelay(t *testing.T) {
	udp := "4500001c000100004011f9cb0a0000010a0000029c409c4100080000" // IPv4 10.0.0.1:40000 → 10.0.0.2:40001, UDP
	for _, tc := range []struct {
		name   string
		frame  string
		status Status
		reason string
		src    string
	}{
		// 1 0.000000 fe80::3 → fe80::2 OSPF 80 Hello Packet
		{"Cisco encapsulation, IPv6 OSPF", "48e186dd6e00000000245901fe800000000000000000000000000003fe8000000000000000000000000000020301002403030303000000008e9b00000000000664000013001e00780303030300000000",
			Decoded, "", "fe80::3"},
		{"RFC 2427, NLPID IPv4", "1841" + "03" + "cc" + udp, Decoded, "", "10.0.0.1"},
		{"RFC 2427 with pad", "1841" + "03" + "00" + "cc" + udp, Decoded, "", "10.0.0.1"},
		{"3-byte address", "80ea9d" + "0800" + udp, Decoded, "", "10.0.0.1"},
		{"NLPID of ISO CLNP", "1841" + "03" + "81" + "0000", Unknown, "Frame Relay NLPID 0x81", ""},
		{"address never ends", "18404040", Failed, "Frame Relay header cut short", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, layers.LinkTypeFRelay, &meta, s)
			if st != tc.status || !strings.Contains(reason, tc.reason) {
				t.Fatalf("status %v %q, want %v %q", st, reason, tc.status, tc.reason)
			}
			if tc.src != "" && meta.SrcIP != tc.src {
				t.Fatalf("source %q, want %q", meta.SrcIP, tc.src)
			}
		})
	}
}
