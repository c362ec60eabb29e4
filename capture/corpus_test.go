package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/types"
)

// The shared captures, seen from this package. They are never copied into
// the repository; tests that need them skip when they are absent.
const (
	corpusDir = "../../shared/pcaps"
	labelsDir = "../../shared/labels"
)

// perFileLimit is how long one capture may take before it counts as a hang.
// The biggest shared capture takes well under a second.
const perFileLimit = 20 * time.Second

// corpusFiles lists every file under corpusDir (the catalog and readme
// included: they must be refused cleanly like any other non-capture) and the
// captures of labelsDir, sorted.
func corpusFiles() []string {
	var files []string
	filepath.WalkDir(corpusDir, func(path string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	for _, pattern := range []string{"*/*.pcap", "*/*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(labelsDir, pattern))
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

// catalogPackets reads the packet counts tshark found (CATALOG.tsv), by path
// relative to corpusDir.
func catalogPackets() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open(filepath.Join(corpusDir, "CATALOG.tsv"))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 || cols[4] == "" {
			continue
		}
		if n, err := strconv.ParseInt(cols[3], 10, 64); err == nil {
			out[cols[0]] = n
		}
	}
	return out
}

type outcome int

const (
	processed outcome = iota // exit 0
	cut                      // truncated or corrupt inside: exit 1
	refused                  // not a capture: exit 2
)

var outcomeName = map[outcome]string{processed: "processed", cut: "truncated", refused: "refused"}

// TestCorpusNoCrash runs net capture over every shared capture, twice: the
// built binary as a subprocess (so that a panic in any goroutine, a hang or
// a bad exit code is seen as a real process would show it), then the engine
// in-process (for the counters). Every file must be processed (exit 0), cut
// (exit 1, "truncated" or over an input limit) or refused (exit 2, one line); both runs must agree,
// and the engine must count the same with one worker as with two. With
// -short, every tenth file only.
func TestCorpusNoCrash(t *testing.T) {
	files := corpusFiles()
	if len(files) == 0 {
		t.Skipf("no shared captures at %s: the corpus run needs them", corpusDir)
	}
	if testing.Short() {
		// Every tenth file: a quick check for edit-test loops.
		var sample []string
		for i := 0; i < len(files); i += 10 {
			sample = append(sample, files[i])
		}
		files = sample
	}
	start := time.Now()
	bin := buildNet(t)
	tmp := t.TempDir()

	// The subprocess run, two files at a time.
	type procResult struct {
		code    int
		stderr  string
		elapsed time.Duration
	}
	results := make([]procResult, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out := filepath.Join(tmp, strconv.Itoa(i))
				t0 := time.Now()
				code, stderr := runNet(bin, files[i], out, perFileLimit)
				results[i] = procResult{code, stderr, time.Since(t0)}
				os.RemoveAll(out)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	procTime := time.Since(start)

	want := make([]outcome, len(files))
	for i, r := range results {
		f, stderr := files[i], r.stderr
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("%s: net capture panicked (exit %d):\n%s", f, r.code, stderr)
			continue
		}
		switch r.code {
		case -1:
			t.Errorf("%s: net capture hung: no exit within %v", f, perFileLimit)
		case 0:
			want[i] = processed
			if stderr != "" {
				t.Errorf("%s: exit 0 with -quiet but stderr %q", f, stderr)
			}
		case 1:
			want[i] = cut
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "net capture: ") || !(strings.Contains(lines[0], "truncated") || strings.Contains(lines[0], ErrInputLimit.Error())) {
				t.Errorf("%s: exit 1 but not one line saying the capture is truncated or over an input limit: %q", f, stderr)
			}
		case 2:
			want[i] = refused
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "net capture: ") {
				t.Errorf("%s: exit 2 without a one-line \"net capture: \" reason: %q", f, stderr)
			}
		default:
			t.Errorf("%s: exit %d (want 0, 1 or 2):\n%s", f, r.code, stderr)
		}
	}

	// The in-process run, two files at a time, with the same time bound:
	// each file with one worker, then with two (compared).
	inStart := time.Now()
	type inResult struct {
		got     outcome
		sum     *Summary
		err     error
		elapsed time.Duration
	}
	inResults := make([]inResult, len(files))
	next = make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				got, sum, err := runBounded(files[i], filepath.Join(tmp, "in-process-"+strconv.Itoa(i)), 1)
				elapsed := time.Since(t0)
				if err == nil && sum != nil {
					// Two workers must give the same records: the flow hash
					// that routes packets must never split a connection.
					_, sum2, err2 := runBounded(files[i], filepath.Join(tmp, "in-process-"+strconv.Itoa(i)), 2)
					if err2 != nil {
						err = fmt.Errorf("with 2 workers: %v", err2)
					} else if d := summaryDiff(sum, sum2); d != "" {
						err = fmt.Errorf("1 and 2 workers differ: %s", d)
					}
				}
				inResults[i] = inResult{got, sum, err, elapsed}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	inTime := time.Since(inStart)

	catalog := catalogPackets()
	produced := map[string]int64{} // records per type over the corpus
	why := map[string]int64{}      // unknown packets per reason
	var shares []shareRow          // per capture: packets, unknown, errors
	var total struct{ ok, truncated, refused, packets, unknown, errors, records int64 }
	var slowest string
	var slowestTime time.Duration
	for i, f := range files {
		got, sum, err := inResults[i].got, inResults[i].sum, inResults[i].err
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if results[i].code >= 0 && results[i].code <= 2 && got != want[i] {
			t.Errorf("%s: %s in-process but %s by the command (exit %d)", f, outcomeName[got], outcomeName[want[i]], results[i].code)
		}
		if d := inResults[i].elapsed; d > slowestTime {
			slowest, slowestTime = f, d
		}
		switch got {
		case refused:
			total.refused++
			continue
		case cut:
			total.truncated++
		case processed:
			total.ok++
		}
		total.packets += sum.Packets
		total.unknown += sum.Unknown
		total.errors += sum.Errors
		for reason, n := range sum.UnknownLayers {
			why[reason] += n
		}
		var records int64
		for name, n := range sum.Records {
			records += n
			if n > 0 {
				produced[name] += n
			}
		}
		total.records += records
		if rel, err := filepath.Rel(filepath.Dir(corpusDir), f); err == nil {
			shares = append(shares, shareRow{filepath.ToSlash(rel), sum.Packets, sum.Unknown, sum.Errors, records})
		}
		if sum.Unknown < 0 || sum.Errors < 0 || sum.Unknown+sum.Errors > sum.Packets {
			t.Errorf("%s: %d unknown and %d errors of %d packets", f, sum.Unknown, sum.Errors, sum.Packets)
		}
		if rel, err := filepath.Rel(corpusDir, f); err == nil && got == processed {
			if n, ok := catalog[filepath.ToSlash(rel)]; ok && n != sum.Packets {
				t.Errorf("%s: %d packets read, tshark counts %d", f, sum.Packets, n)
			}
		}
	}
	t.Logf("%d files: %d processed, %d truncated, %d refused; %d packets, %d unknown (%.1f%%), %d errors, %d records",
		len(files), total.ok, total.truncated, total.refused, total.packets, total.unknown,
		100*float64(total.unknown)/float64(max(total.packets, 1)), total.errors, total.records)
	checkCoverage(t, produced, !testing.Short())
	reasons := sortedKeys(why)
	sort.SliceStable(reasons, func(i, j int) bool { return why[reasons[i]] > why[reasons[j]] })
	var top []string
	for _, r := range reasons[:min(len(reasons), 12)] {
		top = append(top, fmt.Sprintf("%s %d", r, why[r]))
	}
	t.Logf("why packets ended unknown (most first): %s", strings.Join(top, ", "))
	checkUnknownShare(t, shares, !testing.Short())
	t.Logf("subprocess run (2 at a time, build included) %v, in-process run %v; slowest file in-process %s (%v)",
		procTime.Round(time.Millisecond), inTime.Round(time.Millisecond), slowest, slowestTime.Round(time.Millisecond))
}

