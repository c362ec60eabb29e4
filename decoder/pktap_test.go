package decoder

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestPKTAP decodes Apple PKTAP frames (link type 258): the one of
// tcpdump's LINKTYPE_PKTAP.pcap, and hostile ones.
func TestPKTAP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  string
		status Status
		reason string
		src    string
	}{
		// 1 0.000000 10.32.4.27 → 10.32.100.15 DNS 182 Standard query 0x4301 A in.m.yahoo.com
		{"Ethernet IPv4 DNS", "6c0000000100000001000000656e3000000000000000000000000000000000000000000002000000020000000e000000000000000002000000000000000000000000000000000000000000000000000000000000ffffffff0000000000000000000000000000000000000000001e491ff2c47073cb0b262a08004500003c2e030000ff1111440a20041b0a20640ff83200350028481443010100000100000000000002696e016d057961686f6f03636f6d0000010001", Decoded, "", "10.32.4.27"},
		{"PKTAP inside PKTAP", "6c00000001000000020100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006c000000", Unknown, "", ""},
		{"header longer than the frame", "ff00000001000000010000", Failed, "PKTAP header cut short", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, linkTypePKTAP, &meta, &recordSink{})
			if st != tc.status || !strings.Contains(reason, tc.reason) || meta.SrcIP != tc.src {
				t.Fatalf("status %v %q source %q, want %v %q %q", st, reason, meta.SrcIP, tc.status, tc.reason, tc.src)
			}
		})
	}
}
