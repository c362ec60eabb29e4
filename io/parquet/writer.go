package ncparquet

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// DefaultRowGroupRows is the rows of one row group unless Options say
// otherwise: large enough that zstd and the delta encoding find repetition,
// small enough that the rows held before a group is written stay a few MiB
// for the common record types.
const DefaultRowGroupRows = 65536

// maxGroupBytes also ends a row group once this many bytes of records (their
// protobuf size) are held, so that large records (payloads, HTTP bodies)
// cannot make a group of DefaultRowGroupRows rows hundreds of MiB.
const maxGroupBytes = 64 << 20

// Options tune a Writer; the zero value is usable.
type Options struct {
	// RowGroupRows is the most rows of one row group; 0 means
	// DefaultRowGroupRows. The rows of one group are held in memory until
	// the group is written.
	RowGroupRows int
	// Extra names string columns that follow the record's fields, filled
	// by WriteExtra (net label's label column).
	Extra []string
	// Drop names fields of the record left out of the file (net label
	// -drop); names the type does not have are ignored.
	Drop []string
}

// Ext is the file name extension of Parquet files.
const Ext = ".parquet"

// Writer writes the records of one type to one Parquet file. It is not safe
// for concurrent use.
type Writer struct {
	path   string
	f      *os.File
	bw     *bufio.Writer
	md     protoreflect.MessageDescriptor
	plan   *plan
	msg    protoreflect.Message // WriteRecord and WritePart decode into it
	nextra int
	schema *arrow.Schema
	flats  []*flat         // by column: top-level scalars (and extra columns)
	bs     []array.Builder // by column: the other columns
	fw     *pqarrow.FileWriter
	rows   int // rows held
	held   int // bytes of the held records
	max    int
	n      int64
	groups int
	closed bool
}

// Create creates path and a writer of records of type t, whose file metadata
// carries h (h.Schema set to ncio.Schema when 0).
func Create(path string, t types.Type, h *types.Header, o Options) (*Writer, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + types.Name(t)))
	if err != nil {
		return nil, fmt.Errorf("parquet: no message type for record type %v", t)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create parquet file: %w", err)
	}
	w, err := newWriter(f, path, mt, h, o)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

// Schema returns the Arrow schema of record type md's Parquet files (the
// Parquet schema is derived from it), with extra string columns at the end.
func Schema(md protoreflect.MessageDescriptor, extra ...string) *arrow.Schema {
	s, _ := schemaOf(md, extra, nil)
	return s
}

func schemaOf(md protoreflect.MessageDescriptor, extra, drop []string) (*arrow.Schema, *plan) {
	p := newPlan(md, 0, map[protoreflect.FullName]bool{})
	if len(drop) > 0 {
		// A dropped field has no column: reading skips it as it skips
		// fields the type does not have.
		p.cols = slices.DeleteFunc(p.cols, func(c *col) bool { return slices.Contains(drop, string(c.fd.Name())) })
	}
	fields := make([]arrow.Field, 0, len(p.cols)+len(extra))
	for _, c := range p.cols {
		fields = append(fields, c.field)
	}
	for _, name := range extra {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.BinaryTypes.String})
	}
	return arrow.NewSchema(fields, nil), p
}

