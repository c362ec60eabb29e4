package ncio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/types"
)

// ErrTruncated means the file ends inside a record: it was cut (disk full, a
// killed writer, a partial copy). Every record before the cut was returned.
var ErrTruncated = errors.New("record file is truncated: it ends inside a record")

// MaxRecordSize bounds the length prefix a reader accepts, so that a corrupt
// prefix cannot make it allocate gigabytes.
const MaxRecordSize = 64 << 20

// Reader reads a record file written by Writer, gzip'd or not (told by the
// content, not the file name).
type Reader struct {
	path   string
	f      *os.File
	gz     *gzip.Reader
	br     *bufio.Reader
	header *types.Header
	info   HeaderInfo
	raw    []byte // the header record's bytes
	mt     protoreflect.MessageType
	buf    []byte
}

// Open opens a record file and reads its header. A file of another schema
// (the original netcap's, or a newer one of ours) is refused with a
// *SchemaError: its records would decode into the wrong fields.
func Open(path string) (*Reader, error) {
	return open(path, false)
}

// OpenAnySchema opens a record file whatever schema its header names, for
// converters: Info says which, Header is decoded as this build's Header, and
// New and Next work only for files of this build's schema.
func OpenAnySchema(path string) (*Reader, error) {
	return open(path, true)
}

func open(path string, anySchema bool) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newReader(f, path, anySchema)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.f = f
	return r, nil
}

// NewReader reads a record stream from rd; name is used in error messages.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	return newReader(rd, name, false)
}

func newReader(rd io.Reader, name string, anySchema bool) (*Reader, error) {
	r := &Reader{path: name}
	br := bufio.NewReaderSize(rd, 256<<10)
	magic, err := br.Peek(2)
	if err != nil {
		return nil, fmt.Errorf("%s: empty or unreadable file: not a netcap record file", name)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: bad gzip stream: %w", name, err)
		}
		gz.Multistream(true)
		r.gz = gz
		r.br = bufio.NewReaderSize(gz, 256<<10)
	} else {
		r.br = br
	}
	b, err := r.NextRaw()
	if err != nil {
		if err == io.EOF {
			err = ErrTruncated
		}
		return nil, fmt.Errorf("%s: not a netcap record file (no header): %w", name, err)
	}
	h := &types.Header{}
	info, ierr := IdentifyHeader(b)
	if err := proto.Unmarshal(b, h); err != nil || ierr != nil {
		if err == nil {
			err = ierr
		}
		return nil, fmt.Errorf("%s: not a netcap record file (no header): record does not decode as Header: %w", name, err)
	}
	if info.Origin != OriginOurs {
		if !anySchema {
			return nil, &SchemaError{Path: name, Info: info}
		}
		r.header, r.info, r.raw = h, info, append([]byte(nil), b...)
		return r, nil
	}
	r.info, r.raw = info, append([]byte(nil), b...)
	name2 := types.Name(h.Type)
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + name2))
	if h.Type == types.Type_NC_Header || h.Type == types.Type_NC_Batch {
		return nil, fmt.Errorf("%s: header names %v, which is not a record type: the file is corrupt", name, h.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header names record type %d, which this version of netcap does not know", name, h.Type)
	}
	r.header, r.mt = h, mt
	return r, nil
}

// Header returns the file's header record.
func (r *Reader) Header() *types.Header { return r.header }

// Info says who wrote the file, as its header tells.
func (r *Reader) Info() HeaderInfo { return r.info }

// RawHeader returns the header record's bytes (without the length prefix).
func (r *Reader) RawHeader() []byte { return r.raw }

// New returns an empty record of the file's type.
func (r *Reader) New() proto.Message { return r.mt.New().Interface() }

// NextRaw returns the next record's bytes, valid until the next call. It
// returns io.EOF at a clean end and ErrTruncated on a cut file.
func (r *Reader) NextRaw() ([]byte, error) {
	size, err := readUvarint(r.br)
	if err != nil {
		if err == io.EOF || err == ErrTruncated {
			return nil, err
		}
		return nil, r.wrap(err) // a bad gzip checksum, an overlong prefix
	}
	if size > MaxRecordSize {
		return nil, fmt.Errorf("%s: record length %d exceeds the %d byte limit: file is corrupt", r.path, size, MaxRecordSize)
	}
	if uint64(cap(r.buf)) < size && size > eagerRecordSize {
		return r.nextLarge(int64(size))
	}
	if uint64(cap(r.buf)) < size {
		r.buf = make([]byte, size)
	}
	b := r.buf[:size]
	if _, err := io.ReadFull(r.br, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrTruncated
		}
		return nil, r.wrap(err)
	}
	return b, nil
}

// eagerRecordSize is the largest record buffer allocated before its bytes
// are read. A length prefix above it may be corrupt, so such a record's buffer
// grows with the bytes that actually arrive: a 20-byte file cannot make the
// reader allocate MaxRecordSize.
const eagerRecordSize = 1 << 20

// nextLarge reads a record longer than eagerRecordSize.
func (r *Reader) nextLarge(size int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(eagerRecordSize)
	if _, err := io.CopyN(&buf, r.br, size); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrTruncated
		}
		return nil, r.wrap(err)
	}
	r.buf = buf.Bytes()
	return r.buf[:size], nil
}

// Next reads the next record into m (which is reset first).
func (r *Reader) Next(m proto.Message) error {
	b, err := r.NextRaw()
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s: record does not decode as %s: %w", r.path, m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}

func (r *Reader) wrap(err error) error {
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
		return fmt.Errorf("%s: corrupt gzip stream: %w", r.path, err)
	}
	return fmt.Errorf("%s: %w", r.path, err)
}

// readUvarint reads a uvarint; io.EOF only when no byte was read at all.
func readUvarint(br *bufio.Reader) (uint64, error) {
	var x uint64
	var s uint
	for i := 0; i < 10; i++ {
		c, err := br.ReadByte()
		if err != nil {
			if err == io.EOF {
				if i == 0 {
					return 0, io.EOF
				}
				return 0, ErrTruncated
			}
			if err == io.ErrUnexpectedEOF {
				return 0, ErrTruncated
			}
			return 0, err
		}
		if c < 0x80 {
			if i == 9 && c > 1 {
				break
			}
			return x | uint64(c)<<s, nil
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, errors.New("record length prefix overflows 64 bits: file is corrupt")
}

// Close closes the file.
func (r *Reader) Close() error {
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}
