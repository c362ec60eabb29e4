// Package export is the "net export" command: it runs the engine on a
// capture file, a live interface or a folder of record files and serves
// Prometheus metrics about it.
package export

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/netcap/netcap"
	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/internal/engineflags"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/metrics"
)

// Run runs "net export" with args and returns the exit code.
func Run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr, nil)
}

const usageText = `usage: net export -read traffic.pcap [-address 127.0.0.1:7777] [-out folder]
       net export -read traffic_ncap -replay [-speed 10]
       net export -iface eth0 [-bpf "tcp port 443"] [-address :7777]

Decodes a capture file or a live interface with the capture engine (the records
are still written, to -out or to a temporary folder removed at exit), or replays
a folder of .ncap record files at -speed times their original pace, and serves
Prometheus metrics on http://ADDRESS/metrics until Ctrl-C or SIGTERM (after a
file or replay is done, the final values stay up for scraping).

Metrics (all prefixed netcap_): engine health (packets_total, unknown_total,
errors_total, records_total and record_bytes_total by type,
unknown_packets_total by reason, error_packets_total by layer,
dropped_packets_total by reason, input_bytes_total, output_bytes,
decoder_events_total, decoder_peak), the running engine's gauges, read at each scrape
(worker_queue_depth by worker, writer_queue_depth, reassembly_buffered_bytes by
kind: tcp_stream and ip_fragments, open_connections), traffic
(tcp_segments_total by flag combination, dns_messages_total by direction and
rcode, http_requests_total by method and status class, tls_hellos_total by side
and version, connections_total by transport and application protocol;
histograms of HTTP sizes and response time, connection duration and size,
payload size and entropy), the top -top values of HTTP hosts, DNS names, SNI,
JA3 and IPs (recomputed every -interval; values longer than 256 bytes are cut,
and a list counts at most 4 MiB of values an interval), and the Go runtime and
process collectors. Labels hold only low-cardinality values: a full scrape has a few
hundred series whatever the traffic.

Cost: the exporter reads the few fields it needs of each record from the
record's bytes, about 60 ns a record on the engine's writer; measured, net
export takes about 7 to 9% more CPU than net capture -entropy on the same
capture (go run ./tools/bench -export).

The input, decoding and selection flags (-read, -r, -iface, -bpf, -promisc,
-snaplen, -buffer, -workers, -payload, -entropy, -conn-timeout, -flow-timeout,
-close-delay, -stream-memory, -max-connections, -memcap, -include, -exclude) are
net capture's, with the same names and meaning; -entropy is on by default here,
for netcap_payload_entropy.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when the input fails or is not whole
(a capture that is cut, damaged or over an input limit, or a damaged record
file, which is named: what was read is still served), 2 on bad usage, an
address in use or
(-replay) record files of another schema (the original netcap's: convert them
with net util -upgrade).

flags:
`