// runBounded runs the engine over one file in-process and classifies it. A
// run that takes longer than perFileLimit is reported as a hang (its
// goroutine is left behind; the test fails anyway).
func runBounded(path, out string, workers int) (outcome, *Summary, error) {
	defer os.RemoveAll(out)
	src, err := OpenFile(path)
	if err != nil {
		if msg := err.Error(); !strings.HasPrefix(msg, "capture: ") || strings.Contains(msg, "\n") {
			return refused, nil, fmt.Errorf("OpenFile error is not one line starting with \"capture: \": %q", msg)
		}
		return refused, nil, nil
	}
	type result struct {
		sum *Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer src.Close()
		sum, err := Run(context.Background(), src, Config{
			Decoding: DecodeConfig{Workers: workers},
			Output:   OutputConfig{Dir: out, Compress: false},
		})
		done <- result{sum, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return processed, nil, fmt.Errorf("Run: %v", r.err)
		}
		if r.sum.Truncated != nil {
			if !errors.Is(r.sum.Truncated, ErrTruncatedCapture) {
				return cut, nil, fmt.Errorf("Truncated is %v, not an ErrTruncatedCapture", r.sum.Truncated)
			}
			return cut, r.sum, nil
		}
		return processed, r.sum, nil
	case <-time.After(perFileLimit):
		return processed, nil, fmt.Errorf("hang: Run did not return within %v", perFileLimit)
	}
}

