// Package label is the "net label" command: it joins Suricata alerts or an
// attack timeline to the records of a capture (package label does the work).
package label

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/cli"
	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	lab "github.com/netcap/netcap/label"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Run runs "net label" with args and returns the exit code: 0 on success, 1
// when labelling failed, as on a damaged record file (nothing is left in
// -out), 2 on bad usage or a refused input (a device, a FIFO among the record
// files, an attack file over 16 MiB).
func Run(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

const usageText = `usage: net label -read <capture folder> -alerts eve.json|fast.log [-tz zone] -out <folder> [flags]
       net label -read <capture folder> -attacks attacks.yml -out <folder> [flags]

Writes every record of the folder net capture wrote once, as <Type>_labeled.csv.gz
(or, with -parquet, <Type>_labeled.parquet), with a last column "label": the
matching alert's classification (its signature when it has none, or with
-description), or "normal" when nothing matched.

Matching, per record type:
  Connection, Flow, FlowFeatures and stream records (HTTP, TLS hellos, SSH, FTP,
  SMTP, POP3, IMAP, Credentials, File)
      the alert's flow: the Connection with the alert's community_id, else its
      5-tuple in either direction (ICMP, IGMP, ...: addresses and protocol),
      holding the alert's pcap_cnt in [FrameFirst, FrameLast], or without
      pcap_cnt its time in [TimestampFirst, TimestampLast]. Flow records of
      both directions of that connection carry the label.
  packet records (TCP, UDP, IPv4, IPv6, Ethernet, DNS, ICMP, ...)
      the alert's flow (FlowID) and its packet: FrameNumber = pcap_cnt, or
      without pcap_cnt the packet time = the alert time (to the microsecond).
  NetworkFlow, TransportFlow, LinkFlow
      the address, port (and protocol) or MAC pair of the alert's flow, with
      the alert time inside the aggregate's first/last timestamps.
  -attacks: records whose SrcIP/DstIP are an attacker and a victim (either
      direction) and whose time (or flow window) overlaps the attack's range.
An alert that matches no flow labels nothing; the summary lists the first few
(a wrong -tz shows up here). Several matches: the most severe alert (lowest
severity, then first in the file) wins; -collect joins all with " | ".

Time zones: EVE timestamps carry their offset. fast.log has none, so -tz is
required with it. An attack file states its zone ("timezone: UTC").

Attack timeline (YAML):
  timezone: UTC
  attacks:
    - name: port scan
      start: 2026-05-01 07:41:45
      end: 2026-05-01 07:45:16
      attackers: [172.25.100.9]
      victims: [8.8.8.8]          # optional
      category: reconnaissance    # the label
      mitre: T1046                # optional, with -description: "port scan (T1046)"

Malformed EVE or fast.log lines are counted and listed by line number; the
rest still labels. A line over 64 MiB is one of them: it is skipped to its
end, not held. Labels (signatures, categories, attack names, -collect joins)
are cut to 1024 bytes, ending in "…"; the summary cuts cells to 60
characters and lists the 20 most frequent labels of each type. An attack
file over 16 MiB and devices given as -alerts or -attacks are refused. A
damaged record file (cut, corrupt, or a record with fields its type lacks or
nested more than 64 deep) stops the run with one line naming the file and
the record, exit 1. The output folder is written under a temporary name and
renamed when complete; an existing one is refused unless -overwrite.

examples:
  net capture -read traffic.pcap -out traffic_ncap
  net label -read traffic_ncap -alerts eve.json -out traffic_labeled
  net label -read traffic_ncap -alerts fast.log -tz UTC -out traffic_labeled
  net label -read traffic_ncap -attacks attacks.yml -out traffic_labeled
  net label -read traffic_ncap -alerts eve.json -collect -description -csv-sep "\t" -out traffic_labeled
  net label -read traffic_ncap -alerts eve.json -parquet -drop-identifiers -out dataset
      (dataset/FlowFeatures_labeled.parquet: a row per connection, its features and label: docs/parquet.md)

flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("net label", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg     lab.Config
		tz      = fs.String("tz", "", "time `zone` of fast.log timestamps (required for fast.log): UTC, an IANA name such as America/New_York, or an offset such as -05:00")
		exclude = fs.String("exclude", "", "comma-separated `classifications` (or signatures) whose alerts are ignored, e.g. \"Not Suspicious Traffic,Unknown Traffic\"")
		sep     = fs.String("csv-sep", ",", "CSV column `separator`; \\t for TSV")
		quiet   = fs.Bool("quiet", false, "no summary")
		drop    = fs.String("drop", "", "comma-separated `fields` left out of every output file (for a dataset: what a model must not learn from)")
		dropIDs = fs.Bool("drop-identifiers", false, "leave out the fields that name a host, a connection or a moment: "+strings.Join(lab.Identifiers, ", "))
	)
	fs.StringVar(&cfg.Read, "read", "", "`folder` of record files written by net capture (required)")
	fs.StringVar(&cfg.Alerts, "alerts", "", "Suricata alert `file`: EVE JSON (eve.json) or fast.log, told apart by content")
	fs.StringVar(&cfg.Attacks, "attacks", "", "attack timeline `file` in YAML (see above)")
	fs.StringVar(&cfg.Out, "out", "", "output `folder` for <Type>_labeled.csv.gz (required; must not exist unless -overwrite)")
	fs.BoolVar(&cfg.Overwrite, "overwrite", false, "replace an existing -out folder (only once the new one is complete)")
	fs.BoolVar(&cfg.Collect, "collect", false, "label with every matching label joined by \" | \" (default: the most severe alert)")
	fs.BoolVar(&cfg.Description, "description", false, "label with the alert's signature text (attack name and MITRE id) instead of its classification (category)")
	fs.BoolVar(&cfg.UTC, "utc", false, "write timestamps as RFC 3339 UTC text instead of Unix nanoseconds")
	fs.BoolVar(&cfg.Parquet, "parquet", false, "write <Type>_labeled.parquet (the records' typed columns, then label) instead of CSV, for pandas, DuckDB, Spark (docs/parquet.md)")
	fs.IntVar(&cfg.ParquetRows, "parquet-rows", ncparquet.DefaultRowGroupRows, "most rows of one Parquet row group")
	fs.IntVar(&cfg.Workers, "workers", 0, "record files labelled at once (default: number of CPUs)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "net label: unexpected argument %q: files go after -read, -alerts, -attacks and -out (see net label -h)\n", fs.Arg(0))
		return 2
	}
	if cfg.Read == "" {
		fmt.Fprintln(stderr, "net label: no input: give the folder net capture wrote with -read (see net label -h)")
		return 2
	}
	if cfg.Out == "" {
		fmt.Fprintln(stderr, "net label: no output: give a folder to write with -out (see net label -h)")
		return 2
	}
	if cfg.Alerts == "" && cfg.Attacks == "" {
		fmt.Fprintln(stderr, "net label: no ground truth: give -alerts eve.json (or fast.log with -tz) and/or -attacks attacks.yml (see net label -h)")
		return 2
	}
	if *tz != "" {
		loc, err := lab.ParseZone(*tz)
		if err != nil {
			fmt.Fprintf(stderr, "net label: -tz: %v\n", err)
			return 2
		}
		cfg.Zone = loc
	}
	cfg.Sep = *sep
	if cfg.Sep == `\t` {
		cfg.Sep = "\t"
	}
	if cfg.Sep == "" || strings.ContainsAny(cfg.Sep, "\"\r\n") {
		fmt.Fprintf(stderr, "net label: -csv-sep %q: a separator must not be empty or hold a quote or a line break\n", cfg.Sep)
		return 2
	}
	if cfg.ParquetRows < 1 {
		fmt.Fprintf(stderr, "net label: -parquet-rows %d: must be at least 1\n", cfg.ParquetRows)
		return 2
	}
	if cfg.Parquet && (cfg.UTC || cfg.Sep != ",") {
		fmt.Fprintln(stderr, "net label: -utc and -csv-sep shape CSV text; -parquet writes typed columns (timestamps as TIMESTAMP): drop them")
		return 2
	}
	if *dropIDs {
		cfg.Drop = append(cfg.Drop, lab.Identifiers...)
	}
	for _, x := range strings.Split(*drop, ",") {
		if x = strings.TrimSpace(x); x == "" {
			continue
		}
		if !anyRecordHas(x) {
			fmt.Fprintf(stderr, "net label: -drop %s: no record type has this field (net capture -decoders lists them)\n", x)
			return 2
		}
		cfg.Drop = append(cfg.Drop, x)
	}
	for _, x := range strings.Split(*exclude, ",") {
		if x = strings.TrimSpace(x); x != "" {
			cfg.Exclude = append(cfg.Exclude, x)
		}
	}
	if _, err := os.Stat(cfg.Out); err == nil && !cfg.Overwrite {
		fmt.Fprintf(stderr, "net label: output folder %s already exists; choose another -out or add -overwrite\n", cfg.Out)
		return 2
	}
	if err := ncio.CheckFolderSchema(cfg.Read); err != nil {
		fmt.Fprintf(stderr, "net label: %v\n", err)
		return 2
	}
	sum, err := lab.Run(&cfg)
	if err != nil {
		fmt.Fprintf(stderr, "net label: %v\n", err)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, lab.ErrNoZone) || errors.Is(err, lab.ErrRefused) {
			return 2
		}
		return 1
	}
	if !*quiet {
		printSummary(stderr, &cfg, sum)
	}
	return 0
}

const showUnmatched = 5

func printSummary(w io.Writer, cfg *lab.Config, s *lab.Summary) {
	if as := s.Alerts; as != nil {
		fmt.Fprintf(w, "net label: %d alerts read from %s (%s), %d other events skipped, %d excluded, %d malformed lines\n",
			len(as.List), cfg.Alerts, as.Format, as.Other, s.Excluded, as.Malformed)
		for i, line := range as.BadLines {
			fmt.Fprintf(w, "  malformed line %d: %s\n", line, as.BadErrors[i])
		}
		if as.Malformed > len(as.BadLines) {
			fmt.Fprintf(w, "  ... and %d more malformed lines\n", as.Malformed-len(as.BadLines))
		}
		used := len(as.List) - s.Excluded
		fmt.Fprintf(w, "net label: %d of %d alerts matched a flow of %d connections; %d matched no record\n",
			used-len(s.Unmatched), used, s.Connections, len(s.Unmatched))
		for i, a := range s.Unmatched {
			if i == showUnmatched {
				fmt.Fprintf(w, "  ... and %d more (check -tz and that the alerts are from this capture)\n", len(s.Unmatched)-showUnmatched)
				break
			}
			fmt.Fprintf(w, "  unmatched %s\n", a)
		}
	}
	if len(s.Attacks) > 0 {
		fmt.Fprintf(w, "net label: %d attacks read from %s\n", len(s.Attacks), cfg.Attacks)
	}
	fmt.Fprintf(w, "net label: %d records of %d types labelled into %s in %s\n", s.Records, len(s.Types), cfg.Out, s.Elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "type\trecords\tlabel\tcount\t")
	for _, t := range s.Types {
		labels := make([]string, 0, len(t.Labels))
		for l := range t.Labels {
			labels = append(labels, l)
		}
		sort.Slice(labels, func(i, j int) bool {
			if a, b := t.Labels[labels[i]], t.Labels[labels[j]]; a != b {
				return a > b
			}
			return labels[i] < labels[j]
		})
		for i, l := range labels {
			if i == showLabels {
				var rest int64
				for _, l := range labels[i:] {
					rest += t.Labels[l]
				}
				fmt.Fprintf(tw, "\t\t... %d more labels\t%d\t\n", len(labels)-i, rest)
				break
			}
			if i == 0 {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t\n", cell(t.Type), t.Records, cell(l), t.Labels[l])
			} else {
				fmt.Fprintf(tw, "\t\t%s\t%d\t\n", cell(l), t.Labels[l])
			}
		}
	}
	tw.Flush()
}

const (
	// maxCell is the widest summary cell: tabwriter pads every row of a
	// column to its widest cell, so one 10 MB label made every row 10 MB.
	maxCell = 60
	// showLabels is how many labels of a record type the summary lists
	// (the most frequent); the rest are counted on one line.
	showLabels = 20
)

// cell cuts a summary cell to maxCell characters, ending in "…", and
// replaces tabs and line breaks, which would break the table.
func cell(s string) string {
	var b strings.Builder
	n := 0
	for i, r := range s {
		if n == maxCell-1 {
			if _, size := utf8.DecodeRuneInString(s[i:]); i+size < len(s) {
				b.WriteString("…")
				break
			}
		}
		if r == '\t' || r == '\n' || r == '\r' {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// anyRecordHas reports whether a record type has a field of that name.
func anyRecordHas(name string) bool {
	for _, t := range decoder.RecordTypes() {
		if md := ncio.MessageDescriptor(t); md != nil && md.Fields().ByName(protoreflect.Name(name)) != nil {
			return true
		}
	}
	return false
}
