// Package metrics turns what the engine decodes into Prometheus metrics for
// "net export".
//
// Cardinality is bounded by construction: labels hold only values from small
// fixed sets (record type, layer, error kind, TCP flag combination, DNS
// response code, HTTP method and status class, TLS version, application
// protocol), and every label whose values come from the traffic passes a
// limiter that maps values beyond its first few dozen to "other". Values
// without bound (hosts, IPs, SNI, JA3) appear only in the top-N gauges, which
// hold at most N series each and are recomputed every refresh interval.
// The original netcap made one series per record with every field as a label,
// which no Prometheus survives.
package metrics

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/types"
)

// Options configure an Exporter.
type Options struct {
	TopN int    // series per top-N gauge; 0 means 20
	Out  string // folder whose record files' size is exported as netcap_output_bytes; "" for none
}

// Exporter holds the metrics. Record is called by the engine's workers, each
// with its own worker number, at the same time; Packet by the engine's
// Writer; scrapes and Refresh may come at any time.
type Exporter struct {
	reg  *prometheus.Registry
	opts Options

	// engine health, set from the engine's Progress and Summary
	packets, unknown, errs, input, kernel, behind atomic.Int64
	decoder                                       atomic.Pointer[capture.Summary]
	// the running engine's queues and reassembly memory, read at scrape
	// time
	monitor capture.Monitor

	records      *prometheus.CounterVec
	recordBytes  *prometheus.CounterVec
	unknownPkts  *prometheus.CounterVec
	errorPkts    *prometheus.CounterVec
	tcpSegments  *prometheus.CounterVec
	dnsMessages  *prometheus.CounterVec
	httpRequests *prometheus.CounterVec
	httpSize     *prometheus.HistogramVec
	httpTime     prometheus.Histogram
	tlsHellos    *prometheus.CounterVec
	connections  *prometheus.CounterVec
	connDuration *prometheus.HistogramVec
	connSize     *prometheus.HistogramVec
	entropy      *prometheus.HistogramVec
	payloadSize  *prometheus.HistogramVec

	unknownReason, errorKind, appProto *limiter

	// top holds the top-N lists and the shards that record goes to.
	top *topSet

	tcpPayload, udpPayload, tcpEntropy, udpEntropy prometheus.Observer
}

// typeSeries are the counters of one record type.
type typeSeries struct{ records, bytes prometheus.Counter }

// limiter passes the first max distinct values of a label and maps later
// ones to "other", so a label fed from traffic cannot grow without bound.
// Workers ask it at the same time: the values passed are a map that is
// copied to add one (at most max times), so that asking takes no lock.
type limiter struct {
	mu   sync.Mutex // held to add a value
	max  int
	seen atomic.Pointer[map[string]bool]
}

func newLimiter(max int) *limiter {
	l := &limiter{max: max}
	l.seen.Store(&map[string]bool{})
	return l
}

