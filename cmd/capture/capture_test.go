package capture

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/reflect/protoreflect"

	engine "github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/types"
)

// TestFlags runs the command with flag combinations and checks the exit code
// and the first line of the error, as a user sees them.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello, this is not a capture\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "TCP.ncap.gz"), []byte("x"), 0o644)
	emptyDir := filepath.Join(dir, "empty")
	os.MkdirAll(emptyDir, 0o755)
	capture := filepath.Join("..", "..", "testdata", "loopback.pcap")

	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no input", nil, 2, "no input: give a capture file with -read"},
		{"stray argument", []string{"x.pcap"}, 2, `unexpected argument "x.pcap"`},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{"missing file", []string{"-read", filepath.Join(dir, "missing.pcap")}, 2, "no such file or directory"},
		{"text file", []string{"-read", text, "-out", filepath.Join(dir, "o1")}, 2, "not a pcap or pcapng file (first bytes 68 65 6c 6c)"},
		{"empty file", []string{"-read", empty, "-out", filepath.Join(dir, "o2")}, 2, "the file is empty"},
		{"unknown include", []string{"-read", capture, "-include", "TCP,Foo"}, 2, `unknown record type "Foo"`},
		{"unknown exclude", []string{"-read", capture, "-exclude", "Bar"}, 2, `unknown record type "Bar"`},
		{"existing output", []string{"-read", capture, "-out", full}, 2, "already holds files; choose another -out or add -overwrite"},
		{"zero workers", []string{"-read", capture, "-workers", "0"}, 2, "-workers 0: must be at least 1"},
		{"works", []string{"-read", capture, "-out", filepath.Join(dir, "o3"), "-quiet"}, 0, ""},
		{"overwrite", []string{"-read", capture, "-out", full, "-overwrite", "-quiet"}, 0, ""},
		{"existing empty output", []string{"-read", capture, "-out", emptyDir}, 2, "already exists; choose another -out or add -overwrite"},
		{"read and iface", []string{"-read", capture, "-iface", "lo"}, 2, "-read and -iface exclude each other"},
		{"bad bpf on a file", []string{"-read", capture, "-bpf", "tcp port", "-out", filepath.Join(dir, "o4")}, 2, `-bpf "tcp port" does not compile`},
		{"unknown interface", []string{"-iface", "nonexistent0", "-out", filepath.Join(dir, "o5")}, 2, "-iface nonexistent0: no such interface; net capture -interfaces lists them"},
		{"snaplen too small", []string{"-iface", "lo", "-snaplen", "10", "-out", filepath.Join(dir, "o6")}, 2, "-snaplen 10: must be between 64 and 262144"},
		{"bpf on a file", []string{"-read", capture, "-bpf", "icmp", "-out", filepath.Join(dir, "o7"), "-quiet"}, 0, ""},
		{"interfaces", []string{"-interfaces"}, 0, ""},
		{"memcap too small", []string{"-read", capture, "-memcap", "512KiB", "-out", filepath.Join(dir, "o8")}, 2, "-memcap 512KiB: want at least 1MiB"},
		{"memcap not a size", []string{"-read", capture, "-memcap", "lots", "-out", filepath.Join(dir, "o8")}, 2, "-memcap lots: want a size such as 512MiB"},
		{"smallest memcap", []string{"-read", capture, "-memcap", "1M", "-out", filepath.Join(dir, "o9"), "-quiet"}, 0, ""},
		{"help", []string{"-h"}, 0, "usage: net capture -read traffic.pcap"},
		{"help names -iface", []string{"-h"}, 0, "net capture -iface eth0"},
		{"help names -parquet", []string{"-h"}, 0, "-parquet"},
		{"parquet and csv", []string{"-read", capture, "-parquet", "-csv", "-out", filepath.Join(dir, "o10")}, 2, "-parquet and -csv both choose the output format"},
		{"parquet rows zero", []string{"-read", capture, "-parquet", "-parquet-rows", "0", "-out", filepath.Join(dir, "o11")}, 2, "-parquet-rows 0: must be at least 1"},
		{"parquet", []string{"-read", capture, "-parquet", "-out", filepath.Join(dir, "o12"), "-quiet"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if tt.name == "parquet" {
				pq, _ := filepath.Glob(filepath.Join(dir, "o12", "*.parquet"))
				gz, _ := filepath.Glob(filepath.Join(dir, "o12", "*.ncap.gz"))
				if len(pq) == 0 || len(gz) != 0 {
					t.Errorf("-parquet wrote %d .parquet and %d .ncap.gz files", len(pq), len(gz))
				}
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if tt.err != "" && !strings.Contains(stderr.String(), tt.err) {
				t.Fatalf("stderr %q does not say %q", stderr.String(), tt.err)
			}
			if code == 2 && tt.name != "help" && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 && !strings.HasPrefix(tt.err, "flag") {
				t.Fatalf("a refused input must get one line, got:\n%s", stderr.String())
			}
		})
	}
}

