package metrics

import (
	"encoding/binary"
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
	// protowire's functions, with the common cases (one-byte tags and
	// varints) taken inline: this loop is most of the exporter's time.
	for i := 0; i < len(msg); {
		var tag uint64
		if c := msg[i]; c < 0x80 {
			tag = uint64(c)
			i++
		} else {
			v, n := protowire.ConsumeVarint(msg[i:])
			if n < 0 {
				return false
			}
			tag, i = v, i+n
		}
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return false
		}
		slot := -1
		if int(num) < len(f.slot) {
			slot = int(f.slot[num])
			if slot >= 0 && typ != f.wire[slot] {
				// Unmarshalling keeps such a field as an unknown one.
				slot = -1
			}
		}
		switch typ {
		case protowire.VarintType:
			var v uint64
			if i < len(msg) && msg[i] < 0x80 {
				v = uint64(msg[i])
				i++
			} else {
				var n int
				if v, n = protowire.ConsumeVarint(msg[i:]); n < 0 {
					return false
				}
				i += n
			}
			if slot >= 0 {
				vals[slot].n = v
			}
		case protowire.Fixed64Type:
			if len(msg)-i < 8 {
				return false
			}
			if slot >= 0 {
				vals[slot].n = binary.LittleEndian.Uint64(msg[i:])
			}
			i += 8
		case protowire.Fixed32Type:
			if len(msg)-i < 4 {
				return false
			}
			if slot >= 0 {
				vals[slot].n = uint64(binary.LittleEndian.Uint32(msg[i:]))
			}
			i += 4
		case protowire.BytesType:
			var size uint64
			if i < len(msg) && msg[i] < 0x80 {
				size = uint64(msg[i])
				i++
			} else {
				var n int
				if size, n = protowire.ConsumeVarint(msg[i:]); n < 0 {
					return false
				}
				i += n
			}
			if size > uint64(len(msg)-i) {
				return false
			}
			if slot >= 0 {
				vals[slot].b = msg[i : i+int(size)]
			}
			i += int(size)
		default:
			// Groups: rare enough for protowire's own skipping.
			n := protowire.ConsumeFieldValue(num, typ, msg[i:])
			if n < 0 {
				return false
			}
			i += n
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
