// Package util is the "net util" command: it checks record files and converts
// timestamps.
package util

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// Run runs "net util" with args and returns the exit code: 0 when every
// checked file is valid (or a timestamp was converted), 1 when a file is
// damaged, 2 on bad usage, an unreadable path or an unparsable timestamp.
func Run(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

const usageText = `usage: net util -check FILE|FOLDER
       net util -ts2utc TIMESTAMP
       net util -upgrade -read FILE|FOLDER -out FOLDER

-check reads record files (<Type>.ncap[.gz], <Type>.csv[.gz]) completely, or
every such file in a folder and in its subfolders one level down (the sensor
folders net collect writes), and prints one line per file: its type and record
count, or the first damage found, naming the file, the record index (0 = the
first record after the header) and the byte offset. It finds a truncated or
corrupt gzip stream (offset: bytes of the file read when the stream broke), a
record whose length runs past the end of the data (offset in the uncompressed
data), a header of another record type than the file name says, a record that
does not decode as its type, and CSV rows whose column count differs from the
header's (offset in the uncompressed data). A record whose fields do not fit
its type (another type's record, or one from a newer netcap), at any depth of
nesting, counts as damage, as does one nested more than 64 deep (net dump
refuses those), and a CSV row over 16 MiB (an endless line). Files not named
as record files (pcaps) are skipped in folders. A capture (pcap, pcapng,
gzip'd or not), a FIFO or a device is not read: its line says NOT and what
it is, and the exit status is 2.
A record file of another schema (written by the original netcap, or by a newer
netcap than this one) is not read: its line says OTHER, names the version and
what to do, and the exit status is 2.
Exit status: 0 only when every file is valid, 1 when any file is damaged,
2 on bad usage, when the path holds no record file, a file of another schema,
a capture, a FIFO or a device.

-upgrade converts record files of the original netcap (github.com/dreadl0ck/
netcap) v0.4.x and v0.6 or later into this build's format, one <Type>.ncap.gz
per input file in the -out folder (existing files are not overwritten). It
converts Flow (v0.4 only), Connection, Ethernet, ARP, Dot1Q, LLC, IPv4, IPv6,
ICMPv4, ICMPv6, ICMPv6Echo, UDP, TCP, SCTP, DNS, DHCPv4, NTP, HTTP and
TLSClientHello records, and prints per file every
conversion made (v0.4 "seconds.microseconds" times to Unix ns, v0.4 packet
contexts to SrcIP/DstIP/SrcPort/DstPort, ...), every value it could not carry
over and the fields left empty. Other record types are reported, not
converted. Exit status: 0 when every file was converted, 1 when any was not,
2 on bad usage.

-ts2utc prints a timestamp as RFC 3339 UTC with nanoseconds. It accepts
seconds.fraction (1700000000.123456, as netcap 0.4 wrote; the fraction is a
decimal fraction), Unix nanoseconds (an integer of 14 or more digits; shorter
integers are seconds) and RFC 3339 (converted to UTC).

flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("net util", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.String("check", "", "record `file` or folder (with its sensor subfolders) to check")
	ts := fs.String("ts2utc", "", "`timestamp` to print as RFC 3339 UTC")
	upgrade := fs.Bool("upgrade", false, "convert record files of the original netcap (-read) into this build's format (-out)")
	upRead := fs.String("read", "", "-upgrade: record `file or folder` of the original netcap")
	upOut := fs.String("out", "", "-upgrade: `folder` to write the converted files into")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if *upgrade && fs.NArg() == 0 && *check == "" && *ts == "" {
		return runUpgrade(*upRead, *upOut, stdout, stderr)
	}
	if fs.NArg() > 0 || (*check == "") == (*ts == "") || *upgrade || *upRead != "" || *upOut != "" {
		fmt.Fprintln(stderr, "net util: give exactly one of -check, -ts2utc or -upgrade (-read and -out go with -upgrade)")
		fs.Usage()
		return 2
	}
	if *ts != "" {
		t, err := ParseTimestamp(*ts)
		if err != nil {
			fmt.Fprintf(stderr, "net util: -ts2utc: %v\n", err)
			return 2
		}
		fmt.Fprintln(stdout, t.UTC().Format(time.RFC3339Nano))
		return 0
	}
	files, err := recordFiles(*check)
	if err != nil {
		fmt.Fprintf(stderr, "net util: -check: %v\n", err)
		return 2
	}
	bad, other, not := 0, 0, 0
	var total int64
	for _, f := range files {
		res := CheckFile(f)
		if errors.Is(res.Err, ncio.ErrOtherSchema) {
			other++
			fmt.Fprintf(stdout, "OTHER %v\n", res.Err)
			continue
		}
		if errors.Is(res.Err, ErrNotRecord) {
			not++
			fmt.Fprintf(stdout, "NOT %v\n", res.Err)
			continue
		}
		if res.Err != nil {
			bad++
			fmt.Fprintf(stdout, "BAD %s: %v\n", f, res.Err)
			continue
		}
		total += res.Records
		fmt.Fprintf(stdout, "ok  %s: %s, %d records\n", f, res.Type, res.Records)
	}
	fmt.Fprintf(stdout, "%d files checked, %d valid, %d damaged; %d records in the valid files\n", len(files)-not, len(files)-bad-other-not, bad, total)
	if other > 0 {
		fmt.Fprintf(stdout, "%d files of another schema, not checked\n", other)
	}
	if not > 0 {
		fmt.Fprintf(stdout, "%d not record files (a capture, a FIFO or a device), not checked\n", not)
	}
	if other > 0 || not > 0 {
		return 2
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// ParseTimestamp reads seconds.fraction, Unix nanoseconds or RFC 3339.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "T:") {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not RFC 3339 (2023-11-14T22:13:20.5Z): %w", s, err)
		}
		return t, nil
	}
	sec, frac, dotted := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || sec == "" || sec[0] == '+' {
		return time.Time{}, fmt.Errorf("%q is neither seconds.fraction, Unix nanoseconds nor RFC 3339", s)
	}
	if !dotted {
		digits := strings.TrimPrefix(sec, "-")
		if len(digits) >= 14 {
			return time.Unix(0, n), nil
		}
		return time.Unix(n, 0), nil
	}
	if frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%q: the fraction must be 1 to 9 digits", s)
	}
	ns, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	if strings.HasPrefix(sec, "-") {
		ns = -ns
	}
	return time.Unix(n, ns), nil
}

// isRecordFile tells record files by name.
func isRecordFile(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	return strings.HasSuffix(name, ".ncap") || strings.HasSuffix(name, ".csv")
}

// recordFiles lists what -check reads: path itself when it is not a
// folder, else the record files in it and in its subfolders one level down
// (net collect writes <out>/<sensor>/<Type>.ncap.gz), sorted by path.
func recordFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	out, err := recordFilesIn(path)
	if err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		if e.IsDir() {
			sub, err := recordFilesIn(filepath.Join(path, e.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no record files (*.ncap, *.ncap.gz, *.csv, *.csv.gz), nor do its subfolders", path)
	}
	return out, nil
}

// recordFilesIn lists the files of dir named as record files.
func recordFilesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && isRecordFile(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// ErrNotRecord is in the error of a path -check does not read: a capture, a
// FIFO, a device.
var ErrNotRecord = errors.New("not a record file")

// notRecord says what a path is instead of a record file, and what to do.
type notRecord struct{ path, what string }

func (e *notRecord) Error() string        { return e.path + ": " + e.what }
func (e *notRecord) Is(target error) bool { return target == ErrNotRecord }

// special refuses what -check must not open or read to its end: a FIFO
// (opening it waits for a writer, and its data would be gone for the real
// reader), devices and sockets.
func special(path string) error {
	st, err := os.Stat(path)
	if err != nil || st.Mode().IsRegular() {
		return err
	}
	m := st.Mode()
	switch {
	case m&os.ModeNamedPipe != 0:
		return &notRecord{path, "is a FIFO, not a record file: -check reads a file to its end; use net dump -read on a FIFO, or check the file once written"}
	case m&os.ModeCharDevice != 0:
		return &notRecord{path, "is a character device (such as /dev/zero), not a record file"}
	case m&os.ModeDevice != 0:
		return &notRecord{path, "is a block device, not a record file"}
	}
	return &notRecord{path, "is not a regular file (a socket or other special file), not a record file"}
}

// Result is what CheckFile found.
type Result struct {
	Type    string // record type from the header (or the file name, for CSV)
	Records int64  // records read before the damage, or all of them
	Err     error  // the first damage, nil when the file is valid
}

// Damage is a problem found in a file, with where it is.
type Damage struct {
	File   string
	Record int64 // index of the record, 0 = the first after the header; -1: the header
	Offset int64 // byte offset, see Where
	Where  string
	What   string
}

func (d *Damage) Error() string {
	rec := fmt.Sprintf("record %d", d.Record)
	if d.Record < 0 {
		rec = "header"
	}
	return fmt.Sprintf("%s: %s at %s byte %d: %s", d.File, rec, d.Where, d.Offset, d.What)
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// trackReader keeps the first error other than io.EOF of the gzip stream, so
// that a cut gzip member is told apart from a record cut inside intact gzip.
type trackReader struct {
	r   io.Reader
	err error
}

func (t *trackReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// stream is the uncompressed content of a file with the offsets needed to
// report damage.
type stream struct {
	path string
	file *countReader // bytes of the file read
	gz   *trackReader // the gzip stream, nil for a plain file
	br   *bufio.Reader
	off  int64 // uncompressed bytes consumed
}

func openStream(path string) (*stream, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	cr := &countReader{r: f}
	s := &stream{path: path, file: cr}
	fbr := bufio.NewReader(cr)
	magic, _ := fbr.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(fbr)
		if err != nil {
			f.Close()
			return nil, nil, &Damage{File: path, Record: -1, Where: "file", What: "bad gzip header: " + err.Error()}
		}
		gz.Multistream(true)
		s.gz = &trackReader{r: gz}
		s.br = bufio.NewReader(s.gz)
	} else {
		s.br = fbr
	}
	return s, func() { f.Close() }, nil
}

// damage builds a Damage for a read error at record rec.
func (s *stream) readDamage(rec int64, what string) error {
	if s.gz != nil && s.gz.err != nil {
		return &Damage{File: s.path, Record: rec, Offset: s.file.n, Where: "file", What: "gzip stream is truncated or corrupt (" + s.gz.err.Error() + "), broken inside " + what}
	}
	return &Damage{File: s.path, Record: rec, Offset: s.off, Where: "uncompressed", What: what}
}

// CheckFile reads a record file to its end and reports the first damage.
func CheckFile(path string) Result {
	if err := special(path); err != nil {
		return Result{Err: err}
	}
	s, closeFn, err := openStream(path)
	if err != nil {
		return Result{Err: err}
	}
	defer closeFn()
	// A capture's file header would be read as a record length.
	if head, _ := s.br.Peek(4); ncio.CaptureKind(head) != "" {
		kind := ncio.CaptureKind(head)
		if s.gz != nil {
			kind = "gzip'd " + kind
		}
		return Result{Err: &notRecord{path, fmt.Sprintf("is a capture file (%s), not a record file: use net capture -read %s to decode it, then check the folder it writes", kind, path)}}
	}
	name := filepath.Base(strings.TrimSuffix(path, ".gz"))
	if strings.HasSuffix(name, ".csv") {
		return s.checkCSV(strings.TrimSuffix(name, ".csv"))
	}
	return s.checkProto(strings.TrimSuffix(name, ".ncap"))
}

// next reads one length-delimited record.
func (s *stream) next(rec int64, buf []byte) ([]byte, error) {
	start := s.off
	var size uint64
	var shift uint
	for i := 0; ; i++ {
		c, err := s.br.ReadByte()
		if err != nil {
			if i == 0 && err == io.EOF {
				return nil, io.EOF
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				s.off = start
				return nil, s.readDamage(rec, "the data ends inside a record's length prefix")
			}
			return nil, s.readDamage(rec, "a record's length prefix")
		}
		s.off++
		if i == 9 {
			s.off = start
			return nil, s.readDamage(rec, "record length prefix overflows 64 bits")
		}
		size |= uint64(c&0x7f) << shift
		shift += 7
		if c < 0x80 {
			break
		}
	}
	if size > ncio.MaxRecordSize {
		s.off = start
		return nil, s.readDamage(rec, fmt.Sprintf("record length %d exceeds the %d byte limit", size, ncio.MaxRecordSize))
	}
	var n int
	var err error
	if uint64(cap(buf)) < size && size > eagerRecord {
		// A length prefix may lie: the buffer grows with the bytes that
		// arrive, so a 20-byte file cannot make -check allocate 64 MiB.
		var bb bytes.Buffer
		m, cerr := io.CopyN(&bb, s.br, int64(size))
		buf, n, err = bb.Bytes(), int(m), cerr
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	} else {
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		n, err = io.ReadFull(s.br, buf)
	}
	s.off += int64(n)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			s.off = start
			return nil, s.readDamage(rec, fmt.Sprintf("record length %d runs past the end of the data (%d bytes remain)", size, n))
		}
		return nil, s.readDamage(rec, "a record's bytes")
	}
	return buf, nil
}

// eagerRecord is the largest record buffer allocated before its bytes are
// read.
const eagerRecord = 1 << 20

func (s *stream) checkProto(fileType string) Result {
	b, err := s.next(-1, nil)
	if err == io.EOF {
		return Result{Err: &Damage{File: s.path, Record: -1, Where: "uncompressed", What: "empty file: no header record"}}
	}
	if err != nil {
		return Result{Err: err}
	}
	if err := ncio.CheckHeader(s.path, b); err != nil {
		return Result{Err: err}
	}
	h := &types.Header{}
	if err := proto.Unmarshal(b, h); err != nil {
		return Result{Err: &Damage{File: s.path, Record: -1, Where: "uncompressed", What: "header does not decode: " + err.Error()}}
	}
	typ := types.Name(h.Type)
	mt, lerr := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + typ))
	switch {
	case h.Type == types.Type_NC_Header || h.Type == types.Type_NC_Batch || lerr != nil:
		return Result{Err: &Damage{File: s.path, Record: -1, Where: "uncompressed", What: fmt.Sprintf("header names %v, which is not a record type", h.Type)}}
	case isTypeName(fileType) && fileType != typ:
		return Result{Type: typ, Err: &Damage{File: s.path, Record: -1, Where: "uncompressed", What: fmt.Sprintf("header is of type %s but the file name says %s", typ, fileType)}}
	}
	m := mt.New().Interface()
	chk := wirecheck.NewChecker(mt.Descriptor(), wirecheck.Default)
	var n int64
	var buf []byte
	for {
		start := s.off
		b, err := s.next(n, buf)
		if err == io.EOF {
			return Result{Type: typ, Records: n}
		}
		if err != nil {
			return Result{Type: typ, Records: n, Err: err}
		}
		buf = b
		// Records of another type often decode without error, their
		// fields landing in numbers the type lacks or with other wire
		// types, also inside nested messages, where GetUnknown of the
		// record does not see them; wirecheck walks every level.
		if err := chk.Check(b); err != nil {
			return Result{Type: typ, Records: n, Err: &Damage{File: s.path, Record: n, Offset: start, Where: "uncompressed", What: scanDamage(typ, err)}}
		}
		proto.Reset(m)
		if err := proto.Unmarshal(b, m); err != nil {
			return Result{Type: typ, Records: n, Err: &Damage{File: s.path, Record: n, Offset: start, Where: "uncompressed", What: "record does not decode as " + typ + ": " + err.Error()}}
		}
		n++
	}
}

// scanDamage words what wirecheck found in a record of type typ.
func scanDamage(typ string, err error) string {
	var p *wirecheck.Problem
	if errors.As(err, &p) {
		switch p.Kind {
		case wirecheck.Unknown, wirecheck.WrongType:
			return fmt.Sprintf("record does not decode as %s: %v (a record of another type, or written by a newer netcap)", typ, err)
		case wirecheck.TooDeep, wirecheck.TooMany:
			return fmt.Sprintf("record is damaged: %v (net dump refuses it)", err)
		}
	}
	return fmt.Sprintf("record does not decode as %s: %v", typ, err)
}

func isTypeName(name string) bool {
	_, ok := types.Type_value["NC_"+name]
	return ok
}

// MaxCSVRow bounds a CSV row (a header line or a record, line breaks inside
// quotes included) that -check reads: encoding/csv holds a whole row, and
// copies it about eight times over while reading it, so a gzip'd file of one
// endless line would otherwise take all memory. Real rows are far shorter: a
// payload is at most a snap length, 256 KiB, 512 KiB in hex.
const MaxCSVRow = 16 << 20

// errLongRow is returned by rowLimit when a row passes MaxCSVRow.
var errLongRow = fmt.Errorf("row longer than %d MiB (an endless line, or not a CSV file)", MaxCSVRow>>20)

// rowLimit fails once more than max bytes were read since the last reset,
// which checkCSV calls after each row. encoding/csv reads ahead a little, so
// the bound is approximate by a few KiB.
type rowLimit struct {
	r   io.Reader
	n   int
	max int
}

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errLongRow
	}
	if len(p) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func (s *stream) checkCSV(fileType string) Result {
	lim := &rowLimit{r: s.br, max: MaxCSVRow}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	head, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return Result{Err: &Damage{File: s.path, Record: -1, Where: "uncompressed", What: "empty file: no header line"}}
		}
		return Result{Err: s.csvDamage(-1, cr.InputOffset(), err)}
	}
	cols := len(head)
	if isTypeName(fileType) {
		want := bytes.TrimSuffix(ncio.CSVHeaderLine(types.Type(types.Type_value["NC_"+fileType]), &ncio.CaptureCSV), []byte("\n"))
		if got := strings.Join(head, ","); got != string(want) {
			return Result{Type: fileType, Err: &Damage{File: s.path, Record: -1, Where: "uncompressed", What: fmt.Sprintf("header line is not the %s header (%d columns, first %q)", fileType, cols, head[0])}}
		}
	}
	var n int64
	for {
		lim.n = 0
		start := cr.InputOffset()
		row, err := cr.Read()
		if err == io.EOF {
			return Result{Type: fileType, Records: n}
		}
		if err != nil {
			return Result{Type: fileType, Records: n, Err: s.csvDamage(n, start, err)}
		}
		if len(row) != cols {
			return Result{Type: fileType, Records: n, Err: &Damage{File: s.path, Record: n, Offset: start, Where: "uncompressed", What: fmt.Sprintf("row has %d columns, the header has %d", len(row), cols)}}
		}
		n++
	}
}

func (s *stream) csvDamage(rec, off int64, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Damage{File: s.path, Record: rec, Offset: off, Where: "uncompressed", What: "malformed CSV: " + pe.Err.Error()}
	}
	if s.gz != nil && s.gz.err != nil {
		return &Damage{File: s.path, Record: rec, Offset: s.file.n, Where: "file", What: "gzip stream is truncated or corrupt (" + s.gz.err.Error() + ")"}
	}
	return &Damage{File: s.path, Record: rec, Offset: off, Where: "uncompressed", What: err.Error()}
}
