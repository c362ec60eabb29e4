package stream

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The collector checks each record of a part by walking its protobuf wire
// format instead of unmarshalling it: no message is built, nothing is
// allocated. The walk takes what proto.Unmarshal takes: well-formed tags,
// varints and lengths, valid UTF-8 in the string fields the schema knows,
// the fields of the message fields it knows walked the same way, and fields
// it does not know (or with another wire type than the schema's) skipped
// whole, as Unmarshal keeps them as unknown fields.

// What to do with a field, by its tag and the schema.
const (
	opBad       uint8 = iota // field number 0, or wire type 6 or 7
	opVarint                 // skip a varint
	opFixed32                // skip 4 bytes
	opFixed64                // skip 8 bytes
	opBytes                  // skip a length-delimited value
	opString                 // a length-delimited value that must be UTF-8
	opMessage                // a length-delimited message walked with its own shape
	opPackedVar              // packed repeated varints
	opPacked32               // packed repeated fixed 32-bit values
	opPacked64               // packed repeated fixed 64-bit values
	opGroup                  // a group (not in netcap's schema): skipped whole
)

type wireField struct {
	op  uint8      // for wire type 2 (length-delimited)
	msg *wireShape // opMessage
}

// wireShape is a message's fields by number, and what to do for each tag
// (field number and wire type) up to its highest field number.
type wireShape struct {
	fields []wireField
	ops    []uint8 // by tag
}

var (
	shapesMu sync.Mutex
	shapes   = map[protoreflect.FullName]*wireShape{}
)

// shapeOf returns the shape of messages of descriptor md; it is built once
// per message type.
func shapeOf(md protoreflect.MessageDescriptor) *wireShape {
	shapesMu.Lock()
	defer shapesMu.Unlock()
	return buildShape(md)
}

func buildShape(md protoreflect.MessageDescriptor) *wireShape {
	if s := shapes[md.FullName()]; s != nil {
		return s
	}
	s := &wireShape{}
	shapes[md.FullName()] = s // before the fields: a message may hold itself
	fds := md.Fields()
	maxNum := 0
	for i := 0; i < fds.Len(); i++ {
		maxNum = max(maxNum, int(fds.Get(i).Number()))
	}
	s.fields = make([]wireField, maxNum+1)
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := wireField{op: opBytes}
		switch fd.Kind() {
		case protoreflect.StringKind:
			if enforceUTF8(fd) {
				f.op = opString
			}
		case protoreflect.MessageKind, protoreflect.GroupKind:
			f = wireField{op: opMessage, msg: buildShape(fd.Message())}
		case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
			protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
			if fd.IsList() {
				f.op = opPackedVar
			}
		case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
			if fd.IsList() {
				f.op = opPacked32
			}
		case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
			if fd.IsList() {
				f.op = opPacked64
			}
		}
		s.fields[fd.Number()] = f
	}
	s.ops = make([]uint8, max(0x80, 8*len(s.fields)))
	for tag := range s.ops {
		s.ops[tag] = s.op(uint64(tag>>3), protowire.Type(tag&7))
	}
	return s
}

// op says what to do with field num of wire type typ.
func (s *wireShape) op(num uint64, typ protowire.Type) uint8 {
	if num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) {
		return opBad
	}
	switch typ {
	case protowire.VarintType:
		return opVarint
	case protowire.Fixed32Type:
		return opFixed32
	case protowire.Fixed64Type:
		return opFixed64
	case protowire.BytesType:
		if num < uint64(len(s.fields)) && s.fields[num].op != 0 {
			return s.fields[num].op
		}
		return opBytes
	case protowire.StartGroupType:
		return opGroup
	}
	return opBad // an end of group outside one, or wire type 6 or 7
}

// enforceUTF8 reports whether Unmarshal insists on valid UTF-8 in string
// field fd: proto3 fields do, and editions say per field.
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	if fd.Syntax() == protoreflect.Editions {
		if e, ok := fd.(interface{ EnforceUTF8() bool }); ok {
			return e.EnforceUTF8()
		}
	}
	return fd.Syntax() == protoreflect.Proto3
}

// maxDepth bounds the nesting of message fields walked (proto.Unmarshal's
// default limit is 10 000; netcap's records nest a few levels).
const maxDepth = 100

// validWire reports whether b is a well-formed message of shape s.
func validWire(b []byte, s *wireShape, depth int) bool {
	if depth > maxDepth {
		return false
	}
	for len(b) > 0 {
		// Tags are one byte for field numbers up to 15, two up to 2047.
		var tag uint64
		var n int
		switch {
		case b[0] < 0x80:
			tag, n = uint64(b[0]), 1
		case len(b) > 1 && b[1] < 0x80:
			tag, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, 2
		default:
			if tag, n = protowire.ConsumeVarint(b); n < 0 {
				return false
			}
		}
		num := tag >> 3
		var op uint8
		if tag < uint64(len(s.ops)) {
			op = s.ops[tag]
		} else {
			op = s.op(num, protowire.Type(tag&7))
		}
		b = b[n:]
		switch op {
		case opVarint:
			n = skipVarint(b)
		case opFixed32:
			n = fixedLen(b, 4)
		case opFixed64:
			n = fixedLen(b, 8)
		case opGroup:
			n = protowire.ConsumeFieldValue(protowire.Number(num), protowire.StartGroupType, b)
		case opBad:
			return false
		default:
			var size uint64
			if len(b) > 0 && b[0] < 0x80 {
				size, n = uint64(b[0]), 1
			} else if size, n = protowire.ConsumeVarint(b); n < 0 {
				return false
			}
			if size > uint64(len(b)-n) {
				return false
			}
			v := b[n : n+int(size)]
			n += int(size)
			switch op {
			case opString:
				if !validUTF8(v) {
					return false
				}
			case opMessage:
				if !validWire(v, s.fields[num].msg, depth+1) {
					return false
				}
			case opPackedVar:
				for len(v) > 0 {
					k := skipVarint(v)
					if k < 0 {
						return false
					}
					v = v[k:]
				}
			case opPacked32:
				if len(v)%4 != 0 {
					return false
				}
			case opPacked64:
				if len(v)%8 != 0 {
					return false
				}
			}
		}
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// fixedLen is k if b holds k bytes, else -1.
func fixedLen(b []byte, k int) int {
	if len(b) < k {
		return -1
	}
	return k
}

// skipVarint returns the length of the varint b starts with, or -1 if it
// is cut short or longer than 10 bytes or overflows 64 bits, as
// protowire.ConsumeVarint does.
func skipVarint(b []byte) int {
	if len(b) < 10 {
		if len(b) > 0 && b[0] < 0x80 {
			return 1
		}
		_, n := protowire.ConsumeVarint(b)
		return n
	}
	// The first byte without the continuation bit ends it.
	if end := ^binary.LittleEndian.Uint64(b) & 0x8080808080808080; end != 0 {
		return bits.TrailingZeros64(end)>>3 + 1
	}
	switch {
	case b[8] < 0x80:
		return 9
	case b[9] < 2:
		return 10
	}
	return -1
}

// validUTF8 is utf8.Valid with a quick pass over ASCII, which most of the
// strings of records are (addresses, names).
func validUTF8(v []byte) bool {
	for len(v) >= 8 {
		if binary.LittleEndian.Uint64(v)&0x8080808080808080 != 0 {
			return utf8.Valid(v)
		}
		v = v[8:]
	}
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return utf8.Valid(v)
		}
	}
	return true
}
