package ncparquet

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The tests here read the files back with Arrow's Parquet reader and compare
// every value with the record it came from, walking the two side by side:
// the mapping of package ncparquet's comment read in the other direction.

// TestFileValues writes filled records of every record type (every field
// set, lists and maps of two, nested messages, GRE's chain three deep) and
// an empty one (every field its zero value), and compares each row of the
// file with its record.
func TestFileValues(t *testing.T) {
	for _, tt := range recordTypes(t) {
		recs := []proto.Message{newRecord(tt, 0), newRecord(tt, 1), newOf(ncio.MessageDescriptor(tt))}
		path := filepath.Join(t.TempDir(), types.Name(tt)+Ext)
		w, err := Create(path, tt, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				t.Fatalf("%s: %v", types.Name(tt), err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if d := rowDiff(t, path, i, r.ProtoReflect()); d != "" {
				t.Errorf("%s: record %d: %s", types.Name(tt), i, d)
			}
		}
	}
}

// fuzzTypes are record types with every kind of column: nested messages and
// lists of them (TCP options, DNS questions), maps and lists of strings
// (HTTP), a linked list (GRE), enums and unsigned values (Ethernet, IPv6,
// NTP).
var fuzzTypes = []types.Type{types.Type_NC_TCP, types.Type_NC_DNS, types.Type_NC_HTTP, types.Type_NC_GRE, types.Type_NC_IPv6, types.Type_NC_NTP}

// FuzzFileValues: bytes that proto.Unmarshal takes as a record are written
// by WriteRecord as a row holding the values of the message Unmarshal made
// of them; bytes it refuses are refused and add no row.
func FuzzFileValues(f *testing.F) {
	for i, tt := range fuzzTypes {
		b, err := proto.Marshal(newRecord(tt, i))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
		// Fields in another order, a message and a key twice: what
		// another protobuf writer may send.
		f.Add(uint8(i), append(append([]byte{}, b[len(b)/2:]...), b[:len(b)/2]...))
		f.Add(uint8(i), append(append([]byte{}, b...), b...))
		f.Add(uint8(i), []byte{})
	}
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		tt := fuzzTypes[int(which)%len(fuzzTypes)]
		m := newOf(ncio.MessageDescriptor(tt))
		uerr := proto.Unmarshal(rec, m)
		path := filepath.Join(t.TempDir(), types.Name(tt)+Ext)
		w, err := Create(path, tt, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		werr := w.WriteRecord(rec)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if uerr != nil {
			if werr == nil || w.Count() != 0 {
				t.Fatalf("proto.Unmarshal refuses %x (%v), WriteRecord took it", rec, uerr)
			}
			return
		}
		if werr != nil {
			t.Fatalf("proto.Unmarshal takes %x, WriteRecord does not: %v", rec, werr)
		}
		if d := rowDiff(t, path, 0, m.ProtoReflect()); d != "" {
			t.Fatalf("%x: %s", rec, d)
		}
	})
}

// rowDiff reads the file at path and says where row i differs from m, or
// returns "".
func rowDiff(t *testing.T, path string, row int, m protoreflect.Message) string {
	tbl, _ := readTable(t, path)
	md := m.Descriptor()
	if int(tbl.NumCols()) != md.Fields().Len() {
		return fmt.Sprintf("%d columns, want %d", tbl.NumCols(), md.Fields().Len())
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		name := tbl.Schema().Field(c).Name
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return "column " + name + " is no field"
		}
		chunks := tbl.Column(c).Data().Chunks()
		if len(chunks) != 1 {
			return fmt.Sprintf("%d chunks, want 1", len(chunks))
		}
		if d := fieldDiff(chunks[0], row, m, fd); d != "" {
			return name + ": " + d
		}
	}
	return ""
}

