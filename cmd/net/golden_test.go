package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// Golden files in the style of Zeek's btest baselines: for every capture in
// testdata/, what `net dump -json` prints for each record file `net capture`
// writes, committed under testdata/golden/<capture>/<Type>.json, so a fresh
// clone checks its whole output without the shared corpus.

var update = flag.Bool("update", false, "rewrite testdata/golden/ from the current output of net capture and net dump")

const updateHint = "if the change is intended, rewrite the golden files with: go test ./cmd/net -run TestGolden -update (and review git diff testdata/golden)"

// asCommand makes the test binary act as the net command, so the test runs
// `net capture` and `net dump` as a user does: real processes, real stdout.
const asCommand = "NETCAP_NET_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// netCmd runs the test binary as `net args...` and returns stdout and stderr.
func netCmd(t *testing.T, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCommand+"=1", "TZ=UTC")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("net %s: %v\n%s", strings.Join(args, " "), err, e.String())
	}
	return o.Bytes(), e.Bytes()
}

// testdataCaptures lists the project's own captures.
func testdataCaptures(t *testing.T) []string {
	t.Helper()
	var caps []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "testdata", pat))
		if err != nil {
			t.Fatal(err)
		}
		caps = append(caps, m...)
	}
	sort.Strings(caps)
	if len(caps) == 0 {
		t.Fatal("no capture in testdata/")
	}
	return caps
}

// captureName is the capture's file name without its extensions, the name of
// its folder under testdata/golden/.
func captureName(path string) string {
	name := filepath.Base(path)
	for _, ext := range []string{".gz", ".pcapng", ".pcap"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// summary is what testdata/golden/<capture>/summary.json holds: the counts of
// net capture's summary, which depend only on the capture (not the elapsed
// time, rate or number of workers it also prints).
type summary struct {
	Packets int64 `json:"packets"`
	Records int64 `json:"records"`
	// Unknown and Errors are the summary's counts; UnknownPcap and
	// ErrorsPcap the packets found in unknown.pcap and errors.pcap.
	Unknown     int64            `json:"unknown"`
	Errors      int64            `json:"errors"`
	UnknownPcap int64            `json:"unknown.pcap"`
	ErrorsPcap  int64            `json:"errors.pcap"`
	Types       map[string]int64 `json:"types"`
}

var (
	totalsLine = regexp.MustCompile(`: (\d+) packets, (\d+) records, (\d+) unknown \(unknown\.pcap\), (\d+) errors \(errors\.pcap\)`)
	typeRow    = regexp.MustCompile(`^│\s*([A-Za-z0-9]+)\s*│\s*(\d+)\s*│\s*[0-9.]+%\s*│$`)
)

// parseSummary reads the counts out of net capture's summary on stderr.
func parseSummary(t *testing.T, text []byte) summary {
	t.Helper()
	s := summary{Types: map[string]int64{}}
	found := false
	for _, line := range strings.Split(string(text), "\n") {
		if m := typeRow.FindStringSubmatch(line); m != nil {
			s.Types[m[1]] = atoi(t, m[2])
		}
		if m := totalsLine.FindStringSubmatch(line); m != nil {
			s.Packets, s.Records, s.Unknown, s.Errors = atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3]), atoi(t, m[4])
			found = true
		}
	}
	if !found {
		t.Fatalf("net capture's summary has no line \"<input>: N packets, N records, N unknown (unknown.pcap), N errors (errors.pcap)\"; "+
			"if its format changed, change parseSummary in cmd/net/golden_test.go. The summary was:\n%s", text)
	}
	return s
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pcapPackets counts the packets of a pcap file net capture wrote; a file that
// is not there holds none.
func pcapPackets(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
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
	var n int64
	for {
		_, _, err := r.ReadPacketData()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, n+1, err)
		}
		n++
	}
}

// TestGolden runs net capture on every capture in testdata/ and compares
// `net dump -json` of every record file, and the summary's counts, with
// testdata/golden/. With -update it rewrites them instead.
func TestGolden(t *testing.T) {
	for _, capPath := range testdataCaptures(t) {
		name := captureName(capPath)
		t.Run(name, func(t *testing.T) {
			got := goldenOutput(t, capPath)
			dir := filepath.Join("..", "..", "testdata", "golden", name)
			if *update {
				writeGolden(t, dir, got)
				return
			}
			compareGolden(t, dir, got)
		})
	}
}

