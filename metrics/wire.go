package metrics

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The exporter reads the few fields it needs of the most frequent records
// (TCP, UDP, Connection) straight from their wire bytes, in one pass and
// without allocating, instead of unmarshalling whole messages: on the
// writer's goroutine, per record, that was the largest part of the
// exporter's cost.

// wireVal is the raw value of one field: a varint or fixed64's bits in n,
// the bytes of a string or bytes field in b (valid as long as the message).
type wireVal struct {
	n uint64
	b []byte
}

// fieldSet picks fields of one message type by number: slot[num] is where
// field num goes in the values read (-1: not picked).
type fieldSet struct {
	slot []int8
	wire []protowire.Type // the wire type of each picked field
}

// newFieldSet picks the fields named, in that order, of m's message type.
// Only singular scalar, string and bytes fields may be picked; a name that
// is not such a field panics (the tests build every set).
func newFieldSet(m proto.Message, names ...string) fieldSet {
	fields := m.ProtoReflect().Descriptor().Fields()
	f := fieldSet{wire: make([]protowire.Type, len(names))}
	for i, name := range names {
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil || fd.Cardinality() == protoreflect.Repeated || fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			panic(fmt.Sprintf("metrics: %s has no singular scalar field %s", m.ProtoReflect().Descriptor().FullName(), name))
		}
		num := int(fd.Number())
		for len(f.slot) <= num {
			f.slot = append(f.slot, -1)
		}
		f.slot[num] = int8(i)
		switch fd.Kind() {
		case protoreflect.StringKind, protoreflect.BytesKind:
			f.wire[i] = protowire.BytesType
		case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
			f.wire[i] = protowire.Fixed64Type
		case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
			f.wire[i] = protowire.Fixed32Type
		default:
			f.wire[i] = protowire.VarintType
		}
	}
	return f
}

// read fills vals (one per picked field; absent fields read as zero, as
// proto3 leaves them out) from msg: varints as they are on the wire (no
// zigzag), fixed-size values as their bits; a field whose wire type is not
// its kind's is skipped, as unmarshalling does. It reports false on
// malformed bytes.
func (f *fieldSet) read(msg []byte, vals []wireVal) bool {
	clear(vals)
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return false
		}
		msg = msg[n:]
		i := -1
		if int(num) < len(f.slot) {
			i = int(f.slot[num])
		}
		if i >= 0 && typ != f.wire[i] {
			// Unmarshalling keeps such a field as an unknown one.
			i = -1
		}
		if i < 0 {
			m := protowire.ConsumeFieldValue(num, typ, msg)
			if m < 0 {
				return false
			}
			msg = msg[m:]
			continue
		}
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(msg)
			if m < 0 {
				return false
			}
			vals[i].n, msg = v, msg[m:]
		case protowire.Fixed64Type:
			v, m := protowire.ConsumeFixed64(msg)
			if m < 0 {
				return false
			}
			vals[i].n, msg = v, msg[m:]
		case protowire.Fixed32Type:
			v, m := protowire.ConsumeFixed32(msg)
			if m < 0 {
				return false
			}
			vals[i].n, msg = uint64(v), msg[m:]
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(msg)
			if m < 0 {
				return false
			}
			vals[i].b, msg = v, msg[m:]
		}
	}
	return true
}

// fieldNumber is the number of m's field called name; it panics when there
// is none.
func fieldNumber(m proto.Message, name string) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic(fmt.Sprintf("metrics: %s has no field %s", m.ProtoReflect().Descriptor().FullName(), name))
	}
	return fd.Number()
}

// eachField calls fn with the bytes of every occurrence of field num (a
// string, bytes or message field) of msg, in order, until fn returns false.
// It reports false when msg is malformed or fn returned false.
func eachField(msg []byte, num protowire.Number, fn func([]byte) bool) bool {
	for len(msg) > 0 {
		n, typ, m := protowire.ConsumeTag(msg)
		if m < 0 {
			return false
		}
		msg = msg[m:]
		if n == num && typ == protowire.BytesType {
			b, m := protowire.ConsumeBytes(msg)
			if m < 0 || !fn(b) {
				return false
			}
			msg = msg[m:]
			continue
		}
		m = protowire.ConsumeFieldValue(n, typ, msg)
		if m < 0 {
			return false
		}
		msg = msg[m:]
	}
	return true
}
