package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// Tests of bad and unusual inputs: every capture here is built in code.

var (
	testMACA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	testMACB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	testIP4A = net.IP{10, 0, 0, 1}
	testIP4B = net.IP{10, 0, 0, 2}
	testIP6A = net.ParseIP("fd00::1")
	testIP6B = net.ParseIP("fd00::2")
	testTime = time.Unix(1_700_000_000, 123_456_789).UTC()
)

func mustSerialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ipv4UDP is an IPv4 packet holding a DNS query.
func ipv4UDP(t testing.TB, id uint16) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: testIP4A, DstIP: testIP4B}
	udp := &layers.UDP{SrcPort: 40000 + layers.UDPPort(id), DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	dns := &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	return mustSerialize(t, ip, udp, dns)
}

// ipv6TCP is an IPv6 packet holding a TCP SYN.
func ipv6TCP(t testing.TB, port uint16) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: testIP6A, DstIP: testIP6B}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(port), DstPort: 443, Seq: 1, SYN: true, Window: 1024}
	tcp.SetNetworkLayerForChecksum(ip)
	return mustSerialize(t, ip, tcp)
}

// etherFrame puts an IP packet in an Ethernet frame.
func etherFrame(ip []byte) []byte {
	typ := uint16(0x0800)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		typ = 0x86dd
	}
	b := make([]byte, 14, 14+len(ip))
	copy(b, testMACB)
	copy(b[6:], testMACA)
	binary.BigEndian.PutUint16(b[12:], typ)
	return append(b, ip...)
}

// testFrames are three Ethernet frames: DNS over IPv4, TCP over IPv6, ARP.
func testFrames(t testing.TB) [][]byte {
	arp := mustSerialize(t, &layers.Ethernet{SrcMAC: testMACA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: testMACA, SourceProtAddress: testIP4A.To4(),
			DstHwAddress: make([]byte, 6), DstProtAddress: testIP4B.To4()})
	return [][]byte{etherFrame(ipv4UDP(t, 1)), etherFrame(ipv6TCP(t, 50000)), arp}
}

// pcapBytes writes packets as a little-endian pcap file.
func pcapBytes(t testing.TB, link layers.LinkType, nanos bool, pkts [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: testTime.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapngBytes writes packets as pcapng, one interface per link type given;
// ifaces[i] is the interface of pkts[i].
func pcapngBytes(t testing.TB, links []layers.LinkType, ifaces []int, pkts [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "if0", LinkType: links[0], SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{LinkType: l, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: testTime.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p), InterfaceIndex: ifaces[i]}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runFile runs the engine over a capture file into a new folder.
func runFile(t testing.TB, path string, workers int, compress bool) (*Summary, string) {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "out")
	sum, err := Run(context.Background(), src, Config{
		Input:    InputConfig{BatchSize: 2},
		Decoding: DecodeConfig{Workers: workers},
		Output: OutputConfig{
			Dir:      out,
			Compress: compress,
			Created:  testTime,
		},
	})
	if err != nil {
		t.Fatalf("Run %s: %v", path, err)
	}
	return sum, out
}

// readRecords reads every record file of a run, by record type name.
func readRecords(t testing.TB, out string) map[string][]proto.Message {
	t.Helper()
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string][]proto.Message{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".ncap.gz") && !strings.HasSuffix(name, ".ncap") {
			continue
		}
		r, err := ncio.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		typ := types.Name(r.Header().Type)
		if !strings.HasPrefix(name, typ+".") {
			t.Errorf("%s holds %s records", name, typ)
		}
		recs[typ] = []proto.Message{}
		for {
			m := r.New()
			err := r.Next(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			recs[typ] = append(recs[typ], m)
		}
		r.Close()
	}
	return recs
}

// int64Field reads an int64 field (FrameNumber, Timestamp) of a record.
func int64Field(m proto.Message, name string) (int64, bool) {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		return 0, false
	}
	return m.ProtoReflect().Get(fd).Int(), true
}

// recordTime is a record's Timestamp, or TimestampFirst for flow models.
func recordTime(m proto.Message) (int64, bool) {
	if ts, ok := int64Field(m, "Timestamp"); ok {
		return ts, true
	}
	return int64Field(m, "TimestampFirst")
}

func frames(recs []proto.Message) []int64 {
	var out []int64
	for _, m := range recs {
		if f, ok := int64Field(m, "FrameNumber"); ok {
			out = append(out, f)
		}
	}
	return out
}

