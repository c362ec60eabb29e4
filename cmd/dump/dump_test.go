package dump

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The test binary doubles as the net dump command when this variable is set,
// so that TestClosedPipe can run it as a real process with a real pipe.
const asCommand = "NETCAP_DUMP_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		os.Exit(Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// captureFile is a real capture from the shared corpus with TCP, UDP and DNS
// (CATALOG.tsv: tcpdump/mptcp-aa-v1.pcap, 24 packets, dns,mptcp).
const captureFile = "tcpdump/mptcp-aa-v1.pcap"

// sharedCapture returns the path of a capture in the shared corpus, or skips.
func sharedCapture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "pcaps", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared capture %s not found (the shared/ folder beside the repository is absent): %v", rel, err)
	}
	return p
}

// recordDir runs the engine over the shared capture and returns the folder
// holding its record files.
func recordDir(t testing.TB, csvOut bool) string {
	t.Helper()
	src, err := capture.OpenFile(sharedCapture(t, captureFile))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := t.TempDir()
	_, err = capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output: capture.OutputConfig{
			Dir:      out,
			Compress: true,
			CSV:      csvOut,
			Version:  "test",
			Created:  time.Unix(1700000000, 123456789),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readAll reads a record file with ncio, the path the tests trust, until the
// end or the first error, which it returns.
func readAll(t testing.TB, path string) (*types.Header, []protoreflect.Message, error) {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []protoreflect.Message
	for {
		m := r.New()
		if err := r.Next(m); err != nil {
			if err == io.EOF {
				err = nil
			}
			return r.Header(), recs, err
		}
		recs = append(recs, m.ProtoReflect())
	}
}

// mustRead is readAll for files that must be whole and hold records.
func mustRead(t testing.TB, path string) (*types.Header, []protoreflect.Message) {
	t.Helper()
	h, recs, err := readAll(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s holds no records; the test needs some", path)
	}
	return h, recs
}

// dumpArgs runs the command in-process and returns its output and exit code.
func dumpArgs(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// scalarText renders a scalar field the way the tests expect it in CSV,
// independently of the ncio formatter; ok is false for kinds it leaves out.
func scalarText(m protoreflect.Message, fd protoreflect.FieldDescriptor) (string, bool) {
	if fd.IsList() || fd.IsMap() {
		return "", false
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.BytesKind, protoreflect.EnumKind,
		protoreflect.FloatKind, protoreflect.DoubleKind:
		return "", false
	}
	return fmt.Sprint(m.Get(fd).Interface()), true
}

func fieldNameList(md protoreflect.MessageDescriptor) []string {
	var names []string
	for i := 0; i < md.Fields().Len(); i++ {
		names = append(names, string(md.Fields().Get(i).Name()))
	}
	return names
}

func frameOf(m protoreflect.Message) int64 {
	return m.Get(m.Descriptor().Fields().ByName("FrameNumber")).Int()
}

// TestCSV checks CSV and TSV output of real records against the records
// read back with ncio: it parses, has one row per record and every scalar
// cell equals the record's field.
func TestCSV(t *testing.T) {
	dir := recordDir(t, false)
	tests := []struct {
		file  string
		flags []string
		comma rune
	}{
		{"TCP.ncap.gz", nil, ','},
		{"DNS.ncap.gz", nil, ','},
		{"UDP.ncap.gz", nil, ','},
		{"IPv4.ncap.gz", nil, ','},
		{"TCP.ncap.gz", []string{"-tsv"}, '\t'},
		{"DNS.ncap.gz", []string{"-tsv"}, '\t'},
		{"TCP.ncap.gz", []string{"-sep", ";"}, ';'},
		{"TCP.ncap.gz", []string{"-sep", `\t`}, '\t'},
	}
	for _, tc := range tests {
		t.Run(tc.file+strings.Join(tc.flags, ""), func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			_, recs := mustRead(t, path)
			stdout, stderr, code := dumpArgs(append([]string{"-read", path}, tc.flags...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			cr := csv.NewReader(strings.NewReader(stdout))
			cr.Comma = tc.comma
			rows, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("output does not parse as CSV: %v", err)
			}
			md := recs[0].Descriptor()
			if got, want := strings.Join(rows[0], ","), strings.Join(fieldNameList(md), ","); got != want {
				t.Fatalf("header %q, want %q", got, want)
			}
			if len(rows)-1 != len(recs) {
				t.Fatalf("%d rows, want %d records", len(rows)-1, len(recs))
			}
			checked := 0
			for i, m := range recs {
				row := rows[i+1]
				if len(row) != md.Fields().Len() {
					t.Fatalf("row %d has %d columns, header %d", i+1, len(row), md.Fields().Len())
				}
				for j := 0; j < md.Fields().Len(); j++ {
					fd := md.Fields().Get(j)
					want, ok := scalarText(m, fd)
					if !ok {
						continue
					}
					if row[j] != want {
						t.Errorf("record %d %s = %q, want %q", i+1, fd.Name(), row[j], want)
					}
					checked++
				}
			}
			if checked == 0 {
				t.Fatal("no cell was compared")
			}
		})
	}
}

// TestCSVNestedDNS checks that the DNS questions, a list of messages, come out
// as JSON inside the cell with the names the records hold.
func TestCSVNestedDNS(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "DNS.ncap.gz")
	_, recs := mustRead(t, path)
	stdout, _, code := dumpArgs("-read", path, "-select", "FrameNumber,Questions")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range recs {
		dns := m.Interface().(*types.DNS)
		var qs []struct{ Name string }
		if err := json.Unmarshal([]byte(rows[i+1][1]), &qs); err != nil {
			t.Fatalf("record %d: Questions cell %q is not JSON: %v", i+1, rows[i+1][1], err)
		}
		if len(qs) != len(dns.Questions) {
			t.Fatalf("record %d: %d questions, want %d", i+1, len(qs), len(dns.Questions))
		}
		for k, q := range dns.Questions {
			if qs[k].Name != q.Name {
				t.Errorf("record %d question %d: %q, want %q", i+1, k, qs[k].Name, q.Name)
			}
		}
	}
}

// TestSelect checks that -select prints the named columns in the order given.
func TestSelect(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	_, recs := mustRead(t, path)
	tests := []struct {
		sel  string
		cols []string
	}{
		{"FrameNumber,Timestamp,SrcPort", []string{"FrameNumber", "Timestamp", "SrcPort"}},
		{"DstPort, SrcIP", []string{"DstPort", "SrcIP"}},
		{"SeqNum,SeqNum", []string{"SeqNum", "SeqNum"}},
	}
	for _, tc := range tests {
		t.Run(tc.sel, func(t *testing.T) {
			stdout, stderr, code := dumpArgs("-read", path, "-tsv", "-select", tc.sel)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if lines[0] != strings.Join(tc.cols, "\t") {
				t.Fatalf("header %q, want %q", lines[0], strings.Join(tc.cols, "\t"))
			}
			if len(lines)-1 != len(recs) {
				t.Fatalf("%d rows, want %d", len(lines)-1, len(recs))
			}
			for i, m := range recs {
				cells := strings.Split(lines[i+1], "\t")
				for j, c := range tc.cols {
					want, _ := scalarText(m, m.Descriptor().Fields().ByName(protoreflect.Name(c)))
					if cells[j] != want {
						t.Errorf("row %d %s = %q, want %q", i+1, c, cells[j], want)
					}
				}
			}
		})
	}
}

// TestSelectUnknown checks the error for a name the record type lacks: exit 2,
// nothing on stdout, and a message that lists the fields there are.
func TestSelectUnknown(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	tests := []struct {
		sel, want string
	}{
		{"Timestamp,Bogus", `no field "Bogus"`},
		{"srcport", "did you mean SrcPort?"},
		{",", "names no field"},
	}
	for _, tc := range tests {
		t.Run(tc.sel, func(t *testing.T) {
			for _, mode := range [][]string{nil, {"-json"}, {"-table"}} {
				stdout, stderr, code := dumpArgs(append([]string{"-read", path, "-select", tc.sel}, mode...)...)
				if code != 2 || stdout != "" {
					t.Fatalf("%v: exit %d, stdout %q; want 2 and nothing", mode, code, stdout)
				}
				oneLine(t, stderr)
				for _, want := range []string{tc.want, "SrcPort", "PayloadEntropy", "FrameNumber"} {
					if !strings.Contains(stderr, want) {
						t.Errorf("%v: error %q does not say %q", mode, stderr, want)
					}
				}
			}
		})
	}
}

// oneLine fails unless msg is one line that starts with "net dump: ".
func oneLine(t testing.TB, msg string) {
	t.Helper()
	if !strings.HasPrefix(msg, "net dump: ") || strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
		t.Errorf("error output %q is not one line starting with \"net dump: \"", msg)
	}
}

// TestFields checks -fields against the record type's descriptor.
func TestFields(t *testing.T) {
	dir := recordDir(t, false)
	tests := []struct {
		file string
		md   protoreflect.MessageDescriptor
		flag []string
		sep  string
	}{
		{"TCP.ncap.gz", (&types.TCP{}).ProtoReflect().Descriptor(), nil, ","},
		{"DNS.ncap.gz", (&types.DNS{}).ProtoReflect().Descriptor(), []string{"-tsv"}, "\t"},
		{"UDP.ncap.gz", (&types.UDP{}).ProtoReflect().Descriptor(), []string{"-sep", "|"}, "|"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			stdout, _, code := dumpArgs(append([]string{"-read", filepath.Join(dir, tc.file), "-fields"}, tc.flag...)...)
			want := strings.Join(fieldNameList(tc.md), tc.sep) + "\n"
			if code != 0 || stdout != want {
				t.Fatalf("exit %d, output %q, want %q", code, stdout, want)
			}
		})
	}
	stdout, _, _ := dumpArgs("-read", filepath.Join(dir, "TCP.ncap.gz"), "-fields", "-json")
	var names []string
	if err := json.Unmarshal([]byte(stdout), &names); err != nil || len(names) != len(fieldNameList(tests[0].md)) {
		t.Errorf("-fields -json gave %q (%v)", stdout, err)
	}
}

