package ncparquet

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	ncio "github.com/netcap/netcap/io"
)

// The writer reads records from their protobuf wire bytes straight into the
// column builders: the engine hands records on marshalled, and decoding them
// into messages first and reading those by reflection cost more than the
// Parquet encoding itself (profiled on make bench's capture: see the commit
// that added this). A record's fields are gathered in one pass (the wire
// holds them in any order and leaves out zero values), then every column
// gets exactly one value: the one found, or the field's zero value.

// plan is how the fields of one message type become columns.
type plan struct {
	md    protoreflect.MessageDescriptor
	cols  []*wcol
	byNum []*wcol // by field number; nil where no column
	skip  protoreflect.FieldNumber
}

// wcol is one column and, while a message is read, what was found for it.
type wcol struct {
	fd    protoreflect.FieldDescriptor
	pk    protoreflect.Kind // fd.Kind(), asked once: it is an interface call
	want  protowire.Type    // the wire type of one value (bytes for maps and JSON)
	field arrow.Field
	kind  colKind
	sub   *plan                    // message fields, list/map elements of message type, chains
	link  protoreflect.FieldNumber // chains: the field that links entries
	enums []string                 // enum names by number (dense, small enums)
	enumd protoreflect.EnumValueDescriptors
	key   *wcol // maps: the key and value columns
	val   *wcol
	mt    protoreflect.MessageType // JSON columns: the sub-message's type

	// found while reading a message
	seen  bool
	num   uint64   // varint, fixed32 or fixed64 value
	raw   []byte   // bytes, string, message
	more  [][]byte // repeated: each element's bytes (messages, strings, packed runs)
	nums  []uint64 // repeated scalars
	merge []byte   // a singular message seen more than once, merged
}

type colKind int

const (
	kScalar colKind = iota
	kMessage
	kList
	kMap
	kChain
	kJSON
)

func newPlan(md protoreflect.MessageDescriptor, skip protoreflect.FieldNumber, path map[protoreflect.FullName]bool) *plan {
	path[md.FullName()] = true
	defer delete(path, md.FullName())
	p := &plan{md: md, skip: skip}
	fds := md.Fields()
	maxNum := 0
	for i := 0; i < fds.Len(); i++ {
		maxNum = max(maxNum, int(fds.Get(i).Number()))
	}
	p.byNum = make([]*wcol, maxNum+1)
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if fd.Number() == skip {
			continue
		}
		c := newCol(fd, path)
		p.cols = append(p.cols, c)
		p.byNum[fd.Number()] = c
	}
	return p
}

func newCol(fd protoreflect.FieldDescriptor, path map[protoreflect.FullName]bool) *wcol {
	c := newColKind(fd, path)
	c.pk = fd.Kind()
	c.want = wireTypeOf(fd)
	if c.kind == kMap || c.kind == kJSON {
		c.want = protowire.BytesType
	}
	return c
}

func newColKind(fd protoreflect.FieldDescriptor, path map[protoreflect.FullName]bool) *wcol {
	c := &wcol{fd: fd}
	name := string(fd.Name())
	elem := fd
	if fd.IsMap() {
		elem = fd.MapValue()
	}
	if elem.Message() != nil && path[elem.Message().FullName()] {
		c.kind = kJSON
		c.field = arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
		c.mt = messageType(fd.ContainingMessage())
		return c
	}
	switch {
	case fd.IsMap():
		c.kind = kMap
		c.key, c.val = newCol(fd.MapKey(), path), newCol(fd.MapValue(), path)
		typ := arrow.MapOf(c.key.field.Type, c.val.field.Type)
		typ.SetItemNullable(false)
		c.field = arrow.Field{Name: name, Type: typ}
		// Map entries are messages of two fields: read them with a plan
		// whose columns are the key and the value.
		c.sub = &plan{md: fd.Message(), cols: []*wcol{c.key, c.val}, byNum: []*wcol{nil, c.key, c.val}}
		return c
	case fd.IsList():
		c.kind = kList
		var et arrow.DataType
		if fd.Message() != nil {
			c.sub = newPlan(fd.Message(), 0, path)
			et = c.sub.structType()
		} else {
			et = scalarType(fd)
		}
		c.setEnums()
		c.field = arrow.Field{Name: name, Type: arrow.ListOfNonNullable(et)}
		return c
	case fd.Message() != nil:
		sub := fd.Message()
		if link := chainLink(sub); link != nil {
			c.kind = kChain
			c.link = link.Number()
			c.sub = newPlan(sub, link.Number(), path)
			c.field = arrow.Field{Name: name, Type: arrow.ListOfNonNullable(c.sub.structType())}
			return c
		}
		c.kind = kMessage
		c.sub = newPlan(sub, 0, path)
		c.field = arrow.Field{Name: name, Type: c.sub.structType(), Nullable: true}
		return c
	}
	c.kind = kScalar
	c.setEnums()
	c.field = arrow.Field{Name: name, Type: scalarType(fd)}
	return c
}