// goldenOutput runs the commands and returns the golden files' contents by
// file name.
func goldenOutput(t *testing.T, capPath string) map[string][]byte {
	out := filepath.Join(t.TempDir(), "out")
	_, stderr := netCmd(t, "capture", "-read", capPath, "-out", out, "-workers", "2")
	sum := parseSummary(t, stderr)
	sum.UnknownPcap = pcapPackets(t, filepath.Join(out, "unknown.pcap"))
	sum.ErrorsPcap = pcapPackets(t, filepath.Join(out, "errors.pcap"))

	files := map[string][]byte{}
	recFiles, err := filepath.Glob(filepath.Join(out, "*.ncap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recFiles) == 0 {
		t.Fatalf("net capture wrote no record file for %s", capPath)
	}
	for _, f := range recFiles {
		typ := strings.TrimSuffix(filepath.Base(f), ".ncap.gz")
		stdout, _ := netCmd(t, "dump", "-read", f, "-json")
		files[typ+".json"] = stdout
		// The summary and the files must agree before either is trusted.
		if lines := int64(bytes.Count(stdout, []byte("\n"))); lines != sum.Types[typ] {
			t.Errorf("%s: net dump -json printed %d records, the capture summary says %d", filepath.Base(f), lines, sum.Types[typ])
		}
	}
	for typ := range sum.Types {
		if _, ok := files[typ+".json"]; !ok {
			t.Errorf("the capture summary counts %d %s records, but there is no %s.ncap.gz", sum.Types[typ], typ, typ)
		}
	}
	if sum.UnknownPcap != sum.Unknown || sum.ErrorsPcap != sum.Errors {
		t.Errorf("summary: %d unknown and %d errors, but unknown.pcap holds %d packets and errors.pcap %d",
			sum.Unknown, sum.Errors, sum.UnknownPcap, sum.ErrorsPcap)
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files["summary.json"] = append(b, '\n')
	return files
}

func writeGolden(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d files to %s", len(files), dir)
}

// readGolden reads the golden files of one capture by file name; nil when the
// folder does not exist.
func readGolden(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want[e.Name()] = b
	}
	return want
}

func compareGolden(t *testing.T, dir string, got map[string][]byte) {
	t.Helper()
	want := readGolden(t, dir)
	if want == nil {
		t.Fatalf("%s does not exist: this capture has no golden files yet; make them with: go test ./cmd/net -run TestGolden -update", dir)
	}
	problems := goldenProblems(filepath.ToSlash(filepath.Join("testdata", "golden", filepath.Base(dir))), want, got)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Log(updateHint)
	}
}

// goldenProblems compares the golden files (want) of the folder named dir with
// the current output (got) and describes each difference.
func goldenProblems(dir string, want, got map[string][]byte) []string {
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var problems []string
	for _, n := range names {
		path := dir + "/" + n
		w, inWant := want[n]
		g, inGot := got[n]
		switch {
		case !inGot:
			problems = append(problems, fmt.Sprintf("%s: the output has no such file now (net capture no longer writes %s records)", path, strings.TrimSuffix(n, ".json")))
		case !inWant:
			problems = append(problems, fmt.Sprintf("%s: new output with no golden file (%d lines)", path, bytes.Count(g, []byte("\n"))))
		case !bytes.Equal(w, g):
			problems = append(problems, fmt.Sprintf("%s differs from the current output:\n%s", path, strings.TrimSuffix(lineDiff(path, w, g), "\n")))
		}
	}
	return problems
}

