// Package capture is the "net capture" command: flags, progress and summary
// around the engine in package capture.
package capture

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/netcap/netcap/internal/cli"
	profile "github.com/netcap/netcap/internal/cpuprofile"
	"github.com/netcap/netcap/internal/engineflags"

	"github.com/evilsocket/islazy/tui"
	"github.com/mgutz/ansi"
	"golang.org/x/term"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap"
	engine "github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	"github.com/netcap/netcap/types"
)

// Run runs "net capture" with args and returns the exit code: 0 on success, 1
// when the input was cut or output could not be written (everything before
// was written), 2 on bad usage or an input that is not a capture.
func Run(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("net capture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := engineflags.Register(fs, engineflags.Setup{})
	var (
		interfaces    = fs.Bool("interfaces", false, "list the interfaces with their addresses, then exit")
		out           = fs.String("out", "", "output `folder` (default: the input's name with .net appended, in the current folder)")
		overwrite     = fs.Bool("overwrite", false, "allow -out to name a folder that exists (its record and pcap files are removed)")
		batch         = fs.Int("batch", 256, "packets per batch handed to the workers (a batch also ends at 1MiB of packet bytes)")
		csv           = fs.Bool("csv", false, "write CSV files (<Type>.csv.gz) instead of protobuf (<Type>.ncap.gz)")
		parquet       = fs.Bool("parquet", false, "write Parquet files (<Type>.parquet, zstd) instead of protobuf (<Type>.ncap.gz), for pandas, DuckDB, Spark (docs/parquet.md)")
		parquetRows   = fs.Int("parquet-rows", ncparquet.DefaultRowGroupRows, "most rows of one Parquet row group: each record type holds up to one group in memory")
		compress      = fs.Bool("compress", true, "gzip the output files")
		decoders      = fs.Bool("decoders", false, "list the record types and their fields, then exit")
		ignoreUnknown = fs.Bool("ignore-unknown", false, "do not write unknown.pcap (unknown packets are still counted)")
		quiet         = fs.Bool("quiet", false, "no progress line and no summary")
		cpuprofile    = fs.String("cpuprofile", "", "write a CPU profile to `file`")
		memprofile    = fs.String("memprofile", "", "write a heap profile to `file` at exit")
	)
	cli.Alias(fs, "comp", "compress", "the original netcap's name")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: net capture -read traffic.pcap [-out folder] [flags]\n"+
			"       net capture -iface eth0 [-bpf \"tcp port 80\"] [-out folder] [flags]\n"+
			"       net capture -interfaces\n\n"+
			"Decodes every packet of a capture file, or of an interface until Ctrl-C or SIGTERM, into typed\n"+
			"audit records, one file per record type. Packets with a layer no decoder reads go to unknown.pcap,\n"+
			"packets that fail to decode to errors.pcap. On Ctrl-C everything captured so far is written and the\n"+
			"files are closed; a second Ctrl-C quits at once. Live capture needs root or the capabilities\n"+
			"CAP_NET_RAW and CAP_NET_ADMIN (sudo setcap cap_net_raw,cap_net_admin=eip $(which net)).\n\n"+
			"net agent and net export take the same input flags (-read, -iface, -bpf, -promisc, -snaplen,\n"+
			"-buffer), decoding flags (-workers, -payload, -entropy, -conn-timeout, -flow-timeout, -close-delay,\n"+
			"-stream-memory, -max-connections, -memcap) and selection (-include, -exclude).\n"+
			"The original netcap's names still work: -r, -comp, timeouts in plain seconds (-flow-timeout 30),\n"+
			"and TLS, OSPF, VRRP in -include and -exclude for their record families.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "net capture: unexpected argument %q (the input goes after -read)\n", fs.Arg(0))
		return 2
	}
	if *decoders {
		listDecoders(stdout)
		return 0
	}
	if *interfaces {
		return listInterfaces(stdout, stderr)
	}
	if err := ef.Input(); err != nil {
		fmt.Fprintf(stderr, "net capture: %v\n", err)
		return 2
	}
	cfg, liveOpts, err := ef.Config()
	if err != nil {
		fmt.Fprintf(stderr, "net capture: %v\n", err)
		return 2
	}
	if *batch < 1 {
		fmt.Fprintf(stderr, "net capture: -batch %d: must be at least 1\n", *batch)
		return 2
	}
	if *parquet && *csv {
		fmt.Fprintln(stderr, "net capture: -parquet and -csv both choose the output format: give one")
		return 2
	}
	if *parquetRows < 1 {
		fmt.Fprintf(stderr, "net capture: -parquet-rows %d: must be at least 1\n", *parquetRows)
		return 2
	}
	read, iface := ef.Read, ef.Iface
	if *out == "" {
		if iface != "" {
			*out = filepath.Base(iface) + ".net"
		} else {
			*out = filepath.Base(read) + ".net"
		}
	}
	if err := checkOut(*out, *overwrite); err != nil {
		fmt.Fprintf(stderr, "net capture: %v\n", err)
		return 2
	}
	cfg.Input.BatchSize = *batch
	cfg.Output = engine.OutputConfig{Dir: *out, CSV: *csv, Compress: *compress, IgnoreUnknown: *ignoreUnknown, Version: netcap.Version,
		Parquet: *parquet, ParquetRows: *parquetRows}
	if engineflags.Inspected("net capture", cfg, liveOpts) {
		return 0
	}
	var src engine.Source
	if iface != "" {
		live, err := engine.OpenLive(iface, liveOpts)
		if err != nil {
			fmt.Fprintf(stderr, "net capture: %v\n", err)
			return 2
		}
		src = live
	} else {
		file, err := engine.OpenFile(read)
		if err != nil {
			fmt.Fprintf(stderr, "net %v\n", err)
			return 2
		}
		if err := file.SetFilter(ef.BPF); err != nil {
			file.Close()
			fmt.Fprintf(stderr, "net capture: %v\n", err)
			return 2
		}
		src = file
	}
	defer src.Close()

	stopProfile, err := profile.Start(*cpuprofile)
	if err != nil {
		fmt.Fprintf(stderr, "net capture: -cpuprofile: %v\n", err)
		return 2
	}
	defer stopProfile()

	ctx, stop := stopOnSignal(stderr)
	defer stop()

	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit past the cap: the collector works harder before
		// the process outgrows what -memcap promises, and never fails.
		debug.SetMemoryLimit(2*cfg.Decoding.MemCap + 512<<20)
	}
	tty := isTerminal(stderr)
	if !*quiet && iface != "" {
		fmt.Fprintf(stderr, "net capture: capturing on %s, writing to %s; Ctrl-C stops\n", iface, *out)
	}
	if !*quiet && tty {
		cfg.Hooks.Progress = func(s engine.Stats) { progressLine(stderr, s, iface != "") }
	}
	sum, err := engine.Run(ctx, src, cfg)
	if !*quiet && tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if *memprofile != "" {
		if f, ferr := os.Create(*memprofile); ferr == nil {
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if sum != nil && !*quiet {
		printSummary(stderr, sum, *out, tty)
	}
	if err != nil {
		fmt.Fprintf(stderr, "net capture: %v\n", err)
		return 1
	}
	if sum.Truncated != nil {
		fmt.Fprintf(stderr, "net capture: %v; the records of the %d packets before the cut were written\n", sum.Truncated, sum.Packets)
		return 1
	}
	return 0
}

// checkOut refuses to mix a new run's files with an old run's.
func checkOut(dir string, overwrite bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("output folder %s: %v", dir, err)
	}
	if !overwrite {
		if len(entries) > 0 {
			return fmt.Errorf("output folder %s already holds files; choose another -out or add -overwrite", dir)
		}
		return fmt.Errorf("output folder %s already exists; choose another -out or add -overwrite", dir)
	}
	if overwrite {
		for _, e := range entries {
			n := e.Name()
			if strings.HasSuffix(n, ".ncap.gz") || strings.HasSuffix(n, ".ncap") || strings.HasSuffix(n, ".csv.gz") ||
				strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ncparquet.Ext) {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
	return nil
}

// listDecoders prints every record type of netcap.proto with what makes it
// and its fields; types no decoder makes yet are listed as such.
func listDecoders(w io.Writer) {
	about := map[types.Type]string{}
	for _, p := range decoder.Protocols() {
		for _, t := range p.Records {
			from := fmt.Sprintf("from layer %v", p.Layer)
			if p.Segments {
				from += ", one TCP segment at a time"
			}
			var also []string
			for _, c := range p.Ports {
				if c.Layer != 0 && c.Layer != p.Layer {
					from += fmt.Sprintf("; %v %d is read as %v", c.Transport, c.Number, c.Layer)
				} else {
					also = append(also, fmt.Sprintf("%v %d", c.Transport, c.Number))
				}
			}
			if len(also) > 0 {
				from += "; also on " + strings.Join(also, ", ")
			}
			about[t] = fmt.Sprintf("%s (%s)", p.Description, from)
		}
	}
	// A record can come from packets and from reassembled streams too (DNS
	// over UDP and over TCP): the listing names both sources.
	streams := map[types.Type][]string{}
	for _, p := range decoder.StreamProtocols() {
		for _, t := range p.Records {
			streams[t] = append(streams[t], p.Name)
		}
	}
	for t, names := range streams {
		from := "from reassembled " + strings.Join(names, ", ") + " streams"
		if d, ok := about[t]; ok {
			about[t] = strings.TrimSuffix(d, ")") + "; and " + from + ")"
		} else {
			about[t] = from
		}
	}
	for t, d := range decoder.FlowRecords {
		about[t] = d
	}
	for t, d := range decoder.InventoryRecords {
		about[t] = d
	}
	var all []types.Type
	for v := range types.Type_name {
		t := types.Type(v)
		if md := ncio.MessageDescriptor(t); md != nil && t != types.Type_NC_Header && t != types.Type_NC_Batch && isRecord(md) {
			all = append(all, t)
		}
	}
	sort.Slice(all, func(i, j int) bool { return types.Name(all[i]) < types.Name(all[j]) })
	for _, t := range all {
		desc, ok := about[t]
		if !ok {
			desc = "declared in netcap.proto; no decoder makes it yet"
		}
		fmt.Fprintf(w, "%s: %s\n", types.Name(t), desc)
		md := ncio.MessageDescriptor(t)
		var names []string
		for i := 0; i < md.Fields().Len(); i++ {
			names = append(names, fieldText(md.Fields().Get(i)))
		}
		fmt.Fprintf(w, "    %s\n", strings.Join(names, ", "))
	}
}

// isRecord tells top-level records (field 1 is a timestamp) from
// sub-messages that also have an enum value (DNSQuestion, TCPOption, ...).
func isRecord(md protoreflect.MessageDescriptor) bool {
	f := md.Fields().ByNumber(1)
	return f != nil && (f.Name() == "Timestamp" || f.Name() == "TimestampFirst") && f.Kind() == protoreflect.Int64Kind
}

func fieldText(fd protoreflect.FieldDescriptor) string {
	kind := fd.Kind().String()
	if fd.Kind() == protoreflect.MessageKind {
		kind = string(fd.Message().Name())
	}
	if fd.IsList() {
		kind = "[]" + kind
	}
	return fmt.Sprintf("%s %s", fd.Name(), kind)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func progressLine(w io.Writer, s engine.Stats, live bool) {
	rate := float64(s.Packets) / s.Elapsed.Seconds()
	pct := ""
	if s.Total > 0 && s.Done > 0 {
		left := time.Duration(float64(s.Elapsed) * float64(s.Total-s.Done) / float64(s.Done))
		pct = fmt.Sprintf(" (%.1f%%, %.1f MB/s, %v left)", 100*float64(s.Done)/float64(s.Total),
			float64(s.Done)/1e6/s.Elapsed.Seconds(), left.Round(time.Second))
	}
	if live {
		fmt.Fprintf(w, "\r\033[Kcapturing: %d packets, %.0f packets/s, dropped: kernel %d, workers behind %d; unknown %d, errors %d", s.Packets, rate, s.Kernel, s.Behind, s.Unknown, s.Errors)
		return
	}
	fmt.Fprintf(w, "\r\033[Kdecoding: %d packets%s, %.0f packets/s, unknown %d, errors %d", s.Packets, pct, rate, s.Unknown, s.Errors)
}

// stopOnSignal returns a context that is cancelled on the first SIGINT or
// SIGTERM, so that the engine writes what it has and closes the files. A
// second signal quits at once. stop releases the signals.
func stopOnSignal(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\nnet capture: %v: stopping; writing what was captured (again to quit at once)\n", sig)
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "net capture: %v again: quitting without finishing the output files\n", sig)
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// listInterfaces prints the interfaces libpcap can capture on.
func listInterfaces(stdout, stderr io.Writer) int {
	ifs, err := engine.Interfaces()
	if err != nil {
		fmt.Fprintf(stderr, "net capture: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "interface\tstate\taddresses\tdescription")
	for _, it := range ifs {
		var state []string
		if it.Up {
			state = append(state, "up")
		} else {
			state = append(state, "down")
		}
		if it.Running {
			state = append(state, "running")
		}
		if it.Loopback {
			state = append(state, "loopback")
		}
		addrs := strings.Join(it.Addresses, " ")
		if addrs == "" {
			addrs = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Name, strings.Join(state, ","), addrs, it.Description)
	}
	tw.Flush()
	return 0
}

func printSummary(w io.Writer, s *engine.Summary, out string, color bool) {
	names := make([]string, 0, len(s.Records))
	var total int64
	for n, c := range s.Records {
		names = append(names, n)
		total += c
	}
	sort.Slice(names, func(i, j int) bool {
		if s.Records[names[i]] != s.Records[names[j]] {
			return s.Records[names[i]] > s.Records[names[j]]
		}
		return names[i] < names[j]
	})
	// islazy's table aligns cells left: numbers are padded to one width
	// so that they line up on the right.
	width := len(strconv.FormatInt(total, 10))
	rows := make([][]string, 0, len(names))
	for _, n := range names {
		rows = append(rows, []string{n, fmt.Sprintf("%*d", width, s.Records[n]),
			fmt.Sprintf("%5.1f%%", 100*float64(s.Records[n])/float64(max(total, 1)))})
	}
	if len(rows) > 0 {
		tui.Table(w, []string{"record type", "records", "share"}, rows)
	}
	warn := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if color {
			line = ansi.Color(line, "yellow")
		}
		fmt.Fprintln(w, line)
	}
	rate := float64(s.Packets) / s.Elapsed.Seconds()
	fmt.Fprintf(w, "\n%s: %d packets, %d records, %d unknown (unknown.pcap), %d errors (errors.pcap), %s, %.0f packets/s, %d workers, output in %s\n",
		s.Source, s.Packets, total, s.Unknown, s.Errors, s.Elapsed.Round(time.Millisecond), rate, s.Workers, out)
	if d := s.Decoder; d.Connections > 0 || d.StreamBytes > 0 {
		fmt.Fprintf(w, "flows: %d connections (evicted: memcap %d, max-connections %d, timeout %d; layer flows evicted: memcap %d); TCP streams: %d bytes reassembled, %d missed, %d overlapping, %d segments out of order",
			d.Connections, d.EvictedMemcap, d.Evicted, d.TimedOut, d.LayerFlowsEvicted, d.StreamBytes, d.MissedBytes, d.OverlapBytes, d.OutOfOrder)
		if d.InventoryDropped > 0 {
			fmt.Fprintf(w, "; inventory full: %d software and services not recorded", d.InventoryDropped)
		}
		if d.ExpectedDropped > 0 {
			fmt.Fprintf(w, "; %d announced FTP data connections dropped at the bound of %d (not tied to their control)", d.ExpectedDropped, decoder.DefaultMaxExpected)
		}
		if d.MemoryLimitHits > 0 {
			fmt.Fprintf(w, "; -stream-memory reached %d times (peak %d bytes per worker)", d.MemoryLimitHits, d.StreamMemoryPeak)
		}
		if c := d.Stream; c.Resyncs+c.GaveUp+c.Unpaired+c.Malformed > 0 {
			fmt.Fprintf(w, "; parsers after missed bytes: %d resynchronized, %d directions given up, %d HTTP requests left unpaired; %d malformed messages",
				c.Resyncs, c.GaveUp, c.Unpaired, c.Malformed)
		}
		if p := d.Stream.Panics; p > 0 {
			fmt.Fprintf(w, "; %d stream parser panics (those connections' parsers stopped there: please report it with the capture)", p)
		}
		fmt.Fprintln(w)
	}
	if s.Live {
		line := fmt.Sprintf("dropped: %d by the kernel (capture buffer full: raise -buffer), %d because the workers were behind (add -workers or narrow -bpf); %d decode errors, %d unknown",
			s.KernelDrops, s.Behind, s.Errors, s.Unknown)
		if s.KernelDrops+s.Behind > 0 {
			warn("%s", line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
	if d := s.Decoder; d.Defragmented+d.DefragTimedOut+d.DefragEvicted+d.DefragOversize > 0 {
		fmt.Fprintf(w, "IP fragments: %d datagrams reassembled, %d incomplete (timed out or cut off), %d dropped at the pending bound, %d over 65535 bytes\n",
			d.Defragmented, d.DefragTimedOut, d.DefragEvicted, d.DefragOversize)
	}
	if s.Unencodable > 0 {
		warn("records not written: %d could not be encoded (a text field that is not UTF-8: please report it with the capture)", s.Unencodable)
	}
	if len(s.UnknownLayers) > 0 {
		fmt.Fprintf(w, "unknown layers: %s\n", topCounts(s.UnknownLayers, 10))
	}
	if len(s.ErrorReasons) > 0 {
		fmt.Fprintf(w, "decode errors: %s\n", topCounts(s.ErrorReasons, 10))
	}
}

func topCounts(m map[string]int64, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for i, k := range keys {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
