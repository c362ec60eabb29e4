// Package ncparquet writes netcap records as Apache Parquet files, one file per
// record type, with a schema built at run time from the record type's protobuf
// descriptor: one generic writer serves every type of netcap.proto, including
// types added later, without code per type.
//
// The mapping, field by field (proto3 has no presence for scalars, so scalar
// columns are REQUIRED; message fields are OPTIONAL, null when absent):
//
//	bool                                  BOOLEAN
//	int32, sint32, sfixed32               INT32
//	uint32, fixed32                       INT32 (UINT_32)
//	int64, sint64, sfixed64               INT64
//	uint64, fixed64                       INT64 (UINT_64)
//	float, double                         FLOAT, DOUBLE
//	string                                BYTE_ARRAY (STRING)
//	bytes                                 BYTE_ARRAY
//	enum                                  BYTE_ARRAY (STRING): the value's name, as net dump prints it
//	                                      (a number without a name: its decimal digits)
//	Unix-ns timestamps (ncio.IsTimestamp) INT64 TIMESTAMP(NANOS, UTC)
//	message                               group (a struct), null when absent
//	repeated T                            LIST of T, empty when there is none
//	map<K, V>                             MAP, keys sorted
//
// Recursive messages cannot be a fixed Parquet schema. A message field whose
// type links to itself by one singular field (GRE's Routing, a GRERouting whose
// Next is the following entry) is written as a LIST of that type without the
// link, following the chain: the linked list as the list it is. Any other
// recursion (a type that appears again deeper on its own path) is written as a
// STRING column holding the sub-message as JSON, as net dump -json prints it.
//
// Columns keep netcap.proto's order and names; the file's key-value metadata
// carries the header a record file would start with (netcap.type,
// netcap.version, netcap.source, netcap.created, netcap.payloads,
// netcap.schema). Files are zstd-compressed, dictionary-encoded where it pays,
// and cut into row groups of a bounded number of rows, written as the records
// arrive, so memory stays flat whatever the input's size.
package ncparquet

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
)

// maxChain bounds the entries of a linked list written as a LIST. The decoders
// bound their chains far below it; a record built elsewhere cannot make a row
// without end.
const maxChain = 4096

// putFunc appends the value of one field of m to the field's builder.
type putFunc func(b array.Builder, m protoreflect.Message)

// valueFunc appends one value (a list element, a map value, a message).
type valueFunc func(b array.Builder, v protoreflect.Value)

// column is one field of a message as an Arrow field and the code that
// fills it.
type column struct {
	field arrow.Field
	put   putFunc
}

// builder compiles descriptors into columns; path holds the message types
// being compiled, to find recursion.
type builder struct {
	path map[protoreflect.FullName]bool
}

// Columns returns the columns of md's fields in declaration order.
func columns(md protoreflect.MessageDescriptor) []column {
	b := &builder{path: map[protoreflect.FullName]bool{}}
	return b.message(md, nil)
}

// message compiles md's fields, leaving out skip (the link of a chain).
func (c *builder) message(md protoreflect.MessageDescriptor, skip protoreflect.FieldDescriptor) []column {
	c.path[md.FullName()] = true
	defer delete(c.path, md.FullName())
	fds := md.Fields()
	cols := make([]column, 0, fds.Len())
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if skip != nil && fd.Number() == skip.Number() {
			continue
		}
		cols = append(cols, c.field(fd))
	}
	return cols
}

// chainLink returns the singular field by which md links to another md, or
// nil.
func chainLink(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	fds := md.Fields()
	var link protoreflect.FieldDescriptor
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && fd.Message().FullName() == md.FullName() {
			if link != nil {
				return nil // a tree, not a chain
			}
			link = fd
		}
	}
	return link
}

