package ncio

import (
	"bytes"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/types"
)

// Format says how records are rendered as text.
//
// CSV rows follow RFC 4180: a value that holds the separator, a quote or a line
// break is quoted, quotes doubled, so any CSV reader gets the values back
// (the original netcap did no quoting and broke rows). Nested messages and
// repeated fields are written as compact JSON inside the cell (bytes as hex),
// which pandas, R and Spark can parse, instead of the original's "(a-b-c)"
// notation whose "-" collided with negative numbers and host names.
type Format struct {
	Sep    string // column separator, "," by default
	UTC    bool   // timestamps as RFC 3339 UTC text instead of Unix nanoseconds
	Fields []protoreflect.FieldDescriptor
}

// CaptureCSV is the format capture -csv writes.
var CaptureCSV = Format{Sep: ","}

func (f *Format) sep() string {
	if f.Sep == "" {
		return ","
	}
	return f.Sep
}

// fields returns the columns: the selection or every field of md.
func (f *Format) fields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if f.Fields != nil {
		return f.Fields
	}
	fds := md.Fields()
	out := make([]protoreflect.FieldDescriptor, fds.Len())
	for i := range out {
		out[i] = fds.Get(i)
	}
	return out
}

// MessageDescriptor returns the descriptor of record type t.
func MessageDescriptor(t types.Type) protoreflect.MessageDescriptor {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + types.Name(t)))
	if err != nil {
		return nil
	}
	return mt.Descriptor()
}

// CSVHeaderLine returns the header line for record type t, newline included.
func CSVHeaderLine(t types.Type, f *Format) []byte {
	return AppendCSVHeader(nil, MessageDescriptor(t), f)
}

// AppendCSVHeader appends the column names of md and a newline.
func AppendCSVHeader(b []byte, md protoreflect.MessageDescriptor, f *Format) []byte {
	for i, fd := range f.fields(md) {
		if i > 0 {
			b = append(b, f.sep()...)
		}
		b = append(b, fd.Name()...)
	}
	return append(b, '\n')
}

// AppendCSVRow appends one record as a CSV row with a trailing newline.
func AppendCSVRow(b []byte, m protoreflect.Message, f *Format) []byte {
	sep := f.sep()
	var cell []byte
	for i, fd := range f.fields(m.Descriptor()) {
		if i > 0 {
			b = append(b, sep...)
		}
		cell = appendCell(cell[:0], m, fd, f.UTC)
		b = appendQuoted(b, cell, sep)
	}
	return append(b, '\n')
}

// CellString renders one field as CSV would, unquoted (for tables).
func CellString(m protoreflect.Message, fd protoreflect.FieldDescriptor, utc bool) string {
	return string(appendCell(nil, m, fd, utc))
}

func appendCell(b []byte, m protoreflect.Message, fd protoreflect.FieldDescriptor, utc bool) []byte {
	switch {
	case fd.IsList():
		l := m.Get(fd).List()
		if l.Len() == 0 {
			return b
		}
		return appendJSONList(b, fd, l, utc)
	case fd.IsMap():
		if m.Get(fd).Map().Len() == 0 {
			return b
		}
		return appendJSONValue(b, fd, m.Get(fd), utc)
	case fd.Kind() == protoreflect.MessageKind:
		if !m.Has(fd) {
			return b
		}
		return appendJSONMessage(b, m.Get(fd).Message(), utc)
	}
	return appendScalar(b, fd, m.Get(fd), utc, false)
}

// IsTimestamp tells fields that hold Unix nanoseconds (netcap.proto documents
// each as "Unix ns"): -utc prints them as dates, Parquet files type them
// TIMESTAMP(NANOS).
func IsTimestamp(fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() != protoreflect.Int64Kind {
		return false
	}
	switch fd.Name() {
	case "Timestamp", "TimestampFirst", "TimestampLast", "ResponseTimestamp", "Created":
		return true
	}
	return false
}

// FormatTime renders Unix nanoseconds as RFC 3339 UTC with nanoseconds.
func FormatTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z")
}

