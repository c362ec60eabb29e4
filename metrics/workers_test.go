package metrics

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/types"
)

// gathered is every netcap_ series of e by name and labels (sorted by
// label name), histograms as their _sum and _count.
func gathered(t *testing.T, e *Exporter) map[string]float64 {
	t.Helper()
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "netcap_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			labels := "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()+labels] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()+labels] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_sum"+labels] = m.GetHistogram().GetSampleSum()
				out[mf.GetName()+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// exportRun runs the engine on path with a fresh exporter hooked and
// returns its series (save those about the workers themselves, which differ
// with their number) and its top-N lists.
func exportRun(t *testing.T, path string, workers int, csv bool) (map[string]float64, [topKinds][]topEntry) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	e := New(Options{})
	cfg := capture.Config{
		Input:    capture.InputConfig{BatchSize: 16},
		Decoding: capture.DecodeConfig{Workers: workers, Entropy: true},
		Output: capture.OutputConfig{
			Dir:           t.TempDir(),
			CSV:           csv,
			IgnoreUnknown: true,
		},
	}
	e.Hook(&cfg)
	sum, err := capture.Run(context.Background(), src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.SetSummary(sum)
	series := gathered(t, e)
	for s := range series {
		if strings.HasPrefix(s, "netcap_worker_queue_depth{") || strings.HasPrefix(s, "netcap_decoder_peak{") {
			delete(series, s)
		}
	}
	if series[`netcap_records_total{type="TCP"}`] == 0 {
		t.Fatalf("%s: no TCP records counted", path)
	}
	return series, e.top.current
}

// sameSeries reports the series that differ between a and b, but for those
// skip says to leave out.
func sameSeries(t *testing.T, what string, a, b map[string]float64, skip func(string) bool) {
	t.Helper()
	for s, v := range a {
		w, ok := b[s]
		if !skip(s) && (!ok || math.Abs(v-w) > 1e-9*math.Max(1, math.Abs(v))) {
			t.Errorf("%s: %s is %v, then %v (present: %v)", what, s, v, w, ok)
		}
	}
	for s, w := range b {
		if _, ok := a[s]; !ok && !skip(s) {
			t.Errorf("%s: %s is %v, absent before", what, s, w)
		}
	}
}

// TestWorkersAgree runs the engine with the exporter hooked on loopback.pcap
// and the mid-run capture, with 1 worker and with 4: every series and top-N
// list is the same, save those that are about the workers themselves.
func TestWorkersAgree(t *testing.T) {
	for _, path := range []string{loopback(), midRunCapture()} {
		one, top1 := exportRun(t, path, 1, false)
		four, top4 := exportRun(t, path, 4, false)
		sameSeries(t, filepath.Base(path)+", 1 worker then 4", one, four, func(string) bool { return false })
		if fmt.Sprint(top1) != fmt.Sprint(top4) {
			t.Errorf("%s: top lists with 1 worker %v, with 4 %v", path, top1, top4)
		}
		t.Logf("%s: %d series agree", filepath.Base(path), len(one))
	}
}

// TestCSVCounted: a run that writes CSV counts the same records and traffic
// as one that writes protobuf records; only the bytes differ.
func TestCSVCounted(t *testing.T) {
	ncap, top1 := exportRun(t, loopback(), 2, false)
	csv, top2 := exportRun(t, loopback(), 2, true)
	sameSeries(t, "protobuf then CSV", ncap, csv, func(s string) bool {
		return strings.HasPrefix(s, "netcap_record_bytes_total{") || strings.HasPrefix(s, "netcap_output_bytes")
	})
	if fmt.Sprint(top1) != fmt.Sprint(top2) {
		t.Errorf("top lists for protobuf %v, for CSV %v", top1, top2)
	}
	if a, b := ncap[`netcap_record_bytes_total{type="TCP"}`], csv[`netcap_record_bytes_total{type="TCP"}`]; a == 0 || b == 0 || a == b {
		t.Errorf("TCP record bytes: protobuf %v, CSV %v; want both counted, and different", a, b)
	}
}

// TestTrackedAcrossShards: 4 workers count 40,000 distinct destination IPs
// each at the same time; the list keeps maxTracked of them in all, not
// maxTracked a worker.
func TestTrackedAcrossShards(t *testing.T) {
	const workers, each = 4, 40000
	e := New(Options{})
	e.top.grow(workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &types.Connection{TransportProto: "TCP", TotalSize: 1}
			for i := range each {
				c.DstIP = fmt.Sprintf("10.%d.%d.%d", w, i>>8, i&0xff)
				e.Record(w, types.Type_NC_Connection, c, 10)
			}
		}()
	}
	wg.Wait()
	kept := 0
	for _, sh := range *e.top.shards.Load() {
		kept += len(sh.counts[topDstIP])
	}
	if kept != maxTracked || e.top.budget[topDstIP].keys.Load() != maxTracked {
		t.Errorf("%d destination IPs kept (budget says %d) of %d, want %d", kept, e.top.budget[topDstIP].keys.Load(), workers*each, maxTracked)
	}
	e.Refresh()
	if n := e.top.budget[topDstIP].keys.Load(); n != 0 {
		t.Errorf("after a refresh the budget holds %d", n)
	}
	if got := e.top.current[topDstIP]; len(got) != 20 || got[0].v != 1 {
		t.Errorf("top list %v", got)
	}
}