func (c *builder) field(fd protoreflect.FieldDescriptor) column {
	name := string(fd.Name())
	if (fd.IsList() || fd.IsMap()) && c.recursive(fd) {
		return c.jsonColumn(fd)
	}
	switch {
	case fd.IsMap():
		kt, kput := c.value(fd.MapKey())
		vt, vput := c.value(fd.MapValue())
		typ := arrow.MapOf(kt, vt)
		typ.SetItemNullable(false)
		return column{field: arrow.Field{Name: name, Type: typ}, put: func(b array.Builder, m protoreflect.Message) {
			putMap(b.(*array.MapBuilder), m.Get(fd).Map(), fd.MapKey().Kind(), kput, vput)
		}}
	case fd.IsList():
		et, eput := c.value(fd)
		typ := arrow.ListOfNonNullable(et)
		return column{field: arrow.Field{Name: name, Type: typ}, put: func(b array.Builder, m protoreflect.Message) {
			lb := b.(*array.ListBuilder)
			l := m.Get(fd).List()
			lb.Append(true)
			vb := lb.ValueBuilder()
			for i := 0; i < l.Len(); i++ {
				eput(vb, l.Get(i))
			}
		}}
	case fd.Kind() == protoreflect.MessageKind:
		sub := fd.Message()
		if link := chainLink(sub); link != nil && !c.path[sub.FullName()] {
			return c.chain(fd, sub, link)
		}
		if c.path[sub.FullName()] {
			return c.jsonColumn(fd)
		}
		typ, put := c.value(fd)
		return column{field: arrow.Field{Name: name, Type: typ, Nullable: true}, put: func(b array.Builder, m protoreflect.Message) {
			if !m.Has(fd) {
				b.AppendNull()
				return
			}
			put(b, m.Get(fd))
		}}
	}
	typ, put := c.value(fd)
	return column{field: arrow.Field{Name: name, Type: typ}, put: func(b array.Builder, m protoreflect.Message) {
		put(b, m.Get(fd))
	}}
}

// chain writes a linked list of sub (fd's type) as a LIST of sub without its
// link.
func (c *builder) chain(fd protoreflect.FieldDescriptor, sub protoreflect.MessageDescriptor, link protoreflect.FieldDescriptor) column {
	cols := c.message(sub, link)
	st := structOf(cols)
	typ := arrow.ListOfNonNullable(st)
	return column{field: arrow.Field{Name: string(fd.Name()), Type: typ}, put: func(b array.Builder, m protoreflect.Message) {
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		sb := lb.ValueBuilder().(*array.StructBuilder)
		if !m.Has(fd) {
			return
		}
		e := m.Get(fd).Message()
		for n := 0; n < maxChain; n++ {
			putStruct(sb, cols, e)
			if !e.Has(link) {
				break
			}
			e = e.Get(link).Message()
		}
	}}
}

// recursive tells a list or map whose message elements are of a type being
// compiled.
func (c *builder) recursive(fd protoreflect.FieldDescriptor) bool {
	if fd.IsMap() {
		fd = fd.MapValue()
	}
	return fd.Message() != nil && c.path[fd.Message().FullName()]
}

// jsonColumn writes a recursive field as JSON text: a singular message as
// the message's object, a list or map as an object whose one key is the
// field's name. It is null when the field is absent or empty.
func (c *builder) jsonColumn(fd protoreflect.FieldDescriptor) column {
	whole := ncio.Format{Fields: []protoreflect.FieldDescriptor{fd}}
	var sub ncio.Format
	var buf []byte
	return column{field: arrow.Field{Name: string(fd.Name()), Type: arrow.BinaryTypes.String, Nullable: true}, put: func(b array.Builder, m protoreflect.Message) {
		sb := b.(*array.StringBuilder)
		if !m.Has(fd) {
			sb.AppendNull()
			return
		}
		if fd.IsList() || fd.IsMap() {
			buf = ncio.AppendJSON(buf[:0], m, &whole)
		} else {
			buf = ncio.AppendJSON(buf[:0], m.Get(fd).Message(), &sub)
		}
		sb.BinaryBuilder.Append(buf)
	}}
}

