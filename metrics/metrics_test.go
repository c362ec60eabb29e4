package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// decode runs the engine on path with e hooked in, into a fresh folder.
func decode(t *testing.T, path string, e *Exporter) (*capture.Summary, string) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2, Entropy: true},
		Output: capture.OutputConfig{
			Dir:           t.TempDir(),
			Compress:      true,
			IgnoreUnknown: true,
		},
	}
	e.Hook(&cfg)
	sum, err := capture.Run(context.Background(), src, cfg)
	if sum == nil {
		t.Fatalf("%s: %v", path, err)
	}
	e.SetSummary(sum)
	return sum, cfg.Output.Dir
}

// seriesCount counts the netcap_ series of a gather (histogram buckets each
// count: they are series in Prometheus too).
func seriesCount(t *testing.T, e *Exporter) int {
	t.Helper()
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "netcap_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				n += len(h.GetBucket()) + 3 // buckets, +Inf, _sum, _count
				continue
			}
			n++
		}
	}
	return n
}

func scrape(t *testing.T, e *Exporter) []byte {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(e.Registry(), promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loopback() string { return filepath.Join("..", "testdata", "loopback.pcap") }

// seriesBound is the most netcap_ series one exporter may hold, whatever it
// was fed: about 90 record types x 2, a few dozen label values per traffic
// counter, 6 top-N lists x 20, and the histograms' buckets.
const seriesBound = 1500

// TestSeriesBoundedSharedCorpus feeds every shared capture through one
// exporter: the series count stays under seriesBound although the corpus has
// thousands of distinct IPs, hosts and ports.
func TestSeriesBoundedSharedCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "pcaps")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared captures absent (%v): the ../shared folder beside the repository holds them", err)
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && regexp.MustCompile(`\.(pcap|pcapng|cap)(\.gz)?$`).MatchString(d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no captures under " + root)
	}
	e := New(Options{})
	var packets int64
	maxSeries := 0
	for _, f := range files {
		src, err := capture.OpenFile(f)
		if err != nil {
			continue // not a capture the engine reads: its own tests cover that
		}
		src.Close()
		sum, _ := decode(t, f, e)
		packets += sum.Packets
		if n := seriesCount(t, e); n > maxSeries {
			maxSeries = n
		}
	}
	t.Logf("%d captures, %d packets: %d netcap_ series (bound %d)", len(files), packets, maxSeries, seriesBound)
	if maxSeries >= seriesBound {
		t.Errorf("%d series, bound %d", maxSeries, seriesBound)
	}
	for _, list := range e.top.current {
		if len(list) > 20 {
			t.Errorf("top list holds %d > 20 entries", len(list))
		}
	}
}

// TestLimiter: a label fed from traffic maps values past its limit to other.
func TestLimiter(t *testing.T) {
	e := New(Options{})
	for i := 0; i < 1000; i++ {
		e.Packet(true, fmt.Sprintf("Layer%d: bad length %d", i, i))
		e.Packet(false, fmt.Sprintf("unknown layer %d", i))
	}
	body := scrape(t, e)
	for _, m := range []string{"netcap_error_packets_total{", "netcap_unknown_packets_total{"} {
		if n := bytes.Count(body, []byte("\n"+m)); n != 65 {
			t.Errorf("%s: %d series from 1000 distinct reasons, want 64 + other", m, n)
		}
	}
	if !bytes.Contains(body, []byte(`netcap_error_packets_total{layer="other"} 936`)) {
		t.Errorf("values past the limit not counted as other")
	}
}

// decodeScraping runs the engine on path like decode and scrapes e from
// the record hook after every every-th record, while the run goes on: the
// worker that scrapes waits meanwhile, the other worker and the writer go
// on.
func decodeScraping(t *testing.T, path string, e *Exporter, every int) (*capture.Summary, [][]byte) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// Small batches, so that even the smallest of the captures is many
	// more batches than the pool holds: the scrapes come while the
	// reader is still held back, not after it has finished.
	cfg := capture.Config{
		Input:    capture.InputConfig{BatchSize: 8},
		Decoding: capture.DecodeConfig{Workers: 2, Entropy: true},
		Output: capture.OutputConfig{
			Dir:           t.TempDir(),
			Compress:      true,
			IgnoreUnknown: true,
		},
	}
	e.Hook(&cfg)
	record := cfg.Hooks.OnRecord
	var mu sync.Mutex
	var bodies [][]byte
	n := 0
	cfg.Hooks.OnRecord = func(w int, typ types.Type, m proto.Message, size int) {
		record(w, typ, m, size)
		mu.Lock()
		defer mu.Unlock()
		if n++; n%every == 0 {
			bodies = append(bodies, scrape(t, e))
		}
	}
	sum, err := capture.Run(context.Background(), src, cfg)
	if sum == nil {
		t.Fatalf("%s: %v", path, err)
	}
	e.SetSummary(sum)
	return sum, bodies
}

