package decoder

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestIPNet decodes Solaris IPNET frames (link type 226) of tcpdump's e1000g.pcap.
func TestIPNet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  string
		status Status
		reason string
		src    string
		want   types.Type // a record the frame must give
	}{
		// 1 0.000000 129.146.106.55 → 10.5.233.117 ICMP 108 Echo (ping) request id=0x1af5, seq=0/0, ttl=249
		{"IPv4 ICMP", "01020000000000540000000200000000ffffffff0000000045000054e58e0000f901fcd581926a370a05e975080032e21af50000ed760d4bb9630b0008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
			Decoded, "", "129.146.106.55", types.Type_NC_ICMPv4},
		{"family 99", "01630000000000040000000200000000ffffffff0000000000000000", Unknown, "IPNET address family 99", "", 0},
		{"cut header", "0102000000000054", Failed, "IPNET header shorter than 24 bytes", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, linkTypeIPNet, &meta, s)
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