// TestHeader checks -header against the header read by ncio.
func TestHeader(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "DNS.ncap.gz")
	h, _ := mustRead(t, path)
	stdout, _, code := dumpArgs("-read", path, "-header")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("line %q is not name: value", line)
		}
		got[k] = strings.TrimSpace(v)
	}
	created, err := time.Parse(time.RFC3339Nano, got["Created"])
	if err != nil || created.UnixNano() != h.Created || created.Location() != time.UTC {
		t.Errorf("Created %q (%v), want UTC time of %d", got["Created"], err, h.Created)
	}
	want := map[string]string{
		"Type":             "DNS",
		"InputSource":      h.InputSource,
		"Version":          "test",
		"ContainsPayloads": strconv.FormatBool(h.ContainsPayloads),
		"Schema":           strconv.Itoa(ncio.Schema),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(h.InputSource, "mptcp-aa-v1.pcap") {
		t.Errorf("InputSource %q does not name the capture", h.InputSource)
	}

	stdout, _, _ = dumpArgs("-read", path, "-header", "-json")
	var hj struct {
		Created     json.Number
		InputSource string
	}
	d := json.NewDecoder(strings.NewReader(stdout))
	d.UseNumber()
	if err := d.Decode(&hj); err != nil || hj.Created.String() != strconv.FormatInt(h.Created, 10) || hj.InputSource != h.InputSource {
		t.Errorf("-header -json gave %q (%v)", stdout, err)
	}
}