func (l *limiter) value(v string) string {
	seen := *l.seen.Load()
	if seen[v] {
		return v
	}
	if len(seen) >= l.max {
		return "other"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	seen = *l.seen.Load()
	if seen[v] {
		return v
	}
	if len(seen) >= l.max {
		return "other"
	}
	next := make(map[string]bool, len(seen)+1)
	for k := range seen {
		next[k] = true
	}
	next[strings.Clone(v)] = true
	l.seen.Store(&next)
	return v
}

// Buckets. Sizes grow in powers of two (here of four, to keep the bucket
// count low), durations from a millisecond to about an hour, entropy in bits
// per byte from 0 to 8.
var (
	sizeBuckets     = prometheus.ExponentialBuckets(64, 4, 10)       // 64 B .. 16 MiB
	durationBuckets = prometheus.ExponentialBuckets(0.001, 4, 12)    // 1 ms .. ~70 min
	latencyBuckets  = prometheus.ExponentialBuckets(0.0005, 2.5, 12) // 0.5 ms .. ~30 s
	entropyBuckets  = prometheus.LinearBuckets(0.5, 0.5, 16)         // 0.5 .. 8 bits/byte
)

// New returns an Exporter with its metrics registered, together with the Go
// runtime and process collectors.
func New(opts Options) *Exporter {
	if opts.TopN <= 0 {
		opts.TopN = 20
	}
	e := &Exporter{
		reg:           prometheus.NewRegistry(),
		opts:          opts,
		unknownReason: newLimiter(64),
		errorKind:     newLimiter(64),
		appProto:      newLimiter(32),
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "netcap", Name: name, Help: help}, labels)
	}
	e.records = counter("records_total", "Audit records written, by record type.", "type")
	e.recordBytes = counter("record_bytes_total", "Bytes of records written, uncompressed (length prefix included), by record type.", "type")
	e.unknownPkts = counter("unknown_packets_total", "Packets with a layer no decoder reads (written to unknown.pcap), by reason.", "reason")
	e.errorPkts = counter("error_packets_total", "Packets that failed to decode (written to errors.pcap), by the layer that failed.", "layer")
	e.tcpSegments = counter("tcp_segments_total", "TCP segments, by the combination of flags set (e.g. SYN,ACK).", "flags")
	e.dnsMessages = counter("dns_messages_total", "DNS messages, by direction (query or response) and response code.", "direction", "rcode")
	e.httpRequests = counter("http_requests_total", "HTTP requests seen in TCP streams, by method and response status class (none: no response).", "method", "status_class")
	e.tlsHellos = counter("tls_hellos_total", "TLS handshake hellos, by side (client or server) and version.", "side", "version")
	e.connections = counter("connections_total", "Connections ended (Connection records), by transport and application protocol.", "transport", "app")
	e.httpSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "netcap", Name: "http_message_size_bytes", Help: "Size of HTTP messages (header and body), by direction.", Buckets: sizeBuckets}, []string{"direction"})
	e.httpTime = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "netcap", Name: "http_response_time_seconds", Help: "Time from an HTTP request to its response, in packet time.", Buckets: latencyBuckets})
	e.connDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "netcap", Name: "connection_duration_seconds", Help: "Duration of ended connections, in packet time, by transport.", Buckets: durationBuckets}, []string{"transport"})
	e.connSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "netcap", Name: "connection_size_bytes", Help: "Bytes of all packets of ended connections, by transport.", Buckets: sizeBuckets}, []string{"transport"})
	e.entropy = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "netcap", Name: "payload_entropy", Help: "Shannon entropy of non-empty TCP and UDP payloads, in bits per byte: 0 to 8 (needs -entropy).", Buckets: entropyBuckets}, []string{"layer"})
	e.payloadSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "netcap", Name: "payload_size_bytes", Help: "Size of TCP and UDP payloads, by layer.", Buckets: prometheus.ExponentialBuckets(16, 2, 12)}, []string{"layer"})
	e.top = newTopSet(opts.TopN)
	e.tcpPayload, e.udpPayload = e.payloadSize.WithLabelValues("TCP"), e.payloadSize.WithLabelValues("UDP")
	e.tcpEntropy, e.udpEntropy = e.entropy.WithLabelValues("TCP"), e.entropy.WithLabelValues("UDP")
	e.reg.MustRegister(e.records, e.recordBytes, e.unknownPkts, e.errorPkts, e.tcpSegments, e.dnsMessages,
		e.httpRequests, e.tlsHellos, e.connections, e.httpSize, e.httpTime, e.connDuration, e.connSize,
		e.entropy, e.payloadSize, (*healthCollector)(e), e.top,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return e
}

// Registry returns the registry to serve.
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// Hook fills the engine's hooks of cfg so that the run feeds e: one shard of
// the exporter for each of the run's workers and one for its Writer.
func (e *Exporter) Hook(cfg *capture.Config) {
	workers := cfg.Decoding.Workers
	if workers <= 0 {
		// As capture.Run resolves it; were they to differ, workers
		// would share shards, which is safe, only slower.
		workers = runtime.NumCPU()
	}
	e.top.grow(workers + 1)
	h := &cfg.Hooks
	h.OnRecord = e.Record
	h.OnPacket = e.Packet
	h.Monitor = &e.monitor
	prev := h.Progress
	h.Progress = func(s capture.Stats) {
		e.SetStats(s)
		if prev != nil {
			prev(s)
		}
	}
}

