// Package collect is `net collect`: store the records sensors send through
// NATS JetStream in record files, one folder per sensor.
package collect

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap"
	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/internal/cpuprofile"
	ncparquet "github.com/netcap/netcap/io/parquet"
)

// stallEnv names the test hook: set to n, net collect stops after writing
// its n-th batch, before acking it, and waits to be killed.
const stallEnv = "NETCAP_COLLECT_TEST_STALL"

// Run runs net collect with args and returns the exit status.
func Run(args []string) int { return run(args, os.Stderr) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("net collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out        = fs.String("out", "", "output `folder`: <out>/<sensor>/<Type>.ncap.gz (required)")
		url        = fs.String("nats", "", "consume from existing NATS servers at these `URLs` (comma-separated) instead of starting one")
		listen     = fs.String("listen", "127.0.0.1:4222", "embedded server: `address` agents connect to (store in <out>/.jetstream)")
		durable    = fs.String("durable", "netcap-collect", "consumer `name`; collectors with the same name share the work")
		replicas   = fs.Int("replicas", 1, "stream replicas when the collector creates the stream (3 for a 3-node cluster)")
		rotate     = fs.Duration("rotate", 0, "start new files after this long, e.g. 1h (0: never)")
		rotateSize = fs.String("rotate-size", "0", "start a new file once one has this many bytes, e.g. 1GB (0: never)")
		parquet    = fs.Bool("parquet", false, "also write each record file as <Type>[-<time>].parquet once it is complete: when it rotates, and when net collect stops (docs/parquet.md)")
		pqRows     = fs.Int("parquet-rows", ncparquet.DefaultRowGroupRows, "most rows of one Parquet row group")
		maxRecords = fs.String("max-batch", "16MB", "largest a message may unpack to; larger ones are dead letters (oversized)")
		ackWait    = fs.Duration("ack-wait", 30*time.Second, "a part delivered but not acked (collector or server gone) is delivered again after this")
		inOrder    = fs.Bool("in-order", true, "keep each type's parts in the agent's order: a part ahead of one not yet written (it comes again after -ack-wait) waits up to twice -ack-wait (once more if an earlier part of its run is itself waiting), put back for 200 ms, then twice as long each time it comes again, up to half -ack-wait; -in-order=false for collectors sharing a -durable")
		maxHeldS   = fs.Int("max-held-per-sensor", collector.DefaultMaxHeldPerSensor, "-in-order: parts of one sensor put back at once to wait for an earlier one; more go to the dead letters (too-many-held)")
		maxHeld    = fs.Int("max-held", collector.DefaultMaxHeld, "-in-order: parts of all sensors put back at once to wait for an earlier one; more go to the dead letters (too-many-held)")
		status     = fs.Duration("status", 5*time.Second, "print a status line this often (0: never)")
		quiet      = fs.Bool("quiet", false, "no status line and no summary")
		tlsCert    = fs.String("tls-cert", "", "mutual TLS: certificate `file` (PEM); embedded server: the server's, with -nats: this client's")
		tlsKey     = fs.String("tls-key", "", "mutual TLS: key `file` (PEM) of -tls-cert")
		tlsCA      = fs.String("tls-ca", "", "mutual TLS: CA `file` (PEM); embedded server: only clients with a certificate it signed may connect; with -nats: the CA of the servers")
		users      = fs.String("users", "", "embedded server: only these sensors may connect, each confined to publishing its own records; `file` of lines \"name password [sensor]\", \"U<NKey public key> sensor\" or \"cert sensor <certificate identity>\" (see docs/collector.md)")
		srvConf    = fs.String("server-config", "", "embedded server: nats-server configuration `file` (e.g. operator mode: operator JWT, resolver, accounts); -listen and the store apply where it does not say; -creds or -nkey sign the collector in")
		creds      = fs.String("creds", "", "NATS credentials `file` (user JWT and NKey seed) for servers in operator mode (-nats, or -server-config)")
		nkey       = fs.String("nkey", "", "`file` holding an NKey seed (SU...) (-nats, or -server-config); with -nats, user and password go in the URL: nats://name:password@host:4222")
		maxStream  = fs.String("max-stream-bytes", fmt.Sprintf("%dGiB", collector.DefaultMaxStreamBytes>>30), "most the NETCAP stream may hold of parts not yet collected (e.g. 10GiB; 0: no limit but the server's store); when full, the server refuses new parts and agents keep them and send them again, saying so")
		maxOpen    = fs.Int("max-open-files", collector.DefaultMaxOpenFiles(), "output files kept open at once (128, or a quarter of the limit on open files if lower); the least recently written is closed, and opened again to append")
		insecure   = fs.Bool("insecure", false, "embedded server: allow a -listen address other than loopback without -users, -server-config or -tls-ca (anyone who can connect may then delete the streams)")
		cpuprof    = fs.String("cpuprofile", "", "write a CPU profile of the whole run (embedded server included) to `file`")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: net collect -out folder [-nats urls] [flags]

Without -nats, starts an embedded NATS server with JetStream (file store in
<out>/.jetstream) on -listen; -tls-cert, -tls-key and -tls-ca make it require
mutual TLS, -users a user name and password, an NKey or a certificate
per sensor, each sensor allowed only to publish its own records
(netcap.<sensor>.*) and receive their acks (_NETCAP_INBOX.<sensor>.*.*):
no JetStream API call. The collector signs in to its embedded server with an
NKey it makes in memory, the only user with every right. A -listen address
other than loopback needs -users, -server-config or -tls-ca, or -insecure:
without them anyone who can connect may do anything. -server-config runs
it from a nats-server configuration file instead (operator mode with JWT
accounts, for one: agents then sign in with -creds, and so does the
collector). Creates the streams
NETCAP (netcap.<sensor>.<Type>, work queue, 10 min duplicate window, at
most -max-stream-bytes: when full, the server refuses new parts and agents
keep them, say so and send them again) and
NETCAP_DEAD (netcap.dead), pulls with the durable consumer -durable, checks
each part (gunzip, framing, count, every record's protobuf wire format
against its type's schema, as net util -check does: no unknown field, no
other wire type, nested at most 64 deep), appends it as it came to
<out>/<sensor>/<Type>.ncap.gz (a Header first: readable by net dump) and acks
it only after it is written. <out>/.netcap-collect.json remembers which parts
of which agent run are written, and the batch being written: a part delivered
again (a lost ack, or a collector killed between writing and acking) is acked
without being written twice, and each type's parts stay in the agent's order.
Parts that do not check out go to netcap.dead with their subject and reason,
and are counted; the log names sensor, run and part of each. A part ahead of
one not written yet is held (put back, each time twice as long, from 200 ms);
at most -max-held-per-sensor and -max-held are held at once, more are dead
letters (too-many-held). Streams or the consumer deleted under the collector (by an
operator) are noticed within 2 s, said in one line and made again; what
they held is counted as LOST in the summary and the exit status is 1.
SIGINT or SIGTERM: writes and acks what it holds, closes
every file as a valid gzip, and exits.

flags:
`)
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "net collect: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return fail("-out is required")
	}
	rs, err := collector.ParseSize(*rotateSize)
	if err != nil {
		return fail("-rotate-size: %v", err)
	}
	mr, err := collector.ParseSize(*maxRecords)
	if err != nil || mr < 1<<20 {
		return fail("-max-batch %s: want at least 1MB", *maxRecords)
	}
	maxBytes, err := collector.ParseSize(*maxStream)
	if err != nil {
		return fail("-max-stream-bytes: %v", err)
	}
	if *maxOpen < 1 {
		return fail("-max-open-files %d: want at least 1", *maxOpen)
	}
	if *pqRows < 1 {
		return fail("-parquet-rows %d: want at least 1", *pqRows)
	}
	if *maxHeldS < 1 || *maxHeld < 1 {
		return fail("-max-held-per-sensor %d, -max-held %d: want at least 1", *maxHeldS, *maxHeld)
	}
	if *ackWait < time.Second {
		return fail("-ack-wait %v: want at least 1s", *ackWait)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("%v", err)
	}
	stopProfile, err := cpuprofile.Start(*cpuprof)
	if err != nil {
		return fail("-cpuprofile: %v", err)
	}
	defer stopProfile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var nc *nats.Conn
	var connErr error
	if *url == "" {
		host, portStr, err := net.SplitHostPort(*listen)
		port, perr := strconv.Atoi(portStr)
		if err != nil || perr != nil {
			return fail("-listen %q: want host:port", *listen)
		}
		if !loopback(host) && *users == "" && *srvConf == "" && *tlsCA == "" && !*insecure {
			return fail("-listen %s is not loopback and says no one in particular may connect: give -users, -server-config or -tls-ca (or -insecure)", *listen)
		}
		if *srvConf == "" && (*creds != "" || *nkey != "") {
			return fail("-creds and -nkey sign in to servers in operator mode: -nats, or the embedded server with -server-config")
		}
		srv, err := collector.StartServerConfig(collector.ServerConfig{
			Host: host, Port: port, StoreDir: filepath.Join(*out, ".jetstream"),
			TLSCert: *tlsCert, TLSKey: *tlsKey, TLSCA: *tlsCA, Users: *users,
			ConfigFile: *srvConf, Local: collector.ConnOptions{Creds: *creds, NKey: *nkey},
		})
		if err != nil {
			return fail("%v", err)
		}
		defer func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		}()
		if !*quiet {
			fmt.Fprintf(stderr, "net collect: NATS JetStream on %s, store %s; writing to %s\n", srv.ClientURL(), filepath.Join(*out, ".jetstream"), *out)
		}
		nc, connErr = srv.ConnectLocal("net collect")
	} else {
		if *users != "" || *srvConf != "" {
			return fail("-users and -server-config are for the embedded server; with -nats the servers' config says who may connect")
		}
		if err := collector.CheckURLs(*url); err != nil {
			return fail("malformed -nats URL %v; want nats://host:port, comma-separated for a cluster", err)
		}
		nc, connErr = collector.Connect(*url, collector.ConnOptions{Name: "net collect", TLSCert: *tlsCert, TLSKey: *tlsKey, TLSCA: *tlsCA, Creds: *creds, NKey: *nkey, FailFast: true})
	}
	if connErr != nil && collector.Refused(connErr) {
		return fail("refused by the server: %v", connErr)
	}
	if connErr != nil && *url != "" {
		return fail("%s", collector.Unreachable(*url, connErr, "the NATS server"))
	}
	if connErr != nil {
		return fail("%v", connErr)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fail("%v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	so := collector.StreamOptions{Replicas: *replicas, MaxBytes: maxBytes}
	err = collector.EnsureStreams(sctx, js, so)
	cancel()
	if collector.NoRoom(err) {
		return fail("%v: the server cannot set aside -max-stream-bytes %s for it; free space in its store, or give a smaller -max-stream-bytes", err, *maxStream)
	}
	if err != nil {
		return fail("%v", err)
	}
	cc := collector.CollectorConfig{
		Out: *out, Durable: *durable, MaxRecords: int(mr), Rotate: *rotate, RotateSize: rs,
		Version: netcap.Version, Log: stderr, AckWait: *ackWait,
		Streams: &so, MaxOpenFiles: *maxOpen,
		MaxHeldPerSensor: *maxHeldS, MaxHeld: *maxHeld,
		Parquet: *parquet, ParquetRows: *pqRows,
	}
	if *inOrder {
		cc.OrderWait = 2 * *ackWait
	}
	if n, err := strconv.ParseInt(os.Getenv(stallEnv), 10, 64); err == nil {
		// Tests: stop after writing batch n, before acking it, until
		// killed.
		cc.AfterWrite = func(round int64) {
			if round >= n {
				fmt.Fprintf(stderr, "net collect: %s: batch %d written, not acked; waiting to be killed\n", stallEnv, round)
				select {}
			}
		}
	}
	c := collector.NewCollector(js, cc)
	start := time.Now()
	done := make(chan struct{})
	if !*quiet && *status > 0 {
		go statusLoop(stderr, c, *status, done)
	}
	runErr := c.Run(ctx)
	close(done)
	// The acks are on their way: make sure the server has them.
	flushErr := nc.FlushTimeout(5 * time.Second)
	if !*quiet {
		el := time.Since(start).Seconds()
		fmt.Fprintf(stderr, "net collect: %d messages, %d records, %.1f MB stored in %.1f s; dead letters: %s\n",
			c.Batches.Load(), c.Records.Load(), float64(c.Bytes.Load())/1e6, el, countLine(c.Dead()))
		fmt.Fprintf(stderr, "net collect: %d parts delivered again and skipped (already written), %d times a part waited for an earlier one, %d written out of order\n",
			c.Redelivered.Load(), c.Held.Load(), c.OutOfOrder.Load())
		if n := c.PutBack.Load(); n > 0 {
			fmt.Fprintf(stderr, "net collect: %d times a part was put back for want of file descriptors or an unwritable state file (%d opens refused: too many open files)\n", n, c.TooManyOpen.Load())
		}
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "net collect: %v\n", runErr)
		return 1
	}
	if d := c.Deletions.Load(); d > 0 {
		// Said even with -quiet: records are gone.
		fmt.Fprintf(stderr, "net collect: LOST: streams or the consumer were deleted %d times while collecting; %d parts are missing from agent runs, and up to %d parts the stream held then\n",
			d, c.Lost(), c.LostAtMost.Load())
		return 1
	}
	if flushErr != nil {
		fmt.Fprintf(stderr, "net collect: last acks: %v (those parts come again)\n", flushErr)
	}
	if n := c.ParquetFailed.Load(); n > 0 {
		// The records are kept in the .ncap.gz files; each failure was
		// reported as it happened.
		fmt.Fprintf(stderr, "net collect: %d Parquet copies not written (the record files are complete; net dump -parquet converts them)\n", n)
		return 1
	}
	return 0
}

// loopback reports whether host is a loopback address or localhost (only
// this machine can connect there).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func statusLoop(w io.Writer, c *collector.Collector, every time.Duration, done chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	lastB, lastR, last := int64(0), int64(0), time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			b, r := c.Batches.Load(), c.Records.Load()
			s := now.Sub(last).Seconds()
			lost := ""
			if d := c.Deletions.Load(); d > 0 {
				lost = fmt.Sprintf("; LOST: streams deleted %d times, up to %d parts", d, c.LostAtMost.Load())
			}
			fmt.Fprintf(w, "net collect: %.0f messages/s, %.0f records/s, %d records in all, dead letters: %s%s\n",
				float64(b-lastB)/s, float64(r-lastR)/s, r, countLine(c.Dead()), lost)
			lastB, lastR, last = b, r, now
		}
	}
}

func countLine(m map[string]int64) string {
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