// TestUTC checks that -utc prints every timestamp as RFC 3339 UTC text equal
// to the record's nanoseconds, in CSV, JSON and table output.
func TestUTC(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	_, recs := mustRead(t, path)
	check := func(t *testing.T, i int, cell string) {
		t.Helper()
		ts, err := time.Parse(time.RFC3339Nano, cell)
		if err != nil {
			t.Fatalf("record %d: %q does not parse as RFC 3339: %v", i+1, cell, err)
		}
		want := recs[i].Interface().(*types.TCP).Timestamp
		if ts.UnixNano() != want || !strings.HasSuffix(cell, "Z") {
			t.Errorf("record %d: %q is %d ns, want %d in UTC", i+1, cell, ts.UnixNano(), want)
		}
	}
	t.Run("csv", func(t *testing.T) {
		stdout, _, _ := dumpArgs("-read", path, "-utc")
		rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil || len(rows) != len(recs)+1 {
			t.Fatalf("%d rows (%v), want %d", len(rows), err, len(recs)+1)
		}
		for i := range recs {
			check(t, i, rows[i+1][0])
		}
	})
	t.Run("json", func(t *testing.T) {
		stdout, _, _ := dumpArgs("-read", path, "-utc", "-json")
		for i, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
			var rec struct{ Timestamp string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			check(t, i, rec.Timestamp)
		}
	})
	t.Run("table", func(t *testing.T) {
		stdout, _, _ := dumpArgs("-read", path, "-utc", "-table", "-select", "Timestamp,FrameNumber")
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		for i := range recs {
			check(t, i, strings.Fields(lines[i+2])[0])
		}
	})
}

