package decoder

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestIPoIB decodes IP over InfiniBand frames (link type 242) of tcpdump's ipoib.pcap.
func TestIPoIB(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  string
		status Status
		reason string
		src    string
		want   types.Type // a record the frame must give
	}{
		// 1 0.000000 192.168.56.10 → 192.168.56.24 ICMP 128 Echo (ping) request id=0x195f, seq=0/0, ttl=255
		{"IPv4 ICMP", "000000000000000000000000000000002fa3000a80000550fe800000000000000010e000664ab4510800000045000054aefe0000ff011b37c0a8380ac0a8381808002bfb195f000039a3b85c000000007c74080000000000c6f982be307e2db9f00326abfd43bd553bef6a1810b683223f8171e9b2bb671a0c16cbefdebe0713",
			Decoded, "", "192.168.56.10", types.Type_NC_ICMPv4},
		{"cut header", "000000000000000000000000000000002fa3000a80000550fe80", Failed, "shorter than 44 bytes", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, linkTypeIPoIB, &meta, s)
			if st != tc.status || !strings.Contains(reason, tc.reason) {
				t.Fatalf("status %v %q, want %v %q", st, reason, tc.status, tc.reason)
			}
			if meta.SrcIP != tc.src {
				t.Fatalf("source %q, want %q", meta.SrcIP, tc.src)
			}
			if tc.want == 0 {
				return
			}
			for _, r := range s.recs {
				if string(r.ProtoReflect().Descriptor().Name()) == strings.TrimPrefix(tc.want.String(), "NC_") {
					return
				}
			}
			t.Fatalf("no %v record among %d", tc.want, len(s.recs))
		})
	}
}