// lineDiff describes where want and got first differ, in the style of a
// unified diff: a hunk around the first differing lines (at most a few), and
// for JSON lines the fields whose values differ.
func lineDiff(path string, want, got []byte) string {
	wl := strings.SplitAfter(string(want), "\n")
	gl := strings.SplitAfter(string(got), "\n")
	first := 0
	for first < len(wl) && first < len(gl) && wl[first] == gl[first] {
		first++
	}
	// The end of the differing run: the first line again the same on both
	// sides, at the same offset, or at most maxLines lines.
	const context, maxLines = 2, 3
	end := first
	for end < first+maxLines && (end < len(wl) || end < len(gl)) {
		if end < len(wl) && end < len(gl) && wl[end] == gl[end] {
			break
		}
		end++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s (golden, %d lines)\n+++ net dump -json now (%d lines)\n", path, countLines(wl), countLines(gl))
	from := max(first-context, 0)
	fmt.Fprintf(&b, "@@ first difference at line %d @@\n", first+1)
	for i := from; i < first; i++ {
		b.WriteString(" " + short(wl[i], 100))
	}
	for i := first; i < end && i < len(wl); i++ {
		b.WriteString("-" + short(wl[i], 400))
	}
	for i := first; i < end && i < len(gl); i++ {
		b.WriteString("+" + short(gl[i], 400))
	}
	if first < len(wl) && first < len(gl) {
		if fields := fieldDiff(wl[first], gl[first]); fields != "" {
			fmt.Fprintf(&b, "line %d, fields that differ: %s\n", first+1, fields)
		}
	}
	return b.String()
}

func countLines(l []string) int {
	if len(l) > 0 && l[len(l)-1] == "" {
		return len(l) - 1
	}
	return len(l)
}

// short cuts a line to a readable length; the field list says what differs.
func short(line string, limit int) string {
	line = strings.TrimSuffix(line, "\n")
	if len(line) > limit {
		line = line[:limit] + fmt.Sprintf("… (%d more bytes)", len(line)-limit)
	}
	return line + "\n"
}

// fieldDiff names the top-level fields of two JSON objects whose values differ,
// with both values; empty when either line is not a JSON object.
func fieldDiff(want, got string) string {
	var w, g map[string]json.RawMessage
	if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
		return ""
	}
	keys := map[string]bool{}
	for k := range w {
		keys[k] = true
	}
	for k := range g {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		wv, inW := w[k]
		gv, inG := g[k]
		switch {
		case !inW:
			parts = append(parts, fmt.Sprintf("%s: new, %s", k, clip(gv)))
		case !inG:
			parts = append(parts, fmt.Sprintf("%s: gone (was %s)", k, clip(wv)))
		case !bytes.Equal(wv, gv):
			parts = append(parts, fmt.Sprintf("%s: golden %s, now %s", k, clip(wv), clip(gv)))
		}
	}
	return strings.Join(parts, "; ")
}

func clip(v json.RawMessage) string {
	if len(v) > 80 {
		return string(v[:80]) + "…"
	}
	return string(v)
}

// TestGoldenDetectsChange proves the comparison can fail: one byte changed in
// a copy of the golden files, a file missing or a new one are each reported,
// with the line and, for JSON, the field.
func TestGoldenDetectsChange(t *testing.T) {
	want := readGolden(t, filepath.Join("..", "..", "testdata", "golden", "loopback"))
	if want == nil {
		t.Fatal("testdata/golden/loopback is missing; make it with: go test ./cmd/net -run TestGolden -update")
	}
	copyOf := func() map[string][]byte {
		m := map[string][]byte{}
		for k, v := range want {
			m[k] = bytes.Clone(v)
		}
		return m
	}
	if p := goldenProblems("g", want, copyOf()); len(p) != 0 {
		t.Fatalf("identical files reported as different: %v", p)
	}
	// nth returns the offset of the n-th occurrence of sub in b.
	nth := func(b []byte, sub string, n int) int {
		off := -1
		for i := 0; i < n; i++ {
			j := bytes.Index(b[off+1:], []byte(sub))
			if j < 0 {
				t.Fatalf("fewer than %d %q in the golden file", n, sub)
			}
			off += 1 + j
		}
		return off
	}
	tests := []struct {
		name   string
		change func(m map[string][]byte)
		says   []string
	}{
		{"one digit of a field", func(m map[string][]byte) {
			b := m["TCP.json"]
			i := nth(b, `"SrcPort":`, 10) + len(`"SrcPort":`)
			b[i] ^= 1 // a digit stays a digit
		}, []string{"TCP.json differs", "@@ first difference at line 10 @@", "fields that differ: SrcPort: golden"}},
		{"a byte that breaks the JSON", func(m map[string][]byte) {
			b := m["DNS.json"]
			b[nth(b, "\n{", 3)+1] = '['
		}, []string{"DNS.json differs", "@@ first difference at line 4 @@", "\n-[", "\n+{"}},
		{"a count in the summary", func(m map[string][]byte) {
			m["summary.json"] = bytes.Replace(m["summary.json"], []byte(`"packets": `), []byte(`"packets": 1`), 1)
		}, []string{"summary.json differs", `-  "packets": 1`}},
		{"a golden file missing", func(m map[string][]byte) { delete(m, "NTP.json") },
			[]string{"NTP.json: new output with no golden file (4 lines)"}},
		{"a golden file the output lacks", func(m map[string][]byte) { m["Foo.json"] = []byte("{}\n") },
			[]string{"Foo.json: the output has no such file now (net capture no longer writes Foo records)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := copyOf()
			tt.change(changed)
			// changed plays the golden side, want the current output.
			problems := goldenProblems("testdata/golden/loopback", changed, want)
			if len(problems) != 1 {
				t.Fatalf("want 1 problem, got %d: %q", len(problems), problems)
			}
			for _, s := range tt.says {
				if !strings.Contains(problems[0], s) {
					t.Errorf("the report does not say %q:\n%s", s, problems[0])
				}
			}
		})
	}
}
