package ncio

import (
	"bufio"
	"bytes"
	"fmt"
	"os"

	"github.com/klauspost/compress/gzip"

	"github.com/netcap/netcap/types"
)

// A record file may be one gzip stream or several gzip members one after the
// other (RFC 1952 section 2.2): gzip -d, zcat, Go's and Python's gzip readers
// all read the members as one stream. Members let the engine compress chunks
// of one file on many cores at once and then write them in order. Deflate
// looks back only 32 KiB, so cutting a file into members of a few hundred KiB
// costs almost nothing in size (measured: see the commit that added this).

// MemberCompressor turns chunks of bytes into complete gzip members. It keeps
// its compressor between calls, so compressing does not allocate once warm.
// It is not safe for concurrent use: one per goroutine.
type MemberCompressor struct {
	gz  *gzip.Writer
	out bytes.Buffer
}

// NewMemberCompressor returns a compressor at the level record files use.
func NewMemberCompressor() *MemberCompressor {
	c := &MemberCompressor{}
	gz, err := gzip.NewWriterLevel(&c.out, Level)
	if err != nil {
		panic(err) // Level is a valid constant
	}
	c.gz = gz
	return c
}

// AppendMember appends to dst one gzip member holding src.
func (c *MemberCompressor) AppendMember(dst, src []byte) []byte {
	c.out.Reset()
	c.gz.Reset(&c.out)
	// Writing to a bytes.Buffer cannot fail.
	_, _ = c.gz.Write(src)
	_ = c.gz.Close()
	return append(dst, c.out.Bytes()...)
}

// MemberWriter writes a record file whose body arrives already cut into
// finished parts: gzip members (or, uncompressed, plain record bytes) in
// order. The header record is written by CreateMembers.
type MemberWriter struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	n    int64
}

// HeaderBytes is h as the length-delimited first record of a file, with
// h.Schema set to Schema when it is 0.
func HeaderBytes(h *types.Header) ([]byte, error) {
	if h.Schema == 0 {
		h.Schema = Schema
	}
	return AppendDelimited(nil, h)
}

// CreateMembers creates path and writes head (the delimited header record,
// or a CSV file's header line), compressed as a member of its own when
// compress is set; every later part given to WritePart must be compressed
// the same way.
func CreateMembers(path string, head []byte, compress bool, c *MemberCompressor) (*MemberWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create record file: %w", err)
	}
	w := &MemberWriter{path: path, f: f, bw: bufio.NewWriterSize(f, 256<<10)}
	if compress {
		// A header-only member even without a header record, so that
		// an empty file is still a valid gzip stream.
		head = c.AppendMember(nil, head)
	}
	if _, err := w.bw.Write(head); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// WritePart writes one finished part holding n records.
func (w *MemberWriter) WritePart(b []byte, n int) error {
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	w.n += int64(n)
	return nil
}

// Count returns the number of records written, the header not counted.
func (w *MemberWriter) Count() int64 { return w.n }

// Path returns the file's path.
func (w *MemberWriter) Path() string { return w.path }

// Close flushes and closes the file.
func (w *MemberWriter) Close() error {
	err := w.bw.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return nil
}
