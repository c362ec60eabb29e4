package ncparquet

import (
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// flat holds the values of one top-level scalar column of a row group in
// plain Go slices, turned into an Arrow array only when the group is
// written. Most columns of most record types are top-level scalars, and an
// Arrow builder's append (a validity bit, a capacity check and an interface
// call per value) cost more than the Parquet encoding of the value itself
// (profiled on make bench's capture). Columns of nested types keep their
// builders. The slices are reused from group to group.
type flat struct {
	typ  arrow.DataType
	w32  []uint32 // int32, uint32, float (bits)
	w64  []uint64 // int64, uint64, timestamps, double (bits)
	bits []bool
	data []byte  // string, bytes
	offs []int32 // string, bytes: offs[i] is where value i starts
}

func newFlat(typ arrow.DataType) *flat {
	f := &flat{typ: typ}
	if f.isBinary() {
		f.offs = []int32{0}
	}
	return f
}

func (f *flat) isBinary() bool {
	id := f.typ.ID()
	return id == arrow.STRING || id == arrow.BINARY
}

// appendBytes adds one string or bytes value.
func (f *flat) appendBytes(b []byte) {
	f.data = append(f.data, b...)
	f.offs = append(f.offs, int32(len(f.data)))
}

// appendString adds one string value.
func (f *flat) appendString(s string) {
	f.data = append(f.data, s...)
	f.offs = append(f.offs, int32(len(f.data)))
}

// appendValue adds the value v of column c.
func (f *flat) appendValue(c *col, v protoreflect.Value) {
	switch c.pk {
	case protoreflect.BoolKind:
		f.bits = append(f.bits, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		f.w32 = append(f.w32, uint32(int32(v.Int())))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		f.w32 = append(f.w32, uint32(v.Uint()))
	case protoreflect.FloatKind:
		f.w32 = append(f.w32, math.Float32bits(float32(v.Float())))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		f.w64 = append(f.w64, uint64(v.Int()))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		f.w64 = append(f.w64, v.Uint())
	case protoreflect.DoubleKind:
		f.w64 = append(f.w64, math.Float64bits(v.Float()))
	case protoreflect.StringKind:
		f.appendString(v.String())
	case protoreflect.BytesKind:
		f.appendBytes(v.Bytes())
	case protoreflect.EnumKind:
		f.appendString(c.enumName(int32(v.Enum())))
	}
}

// array returns the column's n values as an Arrow array over the slices;
// it is valid until the next append.
func (f *flat) array(n int) arrow.Array {
	var bufs []*memory.Buffer
	switch {
	case f.isBinary():
		bufs = []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(f.offs)), memory.NewBufferBytes(f.data)}
	case f.typ.ID() == arrow.BOOL:
		bm := make([]byte, bitutil.BytesForBits(int64(n)))
		for i, v := range f.bits {
			if v {
				bitutil.SetBit(bm, i)
			}
		}
		bufs = []*memory.Buffer{nil, memory.NewBufferBytes(bm)}
	case f.typ.ID() == arrow.INT32 || f.typ.ID() == arrow.UINT32 || f.typ.ID() == arrow.FLOAT32:
		bufs = []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Uint32Traits.CastToBytes(f.w32))}
	default:
		bufs = []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Uint64Traits.CastToBytes(f.w64))}
	}
	data := array.NewData(f.typ, n, bufs, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// reset empties the column for the next row group, keeping its memory.
func (f *flat) reset() {
	f.w32, f.w64, f.bits, f.data = f.w32[:0], f.w64[:0], f.bits[:0], f.data[:0]
	if f.offs != nil {
		f.offs = f.offs[:1]
	}
}

// enumName is the name of enum value n, or its number as text.
func (c *col) enumName(n int32) string {
	if n >= 0 && int(n) < len(c.enums) && c.enums[n] != "" {
		return c.enums[n]
	}
	if ev := c.enumd.ByNumber(protoreflect.EnumNumber(n)); ev != nil {
		return string(ev.Name())
	}
	return strconv.Itoa(int(n))
}