// TestJSON checks that -json is JSON Lines: one valid object per record,
// nothing else, numbers exact (int64 nanoseconds do not go through float64).
func TestJSON(t *testing.T) {
	dir := recordDir(t, false)
	for _, file := range []string{"TCP.ncap.gz", "DNS.ncap.gz", "Ethernet.ncap.gz"} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(dir, file)
			_, recs := mustRead(t, path)
			stdout, stderr, code := dumpArgs("-read", path, "-json")
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != len(recs) {
				t.Fatalf("%d lines, want %d records", len(lines), len(recs))
			}
			for i, line := range lines {
				d := json.NewDecoder(strings.NewReader(line))
				d.UseNumber()
				var obj map[string]any
				if err := d.Decode(&obj); err != nil {
					t.Fatalf("line %d is not JSON: %v: %s", i+1, err, line)
				}
				if d.More() {
					t.Fatalf("line %d holds more than one value", i+1)
				}
				md := recs[i].Descriptor()
				if len(obj) != md.Fields().Len() {
					t.Errorf("line %d has %d keys, want %d", i+1, len(obj), md.Fields().Len())
				}
				for j := 0; j < md.Fields().Len(); j++ {
					fd := md.Fields().Get(j)
					want, ok := scalarText(recs[i], fd)
					if !ok {
						continue
					}
					if got := fmt.Sprint(obj[string(fd.Name())]); got != want {
						t.Errorf("line %d %s = %s, want %s", i+1, fd.Name(), got, want)
					}
				}
			}
			if jq, err := exec.LookPath("jq"); err == nil {
				cmd := exec.Command(jq, "-c", ".FrameNumber")
				cmd.Stdin = strings.NewReader(stdout)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("jq rejects the output: %v", err)
				}
				if n := strings.Count(string(out), "\n"); n != len(recs) {
					t.Errorf("jq read %d values, want %d", n, len(recs))
				}
			}
		})
	}
}

// TestTable checks that -table prints a header, a rule and one aligned row
// per record: the FrameNumber column, cut out at the header's position,
// holds each record's frame number, and long cells are cut to maxCell.
func TestTable(t *testing.T) {
	dir := recordDir(t, false)
	tests := []struct {
		file string
		sel  string
	}{
		{"TCP.ncap.gz", ""},
		{"DNS.ncap.gz", ""},
		{"TCP.ncap.gz", "Options,FrameNumber,SrcIP"},
	}
	for _, tc := range tests {
		t.Run(tc.file+tc.sel, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			_, recs := mustRead(t, path)
			args := []string{"-read", path, "-table"}
			if tc.sel != "" {
				args = append(args, "-select", tc.sel)
			}
			stdout, _, code := dumpArgs(args...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != len(recs)+2 {
				t.Fatalf("%d lines, want header, rule and %d rows", len(lines), len(recs))
			}
			head, rule := []rune(lines[0]), []rune(lines[1])
			start := strings.Index(lines[0], "FrameNumber")
			if start < 0 {
				t.Fatal("no FrameNumber column")
			}
			start = utf8.RuneCountInString(lines[0][:start])
			end := start + len("FrameNumber")
			if len(rule) < end || strings.Trim(string(rule[start:end]), "-") != "" {
				t.Fatalf("rule %q does not underline the header %q", lines[1], string(head))
			}
			for i, m := range recs {
				row := []rune(lines[i+2])
				if len(row) < end {
					t.Fatalf("row %d is too short: %q", i+1, lines[i+2])
				}
				if got := strings.TrimSpace(string(row[start:end])); got != strconv.FormatInt(frameOf(m), 10) {
					t.Errorf("row %d: FrameNumber column holds %q, want %d", i+1, got, frameOf(m))
				}
				if row[end-1] == ' ' {
					t.Errorf("row %d: the number is not aligned right under its header: %q", i+1, string(row[start:end]))
				}
			}
			if strings.HasPrefix(tc.sel, "Options") {
				cut := 0
				for _, line := range lines[2:] {
					cell := strings.Fields(line)[0]
					if n := utf8.RuneCountInString(cell); n > maxCell {
						t.Errorf("cell %q is %d characters, over %d", cell, n, maxCell)
					}
					if strings.HasSuffix(cell, "…") {
						cut++
					}
				}
				if cut == 0 {
					t.Error("no long Options cell was cut with an ellipsis")
				}
			}
		})
	}
}

