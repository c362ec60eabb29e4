package stream

import (
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

// value kinds of a field as the schema declares it
const (
	kindOther   uint8 = iota // not in the schema, or a scalar sent unpacked
	kindString               // must be valid UTF-8
	kindMessage              // walked with its own shape
	kindVarint               // packed: a run of varints
	kindFixed32              // packed: a multiple of 4 bytes
	kindFixed64              // packed: a multiple of 8 bytes
)

type wireField struct {
	kind uint8
	msg  *wireShape // kindMessage
}

// wireShape is a message's fields by number.
type wireShape struct {
	fields []wireField
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
		var f wireField
		switch fd.Kind() {
		case protoreflect.StringKind:
			if enforceUTF8(fd) {
				f.kind = kindString
			}
		case protoreflect.MessageKind, protoreflect.GroupKind:
			f = wireField{kind: kindMessage, msg: buildShape(fd.Message())}
		case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
			protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
			if fd.IsList() {
				f.kind = kindVarint
			}
		case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
			if fd.IsList() {
				f.kind = kindFixed32
			}
		case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
			if fd.IsList() {
				f.kind = kindFixed64
			}
		}
		s.fields[fd.Number()] = f
	}
	return s
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
		// Tags and most values are one byte: decoded here, the rest by
		// protowire (which also refuses overlong varints).
		var tag uint64
		var n int
		if b[0] < 0x80 {
			tag, n = uint64(b[0]), 1
		} else if tag, n = protowire.ConsumeVarint(b); n < 0 {
			return false
		}
		b = b[n:]
		num, typ := tag>>3, protowire.Type(tag&7)
		if num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) {
			return false
		}
		switch typ {
		case protowire.VarintType:
			if len(b) > 0 && b[0] < 0x80 {
				n = 1
			} else {
				_, n = protowire.ConsumeVarint(b)
			}
		case protowire.Fixed32Type:
			n = fixedLen(b, 4)
		case protowire.Fixed64Type:
			n = fixedLen(b, 8)
		case protowire.BytesType:
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
			if num < uint64(len(s.fields)) {
				if f := s.fields[num]; f.kind != kindOther && !validValue(v, f, depth) {
					return false
				}
			}
		default:
			// Groups are not in netcap's schema; skip one whole as
			// an unknown field, as Unmarshal does.
			n = protowire.ConsumeFieldValue(protowire.Number(num), typ, b)
		}
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// validValue checks a length-delimited value of field f.
func validValue(v []byte, f wireField, depth int) bool {
	switch f.kind {
	case kindString:
		return utf8.Valid(v)
	case kindMessage:
		return validWire(v, f.msg, depth+1)
	case kindVarint:
		for len(v) > 0 {
			_, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return false
			}
			v = v[n:]
		}
	case kindFixed32:
		return len(v)%4 == 0
	case kindFixed64:
		return len(v)%8 == 0
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