func messageType(md protoreflect.MessageDescriptor) protoreflect.MessageType {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		panic("ncparquet: " + string(md.FullName()) + " is not registered")
	}
	return mt
}

func (c *wcol) setEnums() {
	if c.fd.Kind() != protoreflect.EnumKind {
		return
	}
	vals := c.fd.Enum().Values()
	c.enumd = vals
	for i := 0; i < vals.Len(); i++ {
		n := int(vals.Get(i).Number())
		if n < 0 || n > 1024 {
			continue
		}
		for len(c.enums) <= n {
			c.enums = append(c.enums, "")
		}
		c.enums[n] = string(vals.Get(i).Name())
	}
}

func (p *plan) structType() *arrow.StructType {
	fields := make([]arrow.Field, len(p.cols))
	for i, c := range p.cols {
		fields[i] = c.field
	}
	return arrow.StructOf(fields...)
}

// scalarType is the Arrow type of one value of a scalar field.
func scalarType(fd protoreflect.FieldDescriptor) arrow.DataType {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return arrow.FixedWidthTypes.Boolean
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return arrow.PrimitiveTypes.Int32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return arrow.PrimitiveTypes.Uint32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if ncio.IsTimestamp(fd) {
			return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
		}
		return arrow.PrimitiveTypes.Int64
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return arrow.PrimitiveTypes.Uint64
	case protoreflect.FloatKind:
		return arrow.PrimitiveTypes.Float32
	case protoreflect.DoubleKind:
		return arrow.PrimitiveTypes.Float64
	case protoreflect.StringKind, protoreflect.EnumKind:
		return arrow.BinaryTypes.String
	case protoreflect.BytesKind:
		return arrow.BinaryTypes.Binary
	}
	// protoreflect has no other scalar kinds; a new one would come with a
	// newer protobuf module, and the tests over every record type fail.
	panic("ncparquet: unsupported field kind " + fd.Kind().String())
}

var errWire = errors.New("malformed protobuf wire data")

// wireTypeOf is the wire type a field's single value has.
func wireTypeOf(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return protowire.BytesType
	}
	return protowire.VarintType
}

// read gathers the fields of one message from b. Unknown fields are
// skipped, as proto.Unmarshal keeps them out of every field.
func (p *plan) read(b []byte) error {
	for _, c := range p.cols {
		c.reset()
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errWire
		}
		b = b[n:]
		var c *wcol
		if int(num) < len(p.byNum) {
			c = p.byNum[num]
		}
		if c == nil {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return errWire
			}
			b = b[n:]
			continue
		}
		want := c.want
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || want != typ {
				return errWire
			}
			b = b[n:]
			c.scalar(v)
		case protowire.Fixed32Type:
			v, n := protowire.ConsumeFixed32(b)
			if n < 0 || want != typ {
				return errWire
			}
			b = b[n:]
			c.scalar(uint64(v))
		case protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 || want != typ {
				return errWire
			}
			b = b[n:]
			c.scalar(v)
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return errWire
			}
			b = b[n:]
			if want != protowire.BytesType {
				// A packed run of a repeated scalar.
				if c.kind != kList {
					return errWire
				}
				if err := c.packed(v, want); err != nil {
					return err
				}
				continue
			}
			c.bytes(v)
		default:
			return errWire
		}
	}
	return nil
}

