package collector

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

// opOf says what to do with a field of tag (number and wire type).
func (s *wireShape) opOf(tag uint64) uint8 {
	if tag < uint64(len(s.ops)) {
		return s.ops[tag]
	}
	return s.op(tag>>3, protowire.Type(tag&7))
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
	end, buf := len(b), b[:cap(b)]
	for i := 0; ; {
		if i = skim(buf, i, end, s.ops); i >= end {
			return i == end
		}
		n := field(b[i:], s, depth)
		if n < 0 {
			return false
		}
		i += n
	}
}

// skim walks the plain fields of a message from offset i on, and returns
// the offset of the first field it leaves to field, or where the message
// ends (past end if the last field runs past the message: malformed).
// Plain fields are most of netcap's: a tag of one or two bytes, then a
// varint, a fixed value, bytes, or an ASCII string, with a length below
// 128. Each is read from 8-byte loads, with nothing called. The loads may
// read past end into buf's capacity (the rest of the part the record was
// cut from); those bytes never decide anything, as a value found to end
// past end is refused, as a cut-short one is. The last 24 bytes of buf are
// left to field.
func skim(buf []byte, i, end int, ops []uint8) int {
	const hi = 0x8080808080808080
	ops1 := (*[0x80]uint8)(ops) // one-byte tags
	for last := len(buf) - 24; i < end && i <= last; {
		r := (*[24]byte)(buf[i : i+24])
		w0, w1 := binary.LittleEndian.Uint64(r[0:8]), binary.LittleEndian.Uint64(r[8:16])
		var op uint8
		var t int // tag bytes
		if w0&0x80 == 0 {
			op, t = ops1[w0&0x7f], 1
		} else if tag := w0&0x7f | (w0>>8&0x7f)<<7; w0&0x8000 == 0 && tag < uint64(len(ops)) {
			op, t = ops[tag], 2
		} else {
			return i
		}
		// v is the 8 bytes after the tag.
		sh := uint(8*t) & 63
		v := w0>>sh | w1<<((64-sh)&63)
		switch op {
		case opVarint:
			if stop := ^v & hi; stop != 0 {
				i += t + bits.TrailingZeros64(stop)>>3 + 1
			} else if r[t+8] < 0x80 {
				i += t + 9
			} else if r[t+9] < 2 {
				i += t + 10
			} else {
				return i
			}
		case opFixed32:
			i += t + 4
		case opFixed64:
			i += t + 8
		case opBytes:
			if v&0x80 != 0 {
				return i
			}
			i += t + 1 + int(v&0x7f)
		case opString:
			size, p := int(v&0xff), i+t+1
			if size >= 0x80 || size > end-p {
				return i
			}
			if size < 8 {
				// From v, the bytes past the string masked off.
				if (v>>8)&(1<<(8*size&63)-1)&hi != 0 {
					return i
				}
			} else {
				// Words from the start, the last one ending with
				// the string.
				for k := p; k < p+size-8; k += 8 {
					if binary.LittleEndian.Uint64(buf[k:])&hi != 0 {
						return i
					}
				}
				if binary.LittleEndian.Uint64(buf[p+size-8:])&hi != 0 {
					return i
				}
			}
			i = p + size
		default:
			return i
		}
	}
	return i
}

// walkFields walks b field by field.
func walkFields(b []byte, s *wireShape, depth int) bool {
	for len(b) > 0 {
		n := field(b, s, depth)
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// field checks the field b starts with and returns its length, or -1 if it
// is not well-formed. It reads nothing past len(b).
func field(b []byte, s *wireShape, depth int) int {
	tag, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return -1
	}
	num := tag >> 3
	op := s.opOf(tag)
	var k int
	switch op {
	case opVarint:
		k = skipVarint(b[n:])
	case opFixed32:
		k = fixedLen(b[n:], 4)
	case opFixed64:
		k = fixedLen(b[n:], 8)
	case opGroup:
		k = protowire.ConsumeFieldValue(protowire.Number(num), protowire.StartGroupType, b[n:])
	case opBad:
		return -1
	default:
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 || !validValue(op, v, s, num, depth) {
			return -1
		}
		k = m
	}
	if k < 0 {
		return -1
	}
	return n + k
}

// validValue checks the length-delimited value v of field num by op.
func validValue(op uint8, v []byte, s *wireShape, num uint64, depth int) bool {
	switch op {
	case opString:
		return validUTF8(v)
	case opMessage:
		return validWire(v, s.fields[num].msg, depth+1)
	case opPackedVar:
		for len(v) > 0 {
			k := skipVarint(v)
			if k < 0 {
				return false
			}
			v = v[k:]
		}
	case opPacked32:
		return len(v)%4 == 0
	case opPacked64:
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