// SetStats takes the engine's counters.
func (e *Exporter) SetStats(s capture.Stats) {
	e.packets.Store(s.Packets)
	e.unknown.Store(s.Unknown)
	e.errs.Store(s.Errors)
	e.input.Store(s.Done)
	e.kernel.Store(s.Kernel)
	e.behind.Store(s.Behind)
}

// SetSummary takes the final counts of a finished run, so that the counters
// equal what the run reports, and its decoder statistics.
func (e *Exporter) SetSummary(s *capture.Summary) {
	e.packets.Store(s.Packets)
	e.unknown.Store(s.Unknown)
	e.errs.Store(s.Errors)
	e.kernel.Store(s.KernelDrops)
	e.behind.Store(s.Behind)
	e.decoder.Store(s)
	e.Refresh()
}

// SetInput sets the bytes of input consumed (a run's last Progress may come
// before its end).
func (e *Exporter) SetInput(n int64) { e.input.Store(n) }

// Refresh recomputes the top-N gauges from what was counted since the last
// refresh (an interval without traffic keeps the previous lists).
func (e *Exporter) Refresh() { e.top.refresh() }

// Packet counts a packet that went to unknown.pcap or errors.pcap.
func (e *Exporter) Packet(failed bool, reason string) {
	if failed {
		// Reasons are "<layer>: <error text>"; the text may hold
		// numbers, so only the layer becomes a label.
		kind, _, _ := strings.Cut(reason, ":")
		if strings.HasPrefix(reason, "more than") {
			kind = "too many layers"
		}
		e.errorPkts.WithLabelValues(e.errorKind.value(kind)).Inc()
		return
	}
	e.unknownPkts.WithLabelValues(e.unknownReason.value(reason)).Inc()
}

// Record counts one record: it is the engine's OnRecord hook (see
// capture.Hooks). size is the record's bytes as written. Calls with
// different worker numbers may run at the same time: each number has its
// own shard, whose lock only Refresh contends for.
func (e *Exporter) Record(worker int, t types.Type, m proto.Message, size int) {
	sh := e.top.shard(worker)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ts := sh.series(e, t)
	ts.records.Inc()
	ts.bytes.Add(float64(size))
	e.inspect(sh, m)
}