// TestTableAfterSample checks rows past the width sample: a cell wider than
// the measured column is cut with an ellipsis and the columns stay aligned.
func TestTableAfterSample(t *testing.T) {
	var recs []protoreflect.Message
	for i := 0; i <= tableSample; i++ {
		ip := "10.0.0.1"
		if i == tableSample {
			ip = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
		}
		recs = append(recs, (&types.UDP{FrameNumber: int64(i + 1), SrcIP: ip, SrcPort: 53}).ProtoReflect())
	}
	path := filepath.Join(t.TempDir(), "UDP.ncap.gz")
	writeRecords(t, path, &types.Header{Type: types.Type_NC_UDP}, recs, true)
	stdout, _, code := dumpArgs("-read", path, "-table", "-select", "SrcIP,FrameNumber")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || len(lines) != len(recs)+2 {
		t.Fatalf("exit %d, %d lines, want %d", code, len(lines), len(recs)+2)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "2001:db…  ") || !strings.HasSuffix(last, " "+strconv.Itoa(tableSample+1)) {
		t.Errorf("last row %q, want the address cut to the 8 characters of the column", last)
	}
	if utf8.RuneCountInString(last) != utf8.RuneCountInString(lines[2]) {
		t.Errorf("last row %q is not as wide as the first %q", last, lines[2])
	}
}

// TestStruct checks that -struct prints one heading per record, with its
// frame number, followed by the record as protobuf text.
func TestStruct(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	_, recs := mustRead(t, path)
	stdout, _, code := dumpArgs("-read", path, "-struct")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := strings.Count(stdout, "TCP record "); got != len(recs) {
		t.Errorf("%d headings, want %d", got, len(recs))
	}
	for i, m := range recs {
		f := frameOf(m)
		heading := fmt.Sprintf("TCP record %d (frame %d, ", i+1, f)
		if !strings.Contains(stdout, heading) {
			t.Errorf("no heading %q", heading)
		}
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s+FrameNumber:\s+%d$`, f)).MatchString(stdout) {
			t.Errorf("no FrameNumber line for frame %d", f)
		}
		port := m.Interface().(*types.TCP).SrcPort
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s+SrcPort:\s+%d$`, port)).MatchString(stdout) {
			t.Errorf("no SrcPort line for %d", port)
		}
	}
}

// TestOriginalNames: the original netcap's -r and -struc print what -read
// and -struct print.
func TestOriginalNames(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	want, _, code := dumpArgs("-read", path, "-struct", "-limit", "3")
	if code != 0 || want == "" {
		t.Fatalf("-read -struct: exit %d, %d bytes", code, len(want))
	}
	got, stderr, code := dumpArgs("-r", path, "-struc", "-limit", "3")
	if code != 0 || got != want {
		t.Errorf("-r -struc: exit %d (%s), output differs from -read -struct:\n%s\nwant\n%s", code, stderr, got, want)
	}
}

// TestLimit checks that -limit stops after N records in every mode.
func TestLimit(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	_, recs := mustRead(t, path)
	tests := []struct {
		flags []string
		limit int
		extra int // lines besides the records
	}{
		{nil, 3, 1},
		{[]string{"-json"}, 1, 0},
		{[]string{"-table"}, 5, 2},
		{[]string{"-json"}, len(recs) + 10, 0},
		{[]string{"-json"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.flags, tc.limit), func(t *testing.T) {
			args := append([]string{"-read", path, "-limit", strconv.Itoa(tc.limit)}, tc.flags...)
			stdout, _, code := dumpArgs(args...)
			want := min(tc.limit, len(recs))
			if tc.limit == 0 {
				want = len(recs)
			}
			if got := strings.Count(stdout, "\n") - tc.extra; code != 0 || got != want {
				t.Errorf("exit %d, %d records, want %d", code, got, want)
			}
		})
	}
	stdout, _, _ := dumpArgs("-read", path, "-limit", "2", "-struct")
	if n := strings.Count(stdout, "TCP record "); n != 2 {
		t.Errorf("-struct -limit 2 printed %d records", n)
	}
}

// TestRawFile checks that an uncompressed record file (told by content, not
// by name) dumps the same as the gzip'd one.
func TestRawFile(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "DNS.ncap.gz")
	h, recs := mustRead(t, path)
	raw := filepath.Join(t.TempDir(), "records.bin")
	writeRecords(t, raw, h, recs, false)
	a, _, _ := dumpArgs("-read", path, "-json")
	b, _, code := dumpArgs("-read", raw, "-json")
	if code != 0 || a != b {
		t.Errorf("exit %d; raw file dump differs:\n%s\nvs\n%s", code, b, a)
	}
}

