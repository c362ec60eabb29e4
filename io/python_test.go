package ncio_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// systemPython is Debian's interpreter, the one python3-protobuf installs into.
const systemPython = "/usr/bin/python3"

const pyReader = "../tools/python/read_ncap.py"

// pythonCaptures are the captures whose records the Python reader must read;
// the first is the project's own and must exist, the others are used when present.
var pythonCaptures = []struct {
	path     string
	required bool
	types    []string // record files this capture must produce
}{
	{"../testdata/loopback.pcap", true, []string{"Ethernet", "IPv4", "IPv6", "TCP", "UDP", "DNS", "ICMPv4", "ICMPv6", "NTP"}},
	{"../../shared/labels/kareem-attack-scan/attack_scan.pcap", false, nil},
}

// pySummary is what read_ncap.py --records prints.
type pySummary struct {
	Type    string  `json:"type"`
	Count   int64   `json:"count"`
	Frames  []int64 `json:"frames"`
	Header  any     `json:"header"`
	First   any     `json:"first"`
	Records []any   `json:"records"`
}

// goSummary is the same, read with package ncio and put in the same JSON form.
type goSummary struct {
	typ     string
	count   int64
	frames  []int64
	header  any
	records []any
}

// TestPythonReader proves the record format is readable from another language:
// every record file the engine writes is read by tools/python/read_ncap.py
// (standard library + Debian's python3-protobuf + protoc's generated module)
// and must give the same record count, frame numbers and field values as ncio.
func TestPythonReader(t *testing.T) {
	pbDir := pythonSetup(t)

	var files, records, values int
	for _, c := range pythonCaptures {
		if _, err := os.Stat(c.path); err != nil {
			if c.required {
				t.Fatalf("capture %s: %v", c.path, err)
			}
			t.Logf("%s not present, skipped", c.path)
			continue
		}
		out := runEngine(t, c.path)
		paths, err := filepath.Glob(filepath.Join(out, "*.ncap.gz"))
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: no record files written (%v)", c.path, err)
		}
		written := map[string]bool{}
		for _, p := range paths {
			written[strings.TrimSuffix(filepath.Base(p), ".ncap.gz")] = true
		}
		for _, want := range c.types {
			if !written[want] {
				t.Errorf("%s: no %s records; the capture should hold them", c.path, want)
			}
		}
		perCapture := [2]int{}
		for _, p := range paths {
			g := readGo(t, p)
			py := readPython(t, pbDir, p)
			n := compareSummaries(t, p, g, py)
			files++
			records += int(g.count)
			values += n
			perCapture[0]++
			perCapture[1] += int(g.count)
		}
		t.Logf("%s: %d record files, %d records", c.path, perCapture[0], perCapture[1])
	}
	t.Logf("python reader: %d record files, %d records, %d field values compared, all equal to ncio's", files, records, values)
}

// TestPythonReaderTruncated checks that a cut record file makes the Python
// reader fail loudly, after the same number of records as ncio reads.
func TestPythonReaderTruncated(t *testing.T) {
	pbDir := pythonSetup(t)
	out := runEngine(t, pythonCaptures[0].path)
	src := filepath.Join(out, "TCP.ncap.gz")
	gz, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	plain := gunzip(t, gz)
	if len(plain) < 64 {
		t.Fatalf("%s: too small to cut (%d bytes)", src, len(plain))
	}
	dir := t.TempDir()
	cases := map[string][]byte{
		// the gzip stream itself is cut
		"gzip-cut.ncap.gz": gz[:len(gz)/2],
		// a complete gzip stream whose last record is cut
		"record-cut.ncap.gz": gzipBytes(t, plain[:len(plain)-3]),
		// the same without gzip
		"record-cut.ncap": plain[:len(plain)-3],
		// only a header and the first byte of a length prefix is missing its rest
		"prefix-cut.ncap": append(headerOnly(t, plain), 0x80),
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	after := regexp.MustCompile(`after (\d+) records`)
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, cases[name], 0o644); err != nil {
			t.Fatal(err)
		}
		goCount, goErr := countGo(p)
		if goErr == nil {
			t.Fatalf("%s: ncio read it without error; the cut is not a cut", name)
		}
		cmd := exec.Command(systemPython, pyReader, "--pb-dir", pbDir, p)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%s: python reader: want exit status 1, got err=%v stdout=%q stderr=%q", name, err, stdout, stderr.String())
			continue
		}
		msg := stderr.String()
		if !strings.Contains(msg, "truncated") {
			t.Errorf("%s: python reader's message does not say truncated: %q", name, msg)
		}
		m := after.FindStringSubmatch(msg)
		if m == nil {
			t.Errorf("%s: python reader's message does not say how many records it read: %q", name, msg)
			continue
		}
		if n, _ := strconv.ParseInt(m[1], 10, 64); n != goCount {
			t.Errorf("%s: python read %d records before the cut, ncio %d", name, n, goCount)
		}
		t.Logf("%s: both readers fail after %d records (ncio: %v)", name, goCount, goErr)
	}
}

