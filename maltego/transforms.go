package maltego

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// DefaultLimit caps the entities of one answer, as Maltego's default slider.
const DefaultLimit = 256

// Transform is one local transform.
type Transform struct {
	Name   string       // as Maltego calls it, the original netcap's where it had the transform
	Input  string       // input entity type
	Output string       // output entity type
	About  string       // one line for -list and the Maltego description
	Reads  []types.Type // the only record types it opens
	// Detail names the field an entity gets from the first record of its
	// value (item.detail), "" for none.
	Detail string
	run    func(q *query) error
}

// OpenerEnv names the environment variable that sets the command the
// Wireshark transforms open a capture with.
const OpenerEnv = "NETCAP_WIRESHARK"

// Options are the settings of a run that do not come from the entity.
type Options struct {
	// Limit caps the entities of an answer; 0 for no cap.
	Limit int
	// OUIFile is the vendor list toDevices reads; "" takes $NETCAP_OUI_FILE,
	// else the first of DefaultOUIFiles present.
	OUIFile string
	// Opener is the command the Wireshark transforms run with the written
	// capture as last argument; "" takes $NETCAP_WIRESHARK, else wireshark
	// when it is on the PATH; "none" only reports the file.
	Opener string
}

// query is one run of a transform.
type query struct {
	t     *Transform
	args  Args
	opt   Options
	dir   string // record folder
	ip    string // host filter, "" for none
	agg   map[string]*item
	msg   *Message
	limit int
	log   io.Writer
	key   []byte // scratch for building values
}

type item struct {
	count       int64
	first, last int64
	typ         string              // entity type when not the transform's output
	detail      string              // the Transform's Detail field, from the first record
	extra       map[string]string   // further fields, for the few values that have them
	notes       map[string]*noteSet // further fields with every distinct value seen (item.note)
}

// add counts one occurrence of value seen at ts (Unix ns; 0 if unknown).
func (q *query) add(value string, ts int64) *item {
	return q.addSpan(value, ts, ts)
}

func (q *query) addSpan(value string, first, last int64) *item {
	it := q.agg[value]
	if it == nil {
		it = &item{first: first, last: last}
		q.agg[value] = it
	}
	it.count++
	if first != 0 && (it.first == 0 || first < it.first) {
		it.first = first
	}
	if last > it.last {
		it.last = last
	}
	return it
}

// addKey is addSpan for a value built in a byte slice: the string is made
// only when the value is new.
func (q *query) addKey(value []byte, first, last int64) *item {
	if it := q.agg[string(value)]; it != nil {
		it.count++
		if first != 0 && (it.first == 0 || first < it.first) {
			it.first = first
		}
		if last > it.last {
			it.last = last
		}
		return it
	}
	return q.addSpan(string(value), first, last)
}

// hostRaw is host for addresses read from the wire.
func (q *query) hostRaw(src, dst []byte) bool {
	return q.ip == "" || string(src) == q.ip || string(dst) == q.ip
}

// host reports whether a record with these addresses passes the host filter.
func (q *query) host(src, dst string) bool {
	return q.ip == "" || src == q.ip || dst == q.ip
}

// each calls fn for every record of type t in the folder. A missing file
// means no records of that type (the capture writes no empty files) and
// gives an Inform message; a damaged one ends with a PartialError, keeping
// the records read so far.
func (q *query) each(t types.Type, fn func(m proto.Message)) error {
	return q.read(t, true, fn)
}

// eachIfPresent is each for a record type that only adds to the answer: its
// absence is not worth a message.
func (q *query) eachIfPresent(t types.Type, fn func(m proto.Message)) error {
	return q.read(t, false, fn)
}

