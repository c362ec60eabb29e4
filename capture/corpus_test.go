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
// (exit 1, "truncated") or refused (exit 2, one line); both runs must agree,
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
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "net capture: ") || !strings.Contains(lines[0], "truncated") {
				t.Errorf("%s: exit 1 but not one line saying the capture is truncated: %q", f, stderr)
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
		for _, n := range sum.Records {
			total.records += n
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
		sum, err := Run(context.Background(), src, Config{Out: out, Workers: workers, Compress: false})
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