// pythonSetup skips unless Debian's python3 with protobuf and protoc are
// there, and returns a folder holding netcap_pb2.py generated from netcap.proto.
func pythonSetup(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("skipped: %s not found; install Debian's python3 and python3-protobuf", systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import google.protobuf").CombinedOutput(); err != nil {
		t.Skipf("skipped: %s has no protobuf module (apt-get install python3-protobuf): %v %s", systemPython, err, bytes.TrimSpace(out))
	}
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("skipped: protoc not found (apt-get install protobuf-compiler)")
	}
	dir := t.TempDir()
	cmd := exec.Command(protoc, "--python_out="+dir, "-I.", "netcap.proto")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc --python_out: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "netcap_pb2.py")); err != nil {
		t.Fatalf("protoc wrote no netcap_pb2.py: %v", err)
	}
	return dir
}

// runEngine decodes capture into gzip'd record files in a new temporary folder.
func runEngine(t *testing.T, path string) string {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	out := t.TempDir()
	sum, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output: capture.OutputConfig{
			Dir:           out,
			Compress:      true,
			IgnoreUnknown: true,
			Version:       "python-test",
		},
	})
	if err != nil {
		t.Fatalf("capture %s: %v", path, err)
	}
	if sum.Truncated != nil {
		t.Fatalf("capture %s: %v", path, sum.Truncated)
	}
	return out
}

// readGo reads a record file with ncio, every record in read_ncap.py's JSON form.
func readGo(t *testing.T, path string) *goSummary {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatalf("ncio.Open: %v", err)
	}
	defer r.Close()
	h := r.Header()
	g := &goSummary{typ: types.Name(h.Type), header: normalize(t, toJSON(h.ProtoReflect()))}
	m := r.New()
	md := m.ProtoReflect().Descriptor()
	frame := md.Fields().ByName("FrameNumber")
	if frame == nil {
		frame = md.Fields().ByName("FrameFirst")
	}
	var recs []any
	for {
		err := r.Next(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: ncio record %d: %v", path, g.count+1, err)
		}
		recs = append(recs, toJSON(m.ProtoReflect()))
		if frame != nil && len(g.frames) < 5 {
			g.frames = append(g.frames, m.ProtoReflect().Get(frame).Int())
		}
		g.count++
	}
	if recs != nil {
		g.records = normalize(t, recs).([]any)
	}
	return g
}

// countGo counts the records ncio reads before the first error.
func countGo(path string) (int64, error) {
	r, err := ncio.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for {
		if _, err := r.NextRaw(); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// toJSON builds m in read_ncap.py's form: every field by its .proto name,
// bytes in standard base64, enums by name, unset message fields nil,
// non-finite floats as Python's str() writes them.
func toJSON(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		name := string(fd.Name())
		switch {
		case fd.IsMap():
			mv := map[string]any{}
			m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				mv[k.String()] = valueJSON(fd.MapValue(), v)
				return true
			})
			out[name] = mv
		case fd.IsList():
			l := m.Get(fd).List()
			vals := make([]any, l.Len())
			for j := range vals {
				vals[j] = valueJSON(fd, l.Get(j))
			}
			out[name] = vals
		case fd.Message() != nil && !m.Has(fd):
			out[name] = nil
		default:
			out[name] = valueJSON(fd, m.Get(fd))
		}
	}
	return out
}

func valueJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return toJSON(v.Message())
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int64(v.Enum())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return v.Uint()
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "nan"
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		}
		return f
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	}
	return fmt.Sprintf("unhandled kind %v", fd.Kind())
}

// normalize round-trips v through JSON so that it has the types the decoder
// gives python's output (json.Number, string, bool, nil, []any, map[string]any).
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// readPython runs read_ncap.py --records on path and decodes its JSON,
// keeping numbers exact.
func readPython(t *testing.T, pbDir, path string) *pySummary {
	t.Helper()
	cmd := exec.Command(systemPython, pyReader, "--pb-dir", pbDir, "--records", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("read_ncap.py %s: %v\n%s", filepath.Base(path), err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var s pySummary
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("read_ncap.py %s: output is not the expected JSON: %v\n%.500s", filepath.Base(path), err, out)
	}
	return &s
}

// compareSummaries reports the differences (at most maxDiffs per file) and
// returns the number of values compared.
func compareSummaries(t *testing.T, path string, g *goSummary, py *pySummary) int {
	t.Helper()
	name := filepath.Base(path)
	if py.Type != g.typ {
		t.Errorf("%s: type: python %q, ncio %q", name, py.Type, g.typ)
	}
	if py.Count != g.count {
		t.Errorf("%s: count: python %d, ncio %d", name, py.Count, g.count)
	}
	if int64(len(py.Records)) != py.Count {
		t.Errorf("%s: python counts %d records but lists %d", name, py.Count, len(py.Records))
	}
	if fmt.Sprint(py.Frames) != fmt.Sprint(g.frames) {
		t.Errorf("%s: first frame numbers: python %v, ncio %v", name, py.Frames, g.frames)
	}
	c := &comparer{t: t, file: name}
	c.compare("header", g.header, py.Header)
	var first any
	if len(g.records) > 0 {
		first = g.records[0]
	}
	c.compare("first", first, py.First)
	c.compare("records", g.records, py.Records)
	if c.diffs > maxDiffs {
		t.Errorf("%s: %d more differences not shown", name, c.diffs-maxDiffs)
	}
	return c.values
}

const maxDiffs = 10

// comparer walks two decoded JSON trees (ncio's, python's) side by side.
type comparer struct {
	t      *testing.T
	file   string
	values int // leaf values compared
	diffs  int
}

func (c *comparer) fail(path string, want, got any) {
	c.diffs++
	if c.diffs <= maxDiffs {
		c.t.Errorf("%s: %s: python %v, ncio %v", c.file, path, jsonText(got), jsonText(want))
	}
}

func (c *comparer) compare(path string, want, got any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			c.fail(path, want, got)
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				c.fail(path+"."+k, wv, "<missing>")
				continue
			}
			c.compare(path+"."+k, wv, gv)
		}
		for k, gv := range g {
			if _, ok := w[k]; !ok {
				c.fail(path+"."+k, "<missing>", gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok && !(len(w) == 0 && got == nil) {
			c.fail(path, want, got)
			return
		}
		if len(g) != len(w) {
			c.fail(path+" length", len(w), len(g))
			return
		}
		for i := range w {
			c.compare(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	case json.Number:
		c.values++
		g, ok := got.(json.Number)
		if !ok || !sameNumber(w, g) {
			c.fail(path, want, got)
		}
	default: // string, bool, nil
		c.values++
		if want != got {
			c.fail(path, want, got)
		}
	}
}

// sameNumber compares integers by their digits and floats by value (python
// writes 0.0 where Go writes 0).
func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	isFloat := func(n json.Number) bool { return strings.ContainsAny(string(n), ".eE") }
	if !isFloat(a) && !isFloat(b) {
		return false
	}
	x, err1 := strconv.ParseFloat(string(a), 64)
	y, err2 := strconv.ParseFloat(string(b), 64)
	return err1 == nil && err2 == nil && x == y
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// headerOnly returns the length-delimited header at the start of plain.
func headerOnly(t *testing.T, plain []byte) []byte {
	t.Helper()
	size, k := binary.Uvarint(plain)
	if k <= 0 || k+int(size) > len(plain) {
		t.Fatal("record file does not start with a length-delimited header")
	}
	return append([]byte(nil), plain[:k+int(size)]...)
}