// inspect counts what the traffic metrics need of one record. Label values
// taken from the traffic (application protocol, top-N keys) must be valid
// UTF-8: marshalling and unmarshalling make sure of it, and a value that is
// not is dropped rather than exported.
func (e *Exporter) inspect(sh *shard, m proto.Message) {
	switch r := m.(type) {
	case *types.TCP:
		combo := 0
		for i, on := range [len(tcpFlagNames)]bool{r.SYN, r.FIN, r.RST, r.PSH, r.ACK, r.URG, r.ECE, r.CWR, r.NS} {
			if on {
				combo |= 1 << i
			}
		}
		c := sh.flagCombos[combo]
		if c == nil {
			c = e.tcpSegments.WithLabelValues(tcpFlags(combo))
			sh.flagCombos[combo] = c
		}
		c.Inc()
		e.tcpPayload.Observe(float64(r.PayloadSize))
		if r.PayloadSize > 0 && r.PayloadEntropy > 0 {
			e.tcpEntropy.Observe(r.PayloadEntropy)
		}
	case *types.UDP:
		e.udpPayload.Observe(float64(r.PayloadSize))
		if r.PayloadSize > 0 && r.PayloadEntropy > 0 {
			e.udpEntropy.Observe(r.PayloadEntropy)
		}
	case *types.DNS:
		dir := "query"
		if r.QR {
			dir = "response"
		}
		sh.counter(e.dnsMessages, dir, rcodeName(r.ResponseCode)).Inc()
		if r.QR {
			return
		}
		for _, q := range r.Questions {
			e.top.count(sh, topDNS, q.GetName(), true, 1)
		}
	case *types.HTTP:
		sh.counter(e.httpRequests, httpMethod(r.Method), statusClass(r.StatusCode)).Inc()
		if r.RequestSize > 0 {
			sh.observer(e.httpSize, "request").Observe(float64(r.RequestSize))
		}
		if r.ResponseTimestamp > 0 {
			sh.observer(e.httpSize, "response").Observe(float64(r.ResponseSize))
			if d := r.ResponseTimestamp - r.Timestamp; d >= 0 {
				e.httpTime.Observe(float64(d) / 1e9)
			}
		}
		e.top.count(sh, topHTTPHost, r.Host, true, 1)
	case *types.TLSClientHello:
		sh.counter(e.tlsHellos, "client", tlsVersion(r.HandshakeVersion)).Inc()
		e.top.count(sh, topSNI, r.SNI, true, 1)
		e.top.count(sh, topJA3, r.Ja3, false, 1)
	case *types.TLSServerHello:
		version := r.Version
		if r.SupportedVersion != 0 {
			version = r.SupportedVersion
		}
		sh.counter(e.tlsHellos, "server", tlsVersion(version)).Inc()
	case *types.Connection:
		tr := transport(r.TransportProto)
		app := "unknown"
		if a := r.ApplicationProto; a != "" {
			app = "other"
			if utf8.ValidString(a) {
				app = e.appProto.value(a)
			}
		}
		size := float64(r.TotalSize)
		sh.counter(e.connections, tr, app).Inc()
		sh.observer(e.connDuration, tr).Observe(float64(r.Duration) / 1e9)
		sh.observer(e.connSize, tr).Observe(size)
		e.top.count(sh, topDstIP, r.DstIP, false, size)
		e.top.count(sh, topSrcIP, r.SrcIP, false, size)
	}
}

var tcpFlagNames = [...]string{"SYN", "FIN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"}