func newWriter(f *os.File, path string, mt protoreflect.MessageType, h *types.Header, o Options) (*Writer, error) {
	md := mt.Descriptor()
	for _, name := range o.Extra {
		if md.Fields().ByName(protoreflect.Name(name)) != nil {
			return nil, fmt.Errorf("parquet: extra column %q is also a field of %s", name, md.Name())
		}
	}
	schema, pl := schemaOf(md, o.Extra, o.Drop)
	rows := o.RowGroupRows
	if rows <= 0 {
		rows = DefaultRowGroupRows
	}
	base := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(int64(rows)),
		parquet.WithCreatedBy("netcap " + h.GetVersion()),
		parquet.WithVersion(parquet.V2_6),
		// Statistics let readers skip row groups (a time range, a port).
		parquet.WithStats(true),
	}
	pqschema, err := pqarrow.ToParquet(schema, parquet.NewWriterProperties(base...), pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("%s: parquet schema: %w", path, err)
	}
	// Measured on make bench's capture (docs/performance.md): no column
	// gains from a dictionary; timestamps, frame numbers, ports and lengths
	// change little from row to row, which DELTA_BINARY_PACKED turns into
	// a few bits each (the files shrank from 69 % to 25 % of the
	// .ncap.gz). Text without a dictionary, left to zstd, came out smaller
	// still (23 %) and no slower. Statistics of text columns are left
	// out: computing them cost more than a tenth of the writing, and
	// readers prune on times and numbers.
	for i := 0; i < pqschema.NumColumns(); i++ {
		col := pqschema.Column(i)
		switch col.PhysicalType() {
		case parquet.Types.Int64, parquet.Types.Int32:
			base = append(base, parquet.WithEncodingPath(col.ColumnPath(), parquet.Encodings.DeltaBinaryPacked))
		case parquet.Types.ByteArray:
			base = append(base, parquet.WithStatsPath(col.ColumnPath(), false))
		}
	}
	props := parquet.NewWriterProperties(base...)
	w := &Writer{path: path, f: f, md: md, plan: pl, msg: mt.New(), nextra: len(o.Extra), schema: schema, max: rows}
	w.bw = bufio.NewWriterSize(f, 256<<10)
	// The Arrow schema is not stored beside the Parquet one: the Parquet
	// logical types say all (readers map them back), and it would cost
	// every file a few KiB.
	fw, err := pqarrow.NewFileWriter(schema, w.bw, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("%s: parquet schema: %w", path, err)
	}
	w.fw = fw
	if h != nil {
		if h.Schema == 0 {
			h.Schema = ncio.Schema
		}
		for _, kv := range [][2]string{
			{"netcap.type", types.Name(h.Type)},
			{"netcap.version", h.Version},
			{"netcap.source", h.InputSource},
			{"netcap.created", ncio.FormatTime(h.Created)},
			{"netcap.payloads", strconv.FormatBool(h.ContainsPayloads)},
			{"netcap.schema", strconv.FormatUint(uint64(h.Schema), 10)},
		} {
			if err := fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	w.flats = make([]*flat, len(schema.Fields()))
	w.bs = make([]array.Builder, len(schema.Fields()))
	for i, fld := range schema.Fields() {
		if i >= len(pl.cols) || pl.cols[i].kind == kScalar {
			w.flats[i] = newFlat(fld.Type)
		} else {
			w.bs[i] = array.NewBuilder(memory.DefaultAllocator, fld.Type)
		}
	}
	return w, nil
}

// Write appends one record.
func (w *Writer) Write(m proto.Message) error {
	return w.WriteExtra(m)
}

// WriteExtra appends one record and the values of the extra columns, in the
// order Options.Extra names them.
func (w *Writer) WriteExtra(m proto.Message, extra ...string) error {
	if len(extra) != w.nextra {
		return fmt.Errorf("%s: %d extra values for %d extra columns", w.path, len(extra), w.nextra)
	}
	if md := m.ProtoReflect().Descriptor(); md.FullName() != w.md.FullName() {
		return fmt.Errorf("%s: a %s record in a file of %s", w.path, md.Name(), w.md.Name())
	}
	pm := m.ProtoReflect()
	if pm.Descriptor() != w.md {
		// The same type from another descriptor (dynamicpb over a
		// descriptor set): the plan's field descriptors do not address
		// it, its bytes do.
		b, err := proto.Marshal(m)
		if err != nil {
			return fmt.Errorf("%s: marshal record: %w", w.path, err)
		}
		if err := proto.Unmarshal(b, w.msg.Interface()); err != nil {
			return fmt.Errorf("%s: record does not decode as %s: %w", w.path, w.md.Name(), err)
		}
		pm = w.msg
	}
	return w.add(pm, proto.Size(m), extra)
}

// WriteRecord appends one record given as its protobuf bytes (no length
// prefix), as a record file holds it. Bytes that proto.Unmarshal refuses
// are an error and append nothing.
func (w *Writer) WriteRecord(rec []byte) error {
	if err := proto.Unmarshal(rec, w.msg.Interface()); err != nil {
		return fmt.Errorf("%s: record does not decode as %s: %w", w.path, w.md.Name(), err)
	}
	return w.add(w.msg, len(rec), nil)
}

// add appends m as one row; size is its protobuf size.
func (w *Writer) add(m protoreflect.Message, size int, extra []string) error {
	if w.closed {
		return fmt.Errorf("%s: write after close", w.path)
	}
	for i, c := range w.plan.cols {
		if f := w.flats[i]; f != nil {
			f.appendValue(c, m.Get(c.fd))
		} else {
			c.put(w.bs[i], m)
		}
	}
	for i, v := range extra {
		w.flats[len(w.plan.cols)+i].appendString(v)
	}
	w.rows++
	w.held += size
	w.n++
	if w.rows >= w.max || w.held >= maxGroupBytes {
		return w.flush()
	}
	return nil
}

// WritePart appends n length-delimited records, as the capture engine hands
// them on (uncompressed): this makes *Writer a capture.PartWriter.
func (w *Writer) WritePart(b []byte, n int) error {
	for len(b) > 0 {
		size, k := protowire.ConsumeVarint(b)
		if k < 0 || size > uint64(len(b)-k) {
			return fmt.Errorf("%s: a part ends inside a record", w.path)
		}
		rec := b[k : k+int(size)]
		b = b[k+int(size):]
		if err := w.WriteRecord(rec); err != nil {
			return err
		}
	}
	return nil
}

// flush writes the held rows as one row group.
func (w *Writer) flush() error {
	if w.rows == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(w.flats))
	for i, f := range w.flats {
		if f != nil {
			cols[i] = f.array(w.rows)
		} else {
			cols[i] = w.bs[i].NewArray()
		}
	}
	rec := array.NewRecordBatch(w.schema, cols, int64(w.rows))
	for _, c := range cols {
		c.Release()
	}
	err := w.fw.Write(rec)
	rec.Release()
	// The group is encoded: the flat columns' memory serves the next.
	for _, f := range w.flats {
		if f != nil {
			f.reset()
		}
	}
	w.rows, w.held = 0, 0
	if err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	w.groups++
	return nil
}

// Count returns the records written.
func (w *Writer) Count() int64 { return w.n }

// RowGroups returns the row groups written so far.
func (w *Writer) RowGroups() int { return w.groups }

// Path returns the file's path.
func (w *Writer) Path() string { return w.path }

// Close writes the last row group and the footer and closes the file. A file
// without records still gets its schema and metadata.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	err := w.flush()
	w.closed = true
	for _, b := range w.bs {
		if b != nil {
			b.Release()
		}
	}
	if cerr := w.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: %w", w.path, cerr)
	}
	if ferr := w.bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("%s: %w", w.path, ferr)
	}
	if ferr := w.f.Close(); err == nil && ferr != nil {
		err = fmt.Errorf("%s: %w", w.path, ferr)
	}
	return err
}