// fieldDiff compares value i of a with field fd of m.
func fieldDiff(a arrow.Array, i int, m protoreflect.Message, fd protoreflect.FieldDescriptor) string {
	// Message fields are null when absent, but for chains (a list) and
	// fields other than messages.
	wantNull := false
	switch a.(type) {
	case *array.Struct:
		wantNull = !m.Has(fd)
	case *array.String:
		wantNull = fd.Message() != nil && !m.Has(fd)
	}
	if a.IsNull(i) != wantNull {
		return fmt.Sprintf("null is %v, want %v", a.IsNull(i), wantNull)
	}
	if a.IsNull(i) {
		return ""
	}
	if js, ok := a.(*array.String); ok && fd.Message() != nil {
		// Recursion: the message, the list or the map as JSON.
		want := ncio.AppendJSON(nil, m, &ncio.Format{Fields: []protoreflect.FieldDescriptor{fd}})
		if !fd.IsList() && !fd.IsMap() {
			want = ncio.AppendJSON(nil, m.Get(fd).Message(), &ncio.Format{})
		}
		if js.Value(i) != string(want) {
			return fmt.Sprintf("JSON %s, want %s", js.Value(i), want)
		}
		return ""
	}
	switch {
	case fd.IsMap():
		ma, ok := a.(*array.Map)
		if !ok {
			return "map field in a " + a.DataType().String() + " column"
		}
		s, e := ma.ValueOffsets(i)
		mp := m.Get(fd).Map()
		if int(e-s) != mp.Len() {
			return fmt.Sprintf("%d entries, want %d", e-s, mp.Len())
		}
		keys := ma.Keys().(*array.String)
		for j := int(s); j < int(e); j++ {
			k := keys.Value(j)
			if j > int(s) && keys.Value(j-1) >= k {
				return fmt.Sprintf("keys %q, %q out of order", keys.Value(j-1), k)
			}
			v := mp.Get(protoreflect.ValueOfString(k).MapKey())
			if !v.IsValid() {
				return "key " + k + " is not in the record"
			}
			if d := scalarDiff(ma.Items(), j, fd.MapValue(), v); d != "" {
				return "[" + k + "]: " + d
			}
		}
		return ""
	case fd.IsList():
		la, ok := a.(*array.List)
		if !ok {
			return "repeated field in a " + a.DataType().String() + " column"
		}
		s, e := la.ValueOffsets(i)
		l := m.Get(fd).List()
		if int(e-s) != l.Len() {
			return fmt.Sprintf("%d elements, want %d", e-s, l.Len())
		}
		for j := 0; j < l.Len(); j++ {
			var d string
			if fd.Message() != nil {
				d = structDiff(la.ListValues(), int(s)+j, l.Get(j).Message())
			} else {
				d = scalarDiff(la.ListValues(), int(s)+j, fd, l.Get(j))
			}
			if d != "" {
				return fmt.Sprintf("[%d]: %s", j, d)
			}
		}
		return ""
	case fd.Message() != nil:
		if a, ok := a.(*array.List); ok { // a chain: its entries in order
			s, e := a.ValueOffsets(i)
			link := chainLink(fd.Message())
			n := 0
			for x, f := m, fd; x.Has(f); x, f = x.Get(f).Message(), link {
				if int(s)+n >= int(e) {
					return fmt.Sprintf("%d chain entries, want more", e-s)
				}
				if d := structDiff(a.ListValues(), int(s)+n, x.Get(f).Message()); d != "" {
					return fmt.Sprintf("entry %d: %s", n, d)
				}
				n++
			}
			if n != int(e-s) {
				return fmt.Sprintf("%d chain entries, want %d", e-s, n)
			}
			return ""
		}
		return structDiff(a, i, m.Get(fd).Message())
	}
	return scalarDiff(a, i, fd, m.Get(fd))
}

// structDiff compares struct i of a with m: one child per field of m but a
// chain's link.
func structDiff(a arrow.Array, i int, m protoreflect.Message) string {
	st, ok := a.(*array.Struct)
	if !ok {
		return "message in a " + a.DataType().String() + " column"
	}
	fields := st.DataType().(*arrow.StructType).Fields()
	want := m.Descriptor().Fields().Len()
	if chainLink(m.Descriptor()) != nil {
		want--
	}
	if len(fields) != want {
		return fmt.Sprintf("%d struct fields, want %d", len(fields), want)
	}
	for k, f := range fields {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(f.Name))
		if fd == nil {
			return "struct field " + f.Name + " is no field"
		}
		if d := fieldDiff(st.Field(k), i, m, fd); d != "" {
			return f.Name + ": " + d
		}
	}
	return ""
}

// scalarDiff compares value i of a with v, a value of field fd.
func scalarDiff(a arrow.Array, i int, fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	var got, want any
	switch a := a.(type) {
	case *array.Boolean:
		got, want = a.Value(i), v.Bool()
	case *array.Int32:
		got, want = int64(a.Value(i)), v.Int()
	case *array.Uint32:
		got, want = uint64(a.Value(i)), v.Uint()
	case *array.Int64:
		got, want = a.Value(i), v.Int()
	case *array.Timestamp:
		if !ncio.IsTimestamp(fd) {
			return "timestamp column for " + string(fd.Name())
		}
		got, want = int64(a.Value(i)), v.Int()
	case *array.Uint64:
		got, want = a.Value(i), v.Uint()
	case *array.Float32:
		got, want = math.Float32bits(a.Value(i)), math.Float32bits(float32(v.Float()))
	case *array.Float64:
		got, want = math.Float64bits(a.Value(i)), math.Float64bits(v.Float())
	case *array.String:
		got, want = a.Value(i), v.String()
		if fd.Kind() == protoreflect.EnumKind {
			want = strconv.Itoa(int(v.Enum()))
			if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
				want = string(ev.Name())
			}
		}
	case *array.Binary:
		if !bytes.Equal(a.Value(i), v.Bytes()) {
			return fmt.Sprintf("%x, want %x", a.Value(i), v.Bytes())
		}
		return ""
	default:
		return "unexpected column type " + a.DataType().String()
	}
	if got != want {
		return fmt.Sprintf("%v, want %v", got, want)
	}
	return ""
}

// TestOtherDescriptor writes a record whose message is built from another
// copy of its type's descriptor (dynamicpb, as a tool reading a descriptor
// set has): the same row as the generated message gives.
func TestOtherDescriptor(t *testing.T) {
	gen := newRecord(types.Type_NC_HTTP, 4)
	fdp := protodesc.ToFileDescriptorProto(gen.ProtoReflect().Descriptor().ParentFile())
	file, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamicpb.NewMessage(file.Messages().ByName("HTTP"))
	b, _ := proto.Marshal(gen)
	if err := proto.Unmarshal(b, dyn); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "HTTP"+Ext)
	w, err := Create(path, types.Type_NC_HTTP, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(dyn); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d := rowDiff(t, path, 0, gen.ProtoReflect()); d != "" {
		t.Error(d)
	}
}