func writeRecords(t testing.TB, path string, h *types.Header, recs []protoreflect.Message, compress bool) {
	t.Helper()
	w, err := ncio.Create(path, h, compress)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range recs {
		if err := w.Write(m.Interface()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestQuoting checks that cells holding the separator, a quote or a line break
// come back intact through encoding/csv, in CSV and TSV, and that a line
// break cannot break the table's rows.
func TestQuoting(t *testing.T) {
	names := []string{
		`comma,name.example`,
		`"quoted" name.example`,
		"tab\tname.example",
		"line\nbreak.example",
		"plain.example",
	}
	var recs []protoreflect.Message
	for i, n := range names {
		recs = append(recs, (&types.DNS{
			Timestamp:   int64(i),
			FrameNumber: int64(i + 1),
			SrcIP:       n, // a scalar cell with the same trouble
			Questions:   []*types.DNSQuestion{{Name: n, Type: 1, Class: 1}},
		}).ProtoReflect())
	}
	path := filepath.Join(t.TempDir(), "DNS.ncap.gz")
	writeRecords(t, path, &types.Header{Type: types.Type_NC_DNS, Created: 1}, recs, true)

	for _, tc := range []struct {
		flag  []string
		comma rune
	}{{nil, ','}, {[]string{"-tsv"}, '\t'}, {[]string{"-sep", "."}, '.'}} {
		stdout, _, code := dumpArgs(append([]string{"-read", path, "-select", "FrameNumber,SrcIP,Questions"}, tc.flag...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d", tc.flag, code)
		}
		cr := csv.NewReader(strings.NewReader(stdout))
		cr.Comma = tc.comma
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("%v: does not parse: %v\n%s", tc.flag, err, stdout)
		}
		if len(rows) != len(names)+1 {
			t.Fatalf("%v: %d rows, want %d", tc.flag, len(rows), len(names)+1)
		}
		for i, n := range names {
			row := rows[i+1]
			if len(row) != 3 || row[1] != n {
				t.Errorf("%v: row %d = %q, want SrcIP %q", tc.flag, i+1, row, n)
				continue
			}
			var qs []struct{ Name string }
			if err := json.Unmarshal([]byte(row[2]), &qs); err != nil || len(qs) != 1 || qs[0].Name != n {
				t.Errorf("%v: row %d Questions %q (%v), want name %q", tc.flag, i+1, row[2], err, n)
			}
		}
	}
	stdout, _, _ := dumpArgs("-read", path, "-table", "-select", "FrameNumber,SrcIP")
	if n := strings.Count(stdout, "\n"); n != len(names)+2 {
		t.Errorf("table has %d lines, want %d:\n%s", n, len(names)+2, stdout)
	}
	if !strings.Contains(stdout, `line\nbreak.example`) {
		t.Errorf("table does not show the line break escaped:\n%s", stdout)
	}
}

// TestBadInputs checks files that are not record files: exit 2 (1 for a cut
// header), nothing on stdout, one line on stderr that says what the file is.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	pcap := sharedCapture(t, captureFile)
	pcapBytes, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	records := recordDir(t, false)
	gzRecords, err := os.ReadFile(filepath.Join(records, "TCP.ncap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	csvDir := recordDir(t, true)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		code int
		want []string
	}{
		{"empty", write("empty.ncap.gz", nil), 2, []string{"is empty", "not a netcap record file"}},
		{"text", write("notes.txt", []byte("Timestamp,SrcPort\nhello, world\n")), 2, []string{"is a text file", `"Timestamp,SrcPort"`}},
		{"capture -csv output", filepath.Join(csvDir, "TCP.csv.gz"), 2, []string{"is a text file", "zcat"}},
		{"pcap", pcap, 2, []string{"is a capture (pcap)", "run net capture -read " + pcap + " first"}},
		{"gzip'd pcap", write("x.pcap.gz", gzipBytes(t, pcapBytes)), 2, []string{"gzip'd pcap", "run net capture -read"}},
		{"pcapng", write("x.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a}), 2, []string{"(pcapng)"}},
		{"binary", write("junk.ncap", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}), 2, []string{"first bytes ff ff"}},
		{"gzip'd junk", write("junk.ncap.gz", gzipBytes(t, []byte{0x02, 0x18, 0x00})), 2, []string{"not a record type"}},
		{"cut inside the header", write("cut.ncap.gz", gzRecords[:30]), 1, []string{"truncated inside its header"}},
		{"folder", records, 2, []string{"is a folder", ".ncap.gz"}},
		{"missing", filepath.Join(dir, "nope.ncap.gz"), 2, []string{"does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := dumpArgs("-read", tc.path)
			if code != tc.code || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want exit %d and no output (stderr %q)", code, stdout, tc.code, stderr)
			}
			oneLine(t, stderr)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error %q does not say %q", stderr, w)
				}
			}
		})
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTruncated cuts real record files in the middle: every record before the
// cut is printed, then one error line that gives the count, exit 1.
func TestTruncated(t *testing.T) {
	dir := recordDir(t, false)
	h, recs := mustRead(t, filepath.Join(dir, "TCP.ncap.gz"))
	raw := filepath.Join(t.TempDir(), "TCP.ncap")
	writeRecords(t, raw, h, recs, false)
	for _, src := range []string{filepath.Join(dir, "TCP.ncap.gz"), raw} {
		for _, mode := range [][]string{nil, {"-json"}, {"-table"}} {
			t.Run(filepath.Base(src)+strings.Join(mode, ""), func(t *testing.T) {
				whole, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				cut := filepath.Join(t.TempDir(), "cut-"+filepath.Base(src))
				if err := os.WriteFile(cut, whole[:len(whole)*2/3], 0o644); err != nil {
					t.Fatal(err)
				}
				_, before, err := readAll(t, cut)
				if !errors.Is(err, ncio.ErrTruncated) || len(before) == 0 || len(before) >= len(recs) {
					t.Fatalf("the cut file gives %d records and %v; the test needs some records, then ErrTruncated", len(before), err)
				}
				stdout, stderr, code := dumpArgs(append([]string{"-read", cut, "-select", "FrameNumber,SrcPort"}, mode...)...)
				if code != 1 {
					t.Fatalf("exit %d, want 1", code)
				}
				oneLine(t, stderr)
				want := fmt.Sprintf("the %d records before the cut were printed", len(before))
				if !strings.Contains(stderr, "truncated") || !strings.Contains(stderr, want) {
					t.Errorf("error %q does not say %q", stderr, want)
				}
				lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				skip := map[string]int{"": 1, "-json": 0, "-table": 2}[strings.Join(mode, "")]
				if len(lines)-skip != len(before) {
					t.Fatalf("%d records printed, want %d", len(lines)-skip, len(before))
				}
				for i, m := range before {
					line := lines[i+skip]
					if len(mode) > 0 && mode[0] == "-json" {
						var obj struct{ FrameNumber int64 }
						if err := json.Unmarshal([]byte(line), &obj); err != nil || obj.FrameNumber != frameOf(m) {
							t.Errorf("line %q (%v), want frame %d", line, err, frameOf(m))
						}
						continue
					}
					if f := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' })[0]; f != strconv.FormatInt(frameOf(m), 10) {
						t.Errorf("row %d starts with %q, want frame %d", i+1, f, frameOf(m))
					}
				}
			})
		}
	}
}

// TestCorrupt appends a length prefix over the reader's limit to a whole
// file: the records before it are printed, exit 1, the reader's reason shown.
func TestCorrupt(t *testing.T) {
	h, recs := mustRead(t, filepath.Join(recordDir(t, false), "UDP.ncap.gz"))
	if len(recs) < 2 {
		t.Fatalf("the test needs at least 2 UDP records, the capture gives %d", len(recs))
	}
	path := filepath.Join(t.TempDir(), "UDP.ncap")
	writeRecords(t, path, h, recs, false)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00})
	f.Close()
	stdout, stderr, code := dumpArgs("-read", path, "-json")
	if code != 1 || strings.Count(stdout, "\n") != len(recs) {
		t.Fatalf("exit %d, %d lines; want 1 and %d records", code, strings.Count(stdout, "\n"), len(recs))
	}
	oneLine(t, stderr)
	if want := fmt.Sprintf("the %d records before it were printed", len(recs)); !strings.Contains(stderr, "exceeds") || !strings.Contains(stderr, want) {
		t.Errorf("error %q does not give the reason and %q", stderr, want)
	}
}

