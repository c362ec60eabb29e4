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
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// Options configure an Exporter.
type Options struct {
	TopN int    // series per top-N gauge; 0 means 20
	Out  string // folder whose record files' size is exported as netcap_output_bytes; "" for none
}

// Exporter holds the metrics. Record and Packet are called from one goroutine
// (the engine's Writer or the replay loop); scrapes may come at any time.
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

	top *topSet

	// Series resolved once, used on the recording goroutine only: a label
	// lookup per record (hashing the values, a read lock) cost more than
	// the counting.
	byType                                         [256]*typeSeries
	flagCombos                                     [1 << len(tcpFlagNames)]prometheus.Counter
	tcpPayload, udpPayload, tcpEntropy, udpEntropy prometheus.Observer

	// decoding scratch, used on the recording goroutine only
	wire      [maxPicked]wireVal
	questions [][]byte
}

// typeSeries are the counters of one record type.
type typeSeries struct{ records, bytes prometheus.Counter }

// limiter passes the first max distinct values of a label and maps later
// ones to "other", so a label fed from traffic cannot grow without bound.
type limiter struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func newLimiter(max int) *limiter { return &limiter{max: max, seen: map[string]bool{}} }

func (l *limiter) value(v string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[v] {
		return v
	}
	if len(l.seen) >= l.max {
		return "other"
	}
	l.seen[v] = true
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

// Hook fills the engine's hooks of cfg so that the run feeds e.
func (e *Exporter) Hook(cfg *capture.Config) {
	cfg.OnRecord = e.Record
	cfg.OnPacket = e.Packet
	cfg.Monitor = &e.monitor
	prev := cfg.Progress
	cfg.Progress = func(s capture.Stats) {
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

// Record counts one record as the engine writes it: a length-delimited
// protobuf message. CSV rows are counted by type only.
func (e *Exporter) Record(t types.Type, rec []byte) {
	ts := e.series(t)
	ts.records.Inc()
	ts.bytes.Add(float64(len(rec)))
	msg, n := protowire.ConsumeBytes(rec)
	if n != len(rec) {
		return // a CSV row
	}
	e.inspect(t, msg)
}

// RecordMessage counts one record given without its length prefix (replay).
func (e *Exporter) RecordMessage(t types.Type, msg []byte) {
	ts := e.series(t)
	ts.records.Inc()
	ts.bytes.Add(float64(len(msg) + protowire.SizeVarint(uint64(len(msg)))))
	e.inspect(t, msg)
}

// series returns the counters of record type t, looked up once.
func (e *Exporter) series(t types.Type) *typeSeries {
	cache := t >= 0 && int(t) < len(e.byType)
	if cache && e.byType[t] != nil {
		return e.byType[t]
	}
	name := ncio.RecordName(t)
	ts := &typeSeries{records: e.records.WithLabelValues(name), bytes: e.recordBytes.WithLabelValues(name)}
	if cache {
		e.byType[t] = ts
	}
	return ts
}

// The fields read from the wire (wire.go), by slot.
const maxPicked = 11

var (
	// tcpFlagNames in slots 0 to 8, then PayloadSize and PayloadEntropy.
	tcpWire = newFieldSet(&types.TCP{}, append(append([]string(nil), tcpFlagNames[:]...), "PayloadSize", "PayloadEntropy")...)
	udpWire = newFieldSet(&types.UDP{}, "PayloadSize", "PayloadEntropy")
	// The questions are read on their own, with questionWire.
	dnsWire      = newFieldSet(&types.DNS{}, "QR", "ResponseCode")
	dnsQuestions = fieldNumber(&types.DNS{}, "Questions")
	questionWire = newFieldSet(&types.DNSQuestion{}, "Name")
	httpWire     = newFieldSet(&types.HTTP{}, "Method", "StatusCode", "RequestSize", "ResponseSize", "Timestamp", "ResponseTimestamp", "Host")
	clientWire   = newFieldSet(&types.TLSClientHello{}, "HandshakeVersion", "SNI", "Ja3")
	serverWire   = newFieldSet(&types.TLSServerHello{}, "Version", "SupportedVersion")
	connWire     = newFieldSet(&types.Connection{}, "TransportProto", "ApplicationProto", "TotalSize", "Duration", "SrcIP", "DstIP")
)

// inspect counts what the traffic metrics need of one record. Label values
// taken from the traffic (application protocol, top-N keys) must be valid
// UTF-8, which unmarshalling used to check: the decoders never write
// anything else, but a value that is not is dropped rather than exported.
func (e *Exporter) inspect(t types.Type, msg []byte) {
	v := e.wire[:]
	switch t {
	case types.Type_NC_TCP:
		if !tcpWire.read(msg, v) {
			return
		}
		combo := 0
		for i := range tcpFlagNames {
			if v[i].n != 0 {
				combo |= 1 << i
			}
		}
		c := e.flagCombos[combo]
		if c == nil {
			c = e.tcpSegments.WithLabelValues(tcpFlags(combo))
			e.flagCombos[combo] = c
		}
		c.Inc()
		size := int32(v[9].n)
		e.tcpPayload.Observe(float64(size))
		if ent := math.Float64frombits(v[10].n); size > 0 && ent > 0 {
			e.tcpEntropy.Observe(ent)
		}
	case types.Type_NC_UDP:
		if !udpWire.read(msg, v) {
			return
		}
		size := int32(v[0].n)
		e.udpPayload.Observe(float64(size))
		if ent := math.Float64frombits(v[1].n); size > 0 && ent > 0 {
			e.udpEntropy.Observe(ent)
		}
	case types.Type_NC_DNS:
		if !dnsWire.read(msg, v) {
			return
		}
		qr := v[0].n != 0
		dir := "query"
		if qr {
			dir = "response"
		}
		e.dnsMessages.WithLabelValues(dir, rcodeName(int32(v[1].n))).Inc()
		if qr {
			return
		}
		names := e.questions[:0]
		ok := eachField(msg, dnsQuestions, func(q []byte) bool {
			if !questionWire.read(q, v[:1]) {
				return false
			}
			names = append(names, v[0].b)
			return true
		})
		e.questions = names[:0]
		if !ok {
			return
		}
		for _, name := range names {
			e.top.addLower(topDNS, name, 1)
		}
	case types.Type_NC_HTTP:
		if !httpWire.read(msg, v) {
			return
		}
		method, status, reqSize, respSize, ts, respTS, host := v[0].b, int32(v[1].n), int64(v[2].n), int64(v[3].n), int64(v[4].n), int64(v[5].n), v[6].b
		e.httpRequests.WithLabelValues(httpMethod(string(method)), statusClass(status)).Inc()
		if reqSize > 0 {
			e.httpSize.WithLabelValues("request").Observe(float64(reqSize))
		}
		if respTS > 0 {
			e.httpSize.WithLabelValues("response").Observe(float64(respSize))
			if d := respTS - ts; d >= 0 {
				e.httpTime.Observe(float64(d) / 1e9)
			}
		}
		e.top.addLower(topHTTPHost, host, 1)
	case types.Type_NC_TLSClientHello:
		if !clientWire.read(msg, v) {
			return
		}
		e.tlsHellos.WithLabelValues("client", tlsVersion(int32(v[0].n))).Inc()
		e.top.addLower(topSNI, v[1].b, 1)
		e.top.add(topJA3, v[2].b, 1)
	case types.Type_NC_TLSServerHello:
		if !serverWire.read(msg, v) {
			return
		}
		version := int32(v[0].n)
		if sv := int32(v[1].n); sv != 0 {
			version = sv
		}
		e.tlsHellos.WithLabelValues("server", tlsVersion(version)).Inc()
	case types.Type_NC_Connection:
		if !connWire.read(msg, v) {
			return
		}
		tr := transport(string(v[0].b))
		app := "unknown"
		if a := v[1].b; len(a) > 0 {
			app = "other"
			if utf8.Valid(a) {
				app = e.appProto.value(string(a))
			}
		}
		size, dur := float64(int64(v[2].n)), int64(v[3].n)
		e.connections.WithLabelValues(tr, app).Inc()
		e.connDuration.WithLabelValues(tr).Observe(float64(dur) / 1e9)
		e.connSize.WithLabelValues(tr).Observe(size)
		e.top.add(topDstIP, v[5].b, size)
		e.top.add(topSrcIP, v[4].b, size)
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

func statusClass(code int32) string {
	switch {
	case code == 0:
		return "none"
	case code >= 100 && code < 600:
		return strconv.Itoa(int(code/100)) + "xx"
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
	descPeak    = prometheus.NewDesc("netcap_decoder_peak", "Peaks of a finished run: most connections, out-of-order stream bytes and fragmented datagrams one worker held.", []string{"what"}, nil)

	// Gauges of the running engine (not in a replay).
	descWorkerQueue = prometheus.NewDesc("netcap_worker_queue_depth", "Batches of packets waiting for a decoding worker, by worker (the one it decodes aside).", []string{"worker"}, nil)
	descWriterQueue = prometheus.NewDesc("netcap_writer_queue_depth", "Batches every worker has decoded that the writer has not written yet (it runs the exporter's hooks).", nil, nil)
	descBuffered    = prometheus.NewDesc("netcap_reassembly_buffered_bytes", "Bytes the workers hold for reassembly now, by kind: tcp_stream (out-of-order TCP segments waiting for a hole to fill) and ip_fragments (fragments of incomplete IP datagrams; every worker holds its own copy of them). Both are bounded per worker.", []string{"kind"}, nil)
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
			{"connection_evicted_memcap", d.EvictedMemcap}, {"layer_flow_evicted_memcap", d.LayerFlowsEvicted},
			{"stream_missed_bytes", d.MissedBytes}, {"stream_overlap_bytes", d.OverlapBytes},
			{"stream_out_of_order_segments", d.OutOfOrder}, {"stream_memory_limit_hits", d.MemoryLimitHits},
			{"ip_defragmented", d.Defragmented}, {"ip_defrag_timed_out", d.DefragTimedOut},
			{"ip_defrag_evicted", d.DefragEvicted},
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

// maxTracked bounds the distinct values counted per list in one interval;
// later new values are not counted (memory stays bounded under a scan).
const maxTracked = 100000

// MaxLabelBytes is the longest label value of a top-N list: longer values
// (a 60 KB HTTP Host header) are cut to it, ending in "...".
const MaxLabelBytes = 256

// maxTrackedBytes bounds the bytes of the distinct values counted per list
// in one interval, as maxTracked bounds their number.
const maxTrackedBytes = 4 << 20

type topEntry struct {
	key string
	v   float64
}

type topSet struct {
	n  int
	mu sync.Mutex
	// counts point to their values, so that counting a key seen before
	// looks it up with the bytes it comes in and allocates nothing.
	counts  [topKinds]map[string]*float64
	bytes   [topKinds]int // of the keys in counts
	current [topKinds][]topEntry
	lower   []byte // scratch of addLower
}

func newTopSet(n int) *topSet {
	t := &topSet{n: n}
	for i := range t.counts {
		t.counts[i] = map[string]*float64{}
	}
	return t
}

// add counts v for key. Empty keys, and keys that are not valid UTF-8 (a
// label value must be), are not counted.
func (t *topSet) add(kind int, key []byte, v float64) {
	if len(key) == 0 || !utf8.Valid(key) {
		return
	}
	t.mu.Lock()
	t.addLocked(kind, key, v)
	t.mu.Unlock()
}

func (t *topSet) addLocked(kind int, key []byte, v float64) {
	if len(key) > MaxLabelBytes {
		key = cutLabel(t.lower, key)
		t.lower = key
	}
	m := t.counts[kind]
	if p := m[string(key)]; p != nil {
		*p += v
	} else if len(m) < maxTracked && t.bytes[kind]+len(key) <= maxTrackedBytes {
		p = new(float64)
		*p = v
		m[string(key)] = p
		t.bytes[kind] += len(key)
	}
}

// cutLabel returns key cut to MaxLabelBytes at a character boundary and
// ending in "...", built in scratch's storage (which may be key's).
func cutLabel(scratch, key []byte) []byte {
	n := MaxLabelBytes - 3
	for n > 0 && !utf8.RuneStart(key[n]) {
		n--
	}
	return append(append(scratch[:0], key[:n]...), "..."...)
}

// addLower counts v for key in lower case: host and domain names, which
// are ASCII (international names travel as punycode) and case-insensitive.
func (t *topSet) addLower(kind int, key []byte, v float64) {
	if len(key) == 0 || !utf8.Valid(key) {
		return
	}
	t.mu.Lock()
	t.lower = t.lower[:0]
	for _, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t.lower = append(t.lower, c)
	}
	t.addLocked(kind, t.lower, v)
	t.mu.Unlock()
}

func (t *topSet) refresh() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, m := range t.counts {
		if len(m) == 0 {
			continue
		}
		list := make([]topEntry, 0, len(m))
		for key, v := range m {
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
		t.counts[k] = map[string]*float64{}
		t.bytes[k] = 0
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
