package decoder

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// SLARP frames (Cisco HDLC) of tcpdump's hdlc_slarp.pcapng, with tshark's
// summary and fields (slarp.*) of each.
var slarpFrames = []struct {
	name, frame string
	want        *types.SLARP
}{
	// 1 0.000000 N/A → N/A SLARP 24 Line keepalive, outgoing sequence 1, returned sequence 0
	// slarp.ptype 2, slarp.mysequence 1, slarp.yoursequence 0, slarp.reliability 0xffff
	{"keepalive", "8f008035000000020000000100000000ffff0527c5b90000",
		&types.SLARP{PacketType: 2, MySequence: 1, YourSequence: 0, Reliability: 0xffff}},
	// 2 9.928000 N/A → N/A SLARP 24 Request, from 0.0.0.0, mask 0.0.0.0
	{"request", "8f0080350000000000000000000000000000000000000000",
		&types.SLARP{PacketType: 0, Address: "0.0.0.0", Netmask: "0.0.0.0"}},
	// 3 9.947000 N/A → N/A SLARP 24 Reply, from 15.0.0.1, mask 255.255.255.252
	{"reply", "8f008035000000010f000001fffffffc0000000000000000",
		&types.SLARP{PacketType: 1, Address: "15.0.0.1", Netmask: "255.255.255.252"}},
}

func TestSLARP(t *testing.T) {
	for _, tc := range slarpFrames {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			if st, reason := d.Decode(data, layers.LinkTypeC_HDLC, &meta, s); st != Decoded {
				t.Fatalf("status %v %q", st, reason)
			}
			if len(s.recs) != 1 {
				t.Fatalf("%d records, want 1 SLARP", len(s.recs))
			}
			got, ok := s.recs[0].(*types.SLARP)
			w := tc.want
			if !ok || got.PacketType != w.PacketType || got.Address != w.Address || got.Netmask != w.Netmask ||
				got.MySequence != w.MySequence || got.YourSequence != w.YourSequence || got.Reliability != w.Reliability {
				t.Errorf("got  %v\nwant %v", s.recs[0], w)
			}
		})
	}
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		// tcpdump's chdlc-slarp-short.pcap: the keepalive ends with its reliability field
		// 1 0.000000 N/A → N/A SLARP 18 Line keepalive, outgoing sequence 854577, returned sequence 1463836198
		{"short keepalive", "8f00803500000002000d0a3157405e2604ff", Decoded, "", "", types.Type_NC_SLARP},
		{"keepalive cut", "8f00803500000002000d0a3157405e26", Failed, "SLARP packet cut short", "", 0},
		{"reply cut", "8f008035000000010f000001ffff", Failed, "SLARP packet cut short", "", 0},
		{"type cut", "8f0080350000", Failed, "SLARP packet cut short", "", 0},
		{"unknown type", "8f00803500000007", Decoded, "", "", types.Type_NC_SLARP},
	})
}

// The test entry: SLARP packets in Cisco HDLC frames for the fuzzer, the
// frames above as cases with tshark's values.
func init() {
	addProtocolTest("SLARP", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypeSLARP, rec: types.Type_NC_SLARP, link: layers.LinkTypeC_HDLC,
			below: []gopacket.LayerType{layerTypeCHDLC},
			wrap:  func(b []byte) []byte { return cat([]byte{0x8f, 0x00, 0x80, 0x35}, b) },
			max:   fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range slarpFrames {
					b, _ := hex.DecodeString(strings.TrimSpace(f.frame))
					out = append(out, b[4:])
				}
				return out
			},
		},
		oracle: slarpOracle,
		cases: []packetCase{
			// tshark: SLARP 24 Line keepalive, outgoing sequence 1, returned sequence 0
			{name: "Line keepalive", link: layers.LinkTypeC_HDLC, hex: slarpFrames[0].frame,
				want: map[string]string{"PacketType": "2", "MySequence": "1", "YourSequence": "0", "Reliability": "65535"}},
			// tshark: SLARP 24 Reply, from 15.0.0.1, mask 255.255.255.252
			{name: "Reply", link: layers.LinkTypeC_HDLC, hex: slarpFrames[2].frame,
				want: map[string]string{"PacketType": "1", "Address": "15.0.0.1", "Netmask": "255.255.255.252"}},
		},
	})
}

func FuzzSLARP(f *testing.F) { fuzzLayer(f, "SLARP") }
