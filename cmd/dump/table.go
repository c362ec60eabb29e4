package dump

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
)

const (
	// maxCell is the widest a table column gets; longer cells (options,
	// DNS answers as JSON) are cut with an ellipsis so rows stay on a screen.
	maxCell = 40
	// tableSample is how many rows are held to measure column widths. Later
	// rows use those widths, so memory does not grow with the file.
	tableSample = 1000
	colGap      = "  "
)

// table prints records as aligned columns under a header line.
type table struct {
	out     *output
	cols    []protoreflect.FieldDescriptor
	utc     bool
	right   []bool // numbers are aligned right
	widths  []int
	pending [][]string
	started bool
	line    []byte
}

func newTable(out *output, md protoreflect.MessageDescriptor, f *ncio.Format) *table {
	cols := f.Fields
	if cols == nil {
		cols = allFields(md)
	}
	t := &table{out: out, cols: cols, utc: f.UTC, right: make([]bool, len(cols))}
	for i, fd := range cols {
		t.right[i] = isNumber(fd) && !(f.UTC && isTime(fd))
	}
	return t
}

func isNumber(fd protoreflect.FieldDescriptor) bool {
	if fd.IsList() || fd.IsMap() {
		return false
	}
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.StringKind, protoreflect.BytesKind,
		protoreflect.EnumKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return false
	}
	return true
}

// isTime tells the int64 columns that -utc turns into text.
func isTime(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.Int64Kind && strings.Contains(string(fd.Name()), "Timestamp")
}

func (t *table) record(m protoreflect.Message) {
	row := make([]string, len(t.cols))
	for i, fd := range t.cols {
		// Cells are cut before they are held: the first rows wait for
		// the column widths, and a long cell is never shown whole.
		w := max(maxCell, utf8.RuneCountInString(string(fd.Name())))
		row[i] = fit(printable(fit(ncio.CellString(m, fd, t.utc), w)), w)
	}
	if t.started {
		t.writeRow(row)
		return
	}
	t.pending = append(t.pending, row)
	if len(t.pending) == tableSample {
		t.start()
	}
}

func (t *table) end() {
	if !t.started {
		t.start()
	}
}

// start measures the held rows, prints the header and the held rows.
func (t *table) start() {
	t.started = true
	t.widths = make([]int, len(t.cols))
	head := make([]string, len(t.cols))
	rule := make([]string, len(t.cols))
	for i, fd := range t.cols {
		head[i] = string(fd.Name())
		w := 0
		for _, row := range t.pending {
			w = max(w, utf8.RuneCountInString(row[i]))
		}
		t.widths[i] = max(utf8.RuneCountInString(head[i]), min(w, maxCell))
		rule[i] = strings.Repeat("-", t.widths[i])
	}
	t.writeRow(head)
	t.writeRow(rule)
	for _, row := range t.pending {
		t.writeRow(row)
	}
	t.pending = nil
}

func (t *table) writeRow(row []string) {
	b := t.line[:0]
	for i, cell := range row {
		if i > 0 {
			b = append(b, colGap...)
		}
		w := t.widths[i]
		cell = fit(cell, w)
		pad := w - utf8.RuneCountInString(cell)
		if t.right[i] && pad > 0 {
			b = append(b, strings.Repeat(" ", pad)...)
			pad = 0
		}
		b = append(b, cell...)
		if pad > 0 {
			b = append(b, strings.Repeat(" ", pad)...)
		}
	}
	// Empty last cells would leave blanks at the end of the line.
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	t.line = append(b, '\n')
	t.out.write(t.line)
}

// fit cuts s to w characters, the last one an ellipsis, when it is longer.
func fit(s string, w int) string {
	n := 0
	for i := range s {
		if n == w-1 {
			if _, size := utf8.DecodeRuneInString(s[i:]); i+size == len(s) {
				return s // exactly w runes
			}
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// printable escapes control characters so that a string field holding a line
// break or a tab cannot break the table's rows.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case unicode.IsControl(r):
			fmt.Fprintf(&sb, `\x%02x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}