// recordTypes derives the top-level record types of netcap.proto from the
// descriptors of package types: a message is a record when the Type enum has
// NC_<name> for it, it is not Header or Batch (the file framing), and it is
// not only a sub-message: a message another message holds as a field (like
// TCPOption or DNSQuestion, which the enum lists too) is a record of its own
// only when it carries its own time (IPv6HopByHop: a record, and also a field
// of IPv6).
func recordTypes(t *testing.T) []string {
	t.Helper()
	file := types.File_netcap_proto
	msgs := file.Messages()
	nested := map[string]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			if sub := fields.Get(i).Message(); sub != nil && sub.FullName() != md.FullName() {
				nested[string(sub.Name())] = true
			}
		}
		for i := 0; i < md.Messages().Len(); i++ {
			walk(md.Messages().Get(i))
		}
	}
	for i := 0; i < msgs.Len(); i++ {
		walk(msgs.Get(i))
	}
	enum := file.Enums().ByName("Type")
	if enum == nil {
		t.Fatal("netcap.proto has no enum Type")
	}
	var records []string
	values := enum.Values()
	for i := 0; i < values.Len(); i++ {
		name, ok := strings.CutPrefix(string(values.Get(i).Name()), "NC_")
		if !ok {
			t.Fatalf("Type value %s does not start with NC_", values.Get(i).Name())
		}
		md := msgs.ByName(protoreflect.Name(name))
		if md == nil {
			t.Errorf("Type value NC_%s has no message %s", name, name)
			continue
		}
		if name == "Header" || name == "Batch" || (nested[name] && !ownTime(md)) {
			continue
		}
		records = append(records, name)
	}
	return records
}

// ownTime: field 1 of the message is its Unix-ns time (Timestamp, or
// TimestampFirst for flows).
func ownTime(md protoreflect.MessageDescriptor) bool {
	f := md.Fields().ByNumber(1)
	return f != nil && f.Kind() == protoreflect.Int64Kind && strings.HasPrefix(string(f.Name()), "Timestamp")
}

// TestDecodersListsEveryRecord: -decoders names every top-level record type
// declared in netcap.proto, and nothing else.
func TestDecodersListsEveryRecord(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-decoders"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	listed := map[string]bool{}
	lines := map[string]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if name, about, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			listed[name] = true
			lines[name] = about
			if strings.Contains(about, "no decoder makes it") {
				t.Errorf("%s: no decoder makes it", name)
			}
		}
	}
	// every source of a record is named: the packet layers and the stream
	// parsers that make it (DNS comes from both)
	for _, p := range decoder.Protocols() {
		for _, typ := range p.Records {
			if from := fmt.Sprintf("from layer %v", p.Layer); !strings.Contains(lines[types.Name(typ)], from) {
				t.Errorf("%s: the listing does not say %q: %q", types.Name(typ), from, lines[types.Name(typ)])
			}
		}
	}
	for _, p := range decoder.StreamProtocols() {
		for _, typ := range p.Records {
			line := lines[types.Name(typ)]
			_, list, _ := strings.Cut(line, "from reassembled ")
			list, _, _ = strings.Cut(list, " streams")
			if !slices.Contains(strings.Split(list, ", "), p.Name) {
				t.Errorf("%s: the listing does not name the %s streams: %q", types.Name(typ), p.Name, line)
			}
			if strings.Count(line, "(") != strings.Count(line, ")") {
				t.Errorf("%s: unbalanced parentheses: %q", types.Name(typ), line)
			}
		}
	}
	records := recordTypes(t)
	want := map[string]bool{}
	for _, name := range records {
		want[name] = true
		if !listed[name] {
			t.Errorf("-decoders does not list %s", name)
		}
		// a record describes a frame or a flow: it starts with its time
		if !ownTime(types.File_netcap_proto.Messages().ByName(protoreflect.Name(name))) {
			t.Errorf("record %s: field 1 is not its Timestamp", name)
		}
	}
	for name := range listed {
		if !want[name] {
			t.Errorf("-decoders lists %s, which is not a record type of netcap.proto", name)
		}
	}
	// 53 protocol records; with the flows and the application records the
	// first contract has 61; records added later (SSH, SMTP, ...) take enum
	// values above 88 other than TLSServerHello's 94.
	added := 0
	values := types.File_netcap_proto.Enums().ByName("Type").Values()
	for i := 0; i < values.Len(); i++ {
		if n := values.Get(i).Number(); n > 88 && n != 94 {
			added++
		}
	}
	if len(records) != 61+added {
		t.Errorf("netcap.proto declares %d top-level records, the framework has 61 and %d added: %v", len(records), added, records)
	}
	t.Logf("%d record types listed", len(records))
}