// recordFile is the path of the folder's file of type t, "" if it has none.
func recordFile(dir string, t types.Type) string {
	for _, ext := range []string{".ncap.gz", ".ncap"} {
		p := filepath.Join(dir, TypeName(t)+ext)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func (q *query) read(t types.Type, inform bool, fn func(m proto.Message)) error {
	var m proto.Message
	q.records(t, inform, func(r *ncio.Reader, path string, b []byte) error {
		if m == nil {
			m = r.New()
		}
		if err := proto.Unmarshal(b, m); err != nil {
			return fmt.Errorf("%s: record does not decode as %s: %w", path, TypeName(t), err)
		}
		fn(m)
		return nil
	})
	return nil
}

// rawValue is a field of a record read from the wire format without
// decoding the record: the bytes of a string or bytes field, the value of a
// varint field; zero when the record does not have it (proto3 leaves zero
// values out).
type rawValue struct {
	b []byte
	n uint64
}

// scan calls fn with the named fields of every record of type t, read
// straight from the wire format: no message and no string is made per
// record, which halves the cost of a pass over a large file. vals[i] is
// names[i], valid until fn returns. A missing file is reported as by each.
func (q *query) scan(t types.Type, names []string, fn func(vals []rawValue)) error {
	return q.scanFields(t, true, names, fn)
}

// scanIfPresent is scan without a message for a missing file.
func (q *query) scanIfPresent(t types.Type, names []string, fn func(vals []rawValue)) error {
	return q.scanFields(t, false, names, fn)
}

func (q *query) scanFields(t types.Type, inform bool, names []string, fn func(vals []rawValue)) error {
	// slot[field number] is the index in vals + 1, 0 for fields not asked for.
	fields := ncio.MessageDescriptor(t).Fields()
	var slot []int
	for i, n := range names {
		fd := fields.ByName(protoreflect.Name(n))
		if fd == nil {
			return fmt.Errorf("%s records have no field %s", TypeName(t), n)
		}
		for int(fd.Number()) >= len(slot) {
			slot = append(slot, 0)
		}
		slot[fd.Number()] = i + 1
	}
	vals := make([]rawValue, len(names))
	q.records(t, inform, func(_ *ncio.Reader, path string, b []byte) error {
		clear(vals)
		for len(b) > 0 {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				return fmt.Errorf("%s: record does not decode as %s: %v", path, TypeName(t), protowire.ParseError(n))
			}
			b = b[n:]
			i := 0
			if int(num) < len(slot) {
				i = slot[num]
			}
			switch {
			case i > 0 && typ == protowire.VarintType:
				vals[i-1].n, n = protowire.ConsumeVarint(b)
			case i > 0 && typ == protowire.BytesType:
				vals[i-1].b, n = protowire.ConsumeBytes(b)
			default:
				n = protowire.ConsumeFieldValue(num, typ, b)
			}
			if n < 0 {
				return fmt.Errorf("%s: record does not decode as %s: %v", path, TypeName(t), protowire.ParseError(n))
			}
			b = b[n:]
		}
		fn(vals)
		return nil
	})
	return nil
}

// records calls fn with the bytes of every record of type t in the folder.
// A missing file means no records of that type (inform: say so); an
// unreadable or damaged one, or an error of fn, ends the pass with a
// PartialError, keeping what was read so far.
func (q *query) records(t types.Type, inform bool, fn func(r *ncio.Reader, path string, b []byte) error) {
	name := TypeName(t)
	path := recordFile(q.dir, t)
	if path == "" {
		if inform {
			q.msg.Inform(fmt.Sprintf("no %s records in %s", name, q.dir))
		}
		return
	}
	r, err := ncio.Open(path)
	if err != nil {
		q.msg.Warn(fmt.Sprintf("%s records unreadable: %v", name, err))
		return
	}
	defer r.Close()
	if err := eachRaw(r, func(b []byte) error { return fn(r, path, b) }); err != nil {
		q.msg.Warn(fmt.Sprintf("%s records damaged, results are partial: %v", name, err))
	}
}

// batchSize is how many bytes of records the reading goroutine hands over
// at a time.
const batchSize = 256 << 10

// recordBatch is a run of records copied out of the reader: record i is
// buf[ends[i-1]:ends[i]]; err ends the file after these records.
type recordBatch struct {
	buf  []byte
	ends []int
	err  error
}

// eachRaw calls fn with the bytes of every record of r, in order, until the
// end of the file (nil), a read error or fn's error (returned). A goroutine
// decompresses and frames the records while fn decodes the previous batch:
// gzip is about half the cost of reading a record file, so on two cores the
// halves overlap.
func eachRaw(r *ncio.Reader, fn func(b []byte) error) error {
	full := make(chan *recordBatch, 2)
	free := make(chan *recordBatch, 3)
	done := make(chan struct{})
	defer close(done)
	for i := 0; i < cap(free); i++ {
		free <- &recordBatch{buf: make([]byte, 0, batchSize+4096)}
	}
	go func() {
		defer close(full)
		for {
			var b *recordBatch
			select {
			case b = <-free:
			case <-done:
				return
			}
			b.buf, b.ends, b.err = b.buf[:0], b.ends[:0], nil
			for len(b.buf) < batchSize {
				raw, err := r.NextRaw()
				if err != nil {
					b.err = err
					break
				}
				b.buf = append(b.buf, raw...)
				b.ends = append(b.ends, len(b.buf))
			}
			select {
			case full <- b:
			case <-done:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	for b := range full {
		start := 0
		for _, end := range b.ends {
			if err := fn(b.buf[start:end]); err != nil {
				return err
			}
			start = end
		}
		if b.err != nil {
			if errors.Is(b.err, io.EOF) {
				return nil
			}
			return b.err
		}
		free <- b
	}
	return nil
}

// TypeName is a record type's file name stem (the enum name without NC_).
func TypeName(t types.Type) string { return strings.TrimPrefix(t.String(), "NC_") }

// finish turns the aggregate into entities: sorted by count (then value),
// capped by the limit, with a message saying how many were left out.
func (q *query) finish() {
	all := make([]ranked, 0, len(q.agg))
	for v, it := range q.agg {
		all = append(all, ranked{v, it})
	}
	shown := topRanked(all, q.limit)
	if len(shown) < len(all) {
		q.msg.Inform(fmt.Sprintf("%d of %d results shown, %d left out (limit %d)", len(shown), len(all), len(all)-len(shown), q.limit))
	}
	for _, r := range shown {
		v, it := r.value, r.it
		typ := q.t.Output
		if it.typ != "" {
			typ = it.typ
		}
		e := Entity{Type: typ, Value: v, Weight: it.count}
		e.AddField("count", "Records", strconv.FormatInt(it.count, 10))
		if it.first != 0 {
			e.AddField("first", "First seen", formatTime(it.first))
		}
		if it.last != 0 {
			e.AddField("last", "Last seen", formatTime(it.last))
		}
		if p, ok := it.extra["path"]; ok {
			e.AddField("path", "Path", p)
		} else {
			e.AddField("path", "Record folder", q.dir)
		}
		if typ == IPAddr {
			e.AddField("ip", "IP address", v)
		} else if q.ip != "" {
			e.AddField("ip", "IP address", q.ip)
		}
		if q.t.Detail != "" && it.detail != "" {
			e.AddField(q.t.Detail, fieldNames[q.t.Detail], it.detail)
		}
		for k, s := range it.notes {
			if it.extra == nil {
				it.extra = map[string]string{}
			}
			it.extra[k] = joinNotes(s)
		}
		keys := make([]string, 0, len(it.extra))
		for k := range it.extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k != "path" {
				display := fieldNames[k]
				if display == "" {
					display = k
				}
				e.AddField(k, display, it.extra[k])
			}
		}
		q.msg.Response.Entities = append(q.msg.Response.Entities, e)
	}
}

// ranked is an aggregated value on its way to the answer.
type ranked struct {
	value string
	it    *item
}

// before orders the answer: higher count first, then by value.
func (a ranked) before(b ranked) bool {
	if a.it.count != b.it.count {
		return a.it.count > b.it.count
	}
	return a.value < b.value
}

// topRanked returns the first limit values in answer order (all when limit
// is 0). With many values and a small limit it keeps the best in a heap of
// limit entries instead of sorting all: a host with 600,000 connections
// costs one comparison for most of them.
func topRanked(all []ranked, limit int) []ranked {
	if limit <= 0 || len(all) <= limit {
		sort.Slice(all, func(i, j int) bool { return all[i].before(all[j]) })
		return all
	}
	// h is a heap whose root is the worst of the best so far.
	h := make([]ranked, 0, limit)
	worse := func(i, j int) bool { return h[j].before(h[i]) }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && worse(c+1, c) {
				c++
			}
			if !worse(c, i) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for _, r := range all {
		if len(h) < limit {
			h = append(h, r)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !worse(i, p) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if r.before(h[0]) {
			h[0] = r
			down(0)
		}
	}
	sort.Slice(h, func(i, j int) bool { return h[i].before(h[j]) })
	return h
}

// fieldNames are the display names of the additional fields.
var fieldNames = map[string]string{
	"vendor":   "Vendor (OUI)",
	"hostname": "Host name (DHCP)",
	"state":    "Connection state",
	"ja3":      "JA3 string",
	"ja3s":     "JA3S string",
	"file":     "Record file",
	"source":   "Original capture",

	"sources":     "Seen in",
	"role":        "Role",
	"os":          "Operating system",
	"hosts":       "Hosts",
	"protocol":    "Protocol",
	"banner":      "Banner",
	"product":     "Software",
	"clients":     "Clients",
	"mechanism":   "Mechanism",
	"result":      "Result",
	"password":    "Password (clear text)",
	"material":    "Other material",
	"sha256":      "SHA256",
	"type":        "Media type",
	"location":    "Location (in the -files folder)",
	"from":        "From",
	"hassh":       "HASSH",
	"hasshServer": "HASSHServer",
	"values":      "Values",
	"servers":     "Servers",
	"command":     "Command",
}

func formatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// Find returns the transform with this name, nil if there is none.
func Find(name string) *Transform {
	for i := range Transforms {
		if Transforms[i].Name == name {
			return &Transforms[i]
		}
	}
	return nil
}

// Run runs the named transform and writes its answer, always one valid
// MaltegoMessage, to out. Logs go to log. The exit code is 0 whenever an
// answer was written, also when it only carries an error message.
func Run(name string, args Args, opt Options, out, log io.Writer) int {
	msg := &Message{}
	code := run(name, args, opt, msg, log)
	if _, err := msg.WriteTo(out); err != nil {
		fmt.Fprintf(log, "net transform: writing the answer: %v\n", err)
		return 1
	}
	return code
}

func run(name string, args Args, opt Options, msg *Message, log io.Writer) (code int) {
	t := Find(name)
	if t == nil {
		msg.Fail(fmt.Sprintf("unknown transform %q; net transform -list shows the transforms", name))
		return 2
	}
	q := &query{t: t, args: args, opt: opt, agg: map[string]*item{}, msg: msg, limit: opt.Limit, log: log}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(log, "net transform %s: panic: %v\n", name, r)
			msg.Response.Entities = nil
			msg.Warn(fmt.Sprintf("%s failed: %v", name, r))
			code = 0
		}
	}()
	start := time.Now()
	if t.Name != "toAuditRecords" {
		dir, err := recordFolder(args)
		if err != nil {
			msg.Warn(err.Error())
			return 0
		}
		q.dir = dir
		q.ip = args.Props["ip"]
		if q.ip == "" && net.ParseIP(args.Value) != nil {
			q.ip = args.Value
		}
	}
	if err := t.run(q); err != nil {
		msg.Warn(fmt.Sprintf("%s: %v", name, err))
		return 0
	}
	q.finish()
	fmt.Fprintf(log, "net transform %s: %d entities in %v\n", name, len(msg.Response.Entities), time.Since(start).Round(time.Millisecond))
	return 0
}

// recordFolder finds the record folder from the "path" property: a folder,
// or a capture file whose records are in <file>.net.
func recordFolder(args Args) (string, error) {
	p := args.Props["path"]
	if p == "" {
		return "", errors.New("the entity has no path property: run toAuditRecords on a PCAP entity first")
	}
	st, err := os.Stat(p)
	if err == nil && !st.IsDir() {
		p += ".net"
		st, err = os.Stat(p)
	}
	if err != nil {
		return "", fmt.Errorf("record folder %s is missing (%v); run toAuditRecords on the capture first", p, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("record folder %s is not a folder", p)
	}
	return p, nil
}