// summaryDiff says how two summaries of one capture differ in what they
// count; "" when they do not.
func summaryDiff(a, b *Summary) string {
	var d []string
	if a.Packets != b.Packets || a.Unknown != b.Unknown || a.Errors != b.Errors {
		d = append(d, fmt.Sprintf("packets/unknown/errors %d/%d/%d vs %d/%d/%d", a.Packets, a.Unknown, a.Errors, b.Packets, b.Unknown, b.Errors))
	}
	names := map[string]bool{}
	for n := range a.Records {
		names[n] = true
	}
	for n := range b.Records {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		if a.Records[n] != b.Records[n] {
			d = append(d, fmt.Sprintf("%s records %d vs %d", n, a.Records[n], b.Records[n]))
		}
	}
	return strings.Join(d, ", ")
}

// minRecordTypes is how many distinct record types the shared corpus must
// produce (the coverage report): of the 61 record types, a few need
// traffic the corpus may not hold.
const minRecordTypes = 50

// checkCoverage logs which record types the corpus produced and which it
// never did, and (on a full run) asserts at least minRecordTypes of them.
func checkCoverage(t *testing.T, produced map[string]int64, full bool) {
	t.Helper()
	var never []string
	for _, typ := range decoder.RecordTypes() {
		if name := types.Name(typ); produced[name] == 0 {
			never = append(never, name)
		}
	}
	sort.Strings(never)
	t.Logf("record types produced: %d of %d; never produced: %s", len(produced), len(decoder.RecordTypes()), strings.Join(never, ", "))
	if full && len(produced) < minRecordTypes {
		t.Errorf("the corpus produced %d record types, want at least %d (never produced: %s)", len(produced), minRecordTypes, strings.Join(never, ", "))
	}
}

// shareRow is one capture's line of the unknown-share baseline.
type shareRow struct {
	path                              string // relative to the shared folder
	packets, unknown, errors, records int64
}

// baselineFile holds, per shared capture, the packets read, how many of
// them ended in unknown.pcap and errors.pcap and the records made, as the
// last accepted run counted them. It is a regression baseline, not an
// oracle: the test fails when a capture's unknown or error count rises
// above it or a capture that gave records gives none, and says so when one
// gets better, so that a decoder change shows what it cost or gained.
const baselineFile = "testdata/unknown-share.tsv"

const updateBaselineEnv = "NETCAP_UPDATE_BASELINE"

func readBaseline(path string) (map[string]shareRow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows := map[string]shareRow{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			return nil, fmt.Errorf("%s:%d: want 5 tab-separated columns, got %d", path, i+1, len(cols))
		}
		var n [4]int64
		for j := range n {
			if n[j], err = strconv.ParseInt(cols[j+1], 10, 64); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
			}
		}
		rows[cols[0]] = shareRow{cols[0], n[0], n[1], n[2], n[3]}
	}
	return rows, nil
}

