package ncparquet

import (
	"cmp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
)

// The writer fills the columns from the record's message, field by field
// through protoreflect. Records that arrive as bytes are decoded by
// proto.Unmarshal first: the generated code decides what a record holds,
// as it does for every tool that reads record files, and the writer has no
// wire format rules of its own to keep in step with it. Every column gets
// exactly one value per row: the field's value, or its zero value.

// plan is how the fields of one message type become columns. The field
// descriptors, kinds and Arrow types are worked out once, when the writer
// is created.
type plan struct {
	md   protoreflect.MessageDescriptor
	cols []*col
}

// col is one column.
type col struct {
	fd    protoreflect.FieldDescriptor
	pk    protoreflect.Kind // fd.Kind(), asked once: it is an interface call
	field arrow.Field
	kind  colKind
	sub   *plan                        // message fields, lists of messages, chains
	link  protoreflect.FieldDescriptor // chains: the field that links entries
	enums []string                     // enum names by number (dense, small enums)
	enumd protoreflect.EnumValueDescriptors
	key   *col // maps: the key and value columns
	val   *col
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

// newPlan makes the plan of md without its field skip (a chain's link);
// path holds the message types above md, to find recursion.
func newPlan(md protoreflect.MessageDescriptor, skip protoreflect.FieldNumber, path map[protoreflect.FullName]bool) *plan {
	path[md.FullName()] = true
	defer delete(path, md.FullName())
	p := &plan{md: md}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		if fd := fds.Get(i); fd.Number() != skip {
			p.cols = append(p.cols, newCol(fd, path))
		}
	}
	return p
}

func newCol(fd protoreflect.FieldDescriptor, path map[protoreflect.FullName]bool) *col {
	c := &col{fd: fd, pk: fd.Kind()}
	name := string(fd.Name())
	elem := fd
	if fd.IsMap() {
		elem = fd.MapValue()
	}
	if elem.Message() != nil && path[elem.Message().FullName()] {
		c.kind = kJSON
		c.field = arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
		return c
	}
	switch {
	case fd.IsMap():
		c.kind = kMap
		c.key, c.val = newCol(fd.MapKey(), path), newCol(fd.MapValue(), path)
		typ := arrow.MapOf(c.key.field.Type, c.val.field.Type)
		typ.SetItemNullable(false)
		c.field = arrow.Field{Name: name, Type: typ}
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
			c.link = link
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

func (c *col) setEnums() {
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

// putStruct appends message m as one struct of p's columns.
func (p *plan) putStruct(sb *array.StructBuilder, m protoreflect.Message) {
	sb.Append(true)
	for i, c := range p.cols {
		c.put(sb.FieldBuilder(i), m)
	}
}

// put appends the value of c's field in m.
func (c *col) put(b array.Builder, m protoreflect.Message) {
	switch c.kind {
	case kScalar:
		c.value(b, m.Get(c.fd))
	case kList:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder()
		l := m.Get(c.fd).List()
		for i := 0; i < l.Len(); i++ {
			if c.sub != nil {
				c.sub.putStruct(vb.(*array.StructBuilder), l.Get(i).Message())
			} else {
				c.value(vb, l.Get(i))
			}
		}
	case kMessage:
		sb := b.(*array.StructBuilder)
		if !m.Has(c.fd) {
			sb.AppendNull()
			return
		}
		c.sub.putStruct(sb, m.Get(c.fd).Message())
	case kChain:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		sb := lb.ValueBuilder().(*array.StructBuilder)
		fd := c.fd
		for n := 0; n < maxChain && m.Has(fd); n++ {
			m = m.Get(fd).Message()
			c.sub.putStruct(sb, m)
			fd = c.link
		}
	case kMap:
		c.putMap(b.(*array.MapBuilder), m.Get(c.fd).Map())
	case kJSON:
		sb := b.(*array.StringBuilder)
		if !m.Has(c.fd) {
			sb.AppendNull()
			return
		}
		var out []byte
		if c.fd.IsList() || c.fd.IsMap() {
			out = ncio.AppendJSON(nil, m, &ncio.Format{Fields: []protoreflect.FieldDescriptor{c.fd}})
		} else {
			out = ncio.AppendJSON(nil, m.Get(c.fd).Message(), &ncio.Format{})
		}
		sb.BinaryBuilder.Append(out)
	}
}

// putMap appends the entries with their keys sorted, so that the same
// record always gives the same row.
func (c *col) putMap(mb *array.MapBuilder, mp protoreflect.Map) {
	mb.Append(true)
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, func(a, b protoreflect.MapKey) int {
		switch c.key.pk {
		case protoreflect.StringKind:
			return cmp.Compare(a.String(), b.String())
		case protoreflect.BoolKind:
			return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
		case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
			return cmp.Compare(a.Uint(), b.Uint())
		}
		return cmp.Compare(a.Int(), b.Int())
	})
	kb, ib := mb.KeyBuilder(), mb.ItemBuilder()
	for _, k := range keys {
		c.key.value(kb, k.Value())
		if v := mp.Get(k); c.val.sub != nil {
			c.val.sub.putStruct(ib.(*array.StructBuilder), v.Message())
		} else {
			c.val.value(ib, v)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// value appends one scalar value.
func (c *col) value(b array.Builder, v protoreflect.Value) {
	switch c.pk {
	case protoreflect.BoolKind:
		b.(*array.BooleanBuilder).Append(v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		b.(*array.Int32Builder).Append(int32(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		b.(*array.Uint32Builder).Append(uint32(v.Uint()))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if tb, ok := b.(*array.TimestampBuilder); ok {
			tb.Append(arrow.Timestamp(v.Int()))
			return
		}
		b.(*array.Int64Builder).Append(v.Int())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b.(*array.Uint64Builder).Append(v.Uint())
	case protoreflect.FloatKind:
		b.(*array.Float32Builder).Append(float32(v.Float()))
	case protoreflect.DoubleKind:
		b.(*array.Float64Builder).Append(v.Float())
	case protoreflect.StringKind:
		b.(*array.StringBuilder).Append(v.String())
	case protoreflect.BytesKind:
		b.(*array.BinaryBuilder).Append(v.Bytes())
	case protoreflect.EnumKind:
		b.(*array.StringBuilder).Append(c.enumName(int32(v.Enum())))
	}
}
