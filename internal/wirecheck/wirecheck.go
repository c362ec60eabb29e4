// Package wirecheck walks a record's protobuf wire format against its message
// descriptor before anything decodes or prints it.
//
// proto.Unmarshal accepts fields the type does not have and keeps them as
// unknown bytes, and it follows nested groups 10,000 levels deep. A record
// file of a few hundred bytes can so hold a record whose protobuf text is
// hundreds of megabytes (every level indented once more). Scan finds such a
// record in one pass over its bytes, without allocating, so that the tools can
// refuse it with one line instead of printing it.
package wirecheck

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const (
	// MaxDepth is how deep messages and groups may nest in one record. The
	// netcap types nest at most 4 levels, except GRE, whose source route
	// entries are a linked list of at most 32 (gopacket's bound): 32 levels.
	// Anything deeper is damage.
	MaxDepth = 64
	// MaxNested is how many messages and groups one record may hold in all
	// (the elements of repeated message fields included).
	MaxNested = 100_000
)

// Kind says what is wrong with a record.
type Kind int

const (
	Malformed Kind = iota + 1 // the bytes are not protobuf (cut value, bad tag, unbalanced group)
	Unknown                   // a field number the type does not have
	WrongType                 // a known field with another wire type than its type gives
	TooDeep                   // nesting deeper than the limit
	TooMany                   // more nested messages and groups than the limit
)

// Problem is the first thing wrong with a record.
type Problem struct {
	Kind   Kind
	Offset int    // byte offset in the record where it was found
	Path   string // the fields leading to it, e.g. "Answers.Name"; empty at the top
	What   string
}

func (p *Problem) Error() string {
	at := ""
	if p.Path != "" {
		at = " in " + p.Path
	}
	return fmt.Sprintf("%s%s at byte %d", p.What, at, p.Offset)
}

// Limits bound the nesting Scan accepts.
type Limits struct {
	MaxDepth  int // deepest nesting, the record itself being depth 0
	MaxNested int // messages and groups in the whole record
}

// Default is MaxDepth and MaxNested.
var Default = Limits{MaxDepth: MaxDepth, MaxNested: MaxNested}

// Scan checks b as a message of type md with the Default limits; it returns
// nil or a *Problem. It builds md's tables on every call: a tool that checks
// many records keeps a Checker.
func Scan(md protoreflect.MessageDescriptor, b []byte) error {
	return NewChecker(md, Default).Check(b)
}

// Checker checks records of one message type. It holds the fields of the
// type and of the types nested in it in tables indexed by field number,
// built once, so that checking a record makes no descriptor lookups and no
// allocation. It is read-only after NewChecker: safe for concurrent use.
type Checker struct {
	root *msgInfo
	lim  Limits
}

// msgInfo is one message type's fields by number.
type msgInfo struct {
	name  protoreflect.Name
	byNum []*fieldInfo                    // index: field number, nil where the type has none
	other map[protowire.Number]*fieldInfo // numbers beyond byNum
}

// maxDense is the highest field number kept in msgInfo.byNum.
const maxDense = 1024

type fieldInfo struct {
	name     protoreflect.Name
	num      protowire.Number
	kind     protoreflect.Kind
	wire     protowire.Type // the wire type of the field's kind
	packable bool           // a repeated number: may also come packed, as bytes
	utf8     bool           // a proto3 string: must be valid UTF-8
	msg      *msgInfo       // the type of a message or group field
}

// NewChecker builds the tables for md and the types nested in it.
func NewChecker(md protoreflect.MessageDescriptor, lim Limits) *Checker {
	return &Checker{root: build(md, map[protoreflect.FullName]*msgInfo{}), lim: lim}
}

// build makes md's table; seen holds the types built so far, so recursive
// types (a ListValue of Values of ListValues) end.
func build(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*msgInfo) *msgInfo {
	if mi := seen[md.FullName()]; mi != nil {
		return mi
	}
	mi := &msgInfo{name: md.Name()}
	seen[md.FullName()] = mi
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		fi := &fieldInfo{name: fd.Name(), num: fd.Number(), kind: fd.Kind(), wire: wireType(fd),
			utf8: fd.Kind() == protoreflect.StringKind && fd.Syntax() == protoreflect.Proto3}
		fi.packable = fd.IsList() && fi.wire != protowire.BytesType && fi.wire != protowire.StartGroupType
		if k := fd.Kind(); k == protoreflect.MessageKind || k == protoreflect.GroupKind {
			fi.msg = build(fd.Message(), seen)
		}
		if fd.Number() <= maxDense {
			for len(mi.byNum) <= int(fd.Number()) {
				mi.byNum = append(mi.byNum, nil)
			}
			mi.byNum[fd.Number()] = fi
		} else {
			if mi.other == nil {
				mi.other = map[protowire.Number]*fieldInfo{}
			}
			mi.other[fd.Number()] = fi
		}
	}
	return mi
}

func (mi *msgInfo) field(num protowire.Number) *fieldInfo {
	if int(num) < len(mi.byNum) {
		return mi.byNum[num]
	}
	return mi.other[num]
}

// Check checks b as a record of the Checker's type; it returns nil or a
// *Problem.
func (c *Checker) Check(b []byte) error {
	s := scanner{lim: c.lim, start: b}
	if _, p := s.fields(c.root, b, 0, 0); p != nil {
		return p
	}
	return nil
}

type scanner struct {
	lim    Limits
	start  []byte // the whole record, for offsets
	nested int
}

func (s *scanner) problem(kind Kind, b []byte, format string, args ...any) *Problem {
	return &Problem{Kind: kind, Offset: len(s.start) - len(b), What: fmt.Sprintf(format, args...)}
}