// gauge reads the value of one series of a scrape; it fails the test when
// the series is absent.
func gauge(t *testing.T, body []byte, series string) float64 {
	t.Helper()
	s := value(body, series+" ")
	if s == "" {
		t.Fatalf("the scrape has no %s:\n%.3000s", series, body)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// engineGauges are the series of the running engine's gauges with 2 workers.
var engineGauges = []string{
	`netcap_worker_queue_depth{worker="0"}`, `netcap_worker_queue_depth{worker="1"}`, `netcap_writer_queue_depth`,
	`netcap_reassembly_buffered_bytes{kind="tcp_stream"}`, `netcap_reassembly_buffered_bytes{kind="ip_fragments"}`,
	`netcap_open_connections`,
}

// midRunCapture is the shared capture the scrapes during a run use (the
// largest of the corpus that decodes without errors: HTTP, FTP, DNS and
// more, 1350 packets), or loopback.pcap when the corpus is absent.
func midRunCapture() string {
	p := filepath.Join("..", "..", "shared", "pcaps", "suricata-verify", "output-eve-ftp-data__input.pcap")
	if _, err := os.Stat(p); err != nil {
		return loopback()
	}
	return p
}

// TestEngineGauges scrapes the exporter while the engine decodes shared
// captures: the queue and reassembly gauges are there in every scrape,
// within the engine's bounds, and at zero once the run has ended.
func TestEngineGauges(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "pcaps")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared captures absent (%v): the ../shared folder beside the repository holds them", err)
	}
	// Each capture makes one gauge move: many flows; a TCP stream whose
	// hole is never filled, so that its later segments wait to the end;
	// an IP datagram of the largest size in fragments over a tunnel.
	for _, c := range []struct {
		rel   string
		moves int // index in engineGauges of the gauge some scrape sees above 0
	}{
		{"suricata-verify/output-eve-ftp-data__input.pcap", 5},
		{"suricata-verify/tcp-rst-unacked-stream-12__TLPW1-tcp-110.37.219.134-10.12.14.101-tcp-990-49254.pcap", 3},
		{"suricata-verify/defrag__eth-ip-gre-ppp-max-ip-packet.pcap", 4},
	} {
		rel := c.rel
		e := New(Options{})
		sum, bodies := decodeScraping(t, filepath.Join(root, rel), e, 50)
		if len(bodies) < 10 {
			t.Fatalf("%s: %d scrapes during the run", rel, len(bodies))
		}
		var most [6]float64
		packets := 0.0
		for _, body := range bodies {
			// The packet counter is read from the engine at the
			// scrape: it moves within the first second too (the
			// engine's Progress comes once a second), never back.
			v := gauge(t, body, "netcap_packets_total")
			if v < 1 || v < packets {
				t.Errorf("%s: netcap_packets_total %v during the run after %v", rel, v, packets)
			}
			packets = v
			for i, series := range engineGauges {
				v := gauge(t, body, series)
				most[i] = max(most[i], v)
				if v < 0 || v != float64(int64(v)) {
					t.Errorf("%s: %s %v during the run", rel, series, v)
				}
			}
			// 2 workers: no more than the pool's batches.
			pool := float64(capture.BatchPool(2))
			for _, series := range engineGauges[:2] {
				if v := gauge(t, body, series); v > pool {
					t.Errorf("%s: %s %v, more than the %v batches of the pool", rel, series, v, pool)
				}
			}
			if v := gauge(t, body, `netcap_writer_queue_depth`); v > pool {
				t.Errorf("%s: netcap_writer_queue_depth %v, more than the %v batches of the pool", rel, v, pool)
			}
			// The default bounds: 256 MiB of stream and 2 x 64 MiB of
			// fragments a worker.
			if v := gauge(t, body, `netcap_reassembly_buffered_bytes{kind="tcp_stream"}`); v > 2*256<<20 {
				t.Errorf("%s: %v stream bytes held, beyond the 2 workers' bounds", rel, v)
			}
			if v := gauge(t, body, `netcap_reassembly_buffered_bytes{kind="ip_fragments"}`); v > 4*64<<20 {
				t.Errorf("%s: %v fragment bytes held, beyond the 2 workers' bounds", rel, v)
			}
		}
		if most[c.moves] == 0 {
			t.Errorf("%s: no scrape saw %s above 0", rel, engineGauges[c.moves])
		}
		if most[3] > float64(sum.Decoder.StreamMemoryPeak)*2 {
			t.Errorf("%s: a scrape saw %v stream bytes, the run's peak was %d a worker", rel, most[3], sum.Decoder.StreamMemoryPeak)
		}
		after := scrape(t, e)
		for _, series := range engineGauges {
			if v := gauge(t, after, series); v != 0 {
				t.Errorf("%s: %s %v after the run, want 0", rel, series, v)
			}
		}
		t.Logf("%s: %d packets, %d scrapes during the run; highest: worker queues %v and %v, writer queue %v, stream bytes %v, fragment bytes %v, open connections %v",
			filepath.Base(rel), sum.Packets, len(bodies), most[0], most[1], most[2], most[3], most[4], most[5])
	}
}