// tcpFlags names the flags set in combo (bit i: tcpFlagNames[i]) in a
// fixed order: at most 2^9 values, in practice a dozen.
func tcpFlags(combo int) string {
	var b strings.Builder
	for i, name := range tcpFlagNames {
		if combo&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

var rcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

// rcodeName names a DNS response code (4 bits: at most 16 values).
func rcodeName(c int32) string {
	if c >= 0 && int(c) < len(rcodes) {
		return rcodes[c]
	}
	return "RCODE" + strconv.Itoa(int(c&0xf))
}

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "PATCH": true, "CONNECT": true, "TRACE": true}

func httpMethod(m string) string {
	if methods[m] {
		return m
	}
	if m == "" {
		return "none"
	}
	return "other"
}

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(code int32) string {
	switch {
	case code == 0:
		return "none"
	case code >= 100 && code < 600:
		return statusClasses[code/100-1]
	}
	return "other"
}

// tlsVersion names a TLS protocol version number.
func tlsVersion(v int32) string {
	switch v {
	case 0x0300:
		return "SSL3.0"
	case 0x0301:
		return "TLS1.0"
	case 0x0302:
		return "TLS1.1"
	case 0x0303:
		return "TLS1.2"
	case 0x0304:
		return "TLS1.3"
	case 0:
		return "none"
	}
	return "other"
}

func transport(p string) string {
	switch p {
	case "TCP", "UDP", "SCTP", "ICMPv4", "ICMPv6":
		return p
	case "":
		return "none"
	}
	return "other"
}

// healthCollector exports the engine's own counters.
type healthCollector Exporter

var (
	descPackets = prometheus.NewDesc("netcap_packets_total", "Packets read from the source.", nil, nil)
	descUnknown = prometheus.NewDesc("netcap_unknown_total", "Packets with a layer no decoder reads, all reasons.", nil, nil)
	descErrors  = prometheus.NewDesc("netcap_errors_total", "Packets that failed to decode, all reasons.", nil, nil)
	descInput   = prometheus.NewDesc("netcap_input_bytes_total", "Bytes of input consumed (capture file or live packets).", nil, nil)
	descDrops   = prometheus.NewDesc("netcap_dropped_packets_total", "Live capture: packets dropped, by reason (kernel: by the kernel or interface; behind: the workers were behind).", []string{"reason"}, nil)
	descOutput  = prometheus.NewDesc("netcap_output_bytes", "Bytes of the record and pcap files in the output folder, as on disk (compressed).", nil, nil)
	descDecoder = prometheus.NewDesc("netcap_decoder_events_total", "Flow and reassembly counters of a finished run, by event.", []string{"event"}, nil)
	descPeak    = prometheus.NewDesc("netcap_decoder_peak", "Peaks of a finished run: most connections, out-of-order stream memory (bytes as allocated: data and bookkeeping) and fragmented datagrams one worker held.", []string{"what"}, nil)

	// Gauges of the running engine (not in a replay).
	descWorkerQueue = prometheus.NewDesc("netcap_worker_queue_depth", "Batches of packets waiting for a decoding worker, by worker (the one it decodes aside).", []string{"worker"}, nil)
	descWriterQueue = prometheus.NewDesc("netcap_writer_queue_depth", "Batches every worker has decoded that the writer has not written yet (it runs the exporter's hooks).", nil, nil)
	descBuffered    = prometheus.NewDesc("netcap_reassembly_buffered_bytes", "Bytes the workers hold for reassembly now, as allocated (data and bookkeeping), by kind: tcp_stream (out-of-order TCP segments waiting for a hole to fill) and ip_fragments (fragments of incomplete IP datagrams; every worker holds its own copy of them). Both are bounded per worker.", []string{"kind"}, nil)
	descOpen        = prometheus.NewDesc("netcap_open_connections", "Connections and flows the workers track now (not yet ended by FIN/RST, timeout or the end of input).", nil, nil)
)

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descUnknown, descErrors, descInput, descDrops, descOutput, descDecoder, descPeak,
		descWorkerQueue, descWriterQueue, descBuffered, descOpen} {
		ch <- d
	}
}

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	st := capture.Stats{Packets: c.packets.Load(), Unknown: c.unknown.Load(), Errors: c.errs.Load(), Done: c.input.Load(),
		Kernel: c.kernel.Load(), Behind: c.behind.Load()}
	if now, ok := c.monitor.Stats(); ok {
		// The engine's counters as they are at this scrape, rather
		// than as its last Progress call (once a second) left them.
		st = now
	}
	ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(st.Packets))
	ch <- prometheus.MustNewConstMetric(descUnknown, prometheus.CounterValue, float64(st.Unknown))
	ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(st.Errors))
	ch <- prometheus.MustNewConstMetric(descInput, prometheus.CounterValue, float64(st.Done))
	ch <- prometheus.MustNewConstMetric(descDrops, prometheus.CounterValue, float64(st.Kernel), "kernel")
	ch <- prometheus.MustNewConstMetric(descDrops, prometheus.CounterValue, float64(st.Behind), "behind")
	if c.opts.Out != "" {
		ch <- prometheus.MustNewConstMetric(descOutput, prometheus.GaugeValue, float64(folderSize(c.opts.Out)))
	}
	if g, ok := c.monitor.Gauges(); ok {
		var stream, frags, open int64
		for i, w := range g.Workers {
			ch <- prometheus.MustNewConstMetric(descWorkerQueue, prometheus.GaugeValue, float64(w.Queue), strconv.Itoa(i))
			stream += w.StreamBytes
			frags += w.FragmentBytes
			open += w.Connections
		}
		ch <- prometheus.MustNewConstMetric(descWriterQueue, prometheus.GaugeValue, float64(g.WriterQueue))
		ch <- prometheus.MustNewConstMetric(descBuffered, prometheus.GaugeValue, float64(stream), "tcp_stream")
		ch <- prometheus.MustNewConstMetric(descBuffered, prometheus.GaugeValue, float64(frags), "ip_fragments")
		ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(open))
	}
	if s := c.decoder.Load(); s != nil {
		d := s.Decoder
		for _, ev := range []struct {
			name string
			v    int64
		}{
			{"connection_timed_out", d.TimedOut}, {"connection_evicted", d.Evicted},
			{"connection_evicted_memcap", d.EvictedMemcap}, {"layer_flow_evicted_memcap", d.LayerFlowsEvicted}, {"inventory_dropped", d.InventoryDropped},
			{"stream_missed_bytes", d.MissedBytes}, {"stream_overlap_bytes", d.OverlapBytes},
			{"stream_out_of_order_segments", d.OutOfOrder}, {"stream_memory_limit_hits", d.MemoryLimitHits},
			{"ip_defragmented", d.Defragmented}, {"ip_defrag_timed_out", d.DefragTimedOut},
			{"ip_defrag_evicted", d.DefragEvicted}, {"stream_parser_panics", d.Stream.Panics},
			{"ftp_data_expected_dropped", d.ExpectedDropped},
		} {
			ch <- prometheus.MustNewConstMetric(descDecoder, prometheus.CounterValue, float64(ev.v), ev.name)
		}
		ch <- prometheus.MustNewConstMetric(descPeak, prometheus.GaugeValue, float64(d.ConnectionsPeak), "connections")
		ch <- prometheus.MustNewConstMetric(descPeak, prometheus.GaugeValue, float64(d.StreamMemoryPeak), "stream_memory_bytes")
		ch <- prometheus.MustNewConstMetric(descPeak, prometheus.GaugeValue, float64(d.DefragPeak), "fragmented_datagrams")
	}
}