func (c *wcol) reset() {
	c.seen = false
	c.num = 0
	c.raw = nil
	c.more = c.more[:0]
	c.nums = c.nums[:0]
}

func (c *wcol) scalar(v uint64) {
	if c.kind == kList {
		c.nums = append(c.nums, v)
		return
	}
	c.seen, c.num = true, v
}

func (c *wcol) packed(b []byte, typ protowire.Type) error {
	for len(b) > 0 {
		var v uint64
		var n int
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		default:
			v, n = protowire.ConsumeFixed64(b)
		}
		if n < 0 {
			return errWire
		}
		b = b[n:]
		c.nums = append(c.nums, v)
	}
	return nil
}

func (c *wcol) bytes(v []byte) {
	switch c.kind {
	case kList, kMap:
		c.more = append(c.more, v)
		return
	case kMessage, kChain:
		if c.seen {
			// Proto merges a message that occurs twice: reading the
			// concatenation is the merge.
			c.merge = append(append(c.merge[:0], c.raw...), v...)
			v = c.merge
		}
	case kJSON:
		c.more = append(c.more, v)
	}
	c.seen, c.raw = true, v
}

// put appends what read gathered for p's columns to their builders, which
// builder returns by column index.
func (p *plan) put(builder func(i int) array.Builder) error {
	for i, c := range p.cols {
		if err := c.put(builder(i)); err != nil {
			return err
		}
	}
	return nil
}

func (c *wcol) put(b array.Builder) error {
	switch c.kind {
	case kScalar:
		if !c.seen {
			c.num, c.raw = 0, nil
		}
		c.value(b, c.num, c.raw)
		return nil
	case kList:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder()
		if c.sub != nil {
			sb := vb.(*array.StructBuilder)
			// The elements' bytes alias the record; read each
			// before the next.
			for _, e := range c.more {
				if err := c.sub.putStruct(sb, e); err != nil {
					return err
				}
			}
			return nil
		}
		if c.want == protowire.BytesType {
			for _, e := range c.more {
				c.value(vb, 0, e)
			}
			return nil
		}
		for _, v := range c.nums {
			c.value(vb, v, nil)
		}
		return nil
	case kMessage:
		sb := b.(*array.StructBuilder)
		if !c.seen {
			sb.AppendNull()
			return nil
		}
		return c.sub.putStruct(sb, c.raw)
	case kChain:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		if !c.seen {
			return nil
		}
		sb := lb.ValueBuilder().(*array.StructBuilder)
		e := c.raw
		for n := 0; n < maxChain && e != nil; n++ {
			next, err := nextLink(e, c.link)
			if err != nil {
				return err
			}
			if err := c.sub.putStruct(sb, e); err != nil {
				return err
			}
			e = next
		}
		return nil
	case kMap:
		return c.putMap(b.(*array.MapBuilder))
	case kJSON:
		sb := b.(*array.StringBuilder)
		if !c.seen {
			sb.AppendNull()
			return nil
		}
		return c.putJSON(sb)
	}
	return nil
}

func (p *plan) putStruct(sb *array.StructBuilder, b []byte) error {
	if err := p.read(b); err != nil {
		return err
	}
	sb.Append(true)
	return p.put(sb.FieldBuilder)
}

// nextLink returns the bytes of the link field of a chain entry, nil when
// there is none (the last occurrence wins, as for any singular field).
func nextLink(b []byte, link protoreflect.FieldNumber) ([]byte, error) {
	var next []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errWire
		}
		b = b[n:]
		if num == link && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errWire
			}
			next, b = v, b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, errWire
		}
		b = b[n:]
	}
	return next, nil
}