// TestPromtool runs promtool check metrics on real scrapes: one taken
// while the engine runs (the engine's gauges are there) and one after.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool missing: .ci/run installs Debian's prometheus package")
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	check := func(what string, body []byte) {
		t.Helper()
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics, %s: %v\n%s", what, err, out)
		}
	}
	_, bodies := decodeScraping(t, midRunCapture(), New(Options{}), 50)
	if len(bodies) == 0 {
		t.Fatal("no scrape during the run")
	}
	mid := bodies[len(bodies)/2]
	for _, series := range engineGauges {
		gauge(t, mid, series)
	}
	check("during a run", mid)

	e := New(Options{})
	decode(t, loopback(), e)
	body := scrape(t, e)
	check("after a run", body)
	// The checker does fail on a bad name: a counter without _total.
	bad := append(append([]byte(nil), body...), "# HELP netcap_bad Bad.\n# TYPE netcap_bad counter\nnetcap_bad 1\n"...)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(bad)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("promtool accepted a counter without _total: %s", out)
	}
}

// TestReplay: replaying the record files counts the same records.
func TestReplay(t *testing.T) {
	live := New(Options{})
	sum, dir := decode(t, loopback(), live)
	e := New(Options{})
	st, err := Replay(context.Background(), dir, 0, e)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, n := range sum.Records {
		total += n
	}
	if st.Records != total {
		t.Errorf("replayed %d records, the run wrote %d", st.Records, total)
	}
	a, b := scrape(t, live), scrape(t, e)
	for _, m := range []string{`netcap_records_total{type="TCP"} `, `netcap_http_requests_total{method="GET",status_class="2xx"} `, `netcap_tls_hellos_total{side="client",version="TLS1.2"} `} {
		if va, vb := value(a, m), value(b, m); va == "" || va != vb {
			t.Errorf("%s: run %q, replay %q", m, va, vb)
		}
	}
	// Every series made from the records agrees, and so do the top lists;
	// the engine's own counters and gauges, and the packets it set aside,
	// are not in a replay.
	engine := []string{"netcap_packets_total", "netcap_unknown_total", "netcap_errors_total", "netcap_input_bytes_total",
		"netcap_dropped_packets_total", "netcap_decoder_", "netcap_worker_queue_depth", "netcap_writer_queue_depth",
		"netcap_reassembly_buffered_bytes", "netcap_open_connections", "netcap_output_bytes",
		"netcap_unknown_packets_total", "netcap_error_packets_total"}
	sameSeries(t, "run then replay", gathered(t, live), gathered(t, e), func(s string) bool {
		for _, p := range engine {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
		return false
	})
	if fmt.Sprint(live.top.current) != fmt.Sprint(e.top.current) {
		t.Errorf("top lists of the run %v, of the replay %v", live.top.current, e.top.current)
	}
	// At speed 1 the replay takes the capture's span.
	start := time.Now()
	st, err = Replay(context.Background(), dir, 100, New(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if el, want := time.Since(start), st.Span/100; el < want-10*time.Millisecond {
		t.Errorf("speed 100 replay of %v took %v, want at least %v", st.Span, el, want)
	}
}

func value(scrape []byte, prefix string) string {
	for _, l := range strings.Split(string(scrape), "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimPrefix(l, prefix)
		}
	}
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestPrometheusScrape starts Debian's prometheus server scraping the
// exporter, waits for two scrapes and checks through its HTTP API that the
// packet counter equals the capture's packet count.
func TestPrometheusScrape(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus missing: .ci/run installs Debian's prometheus package")
		}
		t.Skip("prometheus not installed (apt-get install prometheus)")
	}
	e := New(Options{})
	sum, _ := decode(t, loopback(), e)
	exp := httptest.NewServer(promhttp.HandlerFor(e.Registry(), promhttp.HandlerOpts{}))
	defer exp.Close()
	target := strings.TrimPrefix(exp.URL, "http://")

	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: netcap
    metrics_path: /metrics
    static_configs:
      - targets: ['%s']
`, target)), 0o644)
	web := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()

	query := func(q string) (float64, bool) {
		resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			return 0, false
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n, ok := query(`count_over_time(netcap_packets_total{job="netcap"}[5m])`); ok && n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus made no two scrapes in 60s; its log:\n%s", logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if v, ok := query(`netcap_packets_total{job="netcap"}`); !ok || int64(v) != sum.Packets {
		t.Errorf("netcap_packets_total = %v (%v), capture had %d packets", v, ok, sum.Packets)
	}
	if v, ok := query(`netcap_records_total{job="netcap",type="TCP"}`); !ok || int64(v) != sum.Records["TCP"] {
		t.Errorf("TCP records = %v, capture wrote %d", v, sum.Records["TCP"])
	}
	if v, ok := query(`up{job="netcap"}`); !ok || v != 1 {
		t.Errorf("up = %v", v)
	}
	t.Logf("prometheus scraped %s: netcap_packets_total %d", target, sum.Packets)
}

// TestDashboard parses the Grafana dashboard and checks that every query
// names a metric the exporter defines, and that each section is there.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title         string
		SchemaVersion int `json:"schemaVersion"`
		Panels        []struct {
			Title   string
			Type    string
			GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				Expr  string
				RefID string `json:"refId"`
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("not a Grafana dashboard: title %q schemaVersion %d panels %d", d.Title, d.SchemaVersion, len(d.Panels))
	}
	known := map[string]bool{}
	for _, n := range New(Options{}).MetricNames() {
		known[n] = true
	}
	nameRE := regexp.MustCompile(`netcap_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.GridPos == nil || len(p.Targets) == 0 {
			t.Errorf("panel %q: no gridPos or no queries", p.Title)
		}
		for _, q := range p.Targets {
			names := nameRE.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no netcap metric", p.Title, q.Expr)
			}
			for _, n := range names {
				base := n
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if strings.HasSuffix(n, suf) && known[strings.TrimSuffix(n, suf)] {
						base = strings.TrimSuffix(n, suf)
					}
				}
				if !known[base] {
					t.Errorf("panel %q: %s is not an exported metric", p.Title, n)
				}
				used[base] = true
			}
		}
	}
	for _, need := range []string{"netcap_packets_total", "netcap_records_total", "netcap_error_packets_total", "netcap_dropped_packets_total", "netcap_http_requests_total", "netcap_dns_messages_total", "netcap_tls_hellos_total",
		"netcap_worker_queue_depth", "netcap_writer_queue_depth", "netcap_reassembly_buffered_bytes"} {
		if !used[need] {
			t.Errorf("the dashboard does not show %s", need)
		}
	}
}