func appendScalar(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value, utc, inJSON bool) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if utc && IsTimestamp(fd) {
			if inJSON {
				return strconv.AppendQuote(b, FormatTime(v.Int()))
			}
			return append(b, FormatTime(v.Int())...)
		}
		return strconv.AppendInt(b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(b, v.Uint(), 10)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if inJSON {
				return append(b, "null"...)
			}
			return strconv.AppendFloat(b, x, 'f', -1, 64)
		}
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case protoreflect.StringKind:
		if inJSON {
			return appendJSONString(b, v.String())
		}
		return append(b, v.String()...)
	case protoreflect.BytesKind:
		if inJSON {
			b = append(b, '"')
			b = hex.AppendEncode(b, v.Bytes())
			return append(b, '"')
		}
		return hex.AppendEncode(b, v.Bytes())
	case protoreflect.EnumKind:
		name := string(fd.Enum().Values().ByNumber(v.Enum()).Name())
		if name == "" {
			name = strconv.Itoa(int(v.Enum()))
		}
		if inJSON {
			return strconv.AppendQuote(b, name)
		}
		return append(b, name...)
	}
	return b
}

// AppendJSON appends a record as one JSON object (no newline). Field names are
// the proto names, bytes are hex, int64 stay numbers, every field is present.
func AppendJSON(b []byte, m protoreflect.Message, f *Format) []byte {
	b = append(b, '{')
	for i, fd := range f.fields(m.Descriptor()) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, string(fd.Name()))
		b = append(b, ':')
		b = appendJSONField(b, m, fd, f.UTC)
	}
	return append(b, '}')
}

func appendJSONField(b []byte, m protoreflect.Message, fd protoreflect.FieldDescriptor, utc bool) []byte {
	switch {
	case fd.IsList():
		return appendJSONList(b, fd, m.Get(fd).List(), utc)
	case fd.IsMap():
		return appendJSONValue(b, fd, m.Get(fd), utc)
	case fd.Kind() == protoreflect.MessageKind:
		if !m.Has(fd) {
			return append(b, "null"...)
		}
		return appendJSONMessage(b, m.Get(fd).Message(), utc)
	}
	return appendScalar(b, fd, m.Get(fd), utc, true)
}

// appendJSONMessage writes a nested message with all its fields; unlike
// AppendJSON it needs no Format (no column selection), so nothing is
// allocated per nested message.
func appendJSONMessage(b []byte, m protoreflect.Message, utc bool) []byte {
	b = append(b, '{')
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, string(fd.Name()))
		b = append(b, ':')
		b = appendJSONField(b, m, fd, utc)
	}
	return append(b, '}')
}

func appendJSONList(b []byte, fd protoreflect.FieldDescriptor, l protoreflect.List, utc bool) []byte {
	b = append(b, '[')
	for i := 0; i < l.Len(); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if fd.Kind() == protoreflect.MessageKind {
			b = appendJSONMessage(b, l.Get(i).Message(), utc)
		} else {
			b = appendScalar(b, fd, l.Get(i), utc, true)
		}
	}
	return append(b, ']')
}

func appendJSONValue(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value, utc bool) []byte {
	mp := v.Map()
	keys := make([]string, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k.String())
		return true
	})
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		val := mp.Get(protoreflect.ValueOfString(k).MapKey())
		if fd.MapValue().Kind() == protoreflect.MessageKind {
			b = appendJSONMessage(b, val.Message(), utc)
		} else {
			b = appendScalar(b, fd.MapValue(), val, utc, true)
		}
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendQuoted appends cell, quoted as RFC 4180 asks when it holds the
// separator, a quote or a line break.
func appendQuoted(b, cell []byte, sep string) []byte {
	if !bytes.ContainsAny(cell, "\"\r\n") && !bytes.Contains(cell, []byte(sep)) {
		return append(b, cell...)
	}
	b = append(b, '"')
	for _, c := range cell {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// AppendCSVValue appends one text value as a CSV cell, quoted as RFC 4180
// asks (for columns that are not record fields, such as net label's label).
func AppendCSVValue(b []byte, s string, f *Format) []byte {
	return appendQuoted(b, []byte(s), f.sep())
}
