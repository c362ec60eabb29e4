// Package dump is the "net dump" command: it prints the records of one record
// file (<Type>.ncap.gz or .ncap) as CSV, TSV, JSON Lines, an aligned table or
// protobuf text.
package dump

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	"github.com/netcap/netcap/types"
)

// Run runs "net dump" with args and returns the exit code: 0 on success (also
// when the reader of stdout went away, as with "net dump ... | head"), 1 when
// the file is cut or corrupt after its header (every record before was
// printed) or output cannot be written, 2 on bad usage or an input that is not
// a record file.
func Run(args []string) int {
	// With SIGPIPE ignored, a write to a closed pipe returns EPIPE instead of
	// killing the process, so run can end quietly with exit 0.
	signal.Ignore(syscall.SIGPIPE)
	return run(args, os.Stdout, os.Stderr)
}

// options are the parsed flags.
type options struct {
	read      string
	sep       string
	tsv       bool
	selection string
	fields    bool
	header    bool
	utc       bool
	json      bool
	table     bool
	structure bool
	limit     int
	parquet   bool
	out       string
	rows      int
}

const usageText = `usage: net dump -read <Type>.ncap.gz [flags]

Prints the records of one record file written by net capture. The default
output is CSV with a header line (RFC 4180 quoting; lists and nested records
as JSON inside the cell).

-read also takes a FIFO (mkfifo): records are printed as they arrive.
Devices (/dev/zero, terminals) are refused, exit 2. Every record is checked
against its type before it is printed: one with fields its type does not
have, wrong wire types or messages nested more than 64 deep (a few hundred
bytes of nested groups would print as hundreds of MB) stops the dump with one
line naming the file and the record, exit 1. -struct prints at most 1000
elements of a list ("... N more") and 8 levels of nesting; -table cuts
cells at 40 characters (or the column name).

examples:
  net dump -read traffic.net/TCP.ncap.gz
  net dump -read traffic.net/TCP.ncap.gz -select Timestamp,SrcPort,DstPort -tsv -utc
  net dump -read traffic.net/DNS.ncap.gz -json | jq .
  net dump -read traffic.net/TCP.ncap.gz -table -limit 20
  net dump -read traffic.net/TCP.ncap.gz -parquet -out TCP.parquet

flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("net dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.read, "read", "", "record `file` to print: <Type>.ncap.gz or .ncap, as net capture writes them, or a FIFO (required)")
	fs.StringVar(&o.sep, "sep", "", "CSV column `separator` (default \",\"; \\t means tab)")
	fs.BoolVar(&o.tsv, "tsv", false, "tab-separated values instead of commas")
	fs.StringVar(&o.selection, "select", "", "comma-separated `fields` to print, in that order (see -fields)")
	fs.BoolVar(&o.fields, "fields", false, "print the field names of the file's record type on one line, then exit")
	fs.BoolVar(&o.header, "header", false, "print the file's header (record type, creation time, input source, version, payloads, record schema), then exit")
	fs.BoolVar(&o.utc, "utc", false, "print timestamps as RFC 3339 UTC text instead of Unix nanoseconds")
	fs.BoolVar(&o.json, "json", false, "one JSON object per line (JSON Lines), for jq and friends")
	fs.BoolVar(&o.table, "table", false, "aligned columns for reading in a terminal (long cells are cut with …)")
	fs.BoolVar(&o.structure, "struct", false, "each record as protobuf text, several lines per record (lists cut at 1000 elements, nesting at 8 levels)")
	fs.IntVar(&o.limit, "limit", 0, "stop after `N` records (0: all)")
	fs.BoolVar(&o.parquet, "parquet", false, "convert the records into a Parquet file (-out), as net capture -parquet writes them (docs/parquet.md)")
	fs.StringVar(&o.out, "out", "", "the Parquet `file` that -parquet writes (replaced if it exists)")
	fs.IntVar(&o.rows, "parquet-rows", ncparquet.DefaultRowGroupRows, "most rows of one Parquet row group")
	cli.Alias(fs, "r", "read", "the original netcap's name")
	cli.Alias(fs, "struc", "struct", "the original netcap's name")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "net dump: unexpected argument %q: the file goes after -read and flags go before other arguments, e.g. net dump -read TCP.ncap.gz -json\n", fs.Arg(0))
		return 2
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "net dump: %v\n", err)
		return 2
	}

	r, f, code, err := openRecords(o.read)
	if err != nil {
		fmt.Fprintf(stderr, "net dump: %v\n", err)
		return code
	}
	defer f.Close()

	out := &output{w: bufio.NewWriterSize(stdout, 64<<10)}
	if st, err := os.Stat(o.read); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
		out.live = true
	}
	code = dump(r, &o, out, stderr)
	if err := out.flush(); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			return 0
		}
		fmt.Fprintf(stderr, "net dump: writing output: %v\n", err)
		return 1
	}
	return code
}

// check refuses flag combinations that would silently do something else than
// asked.
func (o *options) check() error {
	if o.read == "" {
		return errors.New("no input: give a record file with -read, e.g. net dump -read traffic.net/TCP.ncap.gz (see net dump -h)")
	}
	if o.limit < 0 {
		return fmt.Errorf("-limit %d: give a number of records, 0 for all", o.limit)
	}
	if o.fields && o.header {
		return errors.New("-fields and -header both print and exit: choose one")
	}
	modes := 0
	for _, on := range []bool{o.json, o.table, o.structure} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return errors.New("choose one of -json, -table and -struct")
	}
	if o.sep == `\t` {
		o.sep = "\t"
	}
	if o.tsv {
		if o.sep != "" && o.sep != "\t" {
			return fmt.Errorf("-tsv and -sep %q disagree: give one of them", o.sep)
		}
		o.sep = "\t"
	}
	if o.sep != "" {
		if strings.ContainsAny(o.sep, "\"\r\n") {
			return fmt.Errorf("-sep %q: a separator cannot hold a quote or a line break, CSV uses those for quoting and rows", o.sep)
		}
		if modes > 0 {
			return errors.New("-tsv and -sep set the CSV separator; they do not apply to -json, -table or -struct")
		}
	}
	if o.parquet {
		switch {
		case o.out == "":
			return errors.New("-parquet writes a file: give it with -out, e.g. -out TCP.parquet")
		case o.fields || o.header || modes > 0 || o.selection != "" || o.sep != "":
			return errors.New("-parquet writes every field of every record to -out; it does not combine with -fields, -header, -json, -table, -struct, -select, -sep or -tsv")
		case o.rows < 1:
			return fmt.Errorf("-parquet-rows %d: must be at least 1", o.rows)
		case filepath.Clean(o.out) == filepath.Clean(o.read):
			return fmt.Errorf("-out %s is the -read file: give another name", o.out)
		}
	} else if o.out != "" {
		return errors.New("-out names the file of -parquet; the other outputs go to stdout (add -parquet, or redirect with >)")
	}
	if o.selection != "" && o.structure {
		return errors.New("-select does not apply to -struct, which prints whole records; use -table -select ... instead")
	}
	return nil
}

// output is stdout through a buffer; it keeps the first write error so that
// the record loop can stop at a closed pipe.
type output struct {
	w    *bufio.Writer
	err  error
	live bool // the input is a FIFO: each record is flushed as it is read
}

func (o *output) write(b []byte) {
	if o.err == nil {
		_, o.err = o.w.Write(b)
	}
}

func (o *output) flush() error {
	if o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}

// renderer prints records in one output mode.
type renderer interface {
	record(m protoreflect.Message)
	end()
}

// dump prints what the options ask for and returns the exit code.
func dump(r *ncio.Reader, o *options, out *output, stderr io.Writer) int {
	md := r.New().ProtoReflect().Descriptor()
	// Columns are resolved once: with Fields nil, ncio would build the list of
	// every field again for each row.
	format := ncio.Format{Sep: o.sep, UTC: o.utc, Fields: allFields(md)}
	if o.selection != "" {
		cols, err := selectFields(md, o.selection)
		if err != nil {
			fmt.Fprintf(stderr, "net dump: %v\n", err)
			return 2
		}
		format.Fields = cols
	}
	switch {
	case o.header:
		printHeader(out, r, o)
		return 0
	case o.fields:
		printFields(out, md, o)
		return 0
	}

	var rd renderer
	switch {
	case o.parquet:
		h := proto.Clone(r.Header()).(*types.Header)
		w, err := ncparquet.Create(o.out, h.Type, h, ncparquet.Options{RowGroupRows: o.rows})
		if err != nil {
			fmt.Fprintf(stderr, "net dump: %v\n", err)
			return 1
		}
		rd = &parquetRenderer{w: w, out: out}
	case o.json:
		rd = &jsonRenderer{out: out, format: &format}
	case o.table:
		rd = newTable(out, md, &format)
	case o.structure:
		rd = &structRenderer{out: out, md: md}
	default:
		rd = newCSV(out, md, &format)
	}

	m := r.New()
	chk := wirecheck.NewChecker(md, wirecheck.Default)
	n := 0
	var readErr, damage error
	for o.limit == 0 || n < o.limit {
		b, err := r.NextRaw()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		// A record is checked before it is decoded and printed: a few
		// hundred bytes of nested groups would otherwise print as
		// hundreds of megabytes.
		if err := chk.Check(b); err != nil {
			damage = err
			break
		}
		if err := proto.Unmarshal(b, m); err != nil {
			readErr = fmt.Errorf("%s: record %d does not decode as %s: %w", o.read, n+1, md.Name(), err)
			break
		}
		n++
		rd.record(m.ProtoReflect())
		if out.live {
			out.flush()
		}
		if out.err != nil {
			break
		}
	}
	rd.end()
	if p, ok := rd.(*parquetRenderer); ok && p.err != nil {
		fmt.Fprintf(stderr, "net dump: %v\n", p.err)
		return 1
	}
	// Stdout is flushed before the error line so the two appear in order; a
	// write error is left in out for run to report.
	if (readErr == nil && damage == nil) || out.flush() != nil {
		return 0
	}
	if damage != nil {
		fmt.Fprintf(stderr, "net dump: %s: record %d is damaged, not %s: %v; the %s before it %s %s (net util -check %s looks at the whole file)\n", o.read, n+1, o.done(), damage, records(n), were(n), o.done(), o.read)
		return 1
	}
	if errors.Is(readErr, ncio.ErrTruncated) {
		fmt.Fprintf(stderr, "net dump: %s is truncated: it ends inside record %d (a killed net capture, a full disk or a partial copy); the %s before the cut %s %s\n", o.read, n+1, records(n), were(n), o.done())
		return 1
	}
	fmt.Fprintf(stderr, "net dump: %v; the %s before it %s %s\n", readErr, records(n), were(n), o.done())
	return 1
}

// done says what became of the records read, for the error messages.
func (o *options) done() string {
	if o.parquet {
		return "written to " + o.out
	}
	return "printed"
}

// records says how many records were read, for the error messages.
func records(n int) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

func were(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// selectFields resolves -select names against the record type; an unknown
// name is an error that lists the fields there are.
func selectFields(md protoreflect.MessageDescriptor, list string) ([]protoreflect.FieldDescriptor, error) {
	var cols []protoreflect.FieldDescriptor
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			hint := ""
			for i := 0; i < md.Fields().Len(); i++ {
				if other := string(md.Fields().Get(i).Name()); strings.EqualFold(other, name) {
					hint = fmt.Sprintf(" (did you mean %s? names are case-sensitive)", other)
				}
			}
			return nil, fmt.Errorf("-select: %s records have no field %q%s; their fields are: %s",
				md.Name(), name, hint, strings.Join(fieldNames(md), ","))
		}
		cols = append(cols, fd)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("-select %q names no field; %s fields are: %s", list, md.Name(), strings.Join(fieldNames(md), ","))
	}
	return cols, nil
}

func allFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	fds := make([]protoreflect.FieldDescriptor, md.Fields().Len())
	for i := range fds {
		fds[i] = md.Fields().Get(i)
	}
	return fds
}

func fieldNames(md protoreflect.MessageDescriptor) []string {
	names := make([]string, md.Fields().Len())
	for i := range names {
		names[i] = string(md.Fields().Get(i).Name())
	}
	return names
}

// printFields prints the field names on one line: with the CSV separator, or
// as a JSON array under -json.
func printFields(out *output, md protoreflect.MessageDescriptor, o *options) {
	names := fieldNames(md)
	if o.json {
		b := []byte{'['}
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, n...)
			b = append(b, '"')
		}
		out.write(append(b, "]\n"...))
		return
	}
	sep := o.sep
	if sep == "" {
		sep = ","
	}
	out.write([]byte(strings.Join(names, sep) + "\n"))
}

// printHeader prints the header record as "name: value" lines (creation time
// always as UTC text), or as one JSON object under -json.
func printHeader(out *output, r *ncio.Reader, o *options) {
	h := r.Header()
	if o.json {
		b := ncio.AppendJSON(nil, h.ProtoReflect(), &ncio.Format{UTC: o.utc})
		out.write(append(b, '\n'))
		return
	}
	rows := [][2]string{
		{"Type", types.Name(h.Type)},
		{"Created", ncio.FormatTime(h.Created)},
		{"InputSource", h.InputSource},
		{"Version", h.Version},
		{"ContainsPayloads", fmt.Sprint(h.ContainsPayloads)},
		{"Schema", fmt.Sprint(h.Schema)},
	}
	for _, kv := range rows {
		out.write(fmt.Appendf(nil, "%-17s %s\n", kv[0]+":", kv[1]))
	}
}

// csvRenderer writes a header line, then one row per record.
type csvRenderer struct {
	out    *output
	format *ncio.Format
	buf    []byte
}

func newCSV(out *output, md protoreflect.MessageDescriptor, f *ncio.Format) *csvRenderer {
	out.write(ncio.AppendCSVHeader(nil, md, f))
	return &csvRenderer{out: out, format: f}
}

func (c *csvRenderer) record(m protoreflect.Message) {
	c.buf = ncio.AppendCSVRow(c.buf[:0], m, c.format)
	c.out.write(c.buf)
}

func (c *csvRenderer) end() {}

// jsonRenderer writes JSON Lines: one compact object per line and nothing
// else, so that jq and any JSON Lines reader take the output as it is.
type jsonRenderer struct {
	out    *output
	format *ncio.Format
	buf    []byte
}

func (j *jsonRenderer) record(m protoreflect.Message) {
	j.buf = ncio.AppendJSON(j.buf[:0], m, j.format)
	j.out.write(append(j.buf, '\n'))
}

func (j *jsonRenderer) end() {}

// structRenderer writes each record as protobuf text under a heading that
// names the type, the record's number in the file, its frame and its time.
// Protobuf text leaves out fields that hold their zero value.
type structRenderer struct {
	out   *output
	md    protoreflect.MessageDescriptor
	n     int
	frame protoreflect.FieldDescriptor
	ts    protoreflect.FieldDescriptor
	buf   []byte
}

func (s *structRenderer) record(m protoreflect.Message) {
	if s.n == 0 {
		s.frame = s.md.Fields().ByName("FrameNumber")
		s.ts = s.md.Fields().ByName("Timestamp")
	}
	s.n++
	b := fmt.Appendf(s.buf[:0], "%s record %d", s.md.Name(), s.n)
	var notes []string
	if s.frame != nil {
		notes = append(notes, fmt.Sprintf("frame %d", m.Get(s.frame).Int()))
	}
	if s.ts != nil && s.ts.Kind() == protoreflect.Int64Kind {
		notes = append(notes, ncio.FormatTime(m.Get(s.ts).Int()))
	}
	if len(notes) > 0 {
		b = fmt.Appendf(b, " (%s)", strings.Join(notes, ", "))
	}
	b = append(b, '\n')
	b = appendText(b, m, 1)
	s.buf = append(b, '\n')
	s.out.write(s.buf)
}

func (s *structRenderer) end() {}

// parquetRenderer writes the records into a Parquet file (-parquet -out);
// it keeps the first error for dump to report, and stops the loop with it.
type parquetRenderer struct {
	w   *ncparquet.Writer
	out *output
	err error
}

func (p *parquetRenderer) record(m protoreflect.Message) {
	if p.err == nil {
		p.err = p.w.Write(m.Interface())
	}
	if p.err != nil && p.out.err == nil {
		// Ends the record loop; dump reports p.err, not this.
		p.out.err = p.err
	}
}

func (p *parquetRenderer) end() {
	if err := p.w.Close(); p.err == nil {
		p.err = err
	}
}
