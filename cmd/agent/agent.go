// Package agent is `net agent`: capture and decode on a sensor, and stream
// the records through NATS JetStream to `net collect`.
package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap"
	engine "github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/internal/cpuprofile"
	"github.com/netcap/netcap/internal/engineflags"
)

// Run runs net agent with args and returns the exit status.
func Run(args []string) int { return run(args, os.Stderr) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("net agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := engineflags.Register(fs, engineflags.Setup{ReadUsage: "replay capture `file` (pcap or pcapng): for tests and backfills"})
	var (
		sensor   = fs.String("sensor", "", "this sensor's `name`: 1 to 64 of A-Z a-z 0-9 . _ - (required); the collector's folder for it")
		url      = fs.String("nats", "nats://127.0.0.1:4222", "NATS server `URLs`, comma-separated")
		msgSize  = fs.String("message-size", "512KiB", "bytes of records of one type per message (uncompressed), 1KiB to 4MiB")
		flush    = fs.Duration("flush", time.Second, "-iface: send a type's records at least this often, full or not")
		queue    = fs.String("queue", "256MB", "bytes of messages kept until acked; when full, -iface drops (counted), -read waits (was -buffer before -buffer became the kernel capture buffer)")
		compress = fs.Bool("compress", true, "send each message as a gzip member (compressed by the decoding workers; the collector stores it as it is)")
		window   = fs.Int("window", 8, "messages of one record type sent before the first of them is acked (1: wait for each ack); more help over links with a long round trip")
		wait     = fs.Duration("wait", 30*time.Second, "at exit, wait this long for the server to ack what is buffered; the rest is counted as dropped")
		status   = fs.Duration("status", 5*time.Second, "print a status line this often (0: never)")
		quiet    = fs.Bool("quiet", false, "no status line and no summary")
		tlsCert  = fs.String("tls-cert", "", "client certificate `file` (PEM) for mutual TLS")
		tlsKey   = fs.String("tls-key", "", "client key `file` (PEM)")
		tlsCA    = fs.String("tls-ca", "", "CA `file` (PEM) that signed the server's certificate")
		creds    = fs.String("creds", "", "NATS credentials `file` (user JWT and NKey seed) for servers in operator mode (decentralized JWT auth)")
		nkey     = fs.String("nkey", "", "`file` holding an NKey seed (SU...) whose public key the collector's -users lists with this sensor; a user and password go in the URL: nats://name:password@host:4222")
		cpuprof  = fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: net agent (-read file | -iface name) -sensor name [-nats url] [flags]

Decodes packets like net capture and publishes each part of each record type
(length-delimited records, by default one gzip member) as one message on the
JetStream stream NETCAP, subject netcap.<sensor>.<Type>, with a Nats-Msg-Id
of sensor, type, run and part number, so the server drops a part sent twice.
Up to -window parts of a type are on their way before the first is acked;
each part is sent again until the server acks it; while the server is away the
parts wait in a bounded queue (-queue). net collect stores them, each type's
parts in the order they were numbered here, and none twice.
SIGINT or SIGTERM: stops the capture, sends what was decoded and waits up to
-wait for the acks (a second signal: stop waiting); prints the summary and
exits with status 0 if everything was acked, 1 if not (counted as stopped).
A refused certificate or credentials, a malformed -nats URL, or a server
that cannot be reached at the start (refused port, unknown host, no answer):
one line, status 2. Once connected, the agent keeps going while the server is
away, its parts waiting in -queue.
The agent makes no JetStream API call: it publishes to netcap.<sensor>.<Type>
and takes the acks on its inbox _NETCAP_INBOX.<sensor>, so credentials that
allow only those two (see net collect -users) are enough.

The input, decoding and selection flags (-read, -r, -iface, -bpf, -promisc,
-snaplen, -buffer, -workers, -payload, -entropy, -conn-timeout, -flow-timeout,
-close-delay, -stream-memory, -max-connections, -memcap, -include, -exclude) are
net capture's, with the same names, defaults and meaning. Renamed: the message queue that was -buffer is
-queue (-buffer is now the kernel capture buffer in MiB, as in net capture);
-batch-size is -message-size (the old name still works).

flags:
`)
		fs.PrintDefaults()
	}
	// Scripts written for the old name keep working.
	cli.Alias(fs, "batch-size", "message-size", "its old name")
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "net agent: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if err := ef.Input(); err != nil {
		return fail("%v", err)
	}
	if *sensor == "" {
		return fail("-sensor is required")
	}
	if err := collector.ValidSensor(*sensor); err != nil {
		return fail("%v", err)
	}
	if err := collector.CheckURLs(*url); err != nil {
		return fail("malformed -nats URL %v; want nats://host:port, comma-separated for a cluster", err)
	}
	queueBytes, err := collector.ParseSize(*queue)
	if err != nil || queueBytes < 1<<20 {
		return fail("-queue %s: want at least 1MB", *queue)
	}
	partSize, err := collector.ParseSize(*msgSize)
	if err != nil || partSize < 1<<10 || partSize > 4<<20 {
		return fail("-message-size %s: want 1KiB to 4MiB", *msgSize)
	}
	if *window < 1 || *window > 1024 {
		return fail("-window %d: want 1 to 1024", *window)
	}
	cfg, liveOpts, err := ef.Config()
	if err != nil {
		return fail("%v", err)
	}
	cfg.Output = engine.OutputConfig{Compress: *compress, Version: netcap.Version, PartSize: int(partSize)}
	if ef.Iface != "" {
		// A file replay cuts parts by size only, so that they are the
		// same in every run.
		cfg.Output.FlushEvery = *flush
	}
	if engineflags.Inspected("net agent", cfg, liveOpts) {
		return 0
	}

	var src engine.Source
	if ef.Iface != "" {
		live, err := engine.OpenLive(ef.Iface, liveOpts)
		if err != nil {
			return fail("%v", err)
		}
		src = live
	} else {
		file, err := engine.OpenFile(ef.Read)
		if err != nil {
			return fail("%v", err)
		}
		if err := file.SetFilter(ef.BPF); err != nil {
			file.Close()
			return fail("%v", err)
		}
		src = file
	}
	defer src.Close()
	stopProfile, err := cpuprofile.Start(*cpuprof)
	if err != nil {
		return fail("-cpuprofile: %v", err)
	}
	defer stopProfile()

	co := collector.ConnOptions{Name: "net agent " + *sensor, InboxPrefix: collector.InboxPrefix(*sensor), TLSCert: *tlsCert, TLSKey: *tlsKey, TLSCA: *tlsCA, Creds: *creds, NKey: *nkey, FailFast: true}
	nc, err := collector.Connect(*url, co)
	if err != nil && collector.Refused(err) {
		// A wrong certificate or credentials stay wrong: say so and stop.
		return fail("refused by the server: %v", err)
	}
	if err != nil {
		// Nothing is sent yet: say what is in the way and stop, rather
		// than decode the whole input into a buffer no one takes. Once
		// connected, the agent rides out a server going away.
		return fail("%s", collector.Unreachable(*url, err, "the collector"))
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fail("%v", err)
	}
	ag, err := collector.NewAgent(js, collector.AgentConfig{Sensor: *sensor, Buffer: queueBytes, Drop: ef.Iface != "", Compressed: *compress, Window: *window, Log: stderr})
	if err != nil {
		return fail("%v", err)
	}

	ctx, stopCapture := context.WithCancel(context.Background())
	defer stopCapture()
	waitCtx, stopWaiting := context.WithCancel(context.Background())
	defer stopWaiting()
	capturing := make(chan struct{}) // closed once the capture has ended
	defer onSignals(stderr, capturing, stopCapture, stopWaiting, *wait)()
	cfg.Output.Parts = ag.Output()
	start := time.Now()
	stopStatus := func() {}
	if !*quiet && *status > 0 {
		stopStatus = statusLoop(stderr, ag, *status)
	}
	sum, runErr := engine.Run(ctx, src, cfg)
	captured := time.Since(start)
	close(capturing)
	wctx, cancel := context.WithTimeout(waitCtx, *wait)
	waitErr := ag.Wait(wctx)
	cancel()
	stopStatus()
	if !*quiet {
		el := time.Since(start).Seconds()
		fmt.Fprintf(stderr, "net agent: sensor %s: %d messages, %d records, %.1f MB sent in %.1f s (%.0f records/s); %d sent again, %d duplicates dropped by the server\n",
			*sensor, ag.Batches.Load(), ag.Records.Load(), float64(ag.Bytes.Load())/1e6, el, float64(ag.Records.Load())/el, ag.Retries.Load(), ag.Dups.Load())
		if sum != nil {
			fmt.Fprintf(stderr, "net agent: %d packets decoded (%d unknown, %d errors) in %.1f s; the last ack %.2f s later\n",
				sum.Packets, sum.Unknown, sum.Errors, captured.Seconds(), el-captured.Seconds())
			if sum.Unencodable > 0 {
				fmt.Fprintf(stderr, "net agent: records not sent: %d could not be encoded (a text field that is not UTF-8: please report it with the capture)\n", sum.Unencodable)
			}
		}
		fmt.Fprintf(stderr, "net agent: dropped records: %s\n", dropLine(ag.Drops()))
	}
	switch {
	case runErr != nil:
		fmt.Fprintf(stderr, "net agent: %v\n", runErr)
		return 1
	case waitErr != nil:
		fmt.Fprintf(stderr, "net agent: %v\n", waitErr)
		return 1
	case sum != nil && sum.Truncated != nil:
		fmt.Fprintf(stderr, "net agent: %v\n", sum.Truncated)
		return 1
	}
	return 0
}

// onSignals handles SIGINT and SIGTERM until the returned func is called:
// while capturing, the first one stops the capture (what was decoded is
// still sent) and the next one ends the wait for acks; after the capture,
// the first one ends the wait.
func onSignals(stderr io.Writer, capturing <-chan struct{}, stopCapture, stopWaiting func(), wait time.Duration) func() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-done:
			return
		}
		select {
		case <-capturing:
		default:
			fmt.Fprintf(stderr, "net agent: %v: stopping the capture; sending what it decoded, waiting up to %v for the acks (again: stop waiting)\n", sig, wait)
			stopCapture()
			select {
			case sig = <-sigs:
			case <-done:
				return
			}
		}
		fmt.Fprintf(stderr, "net agent: %v: not waiting for the acks; what is unacked is counted as stopped\n", sig)
		stopWaiting()
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

func statusLoop(w io.Writer, ag *collector.Agent, every time.Duration) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		lastB, lastR, last := int64(0), int64(0), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				b, r := ag.Batches.Load(), ag.Records.Load()
				s := now.Sub(last).Seconds()
				fmt.Fprintf(w, "net agent: %.0f messages/s, %.0f records/s, %.1f MB buffered, dropped: %s\n",
					float64(b-lastB)/s, float64(r-lastR)/s, float64(ag.Buffered())/1e6, dropLine(ag.Drops()))
				lastB, lastR, last = b, r, now
			}
		}
	}()
	return func() { close(done) }
}

func dropLine(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
