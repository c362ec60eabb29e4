package maltego

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchEnv names a record folder of a large capture (the bench capture of
// tools/bench: make bench, then toAuditRecords on it) for TestRecordsTiming.
const benchEnv = "NETCAP_TRANSFORM_BENCH"

// TestRecordsTiming runs transforms over the records of a large capture and
// fails when one answers in 2 s or more. It runs only when NETCAP_TRANSFORM_BENCH
// names the records; NETCAP_TRANSFORM_RUN picks transforms (comma separated).
func TestRecordsTiming(t *testing.T) {
	dir := os.Getenv(benchEnv)
	if dir == "" {
		t.Skip(benchEnv + " not set: no large record folder to time transforms on")
	}
	names := []string{"toAuditRecords", "toSourceIPs", "toConnectionsForHost", "toTCPFlagCombinations", "toEthernetTypes"}
	if env := os.Getenv("NETCAP_TRANSFORM_RUN"); env != "" {
		names = strings.Split(env, ",")
	}
	for _, name := range names {
		a := Args{Value: "x", Props: map[string]string{"path": dir}}
		if name == "toAuditRecords" {
			pcap := strings.TrimSuffix(dir, ".net")
			a = Args{Value: pcap, Props: map[string]string{"path": pcap}}
		}
		var out, log bytes.Buffer
		start := time.Now()
		Run(name, a, Options{Limit: DefaultLimit, Opener: "none"}, &out, &log)
		took := time.Since(start)
		m := parseXML(t, out.Bytes())
		t.Logf("%s: %d entities in %v", name, len(m.Response.Entities), took.Round(time.Millisecond))
		if took >= 2*time.Second {
			t.Errorf("%s took %v, more than 2 s", name, took)
		}
	}
}

// topRanked with a limit returns the same values, in the same order, as a
// full sort cut at the limit (seeded random counts with many ties).
func TestTopRanked(t *testing.T) {
	rnd := rand.New(rand.NewSource(11))
	for round := 0; round < 50; round++ {
		n := rnd.Intn(2000)
		all := make([]ranked, n)
		for i := range all {
			all[i] = ranked{fmt.Sprintf("v%d", rnd.Intn(5000)), &item{count: int64(rnd.Intn(20))}}
		}
		want := append([]ranked(nil), all...)
		sort.SliceStable(want, func(i, j int) bool { return want[i].before(want[j]) })
		limit := rnd.Intn(300)
		if limit > 0 && len(want) > limit {
			want = want[:limit]
		}
		got := topRanked(append([]ranked(nil), all...), limit)
		if len(got) != len(want) {
			t.Fatalf("n %d limit %d: %d values, want %d", n, limit, len(got), len(want))
		}
		for i := range got {
			if got[i].value != want[i].value || got[i].it.count != want[i].it.count {
				t.Fatalf("n %d limit %d: #%d is %s/%d, want %s/%d", n, limit, i, got[i].value, got[i].it.count, want[i].value, want[i].it.count)
			}
		}
	}
}

// toAuditRecords keeps its counts in the record folder and uses an entry
// only while its file keeps the size and modification time it had.
func TestAuditRecordsCountCache(t *testing.T) {
	_, src := records(t)
	pcap := filepath.Join(t.TempDir(), "copy.pcap")
	os.WriteFile(pcap, nil, 0o644) // the folder exists: no capture
	dir := pcap + ".net"
	os.Mkdir(dir, 0o755)
	files, _ := filepath.Glob(filepath.Join(src, "*.ncap.gz"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	a := Args{Value: pcap, Props: map[string]string{"path": pcap}}
	counts := func() map[string]int64 {
		m, _ := runT(t, "toAuditRecords", a, 0)
		got := map[string]int64{}
		for _, e := range checkAnswer(t, m, "") {
			got[e.Value] = e.Weight
		}
		return got
	}
	fresh := counts()
	cache, err := os.ReadFile(filepath.Join(dir, countsFile))
	if err != nil {
		t.Fatalf("no count cache: %v", err)
	}
	if n := strings.Count(string(cache), "\n"); n != len(files) {
		t.Errorf("cache has %d lines for %d files", n, len(files))
	}
	// A forged count with the right size and time is believed...
	lines := strings.Split(strings.TrimSpace(string(cache)), "\n")
	f := strings.Split(lines[0], "\t")
	name := strings.TrimSuffix(f[0], ".ncap.gz")
	f[3] = "999999"
	lines[0] = strings.Join(f, "\t")
	os.WriteFile(filepath.Join(dir, countsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if got := counts(); got[name] != 999999 {
		t.Errorf("%s: %d records, the cache says 999999", name, got[name])
	}
	// ...until the file changes.
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(dir, f[0]), later, later)
	got := counts()
	for k, v := range fresh {
		if got[k] != v {
			t.Errorf("%s: %d records after the change, %d counted afresh", k, got[k], v)
		}
	}
}