// TestUsage checks flag handling: bad combinations exit 2 with a message that
// names the problem, -h exits 0 with an example.
func TestUsage(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "no input: give a record file with -read"},
		{[]string{"-h"}, 0, "net dump -read traffic.net/TCP.ncap.gz -select"},
		{[]string{"-read", path, "-json", "-table"}, 2, "choose one of -json, -table and -struct"},
		{[]string{"-read", path, "-tsv", "-sep", ";"}, 2, "disagree"},
		{[]string{"-read", path, "-json", "-tsv"}, 2, "do not apply to -json"},
		{[]string{"-read", path, "-sep", `"`}, 2, "cannot hold a quote"},
		{[]string{"-read", path, "-limit", "-1"}, 2, "-limit -1"},
		{[]string{"-read", path, "-struct", "-select", "SrcPort"}, 2, "-select does not apply to -struct"},
		{[]string{"-read", path, "-fields", "-header"}, 2, "choose one"},
		{[]string{path}, 2, "the file goes after -read"},
		{[]string{"-read", path, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-bogus"}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := dumpArgs(tc.args...)
			if code != tc.code || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want %d and nothing", code, stdout, tc.code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
		})
	}
}

// failWriter fails every write with err, as stdout does once its reader is
// gone or the disk is full.
type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWriteErrors checks that a closed pipe ends quietly with exit 0 and any
// other write error is reported with exit 1.
func TestWriteErrors(t *testing.T) {
	path := filepath.Join(recordDir(t, false), "TCP.ncap.gz")
	tests := []struct {
		err  error
		code int
		want string
	}{
		{syscall.EPIPE, 0, ""},
		{&os.PathError{Op: "write", Path: "stdout", Err: syscall.EPIPE}, 0, ""},
		{&os.PathError{Op: "write", Path: "stdout", Err: syscall.ENOSPC}, 1, "net dump: writing output: "},
	}
	for _, tc := range tests {
		for _, mode := range []string{"-json", "-table", "-struct", "-header"} {
			var stderr bytes.Buffer
			code := run([]string{"-read", path, mode}, failWriter{tc.err}, &stderr)
			if code != tc.code || !strings.HasPrefix(stderr.String(), tc.want) || (tc.want == "") != (stderr.Len() == 0) {
				t.Errorf("%v %s: exit %d, stderr %q; want %d, %q", tc.err, mode, code, stderr.String(), tc.code, tc.want)
			}
		}
	}
}

