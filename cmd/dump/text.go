package dump

import (
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

const (
	// maxList is how many elements of a repeated field -struct prints;
	// the rest is counted on one "... N more" line.
	maxList = 1000
	// maxIndent is how many levels of nested messages -struct indents;
	// deeper messages are shown as {...}.
	maxIndent = 8
)

// appendText appends m as protobuf text, one field a line, each line
// indented by indent levels of two spaces. Fields at their zero value are
// left out, as protobuf text does. Unknown fields are not printed: records
// that hold any were refused before (wirecheck).
func appendText(b []byte, m protoreflect.Message, indent int) []byte {
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		if !fd.IsList() {
			b = appendTextField(b, fd, v, indent)
			continue
		}
		l := v.List()
		for j := 0; j < l.Len() && j < maxList; j++ {
			b = appendTextField(b, fd, l.Get(j), indent)
		}
		if l.Len() > maxList {
			b = appendIndent(b, indent)
			b = append(b, "# ... "...)
			b = strconv.AppendInt(b, int64(l.Len()-maxList), 10)
			b = append(b, " more "...)
			b = append(b, fd.Name()...)
			b = append(b, " (-struct prints the first "...)
			b = strconv.AppendInt(b, maxList, 10)
			b = append(b, "; -json prints all)\n"...)
		}
	}
	return b
}

func appendIndent(b []byte, indent int) []byte {
	for range indent {
		b = append(b, "  "...)
	}
	return b
}

// appendTextField appends one "Name: value" line, or a nested message.
func appendTextField(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value, indent int) []byte {
	b = appendIndent(b, indent)
	b = append(b, fd.Name()...)
	b = append(b, ": "...)
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if indent >= maxIndent {
			return append(b, "{...}\n"...)
		}
		b = append(b, "{\n"...)
		b = appendText(b, v.Message(), indent+1)
		b = appendIndent(b, indent)
		return append(b, "}\n"...)
	case protoreflect.BoolKind:
		b = strconv.AppendBool(b, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b = strconv.AppendInt(b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b = strconv.AppendUint(b, v.Uint(), 10)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		b = strconv.AppendFloat(b, v.Float(), 'g', -1, 64)
	case protoreflect.StringKind:
		b = strconv.AppendQuote(b, v.String())
	case protoreflect.BytesKind:
		b = strconv.AppendQuote(b, string(v.Bytes()))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			b = append(b, ev.Name()...)
		} else {
			b = strconv.AppendInt(b, int64(v.Enum()), 10)
		}
	}
	return append(b, '\n')
}
