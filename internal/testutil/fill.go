package testutil

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Fill sets every field of m to a value derived from seed (each field its
// own), lists and maps to two entries, and sub-messages down to depth levels
// (so that a linked list has depth entries): records of every type with
// every kind of field set, for tests of the output formats.
func Fill(m protoreflect.Message, seed int, depth int) {
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		v := seed*100 + i + 1
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := 0; j < 2; j++ {
				k := scalar(fd.MapKey(), v+j)
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					if depth > 0 {
						e := mp.NewValue()
						Fill(e.Message(), v+j, depth-1)
						mp.Set(k.MapKey(), e)
					}
					continue
				}
				mp.Set(k.MapKey(), scalar(fd.MapValue(), v+j))
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := 0; j < 2; j++ {
				if fd.Kind() == protoreflect.MessageKind {
					if depth > 0 {
						e := l.NewElement()
						Fill(e.Message(), v+j, depth-1)
						l.Append(e)
					}
					continue
				}
				l.Append(scalar(fd, v+j))
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth > 0 {
				Fill(m.Mutable(fd).Message(), v, depth-1)
			}
		default:
			m.Set(fd, scalar(fd, v))
		}
	}
}

func scalar(fd protoreflect.FieldDescriptor, v int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(v%2 == 1)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(-v))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(v) + 1<<31)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1_700_000_000_000_000_000 + int64(v))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(v) + 1<<63)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(v) + 0.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(v) + 0.25)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("s%d,\"ü\"", v))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{byte(v), 0, 0xff})
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(v % vals.Len()).Number())
	}
	panic(fd.Kind().String())
}
