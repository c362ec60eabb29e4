package collector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/internal/wirecheck"
)

// errTooLarge: a part unpacks to more than the collector's bound
// (-max-batch); counted as oversized.
var errTooLarge = errors.New("the part unpacks to more than the bound")

// gunzipper unpacks the gzip members of parts into one buffer kept from
// part to part. It is the collector's alone (not safe for concurrent use).
type gunzipper struct {
	src bytes.Reader
	zr  gzip.Reader
	buf []byte
}

// unpack decompresses every gzip member of data (one or more back to back,
// RFC 1952; each member's CRC-32 and length checked by the reader) and
// returns the bytes, valid until the next call. It stops as soon as the
// output passes limit, so a part that unpacks to gigabytes (a decompression
// bomb) costs the work of limit bytes and gives errTooLarge. Anything else
// wrong (empty input, damaged data, trailing bytes that are not a member)
// is an error. The collector stores the member as it came, and the readers
// of record files read them with Go's gzip (klauspost's or the standard
// library's), so what unpacks here must read there the same (FuzzUnpack).
// The members are taken one at a time, each header read with Reset: the
// reader's own multistream mode takes a second member's header cut short
// in its comment or name for the end of the input, where the standard
// library's reader says unexpected EOF.
func (g *gunzipper) unpack(data []byte, limit int) ([]byte, error) {
	g.src.Reset(data)
	if err := g.member(); err != nil {
		return nil, err
	}
	out := g.buf[:0]
	for {
		if len(out) == cap(out) {
			// Room up to the limit and one byte more: output that
			// fills it is too large. The last 4 bytes of a part are
			// its last member's length (mod 2^32): the whole of a
			// one-member part, as the agent sends them.
			hint := 0
			if len(data) >= 4 {
				hint = int(binary.LittleEndian.Uint32(data[len(data)-4:]))
			}
			grown := make([]byte, len(out), min(limit+1, max(2*cap(out), len(out)+hint+1, 64<<10)))
			copy(grown, out)
			out = grown
		}
		n, err := g.zr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		g.buf = out
		if len(out) > limit {
			return nil, errTooLarge
		}
		if err == io.EOF {
			if g.src.Len() == 0 {
				return out, nil
			}
			err = g.member()
		}
		if err != nil {
			return nil, err
		}
	}
}

// member reads the header of the next member: there must be one, whole.
func (g *gunzipper) member() error {
	if err := g.zr.Reset(&g.src); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	g.zr.Multistream(false)
	return nil
}

// recordCheck checks the records of one type exactly as the tools do (net
// util -check, net dump): proto.Unmarshal, into one message kept for the
// type, decides what is well-formed (tags, varints, lengths, UTF-8 of the
// string fields); then package wirecheck, the tools' own check, refuses
// what Unmarshal keeps or drops without a word: fields the type does not
// have (also inside map entries, whose unknown fields Unmarshal discards),
// known fields of another wire type, nesting deeper than wirecheck.MaxDepth
// and more than wirecheck.MaxNested nested messages. Using the tools' check
// makes "the collector stores exactly what the tools read" hold by
// construction, not by a second walk that must agree with it.
type recordCheck struct {
	msg    proto.Message
	schema *wirecheck.Checker
}

func newRecordCheck(md protoreflect.MessageDescriptor) (*recordCheck, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		return nil, err
	}
	return &recordCheck{msg: mt.New().Interface(), schema: wirecheck.NewChecker(md, wirecheck.Default)}, nil
}

// recordError is what is wrong with a record: malformed (not protobuf:
// bad-record) or not of its type (bad-schema).
type recordError struct {
	malformed bool
	what      string
}

func (e *recordError) Error() string { return e.what }

// check returns what is wrong with rec, or nil.
func (rc *recordCheck) check(rec []byte) *recordError {
	if err := proto.Unmarshal(rec, rc.msg); err != nil {
		return &recordError{malformed: true, what: "not well-formed protobuf (" + err.Error() + ")"}
	}
	if err := rc.schema.Check(rec); err != nil {
		var p *wirecheck.Problem
		malformed := errors.As(err, &p) && p.Kind == wirecheck.Malformed
		return &recordError{malformed: malformed, what: err.Error()}
	}
	return nil
}