func sameRecords(t *testing.T, what string, got, want map[string][]proto.Message) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != len(want) {
		t.Errorf("%s: %d record types, want %d", what, len(got), len(want))
	}
	for _, n := range names {
		if len(got[n]) != len(want[n]) {
			t.Errorf("%s: %d %s records, want %d", what, len(got[n]), n, len(want[n]))
			continue
		}
		for i := range want[n] {
			if !proto.Equal(got[n][i], want[n][i]) {
				t.Errorf("%s: %s record %d differs:\n got %v\nwant %v", what, n, i, got[n][i], want[n][i])
			}
		}
	}
}

func TestOpenBadInputs(t *testing.T) {
	dir := t.TempDir()
	rec, err := ncio.Create(filepath.Join(dir, "TCP.ncap.gz"), &types.Header{Type: types.Type_NC_TCP}, true)
	if err != nil {
		t.Fatal(err)
	}
	rec.Write(&types.TCP{SrcPort: 1})
	rec.Close()
	shbOnly := pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, nil, nil)
	shbOnly = shbOnly[:binary.LittleEndian.Uint32(shbOnly[4:8])] // the section header block alone

	cases := []struct {
		name string
		path string
		is   error
		text string
	}{
		{"empty file", writeFile(t, dir, "empty.pcap", nil), ErrNotCapture, "(the file is empty)"},
		{"text file", writeFile(t, dir, "notes.pcap", []byte(`{"abc": 1}`)), ErrNotCapture, "not a pcap or pcapng file (first bytes 7b 22 61 62)"},
		{"three bytes", writeFile(t, dir, "short.pcap", []byte{0xd4, 0xc3, 0xb2}), ErrNotCapture, "(only 3 bytes)"},
		{"record file", rec.Path(), ErrNotCapture, "not a pcap or pcapng file"},
		{"gzip'd text", writeFile(t, dir, "notes.pcap.gz", gzipBytes(t, []byte("hello world"))), ErrNotCapture, "(first bytes 68 65 6c 6c)"},
		{"broken gzip", writeFile(t, dir, "broken.pcap.gz", []byte{0x1f, 0x8b, 0x08}), nil, "bad gzip stream"},
		{"cut pcap header", writeFile(t, dir, "cut.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, nil)[:20]), nil, "bad pcap header"},
		{"directory", dir, nil, "is a directory, not a capture file"},
		{"missing file", filepath.Join(dir, "missing.pcap"), os.ErrNotExist, "no such file"},
	}
	// A section header alone is an empty capture, not an error.
	if src, err := OpenFile(writeFile(t, dir, "noif.pcapng", shbOnly)); err != nil {
		t.Errorf("pcapng of a section header only: %v", err)
	} else {
		if _, _, _, err := src.ReadPacket(); err != io.EOF {
			t.Errorf("pcapng of a section header only: ReadPacket: %v, want io.EOF", err)
		}
		src.Close()
	}
	for _, c := range cases {
		src, err := OpenFile(c.path)
		if err == nil {
			src.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		if src != nil {
			t.Errorf("%s: OpenFile returned a source with its error", c.name)
		}
		msg := err.Error()
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want it to wrap %v", c.name, err, c.is)
		}
		if !strings.Contains(msg, c.text) {
			t.Errorf("%s: %q does not say %q", c.name, msg, c.text)
		}
		// The command prints "net " + the error: one line that starts with
		// "capture: " and names the file.
		if !strings.HasPrefix(msg, "capture: ") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q is not a one-line capture error", c.name, msg)
		}
		if c.name != "missing file" && !strings.Contains(msg, c.path) {
			t.Errorf("%s: %q does not name %s", c.name, msg, c.path)
		}
	}
}