func folderSize(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, en := range entries {
		if fi, err := en.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

// The top-N lists.
const (
	topHTTPHost = iota
	topDNS
	topSNI
	topJA3
	topDstIP
	topSrcIP
	topKinds
)

var topDescs = [topKinds]*prometheus.Desc{
	prometheus.NewDesc("netcap_top_http_host_requests", "Top-N HTTP hosts by requests in the last refresh interval.", []string{"host"}, nil),
	prometheus.NewDesc("netcap_top_dns_query_names", "Top-N DNS query names by queries in the last refresh interval.", []string{"name"}, nil),
	prometheus.NewDesc("netcap_top_tls_sni_hellos", "Top-N TLS server names (SNI) by client hellos in the last refresh interval.", []string{"sni"}, nil),
	prometheus.NewDesc("netcap_top_ja3_hellos", "Top-N JA3 hashes by client hellos in the last refresh interval.", []string{"ja3"}, nil),
	prometheus.NewDesc("netcap_top_destination_bytes", "Top-N destination IPs by bytes of connections ended in the last refresh interval.", []string{"ip"}, nil),
	prometheus.NewDesc("netcap_top_source_bytes", "Top-N source IPs by bytes of connections ended in the last refresh interval.", []string{"ip"}, nil),
}

// maxTracked bounds the distinct values counted per list in one interval,
// over all shards; later new values are not counted (memory stays bounded
// under a scan).
const maxTracked = 100000

// MaxLabelBytes is the longest label value of a top-N list: longer values
// (a 60 KB HTTP Host header) are cut to it, ending in "...".
const MaxLabelBytes = 256

// maxTrackedBytes bounds the bytes of the distinct values counted per list
// in one interval, over all shards, as maxTracked bounds their number.
const maxTrackedBytes = 4 << 20

type topEntry struct {
	key string
	v   float64
}

// topSet holds the top-N lists of the last interval, and the shards that
// count the current one: one for each recording goroutine (a worker of the
// engine, its Writer, the replay loop), so that they count without waiting
// for each other. Refresh merges the shards' counts.
type topSet struct {
	n      int
	mu     sync.Mutex // held by refresh, Collect and grow
	shards atomic.Pointer[[]*shard]
	// budget is what the shards keep per list in this interval, to stay
	// within maxTracked values and maxTrackedBytes bytes all together.
	budget  [topKinds]budget
	current [topKinds][]topEntry
}

// shard is what one recording goroutine keeps: its part of the top-N
// counts of the interval, and series it has looked up once (a label lookup
// per record, hashing the values and taking a shared read lock, cost more
// than the counting). Its lock is taken by its goroutine for each record
// and by refresh once an interval: it is not waited for in between.
type shard struct {
	mu sync.Mutex
	// counts point to their values, so that counting a key seen before
	// looks it up with the bytes it comes in and allocates nothing.
	counts     [topKinds]map[string]*float64
	scratch    []byte // the label being counted
	byType     [256]*typeSeries
	flagCombos [1 << len(tcpFlagNames)]prometheus.Counter
	counters   map[seriesKey]prometheus.Counter
	observers  map[seriesKey]prometheus.Observer
}

// seriesKey names one series of a metric vector (of one or two labels).
type seriesKey struct {
	vec  any
	a, b string
}

func newShard() *shard {
	sh := &shard{counters: map[seriesKey]prometheus.Counter{}, observers: map[seriesKey]prometheus.Observer{}}
	for i := range sh.counts {
		sh.counts[i] = map[string]*float64{}
	}
	return sh
}

// series returns the counters of record type t.
func (sh *shard) series(e *Exporter, t types.Type) *typeSeries {
	cache := t >= 0 && int(t) < len(sh.byType)
	if cache && sh.byType[t] != nil {
		return sh.byType[t]
	}
	name := types.Name(t)
	ts := &typeSeries{records: e.records.WithLabelValues(name), bytes: e.recordBytes.WithLabelValues(name)}
	if cache {
		sh.byType[t] = ts
	}
	return ts
}

// counter returns the series of vec (two labels) with values a and b. The
// values come from small fixed sets or through a limiter: the cache stays
// small.
func (sh *shard) counter(vec *prometheus.CounterVec, a, b string) prometheus.Counter {
	if c, ok := sh.counters[seriesKey{vec, a, b}]; ok {
		return c
	}
	c := vec.WithLabelValues(a, b)
	sh.counters[seriesKey{vec, strings.Clone(a), strings.Clone(b)}] = c
	return c
}

// observer returns the series of vec (one label) with value a.
func (sh *shard) observer(vec *prometheus.HistogramVec, a string) prometheus.Observer {
	if o, ok := sh.observers[seriesKey{vec, a, ""}]; ok {
		return o
	}
	o := vec.WithLabelValues(a)
	sh.observers[seriesKey{vec, strings.Clone(a), ""}] = o
	return o
}

// budget counts the values and bytes a list keeps in one interval.
type budget struct{ keys, bytes atomic.Int64 }

// take reserves room for one more value of n bytes; it reports false when
// either bound would be passed.
func (b *budget) take(n int) bool {
	if b.keys.Add(1) > maxTracked {
		b.keys.Add(-1)
		return false
	}
	if b.bytes.Add(int64(n)) > maxTrackedBytes {
		b.bytes.Add(-int64(n))
		b.keys.Add(-1)
		return false
	}
	return true
}

func newTopSet(n int) *topSet {
	t := &topSet{n: n}
	t.grow(1) // shard 0: the replay loop, or a caller of Record
	return t
}

// grow makes sure there are at least n shards.
func (t *topSet) grow(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var shards []*shard
	if p := t.shards.Load(); p != nil {
		shards = *p
	}
	if len(shards) >= n {
		return
	}
	shards = append(shards[:len(shards):len(shards)], make([]*shard, n-len(shards))...)
	for i := range shards {
		if shards[i] == nil {
			shards[i] = newShard()
		}
	}
	t.shards.Store(&shards)
}

// shard returns the shard of recording goroutine number i; numbers beyond
// the shards share them.
func (t *topSet) shard(i int) *shard {
	shards := *t.shards.Load()
	return shards[uint(i)%uint(len(shards))]
}

// count adds v to key's count in list kind, in sh (whose lock the caller
// holds). Empty keys, and keys that are not valid UTF-8 (a label value must
// be), are not counted. lower counts host and domain names in lower case:
// they are ASCII (international names travel as punycode) and
// case-insensitive.
func (t *topSet) count(sh *shard, kind int, key string, lower bool, v float64) {
	if key == "" || !utf8.ValidString(key) {
		return
	}
	label := labelOf(sh.scratch[:0], key, lower)
	sh.scratch = label
	m := sh.counts[kind]
	if p := m[string(label)]; p != nil {
		*p += v
	} else if t.budget[kind].take(len(label)) {
		p = new(float64)
		*p = v
		m[string(label)] = p
	}
}

// labelOf appends key to b as a label value: cut to MaxLabelBytes at a
// character boundary and ending in "..." when longer, and in lower case when
// lower is set.
func labelOf(b []byte, key string, lower bool) []byte {
	if len(key) > MaxLabelBytes {
		n := MaxLabelBytes - 3
		for n > 0 && !utf8.RuneStart(key[n]) {
			n--
		}
		b = append(append(b, key[:n]...), "..."...)
	} else {
		b = append(b, key...)
	}
	if lower {
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
	}
	return b
}

// refresh makes the lists of the interval that ends: it takes every
// shard's counts (holding all shards' locks for that moment only, so that
// the budgets restart with the counts) and merges them.
func (t *topSet) refresh() {
	t.mu.Lock()
	defer t.mu.Unlock()
	shards := *t.shards.Load()
	var taken [topKinds][]map[string]*float64
	for _, sh := range shards {
		sh.mu.Lock()
	}
	for _, sh := range shards {
		for k, m := range sh.counts {
			if len(m) > 0 {
				taken[k] = append(taken[k], m)
				sh.counts[k] = map[string]*float64{}
			}
		}
	}
	for k := range t.budget {
		t.budget[k].keys.Store(0)
		t.budget[k].bytes.Store(0)
	}
	for _, sh := range shards {
		sh.mu.Unlock()
	}
	for k, maps := range taken {
		if len(maps) == 0 {
			continue // an interval without traffic keeps the lists
		}
		merged := maps[0]
		for _, m := range maps[1:] {
			for key, v := range m {
				if p := merged[key]; p != nil {
					*p += *v
				} else {
					merged[key] = v
				}
			}
		}
		list := make([]topEntry, 0, len(merged))
		for key, v := range merged {
			list = append(list, topEntry{key, *v})
		}
		sort.Slice(list, func(a, b int) bool {
			if list[a].v != list[b].v {
				return list[a].v > list[b].v
			}
			return list[a].key < list[b].key
		})
		if len(list) > t.n {
			list = list[:t.n]
		}
		t.current[k] = list
	}
}

func (t *topSet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range topDescs {
		ch <- d
	}
}

func (t *topSet) Collect(ch chan<- prometheus.Metric) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, list := range t.current {
		for _, en := range list {
			ch <- prometheus.MustNewConstMetric(topDescs[k], prometheus.GaugeValue, en.v, en.key)
		}
	}
}

// MetricNames lists the names of every metric the exporter can export
// (histograms without their _bucket, _sum and _count suffixes), whether or
// not it has a series yet: the dashboard test checks its queries against it.
func (e *Exporter) MetricNames() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range []prometheus.Collector{e.records, e.recordBytes, e.unknownPkts, e.errorPkts, e.tcpSegments,
			e.dnsMessages, e.httpRequests, e.tlsHellos, e.connections, e.httpSize, e.httpTime, e.connDuration,
			e.connSize, e.entropy, e.payloadSize, (*healthCollector)(e), e.top} {
			c.Describe(ch)
		}
		close(ch)
	}()
	var out []string
	for d := range ch {
		// Desc has no accessor for its name; its String form is stable:
		// Desc{fqName: "netcap_x", help: ...}.
		s := d.String()
		if _, rest, ok := strings.Cut(s, `fqName: "`); ok {
			if name, _, ok := strings.Cut(rest, `"`); ok {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}
