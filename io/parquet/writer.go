package ncparquet

import (
	"bufio"
	"fmt"
	"os"
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
// otherwise: large enough that zstd and the dictionaries find repetition,
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
	mt     protoreflect.MessageType
	msg    proto.Message // scratch for WritePart
	cols   []column
	nextra int
	schema *arrow.Schema
	rb     *array.RecordBuilder
	fw     *pqarrow.FileWriter
	rows   int // rows held in rb
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
	s, _ := schemaOf(md, extra)
	return s
}

func schemaOf(md protoreflect.MessageDescriptor, extra []string) (*arrow.Schema, []column) {
	cols := columns(md)
	fields := make([]arrow.Field, 0, len(cols)+len(extra))
	for _, c := range cols {
		fields = append(fields, c.field)
	}
	for _, name := range extra {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.BinaryTypes.String})
	}
	return arrow.NewSchema(fields, nil), cols
}

func newWriter(f *os.File, path string, mt protoreflect.MessageType, h *types.Header, o Options) (*Writer, error) {
	md := mt.Descriptor()
	for _, name := range o.Extra {
		if md.Fields().ByName(protoreflect.Name(name)) != nil {
			return nil, fmt.Errorf("parquet: extra column %q is also a field of %s", name, md.Name())
		}
	}
	schema, cols := schemaOf(md, o.Extra)
	rows := o.RowGroupRows
	if rows <= 0 {
		rows = DefaultRowGroupRows
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(int64(rows)),
		parquet.WithCreatedBy("netcap "+h.GetVersion()),
		parquet.WithVersion(parquet.V2_6),
		// Statistics let readers skip row groups (a time range, a port).
		parquet.WithStats(true),
	)
	w := &Writer{path: path, f: f, md: md, mt: mt, cols: cols, nextra: len(o.Extra), schema: schema, max: rows}
	w.bw = bufio.NewWriterSize(f, 256<<10)
	fw, err := pqarrow.NewFileWriter(schema, w.bw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
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
	w.rb = array.NewRecordBuilder(memory.DefaultAllocator, schema)
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
	pm := m.ProtoReflect()
	if pm.Descriptor().FullName() != w.md.FullName() {
		return fmt.Errorf("%s: a %s record in a file of %s", w.path, pm.Descriptor().Name(), w.md.Name())
	}
	return w.add(pm, extra, proto.Size(m))
}

func (w *Writer) add(pm protoreflect.Message, extra []string, size int) error {
	if w.closed {
		return fmt.Errorf("%s: write after close", w.path)
	}
	for i, c := range w.cols {
		c.put(w.rb.Field(i), pm)
	}
	for i, v := range extra {
		w.rb.Field(len(w.cols) + i).(*array.StringBuilder).Append(v)
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
	if w.msg == nil {
		w.msg = w.mt.New().Interface()
	}
	for len(b) > 0 {
		size, k := protowire.ConsumeVarint(b)
		if k < 0 || size > uint64(len(b)-k) {
			return fmt.Errorf("%s: a part ends inside a record", w.path)
		}
		rec := b[k : k+int(size)]
		b = b[k+int(size):]
		proto.Reset(w.msg)
		if err := unmarshal(rec, w.msg); err != nil {
			return fmt.Errorf("%s: record does not decode as %s: %w", w.path, w.md.Name(), err)
		}
		if err := w.add(w.msg.ProtoReflect(), nil, len(rec)); err != nil {
			return err
		}
	}
	return nil
}

// vtUnmarshaler is the reflection-free decoding protoc-gen-go-vtproto
// generates for every record type.
type vtUnmarshaler interface{ UnmarshalVT([]byte) error }

func unmarshal(b []byte, m proto.Message) error {
	if vt, ok := m.(vtUnmarshaler); ok {
		return vt.UnmarshalVT(b)
	}
	return proto.Unmarshal(b, m)
}

// flush writes the held rows as one row group.
func (w *Writer) flush() error {
	if w.rows == 0 {
		return nil
	}
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.rows, w.held = 0, 0
	if err := w.fw.Write(rec); err != nil {
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
	w.rb.Release()
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