// TestDocsListMetrics: docs/metrics.md names every metric the exporter
// defines.
func TestDocsListMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range New(Options{}).MetricNames() {
		if !bytes.Contains(b, []byte("`"+name)) {
			t.Errorf("docs/metrics.md does not name %s", name)
		}
	}
}

// TestReplayDamaged: a record with a field its type lacks (a hostile or
// damaged file) stops the replay with the file and the record named; its
// fields are not counted as if it were whole.
func TestReplayDamaged(t *testing.T) {
	dir := t.TempDir()
	w, err := ncio.Create(filepath.Join(dir, "TCP.ncap"), &types.Header{Type: types.Type_NC_TCP}, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		m := &types.TCP{Timestamp: int64(i + 1), SrcPort: 1}
		if i == 2 {
			b, _ := proto.Marshal(m)
			b = protowire.AppendTag(b, 999, protowire.BytesType)
			b = protowire.AppendBytes(b, []byte("not a TCP field"))
			m = &types.TCP{}
			if err := proto.Unmarshal(b, m); err != nil { // kept as an unknown field
				t.Fatal(err)
			}
		}
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Replay(context.Background(), dir, 0, New(Options{}))
	if err == nil || !strings.Contains(err.Error(), w.Path()) || !strings.Contains(err.Error(), "record 3 is damaged") {
		t.Fatalf("error %v, want the file and record 3 named", err)
	}
	if st.Records != 2 {
		t.Errorf("%d records replayed, want the 2 before the damaged one", st.Records)
	}
}