// TestClosedPipe runs the command as a process whose stdout is a pipe closed
// after the first line, as "net dump ... | head -1" does: it must exit 0
// without a word, not die of SIGPIPE.
func TestClosedPipe(t *testing.T) {
	var recs []protoreflect.Message
	for i := 0; i < 20000; i++ {
		recs = append(recs, (&types.UDP{Timestamp: int64(i), FrameNumber: int64(i + 1), SrcPort: 53}).ProtoReflect())
	}
	path := filepath.Join(t.TempDir(), "UDP.ncap.gz")
	writeRecords(t, path, &types.Header{Type: types.Type_NC_UDP}, recs, true)

	cmd := exec.Command(os.Args[0], "-read", path, "-json")
	cmd.Env = append(os.Environ(), asCommand+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `{"Timestamp":0,`) {
		t.Fatalf("first line %q (%v)", line, err)
	}
	out.Close()
	err = cmd.Wait()
	if err != nil || stderr.Len() != 0 {
		t.Errorf("after the pipe closed: %v, stderr %q; want exit 0 and nothing", err, stderr.String())
	}
}

// TestEmptyRecordFile checks a file with a header and no records: CSV prints
// the header line only, JSON nothing, both exit 0.
func TestEmptyRecordFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ARP.ncap.gz")
	writeRecords(t, path, &types.Header{Type: types.Type_NC_ARP}, nil, true)
	tests := []struct {
		mode string
		want string
	}{
		{"-tsv", strings.Join(fieldNameList((&types.ARP{}).ProtoReflect().Descriptor()), "\t") + "\n"},
		{"-json", ""},
	}
	for _, tc := range tests {
		stdout, stderr, code := dumpArgs("-read", path, tc.mode)
		if code != 0 || stdout != tc.want || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0, %q", tc.mode, code, stdout, stderr, tc.want)
		}
	}
}

// BenchmarkDump measures each output mode over real TCP records, repeated to
// 10000 per file; b.N files are dumped to io.Discard.
func BenchmarkDump(b *testing.B) {
	h, recs := mustRead(b, filepath.Join(recordDir(b, false), "TCP.ncap.gz"))
	var many []protoreflect.Message
	for len(many) < 10000 {
		many = append(many, recs...)
	}
	path := filepath.Join(b.TempDir(), "TCP.ncap.gz")
	writeRecords(b, path, h, many, true)
	for _, mode := range []string{"-tsv", "-json", "-table", "-struct"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if code := run([]string{"-read", path, mode}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(len(many)*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
