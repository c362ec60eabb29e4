package decoder

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestLinks: every declared link type starts at a layer the chain can
// decode, and the link types map as tshark reads them.
func TestLinks(t *testing.T) {
	if len(Links()) < 15 {
		t.Fatalf("%d link types declared", len(Links()))
	}
	for _, l := range Links() {
		first := []gopacket.LayerType{l.First}
		if l.Pick != nil {
			first = []gopacket.LayerType{l.Pick([]byte{0x45}), l.Pick([]byte{0x60})}
		}
		for _, f := range first {
			if layerFactories[f] == nil {
				t.Errorf("link type %v starts at %v, which no file registers", l.Type, f)
			}
		}
	}
	for _, tc := range []struct {
		link  layers.LinkType
		frame []byte
		want  gopacket.LayerType
	}{
		{layers.LinkTypeEthernet, nil, layers.LayerTypeEthernet},
		{layers.LinkTypeRaw, []byte{0x45}, layers.LayerTypeIPv4},
		{layers.LinkTypeRaw, []byte{0x60}, layers.LayerTypeIPv6},
		{12, []byte{0x60}, layers.LayerTypeIPv6},
		{14, []byte{0x45}, layers.LayerTypeIPv4},
		{layers.LinkTypeNull, nil, layers.LayerTypeLoopback},
		{layers.LinkTypeIEEE802_11, nil, layers.LayerTypeDot11},
		{189, nil, layers.LayerTypeUSB},
		{layers.LinkTypeLinuxUSB, nil, layerTypeUSBMmapped},
		{layers.LinkTypePPP, nil, layers.LayerTypePPP},
		{layers.LinkTypePPP_HDLC, nil, layers.LayerTypePPP},
		{layers.LinkTypeFDDI, nil, layers.LayerTypeFDDI},
	} {
		if got := FirstLayer(tc.link, tc.frame); got != tc.want {
			t.Errorf("link %v: %v, want %v", tc.link, got, tc.want)
		}
	}
}

// FuzzLinks feeds the fuzz bytes as a frame of every declared link type:
// a link type declared in a new file is fuzzed without being named here.
// Decode must say why when it does not decode a frame, and must not
// change the bytes.
func FuzzLinks(f *testing.F) {
	for _, seed := range []string{
		"0f00080045000030155a400080066cd0c0a80207413774b7134a00509c34096c000000007002400011470000020405b401010402", // Cisco HDLC, IPv4 TCP
		"ff0300214500001c000100004011f9cb0a0000010a0000029c409c4100080000",                                         // PPP in HDLC framing, IPv4 UDP
		"4500001c000100004011f9cb0a0000010a0000029c409c4100080000",                                                 // raw IPv4
		"1c000c0722008211015542534370a1020004ecff000000",                                                           // Frame Relay, 4 byte address, I frame, ES-IS hello
		"",
	} {
		b, err := hex.DecodeString(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
	s := &recordSink{}
	f.Fuzz(func(t *testing.T, data []byte) {
		keep := bytes.Clone(data)
		for i, l := range Links() {
			s.recs = s.recs[:0]
			meta := Packet{Frame: int64(i + 1), CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, l.Type, &meta, s)
			if (st == Decoded) != (reason == "") {
				t.Fatalf("link %v: status %v with reason %q", l.Type, st, reason)
			}
			if !bytes.Equal(data, keep) {
				t.Fatalf("link %v changed the frame", l.Type)
			}
		}
	})
}

// frameCase is a frame of one link type and what decoding it must give.
type frameCase struct {
	name   string
	frame  string // hex, spaces ignored
	status Status
	reason string     // a part of the reason; "" when decoded
	src    string     // the packet's source IP; "" without one
	want   types.Type // a record the frame must give; 0 for none
}

// runFrameCases decodes each case's frame as link type link, with every
// record type enabled.
func runFrameCases(t *testing.T, link layers.LinkType, cases []frameCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(strings.ReplaceAll(tc.frame, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, link, &meta, s)
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
				if string(r.ProtoReflect().Descriptor().Name()) == types.Name(tc.want) {
					return
				}
			}
			t.Fatalf("no %v record among %d", tc.want, len(s.recs))
		})
	}
}