// enter counts one more nested message or group at depth.
func (s *scanner) enter(b []byte, depth int) *Problem {
	s.nested++
	if depth > s.lim.MaxDepth {
		return s.problem(TooDeep, b, "messages or groups nested more than %d deep", s.lim.MaxDepth)
	}
	if s.nested > s.lim.MaxNested {
		return s.problem(TooMany, b, "more than %d nested messages or groups in one record", s.lim.MaxNested)
	}
	return nil
}

// fields walks the fields of a message of type mi until b ends, or for a
// group (group > 0, its field number) until its end-group tag, and returns
// how many bytes it read. mi is nil inside an unknown group.
func (s *scanner) fields(mi *msgInfo, b []byte, group protowire.Number, depth int) (int, *Problem) {
	n0 := len(b)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, s.problem(Malformed, b, "bad field tag (%v)", protowire.ParseError(n))
		}
		if typ == protowire.EndGroupType {
			if group == 0 || num != group {
				return 0, s.problem(Malformed, b, "end of group %d that was not started", num)
			}
			return n0 - len(b) + n, nil
		}
		var fi *fieldInfo
		if mi != nil {
			fi = mi.field(num)
		}
		if fi == nil {
			// The value is walked first: a group bomb is told as
			// such, not as one unknown field.
			used, p := s.unknownValue(b[n:], num, typ, depth)
			if p != nil {
				return 0, p
			}
			if mi != nil {
				return 0, s.problem(Unknown, b, "field %d (wire type %d) that %s does not have", num, typ, mi.name)
			}
			b = b[n+used:]
			continue
		}
		used, p := s.value(fi, b, n, typ, depth)
		if p != nil {
			p.Path = joinPath(string(fi.name), p.Path)
			return 0, p
		}
		b = b[n+used:]
	}
	if group != 0 {
		return 0, s.problem(Malformed, b, "group %d has no end", group)
	}
	return n0, nil
}

func joinPath(name, rest string) string {
	if rest == "" {
		return name
	}
	return name + "." + rest
}

// wireType is the wire type a field of fd's kind is written with (repeated
// numbers may also come packed as bytes).
func wireType(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

// value checks the value of known field fi, whose tag is the first tagLen
// bytes of b, and returns the bytes the value takes after the tag.
func (s *scanner) value(fi *fieldInfo, b []byte, tagLen int, typ protowire.Type, depth int) (int, *Problem) {
	v := b[tagLen:]
	if typ != fi.wire {
		if typ == protowire.BytesType && fi.packable {
			return s.packed(fi.wire, v)
		}
		if _, p := s.unknownValue(v, fi.num, typ, depth); p != nil {
			return 0, p
		}
		return 0, s.problem(WrongType, b, "wire type %d, but %s is %v (wire type %d)", typ, fi.name, fi.kind, fi.wire)
	}
	switch typ {
	case protowire.VarintType:
		_, n := protowire.ConsumeVarint(v)
		if n < 0 {
			return 0, s.problem(Malformed, v, "bad varint (%v)", protowire.ParseError(n))
		}
		return n, nil
	case protowire.Fixed32Type, protowire.Fixed64Type:
		n := protowire.ConsumeFieldValue(0, typ, v)
		if n < 0 {
			return 0, s.problem(Malformed, v, "value cut short")
		}
		return n, nil
	case protowire.StartGroupType:
		if p := s.enter(v, depth+1); p != nil {
			return 0, p
		}
		return s.fields(fi.msg, v, fi.num, depth+1)
	}
	body, n := protowire.ConsumeBytes(v)
	if n < 0 {
		return 0, s.problem(Malformed, v, "length runs past the end of the record")
	}
	switch {
	case fi.msg != nil:
		if p := s.enter(v, depth+1); p != nil {
			return 0, p
		}
		if _, p := s.fields(fi.msg, body, 0, depth+1); p != nil {
			return 0, p
		}
	case fi.utf8 && !utf8.Valid(body):
		return 0, s.problem(Malformed, v, "string %s is not valid UTF-8", fi.name)
	}
	return n, nil
}

// packed checks a packed repeated number field: whole values, nothing left.
func (s *scanner) packed(elem protowire.Type, v []byte) (int, *Problem) {
	body, n := protowire.ConsumeBytes(v)
	if n < 0 {
		return 0, s.problem(Malformed, v, "length runs past the end of the record")
	}
	for len(body) > 0 {
		m := protowire.ConsumeFieldValue(0, elem, body)
		if m < 0 {
			return 0, s.problem(Malformed, v, "packed values cut short")
		}
		body = body[m:]
	}
	return n, nil
}

// unknownValue skips the value of a field inside an unknown group, walking
// nested groups with the same depth and count limits.
func (s *scanner) unknownValue(v []byte, num protowire.Number, typ protowire.Type, depth int) (int, *Problem) {
	if typ == protowire.StartGroupType {
		if p := s.enter(v, depth+1); p != nil {
			return 0, p
		}
		return s.fields(nil, v, num, depth+1)
	}
	n := protowire.ConsumeFieldValue(num, typ, v)
	if n < 0 {
		return 0, s.problem(Malformed, v, "bad value of field %d (%v)", num, protowire.ParseError(n))
	}
	return n, nil
}

// NestedGroups returns depth empty groups of field num, each inside the one
// before: the record of the protobuf text bomb, for tests that build it.
func NestedGroups(num protowire.Number, depth int) []byte {
	b := make([]byte, 0, 2*depth*protowire.SizeTag(num))
	for range depth {
		b = protowire.AppendTag(b, num, protowire.StartGroupType)
	}
	for range depth {
		b = protowire.AppendTag(b, num, protowire.EndGroupType)
	}
	return b
}