// putMap appends a map with its keys sorted, so that the same record gives
// the same row.
func putMap(mb *array.MapBuilder, mp protoreflect.Map, kind protoreflect.Kind, kput, vput valueFunc) {
	mb.Append(true)
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return compareKeys(a, b, kind) })
	kb, ib := mb.KeyBuilder(), mb.ItemBuilder()
	for _, k := range keys {
		kput(kb, k.Value())
		vput(ib, mp.Get(k))
	}
}

func compareKeys(a, b protoreflect.MapKey, kind protoreflect.Kind) int {
	switch kind {
	case protoreflect.StringKind:
		return strings.Compare(a.String(), b.String())
	case protoreflect.BoolKind:
		return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return cmp.Compare(a.Uint(), b.Uint())
	}
	return cmp.Compare(a.Int(), b.Int())
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func structOf(cols []column) *arrow.StructType {
	fields := make([]arrow.Field, len(cols))
	for i, col := range cols {
		fields[i] = col.field
	}
	return arrow.StructOf(fields...)
}

func putStruct(sb *array.StructBuilder, cols []column, m protoreflect.Message) {
	sb.Append(true)
	for i, col := range cols {
		col.put(sb.FieldBuilder(i), m)
	}
}

// value returns the Arrow type of one value of fd (an element when fd is
// repeated) and the code that appends it.
func (c *builder) value(fd protoreflect.FieldDescriptor) (arrow.DataType, valueFunc) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return arrow.FixedWidthTypes.Boolean, func(b array.Builder, v protoreflect.Value) { b.(*array.BooleanBuilder).Append(v.Bool()) }
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return arrow.PrimitiveTypes.Int32, func(b array.Builder, v protoreflect.Value) { b.(*array.Int32Builder).Append(int32(v.Int())) }
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return arrow.PrimitiveTypes.Uint32, func(b array.Builder, v protoreflect.Value) { b.(*array.Uint32Builder).Append(uint32(v.Uint())) }
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if ncio.IsTimestamp(fd) {
			return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, func(b array.Builder, v protoreflect.Value) {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Int()))
			}
		}
		return arrow.PrimitiveTypes.Int64, func(b array.Builder, v protoreflect.Value) { b.(*array.Int64Builder).Append(v.Int()) }
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return arrow.PrimitiveTypes.Uint64, func(b array.Builder, v protoreflect.Value) { b.(*array.Uint64Builder).Append(v.Uint()) }
	case protoreflect.FloatKind:
		return arrow.PrimitiveTypes.Float32, func(b array.Builder, v protoreflect.Value) { b.(*array.Float32Builder).Append(float32(v.Float())) }
	case protoreflect.DoubleKind:
		return arrow.PrimitiveTypes.Float64, func(b array.Builder, v protoreflect.Value) { b.(*array.Float64Builder).Append(v.Float()) }
	case protoreflect.StringKind:
		return arrow.BinaryTypes.String, func(b array.Builder, v protoreflect.Value) { b.(*array.StringBuilder).Append(v.String()) }
	case protoreflect.BytesKind:
		return arrow.BinaryTypes.Binary, func(b array.Builder, v protoreflect.Value) { b.(*array.BinaryBuilder).Append(v.Bytes()) }
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		return arrow.BinaryTypes.String, func(b array.Builder, v protoreflect.Value) {
			sb := b.(*array.StringBuilder)
			if ev := values.ByNumber(v.Enum()); ev != nil {
				sb.Append(string(ev.Name()))
				return
			}
			sb.Append(strconv.Itoa(int(v.Enum())))
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		cols := c.message(fd.Message(), nil)
		return structOf(cols), func(b array.Builder, v protoreflect.Value) {
			putStruct(b.(*array.StructBuilder), cols, v.Message())
		}
	}
	// protoreflect has no other kinds; an unknown one is a build against a
	// newer protobuf module, caught by the tests over every record type.
	panic("ncparquet: unsupported field kind " + fd.Kind().String())
}