// started, when set, is told the listener's address (tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, started func(addr string, e *metrics.Exporter, done <-chan struct{})) int {
	fs := flag.NewFlagSet("net export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := engineflags.Register(fs, engineflags.Setup{ReadUsage: "capture `file` to decode, or with -replay a folder of record files", Entropy: true})
	var (
		replay   = fs.Bool("replay", false, "-read names a folder of .ncap files to replay in timestamp order")
		speed    = fs.Float64("speed", 1, "-replay: times the original pace (0: as fast as possible)")
		address  = fs.String("address", "127.0.0.1:7777", "`host:port` to serve /metrics on")
		out      = fs.String("out", "", "folder for the record files (default: a temporary folder removed at exit)")
		top      = fs.Int("top", 20, "series per top-N list (HTTP hosts, DNS names, SNI, JA3, IPs)")
		interval = fs.Duration("interval", 10*time.Second, "how often the top-N lists are recomputed")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	read, iface := ef.Read, ef.Iface
	if fs.NArg() > 0 || (*replay && iface != "") || *top <= 0 || *interval <= 0 || *speed < 0 {
		fmt.Fprintln(stderr, "net export: give -read or -iface (-replay only with -read); -top, -interval > 0, -speed >= 0")
		return 2
	}
	if err := ef.Input(); err != nil {
		fmt.Fprintf(stderr, "net export: %v\n", err)
		return 2
	}
	cfg, liveOpts, err := ef.Config()
	if err != nil {
		fmt.Fprintf(stderr, "net export: %v\n", err)
		return 2
	}
	cfg.Output = capture.OutputConfig{Compress: true, Version: netcap.Version}
	if !*replay && engineflags.Inspected("net export", cfg, liveOpts) {
		return 0
	}
	if *replay {
		if err := ncio.CheckFolderSchema(read); err != nil {
			fmt.Fprintf(stderr, "net export: %v\n", err)
			return 2
		}
	}
	outDir := *out
	if !*replay && outDir == "" {
		tmp, err := os.MkdirTemp("", "netcap-export-")
		if err != nil {
			fmt.Fprintf(stderr, "net export: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		outDir = tmp
	}
	e := metrics.New(metrics.Options{TopN: *top, Out: outDir})
	ln, err := net.Listen("tcp", *address)
	if err != nil {
		fmt.Fprintf(stderr, "net export: -address: %v\n", err)
		return 2
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.Registry(), promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(stderr, "net export: serving http://%s/metrics\n", ln.Addr())

	go func() {
		t := time.NewTicker(*interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.Refresh()
			}
		}
	}()

	done := make(chan struct{})
	if started != nil {
		started(ln.Addr().String(), e, done)
	}
	code := 0
	switch {
	case *replay:
		st, err := metrics.Replay(ctx, read, *speed, e)
		if err != nil {
			fmt.Fprintf(stderr, "net export: %v\n", err)
			code = 1
		} else {
			fmt.Fprintf(stdout, "replayed %d records from %d files (%v of traffic)\n", st.Records, st.Files, st.Span)
		}
	default:
		var src capture.Source
		if iface != "" {
			live, err := capture.OpenLive(iface, liveOpts)
			if err != nil {
				fmt.Fprintf(stderr, "net export: %v\n", err)
				return 2
			}
			src = live
			fmt.Fprintf(stderr, "net export: capturing on %s\n", iface)
		} else {
			f, err := capture.OpenFile(read)
			if err != nil {
				fmt.Fprintf(stderr, "net export: %v\n", err)
				return 2
			}
			if ef.BPF != "" {
				if err := f.SetFilter(ef.BPF); err != nil {
					fmt.Fprintf(stderr, "net export: -bpf: %v\n", err)
					return 2
				}
			}
			src = f
		}
		cfg.Output.Dir = outDir
		e.Hook(&cfg)
		sum, err := capture.Run(ctx, src, cfg)
		consumed, _ := src.Progress()
		e.SetInput(consumed)
		src.Close()
		if sum != nil {
			e.SetSummary(sum)
			fmt.Fprintf(stdout, "decoded %d packets into %s (%d unknown, %d errors)\n", sum.Packets, outDir, sum.Unknown, sum.Errors)
			if sum.Unencodable > 0 {
				fmt.Fprintf(stderr, "net export: records not written or counted: %d could not be encoded (a text field that is not UTF-8: please report it with the capture)\n", sum.Unencodable)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "net export: %v\n", err)
			code = 1
		} else if sum.Truncated != nil {
			// Cut, damaged or over an input limit: what was read is
			// served, and the exit says the input was not whole.
			fmt.Fprintf(stderr, "net export: %v; the metrics of the %d packets before the cut are served\n", sum.Truncated, sum.Packets)
			code = 1
		}
	}
	close(done)
	if ctx.Err() == nil {
		fmt.Fprintf(stderr, "net export: input done; serving the final values until Ctrl-C\n")
		<-ctx.Done()
	}
	return code
}