// TestTruncatedCapture cuts a pcap in the middle of its third packet and in
// the third packet's record header: the first two packets' records are
// written and the summary reports the cut; the command exits 1.
func TestTruncatedCapture(t *testing.T) {
	dir := t.TempDir()
	frames3 := testFrames(t)
	full := pcapBytes(t, layers.LinkTypeEthernet, false, frames3)
	third := len(full) - (16 + len(frames3[2])) // offset of the third record
	cuts := map[string][]byte{
		"inside the packet data":   full[:len(full)-10],
		"inside the record header": full[:third+7],
	}
	for name, data := range cuts {
		path := writeFile(t, dir, "cut.pcap", data)
		sum, out := runFile(t, path, 2, true)
		if sum.Packets != 2 {
			t.Errorf("%s: %d packets, want 2", name, sum.Packets)
		}
		if !errors.Is(sum.Truncated, ErrTruncatedCapture) {
			t.Errorf("%s: Truncated = %v, want ErrTruncatedCapture", name, sum.Truncated)
		}
		recs := readRecords(t, out)
		if got := frames(recs["Ethernet"]); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Errorf("%s: Ethernet records of frames %v, want [1 2]", name, got)
		}
		if len(recs["DNS"]) != 1 || len(recs["TCP"]) != 1 || len(recs["ARP"]) != 0 {
			t.Errorf("%s: %d DNS, %d TCP, %d ARP records; want 1, 1, 0", name, len(recs["DNS"]), len(recs["TCP"]), len(recs["ARP"]))
		}
	}

	// The command: exit 1, one line saying the file is truncated, records
	// of the packets before the cut written.
	bin := buildNet(t)
	path := writeFile(t, dir, "cut.pcap", full[:len(full)-10])
	out := filepath.Join(dir, "cmd-out")
	code, stderr := runNet(bin, path, out, 20*time.Second)
	if code != 1 {
		t.Fatalf("net capture on a cut pcap: exit %d, want 1; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "net capture: ") || !strings.Contains(lines[0], "truncated") {
		t.Errorf("net capture on a cut pcap: stderr %q, want one line saying it is truncated", stderr)
	}
	if got := frames(readRecords(t, out)["Ethernet"]); len(got) != 2 {
		t.Errorf("net capture on a cut pcap: Ethernet records of frames %v, want [1 2]", got)
	}
}

// TestGzipInputs: a gzip'd pcap or pcapng gives the records of the plain file.
func TestGzipInputs(t *testing.T) {
	dir := t.TempDir()
	frames3 := testFrames(t)
	inputs := map[string][]byte{
		"pcap":   pcapBytes(t, layers.LinkTypeEthernet, false, frames3),
		"pcapng": pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, []int{0, 0, 0}, frames3),
	}
	for format, data := range inputs {
		plain := writeFile(t, dir, "in."+format, data)
		gz := writeFile(t, dir, "in."+format+".gz", gzipBytes(t, data))
		noext := writeFile(t, dir, "in-"+format+"-gzipped", gzipBytes(t, data)) // told by content, not name
		sp, outPlain := runFile(t, plain, 2, true)
		want := readRecords(t, outPlain)
		if sp.Packets != 3 || len(want["Ethernet"]) != 3 || len(want["DNS"]) != 1 || len(want["ARP"]) != 1 {
			t.Fatalf("%s: %d packets, records %v", format, sp.Packets, sp.Records)
		}
		for _, path := range []string{gz, noext} {
			sg, outGz := runFile(t, path, 1, false)
			if sg.Packets != 3 || sg.Truncated != nil {
				t.Errorf("%s: %d packets, truncated %v", path, sg.Packets, sg.Truncated)
			}
			sameRecords(t, filepath.Base(path), readRecords(t, outGz), want)
		}
	}
}

// TestTimestampResolution: a nanosecond pcap keeps nanoseconds, a
// microsecond pcap gives microseconds, big-endian pcaps read the same.
func TestTimestampResolution(t *testing.T) {
	dir := t.TempDir()
	frame := testFrames(t)[:1]
	cases := []struct {
		name string
		data []byte
		want int64
	}{
		{"nanosecond", pcapBytes(t, layers.LinkTypeEthernet, true, frame), testTime.UnixNano()},
		{"microsecond", pcapBytes(t, layers.LinkTypeEthernet, false, frame), testTime.Truncate(time.Microsecond).UnixNano()},
		{"nanosecond big-endian", bigEndianPcap(pcapBytes(t, layers.LinkTypeEthernet, true, frame)), testTime.UnixNano()},
		{"microsecond big-endian", bigEndianPcap(pcapBytes(t, layers.LinkTypeEthernet, false, frame)), testTime.Truncate(time.Microsecond).UnixNano()},
	}
	for _, c := range cases {
		path := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "-")+".pcap", c.data)
		sum, out := runFile(t, path, 1, true)
		recs := readRecords(t, out)
		if sum.Packets != 1 || len(recs["Ethernet"]) != 1 || len(recs["DNS"]) != 1 {
			t.Errorf("%s: %d packets, records %v", c.name, sum.Packets, sum.Records)
			continue
		}
		for typ, rs := range recs {
			if ts, ok := recordTime(rs[0]); ok && ts != c.want {
				t.Errorf("%s: %s record at %d, want %d", c.name, typ, ts, c.want)
			}
		}
	}
}

