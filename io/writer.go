package ncio

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// Writer writes one record file: a header, then length-delimited records.
// It is not safe for concurrent use; the engine gives every file one owner.
type Writer struct {
	path string
	f    *os.File
	fbuf *bufio.Writer // under gzip: gzip writes one small block at a time
	gz   *gzip.Writer
	bw   *bufio.Writer
	buf  []byte
	n    int64 // records written, header excluded
}

// Level is the gzip level used for record files. BestSpeed keeps compression
// off the critical path; files are still 5-10x smaller than raw protobuf.
var Level = gzip.BestSpeed

// Create creates path and writes the header record, setting h.Schema to
// Schema when it is 0. If compress is false the records are written without
// gzip (for piping or debugging).
func Create(path string, h *types.Header, compress bool) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create record file: %w", err)
	}
	w := &Writer{path: path, f: f}
	if compress {
		w.fbuf = bufio.NewWriterSize(f, 256<<10)
		gz, err := gzip.NewWriterLevel(w.fbuf, Level)
		if err != nil {
			f.Close()
			return nil, err
		}
		w.gz = gz
		w.bw = bufio.NewWriterSize(gz, 64<<10)
	} else {
		w.bw = bufio.NewWriterSize(f, 64<<10)
	}
	if h != nil {
		if h.Schema == 0 {
			h.Schema = Schema
		}
		if err := w.Write(h); err != nil {
			w.Close()
			return nil, err
		}
		w.n = 0
	}
	return w, nil
}

// vtMessage is implemented by the code protoc-gen-go-vtproto generates
// (types/netcap_vtproto.pb.go): sizing and marshalling without reflection.
type vtMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT(dAtA []byte) (int, error)
}

// AppendDelimited appends m to b as a uvarint length followed by the message.
// It reuses b's capacity, so a caller that keeps b across calls marshals
// without allocating. The output is the same bytes proto.Marshal gives, and
// for messages with maps the bytes of proto.MarshalOptions{Deterministic:
// true}: the generated code writes map entries in Go's random map order,
// and the same record must give the same bytes (files are compared across
// runs and -workers), so maps are sorted.
//
// HTTP, the only record with maps, has a marshaller of its own (appendHTTP).
// Every other generated message goes straight to the generated code without
// asking whether it has maps, which cost a lookup per record;
// TestEveryMapSorted fails when a message with maps is added without a
// sorted marshaller.
func AppendDelimited(b []byte, m proto.Message) ([]byte, error) {
	if h, ok := m.(*types.HTTP); ok {
		return appendHTTP(b, h)
	}
	if vt, ok := m.(vtMessage); ok {
		// appendVT written out: this is the path of nearly every record.
		size := vt.SizeVT()
		b = protowire.AppendVarint(b, uint64(size))
		n := len(b)
		b = slices.Grow(b, size)[:n+size]
		if _, err := vt.MarshalToSizedBufferVT(b[n:]); err != nil {
			return b[:n], err
		}
		return b, nil
	}
	if hasMaps(m.ProtoReflect().Descriptor()) {
		return appendDeterministic(b, m)
	}
	size := proto.MarshalOptions{}.Size(m)
	b = protowire.AppendVarint(b, uint64(size))
	return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, m)
}

// appendDeterministic appends m, delimited, by protobuf's reflection with
// map entries sorted by key.
func appendDeterministic(b []byte, m proto.Message) ([]byte, error) {
	opts := proto.MarshalOptions{Deterministic: true}
	b = protowire.AppendVarint(b, uint64(opts.Size(m)))
	opts.UseCachedSize = true
	return opts.MarshalAppend(b, m)
}

// Write appends one record.
func (w *Writer) Write(m proto.Message) error {
	var err error
	w.buf, err = AppendDelimited(w.buf[:0], m)
	if err != nil {
		return fmt.Errorf("%s: marshal record: %w", w.path, err)
	}
	return w.WriteDelimited(w.buf, 1)
}

// WriteDelimited appends records that are already length-delimited; n is how
// many records b holds, for the count.
func (w *Writer) WriteDelimited(b []byte, n int) error {
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	w.n += int64(n)
	return nil
}

// Count returns the number of records written, the header not counted.
func (w *Writer) Count() int64 { return w.n }

// Path returns the file's path.
func (w *Writer) Path() string { return w.path }

// Close flushes and closes the file so that it is a complete gzip stream.
func (w *Writer) Close() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = fmt.Errorf("%s: %w", w.path, err)
		}
	}
	keep(w.bw.Flush())
	if w.gz != nil {
		keep(w.gz.Close())
		keep(w.fbuf.Flush())
	}
	keep(w.f.Close())
	return first
}

// withMaps caches, per message type, whether it or a message it holds has
// a map field.
var withMaps sync.Map // protoreflect.FullName -> bool

func hasMaps(md protoreflect.MessageDescriptor) bool {
	if v, ok := withMaps.Load(md.FullName()); ok {
		return v.(bool)
	}
	found := mapsIn(md, map[protoreflect.FullName]bool{})
	withMaps.Store(md.FullName(), found)
	return found
}

func mapsIn(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		if fd.IsMap() {
			return true
		}
		if fd.Message() != nil && mapsIn(fd.Message(), seen) {
			return true
		}
	}
	return false
}
