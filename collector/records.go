package collector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/encoding/protowire"
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

// recordCheck checks the records of one type. Each record is unmarshalled
// with proto.Unmarshal into one message kept for the type: the generated
// code decides what is well-formed (tags, varints, lengths, UTF-8 of the
// string fields, nesting). Unmarshal keeps a field the type does not have,
// or a known field of another wire type, as unknown bytes, where the tools
// call such a record damaged (net util -check, net dump: package wirecheck):
// so the message is then gone through, and a record with unknown bytes
// anywhere, nested deeper than wirecheck.MaxDepth or with more than
// wirecheck.MaxNested nested messages is refused as well. The walk goes
// through the message fields the schema has (a table per message type, made
// once), not through the bytes.
type recordCheck struct {
	msg  proto.Message
	root *msgFields
}

// msgFields are the message-typed fields of one message type.
type msgFields struct {
	md     protoreflect.MessageDescriptor
	fields []protoreflect.FieldDescriptor
	types  []*msgFields // the type of each of fields
}

func newRecordCheck(md protoreflect.MessageDescriptor) (*recordCheck, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		return nil, err
	}
	return &recordCheck{msg: mt.New().Interface(), root: fieldsOf(md, map[protoreflect.FullName]*msgFields{})}, nil
}

// fieldsOf makes md's table; seen ends recursive types (GRE's routing
// entries hold the next one).
func fieldsOf(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*msgFields) *msgFields {
	if mf := seen[md.FullName()]; mf != nil {
		return mf
	}
	mf := &msgFields{md: md}
	seen[md.FullName()] = mf
	fds := md.Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		switch {
		case fd.IsMap():
			// netcap's schema has none; a map of messages has its
			// values walked.
			if v := fd.MapValue(); v.Message() != nil {
				mf.fields = append(mf.fields, fd)
				mf.types = append(mf.types, fieldsOf(v.Message(), seen))
			}
		case fd.Message() != nil:
			mf.fields = append(mf.fields, fd)
			mf.types = append(mf.types, fieldsOf(fd.Message(), seen))
		}
	}
	return mf
}

// recordError is what is wrong with a record: malformed (not protobuf:
// bad-record) or not of its type (bad-schema).
type recordError struct {
	malformed bool
	what      string
}

func (e *recordError) Error() string { return e.what }

// check checks one record.
func (rc *recordCheck) check(rec []byte) *recordError {
	if err := proto.Unmarshal(rec, rc.msg); err != nil {
		return &recordError{malformed: true, what: "not well-formed protobuf (" + err.Error() + ")"}
	}
	nested := 0
	if what := rc.root.walk(rc.msg.ProtoReflect(), 0, &nested, ""); what != "" {
		return &recordError{what: what}
	}
	return nil
}

// walk goes through message m of type mf at depth (the record is depth 0),
// counting nested messages in nested; it returns what is wrong, or "".
// path names the fields leading to m.
func (mf *msgFields) walk(m protoreflect.Message, depth int, nested *int, path string) string {
	if u := m.GetUnknown(); len(u) > 0 {
		return unknownField(mf.md, u, path)
	}
	for i, fd := range mf.fields {
		if fd.IsMap() {
			what := ""
			m.Get(fd).Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
				what = mf.types[i].enter(v.Message(), depth+1, nested, path, fd)
				return what == ""
			})
			if what != "" {
				return what
			}
		} else if fd.IsList() {
			l := m.Get(fd).List()
			for k := range l.Len() {
				if what := mf.types[i].enter(l.Get(k).Message(), depth+1, nested, path, fd); what != "" {
					return what
				}
			}
		} else if m.Has(fd) {
			if what := mf.types[i].enter(m.Get(fd).Message(), depth+1, nested, path, fd); what != "" {
				return what
			}
		}
	}
	return ""
}

// enter counts message m, field fd of its parent, and walks it.
func (mf *msgFields) enter(m protoreflect.Message, depth int, nested *int, path string, fd protoreflect.FieldDescriptor) string {
	*nested++
	if depth > wirecheck.MaxDepth {
		return fmt.Sprintf("messages nested more than %d deep", wirecheck.MaxDepth)
	}
	if *nested > wirecheck.MaxNested {
		return fmt.Sprintf("more than %d nested messages in one record", wirecheck.MaxNested)
	}
	if path != "" {
		path += "."
	}
	return mf.walk(m, depth, nested, path+string(fd.Name()))
}

// unknownField says what the first of the unknown bytes u of a message of
// type md is: a field md does not have, or one of its fields with another
// wire type than its kind gives.
func unknownField(md protoreflect.MessageDescriptor, u []byte, path string) string {
	in := ""
	if path != "" {
		in = " in " + path
	}
	num, typ, n := protowire.ConsumeTag(u)
	if n < 0 {
		return "unknown bytes" + in
	}
	if fd := md.Fields().ByNumber(num); fd != nil {
		return fmt.Sprintf("wire type %d, but %s is %v%s", typ, fd.Name(), fd.Kind(), in)
	}
	return fmt.Sprintf("field %d (wire type %d) that %s does not have%s", num, typ, md.Name(), in)
}