// bigEndianPcap rewrites a little-endian pcap file in big-endian byte order.
func bigEndianPcap(le []byte) []byte {
	be := bytes.Clone(le)
	swap32 := func(off int) { binary.BigEndian.PutUint32(be[off:], binary.LittleEndian.Uint32(le[off:])) }
	swap16 := func(off int) { binary.BigEndian.PutUint16(be[off:], binary.LittleEndian.Uint16(le[off:])) }
	swap32(0)
	swap16(4)
	swap16(6)
	for _, off := range []int{8, 12, 16, 20} {
		swap32(off)
	}
	for off := 24; off+16 <= len(le); {
		for i := 0; i < 16; i += 4 {
			swap32(off + i)
		}
		off += 16 + int(binary.LittleEndian.Uint32(le[off+8:]))
	}
	return be
}

// TestPcapngInterfaces: packets of a pcapng file with an Ethernet and a raw
// IP interface are each decoded with their own interface's link type.
func TestPcapngInterfaces(t *testing.T) {
	dir := t.TempDir()
	pkts := [][]byte{etherFrame(ipv4UDP(t, 1)), ipv4UDP(t, 2), ipv6TCP(t, 50001), etherFrame(ipv6TCP(t, 50002))}
	data := pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, []int{0, 1, 1, 0}, pkts)
	sum, out := runFile(t, writeFile(t, dir, "two.pcapng", data), 2, true)
	recs := readRecords(t, out)
	if sum.Packets != 4 || sum.Unknown != 0 || sum.Errors != 0 {
		t.Errorf("%d packets, %d unknown (%v), %d errors (%v)", sum.Packets, sum.Unknown, sum.UnknownLayers, sum.Errors, sum.ErrorReasons)
	}
	if got := frames(recs["Ethernet"]); len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Errorf("Ethernet records of frames %v, want [1 4]", got)
	}
	if got := frames(recs["IPv4"]); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("IPv4 records of frames %v, want [1 2]", got)
	}
	if got := frames(recs["TCP"]); len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Errorf("TCP records of frames %v, want [3 4]", got)
	}
}

// TestPcapngSections: a pcapng file of two sections (two files concatenated,
// as mergecap -a does) with different link types gives the packets of both.
func TestPcapngSections(t *testing.T) {
	dir := t.TempDir()
	first := pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, []int{0}, [][]byte{etherFrame(ipv4UDP(t, 1))})
	second := pcapngBytes(t, []layers.LinkType{layers.LinkTypeRaw}, []int{0, 0}, [][]byte{ipv4UDP(t, 2), ipv6TCP(t, 50003)})
	sum, out := runFile(t, writeFile(t, dir, "sections.pcapng", append(bytes.Clone(first), second...)), 1, true)
	recs := readRecords(t, out)
	if sum.Packets != 3 || sum.Unknown != 0 || sum.Errors != 0 || sum.Truncated != nil {
		t.Errorf("%d packets, %d unknown (%v), %d errors (%v), truncated %v", sum.Packets, sum.Unknown, sum.UnknownLayers, sum.Errors, sum.ErrorReasons, sum.Truncated)
	}
	if len(recs["Ethernet"]) != 1 || len(recs["DNS"]) != 2 || len(recs["TCP"]) != 1 {
		t.Errorf("records %v, want 1 Ethernet, 2 DNS, 1 TCP", sum.Records)
	}
}

// TestProgress: the source reports the whole file consumed at the end.
func TestProgress(t *testing.T) {
	path := writeFile(t, t.TempDir(), "p.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, testFrames(t)))
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for {
		if _, _, _, err := src.ReadPacket(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	done, total := src.Progress()
	if st, _ := os.Stat(path); total != st.Size() || done != total {
		t.Errorf("Progress() = %d, %d; want %d, %d", done, total, st.Size(), st.Size())
	}
}

// runNet runs the net binary's capture command on one file and returns the
// exit code (-1 when it did not finish within limit, -2 when it did not
// start) and stderr. It may run in any goroutine.
func runNet(bin, input, out string, limit time.Duration) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "capture", "-read", input, "-out", out, "-quiet", "-workers", "2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, stderr.String()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		return -2, fmt.Sprintf("running %s: %v", bin, err)
	}
	return 0, stderr.String()
}

// buildNet builds the net command into the test's temporary folder.
func buildNet(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "net")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/net")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/net: %v\n%s", err, out)
	}
	return bin
}