// putMap appends the entries with their keys sorted, so that the same
// record always gives the same row.
func (c *wcol) putMap(mb *array.MapBuilder) error {
	mb.Append(true)
	type entry struct {
		num uint64
		raw []byte
		val []byte // the entry's bytes, read again for the value
	}
	entries := make([]entry, 0, len(c.more))
	byKey := map[string]int{}
	for _, e := range c.more {
		if err := c.sub.read(e); err != nil {
			return err
		}
		k := entry{num: c.key.num, raw: c.key.raw, val: e}
		id := string(k.raw) + "/" + strconv.FormatUint(k.num, 10)
		if i, ok := byKey[id]; ok {
			entries[i] = k // a repeated key: the last one wins
			continue
		}
		byKey[id] = len(entries)
		entries = append(entries, k)
	}
	signed := c.key.fd.Kind() == protoreflect.Int32Kind || c.key.fd.Kind() == protoreflect.Int64Kind ||
		c.key.fd.Kind() == protoreflect.Sint32Kind || c.key.fd.Kind() == protoreflect.Sint64Kind ||
		c.key.fd.Kind() == protoreflect.Sfixed32Kind || c.key.fd.Kind() == protoreflect.Sfixed64Kind
	slices.SortFunc(entries, func(a, b entry) int {
		if r := bytes.Compare(a.raw, b.raw); r != 0 {
			return r
		}
		if signed {
			return cmp.Compare(c.key.signed(a.num), c.key.signed(b.num))
		}
		return cmp.Compare(a.num, b.num)
	})
	kb, ib := mb.KeyBuilder(), mb.ItemBuilder()
	for _, e := range entries {
		if err := c.sub.read(e.val); err != nil {
			return err
		}
		if err := c.key.put(kb); err != nil {
			return err
		}
		if err := c.val.put(ib); err != nil {
			return err
		}
	}
	return nil
}

// putJSON decodes a recursive field's message and writes it as JSON text
// (see the package comment); it is the rare path, reflection is fine.
func (c *wcol) putJSON(sb *array.StringBuilder) error {
	// The field's occurrences are decoded into a message of the
	// containing type holding only this field.
	var wire []byte
	for _, e := range c.more {
		wire = protowire.AppendTag(wire, c.fd.Number(), protowire.BytesType)
		wire = protowire.AppendBytes(wire, e)
	}
	m := c.mt.New()
	if err := proto.Unmarshal(wire, m.Interface()); err != nil {
		return err
	}
	if !m.Has(c.fd) {
		sb.AppendNull()
		return nil
	}
	var out []byte
	if c.fd.IsList() || c.fd.IsMap() {
		out = ncio.AppendJSON(nil, m, &ncio.Format{Fields: []protoreflect.FieldDescriptor{c.fd}})
	} else {
		out = ncio.AppendJSON(nil, m.Get(c.fd).Message(), &ncio.Format{})
	}
	sb.BinaryBuilder.Append(out)
	return nil
}

func (c *wcol) signed(v uint64) int64 {
	switch c.pk {
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return protowire.DecodeZigZag(v)
	case protoreflect.Sfixed32Kind:
		return int64(int32(uint32(v)))
	case protoreflect.Int32Kind:
		return int64(int32(v))
	}
	return int64(v)
}

// value appends one scalar value: num for numbers, raw for text and bytes.
func (c *wcol) value(b array.Builder, num uint64, raw []byte) {
	switch c.pk {
	case protoreflect.BoolKind:
		b.(*array.BooleanBuilder).Append(num != 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		b.(*array.Int32Builder).Append(int32(c.signed(num)))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		b.(*array.Uint32Builder).Append(uint32(num))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		v := c.signed(num)
		if tb, ok := b.(*array.TimestampBuilder); ok {
			tb.Append(arrow.Timestamp(v))
			return
		}
		b.(*array.Int64Builder).Append(v)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b.(*array.Uint64Builder).Append(num)
	case protoreflect.FloatKind:
		b.(*array.Float32Builder).Append(math.Float32frombits(uint32(num)))
	case protoreflect.DoubleKind:
		b.(*array.Float64Builder).Append(math.Float64frombits(num))
	case protoreflect.StringKind:
		b.(*array.StringBuilder).BinaryBuilder.Append(raw)
	case protoreflect.BytesKind:
		b.(*array.BinaryBuilder).Append(raw)
	case protoreflect.EnumKind:
		b.(*array.StringBuilder).Append(c.enumName(int32(num)))
	}
}

// errorf names the message type in a wire error.
func (p *plan) errorf(err error) error {
	return fmt.Errorf("record does not decode as %s: %w", p.md.Name(), err)
}