func writeBaseline(path string, rows []shareRow) error {
	var b strings.Builder
	b.WriteString("# capture (relative to the shared folder)\tpackets\tunknown\terrors\trecords\n")
	b.WriteString("# regression baseline of TestCorpusNoCrash; " + updateBaselineEnv + "=1 go test -run TestCorpusNoCrash ./capture/ rewrites it\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\n", r.path, r.packets, r.unknown, r.errors, r.records)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// checkUnknownShare reports the share of packets that end in unknown.pcap
// per capture and compares every capture's unknown and error counts with the
// baseline. With NETCAP_UPDATE_BASELINE=1 (full run only) it rewrites the
// baseline instead.
func checkUnknownShare(t *testing.T, rows []shareRow, full bool) {
	t.Helper()
	sort.Slice(rows, func(i, j int) bool { return rows[i].path < rows[j].path })
	// the captures where most packets end unknown, for the log
	top := append([]shareRow(nil), rows...)
	sort.SliceStable(top, func(i, j int) bool {
		return float64(top[i].unknown)/float64(max(top[i].packets, 1)) > float64(top[j].unknown)/float64(max(top[j].packets, 1))
	})
	var lines []string
	for _, r := range top[:min(len(top), 15)] {
		if r.unknown == 0 {
			break
		}
		lines = append(lines, fmt.Sprintf("%s %d/%d (%.0f%%)", r.path, r.unknown, r.packets, 100*float64(r.unknown)/float64(max(r.packets, 1))))
	}
	t.Logf("highest unknown shares: %s", strings.Join(lines, "; "))
	var none []string
	for _, r := range rows {
		if r.records == 0 {
			none = append(none, r.path)
		}
	}
	t.Logf("captures without a single record: %d of %d (%.1f%%): %s", len(none), len(rows),
		100*float64(len(none))/float64(max(len(rows), 1)), strings.Join(none, ", "))

	if os.Getenv(updateBaselineEnv) == "1" {
		if !full {
			t.Fatalf("%s=1 needs the full corpus run (without -short)", updateBaselineEnv)
		}
		if err := writeBaseline(baselineFile, rows); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d captures", baselineFile, len(rows))
		return
	}
	base, err := readBaseline(baselineFile)
	if err != nil {
		t.Fatalf("unknown-share baseline: %v; %s=1 writes it", err, updateBaselineEnv)
	}
	seen := map[string]bool{}
	var better, unlisted []string
	for _, r := range rows {
		seen[r.path] = true
		b, ok := base[r.path]
		if !ok {
			unlisted = append(unlisted, r.path)
			continue
		}
		if r.unknown > b.unknown {
			t.Errorf("%s: %d of %d packets unknown, the baseline has %d", r.path, r.unknown, r.packets, b.unknown)
		}
		if r.errors > b.errors {
			t.Errorf("%s: %d of %d packets are decode errors, the baseline has %d", r.path, r.errors, r.packets, b.errors)
		}
		if r.records == 0 && b.records > 0 {
			t.Errorf("%s: no record, the baseline has %d", r.path, b.records)
		}
		if r.packets != b.packets {
			t.Logf("%s: %d packets read, the baseline has %d", r.path, r.packets, b.packets)
		}
		if r.unknown < b.unknown || r.errors < b.errors || r.records > 0 && b.records == 0 {
			better = append(better, fmt.Sprintf("%s unknown %d->%d errors %d->%d records %d->%d", r.path, b.unknown, r.unknown, b.errors, r.errors, b.records, r.records))
		}
	}
	var gone []string
	if full {
		for p := range base {
			if !seen[p] {
				gone = append(gone, p)
			}
		}
		sort.Strings(gone)
	}
	if len(better) > 0 {
		t.Logf("improved on the baseline (%d captures): %s", len(better), strings.Join(better, "; "))
	}
	if len(unlisted) > 0 {
		t.Logf("not in the baseline (%d captures): %s", len(unlisted), strings.Join(unlisted, ", "))
	}
	if len(gone) > 0 {
		t.Logf("in the baseline but not run (%d captures): %s", len(gone), strings.Join(gone, ", "))
	}
	if len(better)+len(unlisted)+len(gone) > 0 {
		t.Logf("to accept these counts as the new baseline: %s=1 go test -run TestCorpusNoCrash ./capture/", updateBaselineEnv)
	}
}