// pcapPackets counts the packets of a pcap file the command wrote.
func pcapPackets(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			return n
		}
		n++
	}
}

// TestSummaryReportsCoverage: the summary names every record type the run
// wrote a file for, and the counts of unknown and error packets, which match
// the packets in unknown.pcap and errors.pcap. The capture is built here:
// one UDP packet, two frames of an EtherType no decoder knows (0x88b5, local
// experimental) and one IPv4 header whose total length is shorter than the
// header (a decode error).
func TestSummaryReportsCoverage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "mixed.pcap")
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	mac1, mac2 := []byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}
	frame := func(ls ...gopacket.SerializableLayer) []byte {
		b := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9999}
	udp.SetNetworkLayerForChecksum(ip)
	good := frame(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload("hello"))
	odd := frame(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: 0x88b5}, gopacket.Payload(bytes.Repeat([]byte{0xab}, 46)))
	bad := append([]byte(nil), good...)
	bad[14+2], bad[14+3] = 0, 10 // IPv4 total length 10 < 20
	base := time.Unix(1700000000, 0)
	for i, data := range [][]byte{good, odd, odd, bad} {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(in, buf.Bytes(), 0o644)

	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-read", in, "-out", out, "-workers", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	summary := stdout.String() + stderr.String()
	m := regexp.MustCompile(`(\d+) packets, (\d+) records, (\d+) unknown \(unknown\.pcap\), (\d+) errors \(errors\.pcap\)`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("the summary does not give packets, records, unknown and errors:\n%s", summary)
	}
	if m[1] != "4" {
		t.Errorf("summary says %s packets, the capture has 4", m[1])
	}
	unknown, errs := pcapPackets(t, filepath.Join(out, "unknown.pcap")), pcapPackets(t, filepath.Join(out, "errors.pcap"))
	if m[3] != fmt.Sprint(unknown) || m[4] != fmt.Sprint(errs) {
		t.Errorf("summary says %s unknown and %s errors; unknown.pcap holds %d packets, errors.pcap %d", m[3], m[4], unknown, errs)
	}
	if unknown != 2 || errs != 1 {
		t.Errorf("%d unknown and %d error packets, want 2 (EtherType 0x88b5) and 1 (IPv4 shorter than its header)", unknown, errs)
	}
	// every record file written is named in the summary's table
	files, _ := filepath.Glob(filepath.Join(out, "*.ncap.gz"))
	if len(files) == 0 {
		t.Fatal("no record files written")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".ncap.gz")
		if !regexp.MustCompile(`(?m)^│ ` + name + `\s+│\s+\d+\s+│`).MatchString(summary) {
			t.Errorf("%s written but the summary does not list it:\n%s", filepath.Base(f), summary)
		}
	}
}

// TestProgressLine: a file capture's progress says how far, how fast and
// how long is left; a live one says what was dropped.
func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		s    engine.Stats
		live bool
		want string
	}{
		{engine.Stats{Packets: 1000, Done: 25e6, Total: 100e6, Elapsed: 5 * time.Second}, false,
			"decoding: 1000 packets (25.0%, 5.0 MB/s, 15s left), 200 packets/s, unknown 0, errors 0"},
		{engine.Stats{Packets: 10, Elapsed: time.Second}, false, "decoding: 10 packets, 10 packets/s, unknown 0, errors 0"},
		{engine.Stats{Packets: 10, Kernel: 3, Elapsed: time.Second}, true, "capturing: 10 packets, 10 packets/s, dropped: kernel 3, workers behind 0; unknown 0, errors 0"},
	} {
		var b strings.Builder
		progressLine(&b, tc.s, tc.live)
		if got := strings.TrimPrefix(b.String(), "\r\033[K"); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

// TestSummaryColour: warnings are coloured only when stderr is a terminal;
// in a pipe or a file the summary holds no escape sequences.
func TestSummaryColour(t *testing.T) {
	s := &engine.Summary{Source: "x.pcap", Packets: 1, Records: map[string]int64{"TCP": 1}, Elapsed: time.Second, Unencodable: 1}
	for _, color := range []bool{false, true} {
		var b strings.Builder
		printSummary(&b, s, "out", color)
		if got := strings.Contains(b.String(), "\033["); got != color {
			t.Errorf("colour %v: escape sequences %v in\n%s", color, got, b.String())
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"-read", "../../testdata/loopback.pcap", "-out", filepath.Join(t.TempDir(), "out")}, &bytes.Buffer{}, &stderr); code != 0 || strings.Contains(stderr.String(), "\033[") {
		t.Errorf("exit %d; escape sequences in a summary written to a buffer:\n%q", code, stderr.String())
	}
}