// TestInvalidUTF8 feeds records whose strings are not UTF-8 (the decoders
// never make them; marshalling and unmarshalling refuse them): nothing
// panics at the scrape, the application protocol becomes other, and the
// top-N lists skip the values.
func TestInvalidUTF8(t *testing.T) {
	e := New(Options{})
	e.Record(0, types.Type_NC_Connection, &types.Connection{TransportProto: "TCP", ApplicationProto: "HT\xffTP", SrcIP: "10.0.0.\xfe"}, 10)
	e.Record(0, types.Type_NC_TLSClientHello, &types.TLSClientHello{SNI: "bad\xc0.example"}, 10)
	e.Refresh()
	body := scrape(t, e)
	if v := value(body, `netcap_connections_total{app="other",transport="TCP"} `); v != "1" {
		t.Errorf("connection with an application protocol that is not UTF-8: %q, want other 1\n%s", v, body)
	}
	for k, list := range e.top.current {
		if len(list) > 0 {
			t.Errorf("top list %d holds %v", k, list)
		}
	}
}

// TestLongLabels feeds the exporter 5,000 HTTP requests with distinct 60 KB
// Host headers, which were kept whole, from 4 workers at once: label values
// are cut to MaxLabelBytes, the bytes the list keeps per interval over all
// workers are bounded, and the heap stays small.
func TestLongLabels(t *testing.T) {
	const workers = 4
	e := New(Options{TopN: 5})
	e.top.grow(workers)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := []byte(strings.Repeat("é", 30<<10)) // 60 KB, 2 bytes a character
			for i := w; i < 5000; i += workers {
				copy(host, fmt.Sprintf("%05d.", i))
				e.Record(w, types.Type_NC_HTTP, &types.HTTP{Host: string(host)}, len(host))
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Errorf("heap grew by %d bytes for 5,000 hosts of 60 KB, want at most 16 MiB", grown)
	}
	kept := 0
	for _, sh := range *e.top.shards.Load() {
		for key := range sh.counts[topHTTPHost] {
			kept += len(key)
		}
	}
	if n := e.top.budget[topHTTPHost].bytes.Load(); n > maxTrackedBytes || int64(kept) != n || kept == 0 {
		t.Errorf("the host list keeps %d bytes (budget says %d), want at most %d", kept, n, maxTrackedBytes)
	}
	e.Refresh()
	list := e.top.current[topHTTPHost]
	if len(list) != 5 {
		t.Fatalf("%d hosts in the top list, want 5", len(list))
	}
	for _, en := range list {
		if len(en.key) > MaxLabelBytes || !strings.HasSuffix(en.key, "...") || !utf8.ValidString(en.key) || !strings.HasPrefix(en.key, "0000") {
			t.Errorf("label value of %d bytes %.20q...: want at most %d bytes of valid UTF-8 ending in ...", len(en.key), en.key, MaxLabelBytes)
		}
	}
	// Scraping it works (every label value valid).
	if body := scrape(t, e); !strings.Contains(string(body), "netcap_top_http_host_requests{host=\"0000") {
		t.Errorf("scrape lacks the cut host:\n%.2000s", body)
	}
}

// TestLimiterConcurrent: 4 workers ask a limiter of 64 for 1,000 values at
// the same time; exactly 64 pass, and a value that passed once always does.
func TestLimiterConcurrent(t *testing.T) {
	l := newLimiter(64)
	var mu sync.Mutex
	passed := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				v := fmt.Sprintf("app%d", (i*7+w*13)%1000)
				if l.value(v) == v {
					mu.Lock()
					passed[v] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(passed) != 64 {
		t.Errorf("%d values passed, want 64", len(passed))
	}
	for v := range passed {
		if got := l.value(v); got != v {
			t.Errorf("%s passed before, now %s", v, got)
		}
	}
	if got := l.value("one more"); got != "other" {
		t.Errorf("a new value past the limit is %q, want other", got)
	}
}
