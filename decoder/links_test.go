package decoder

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

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
	for _, seed := range [][]byte{
		cat(chdlcHeader(chdlcUnicast, 0x0800), tcp4(49152, 80, nil)), // Cisco HDLC, IPv4 TCP
		cat([]byte{0xff, 0x03, 0x00, 0x21}, udp4(40000, 40001, nil)), // PPP in HDLC framing, IPv4 UDP
		udp4(40000, 40001, nil),                               // raw IPv4
		cat(frAddressN(1, 4), []byte{0x22, 0x00}, esisESHPDU), // Frame Relay, 4 byte address, I frame, ES-IS hello
		{},
	} {
		f.Add(seed)
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

// frameCase is a frame of one link type, built in the test, and what
// decoding it must give.
type frameCase struct {
	name   string
	frame  []byte
	status Status
	reason string     // a part of the reason; "" when decoded
	src    string     // the packet's source IP; "" without one
	want   types.Type // a record the frame must give; 0 for none
	// tshark is the frame.protocols tshark must show for the frame: the
	// built frame checked by a dissector that is not ours. "" where tshark
	// cannot read the frame as meant (the switch tags, SLIP) or the case is
	// a cut or hostile frame; a trailing ":*" takes any protocols after
	// the ones named (a payload tshark guesses at with its heuristics).
	tshark string
}

// runFrameCases decodes each case's frame as link type link, with every
// record type enabled, then has tshark dissect the frames (subtest tshark).
func runFrameCases(t *testing.T, link layers.LinkType, cases []frameCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.frame
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
	var frames [][]byte
	var want, names []string
	for _, tc := range cases {
		if tc.tshark != "" {
			frames, want, names = append(frames, tc.frame), append(want, tc.tshark), append(names, tc.name)
		}
	}
	if len(frames) > 0 {
		t.Run("tshark", func(t *testing.T) { checkTsharkProtocols(t, link, frames, want, names) })
	}
}

// checkTsharkProtocols writes the frames to a capture of link type link
// and fails for each frame whose frame.protocols in tshark is not the one
// wanted: the frames built by a test are read as the protocols the test
// means by a dissector that is not ours. It skips, saying so, where tshark
// is not installed.
func checkTsharkProtocols(t *testing.T, link layers.LinkType, frames [][]byte, want, names []string) {
	t.Helper()
	checkTsharkField(t, link, frames, "frame.protocols", want, names)
}

// checkTsharkField is checkTsharkProtocols for any tshark field (its
// occurrences in a frame joined by commas).
func checkTsharkField(t *testing.T, link layers.LinkType, frames [][]byte, field string, want, names []string) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed: the built frames are not checked against its dissection")
	}
	got, err := tsharkFrameField(t.TempDir(), tshark, link, frames, field)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		if got[i] != want[i] && !(strings.HasSuffix(want[i], ":*") && strings.HasPrefix(got[i], strings.TrimSuffix(want[i], "*"))) {
			t.Errorf("%s: tshark's %s is %q, want %q", names[i], field, got[i], want[i])
		}
	}
}

// tsharkFrameField writes the frames to a capture of link type link in
// dir and returns tshark's field for each.
func tsharkFrameField(dir, tshark string, link layers.LinkType, frames [][]byte, field string) ([]string, error) {
	path := filepath.Join(dir, fmt.Sprintf("frames-%d.pcap", link))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, link); err != nil {
		f.Close()
		return nil, err
	}
	for _, b := range frames {
		ci := gopacket.CaptureInfo{Timestamp: caseTime, CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	// built TCP segments of several cases share addresses, ports and
	// sequence numbers: without sequence analysis tshark dissects each as
	// the segment it is, not as a retransmission whose payload it skips
	args := append(append([]string{}, tsharkPrefs...), "-o", "tcp.analyze_sequence_numbers:FALSE",
		"-r", path, "-T", "fields", "-e", field)
	var stderr strings.Builder
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(frames) {
		return nil, fmt.Errorf("tshark shows %d of the %d frames", len(lines), len(frames))
	}
	return lines, nil
}
