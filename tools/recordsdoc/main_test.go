package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

const (
	protoPath = "../../netcap.proto"
	docPath   = "../../docs/records.md"
)

func parseProto(t *testing.T) []Message {
	t.Helper()
	f, err := os.Open(protoPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msgs, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestParserSeesEveryField checks the line-based reader against the
// descriptors protoc compiled into package types: a field the reader missed
// would otherwise escape TestEveryFieldDocumented.
func TestParserSeesEveryField(t *testing.T) {
	msgs := parseProto(t)
	parsed := map[string]string{}
	for _, m := range msgs {
		for _, f := range m.Fields {
			parsed[m.Name+"."+f.Name] = f.Number
		}
	}
	want := 0
	ms := types.File_netcap_proto.Messages()
	for i := 0; i < ms.Len(); i++ {
		md := ms.Get(i)
		nested := 0 // map fields declare an entry message: not a nested declaration
		for k := 0; k < md.Messages().Len(); k++ {
			if !md.Messages().Get(k).IsMapEntry() {
				nested++
			}
		}
		if nested > 0 || md.Enums().Len() > 0 || md.Oneofs().Len() > 0 {
			t.Errorf("message %s has nested declarations the reader does not handle", md.Name())
		}
		fs := md.Fields()
		for j := 0; j < fs.Len(); j++ {
			fd := fs.Get(j)
			want++
			key := string(md.Name()) + "." + string(fd.Name())
			num, ok := parsed[key]
			if !ok {
				t.Errorf("the reader missed %s", key)
			} else if num != strconv.Itoa(int(fd.Number())) {
				t.Errorf("%s: the reader saw number %s, the descriptor has %d", key, num, fd.Number())
			}
		}
	}
	if len(parsed) != want {
		t.Errorf("the reader saw %d fields, the descriptors have %d", len(parsed), want)
	}
	if len(msgs) != ms.Len() {
		t.Errorf("the reader saw %d messages, the descriptors have %d", len(msgs), ms.Len())
	}
}

// TestEveryFieldDocumented fails, naming each one, on a message or field of
// netcap.proto without a comment: the .proto is the reference that Python
// and Spark users read.
func TestEveryFieldDocumented(t *testing.T) {
	msgs := parseProto(t)
	for _, m := range msgs {
		if strings.TrimSpace(m.Doc) == "" {
			t.Errorf("message %s (line %d) has no comment", m.Name, m.Line)
		}
	}
	missing := Undocumented(msgs)
	for _, s := range missing {
		t.Errorf("field %s has no comment: say its meaning, unit and when it is empty", s)
	}
	if len(missing) > 0 {
		t.Logf("%d fields without a comment", len(missing))
	}
}

// TestRecordsDocUpToDate checks that docs/records.md is what the tool
// writes from the current netcap.proto.
func TestRecordsDocUpToDate(t *testing.T) {
	want, err := Generate(protoPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v: run `make records-doc`", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/records.md is not what netcap.proto generates: run `make records-doc` and commit the result")
	}
}

// TestParseRejectsUnknownLine checks that a construct the reader does not
// know fails loudly instead of dropping a field from the checks.
func TestParseRejectsUnknownLine(t *testing.T) {
	in := "// M is a test.\nmessage M {\n  int32 A = 1; // a\n  oneof x {\n  }\n}\n"
	if _, err := Parse(strings.NewReader(in)); err == nil {
		t.Fatal("a oneof inside a message was accepted")
	}
	if _, err := Parse(strings.NewReader("message M { // c\n  int32 A = 1; // a\n}\n")); err == nil {
		t.Fatal("a message line with a trailing comment was accepted: its fields would be skipped")
	}
	in = "// M is a test.\nmessage M {\n  // leading\n  int32 A = 1;\n  int32 B = 2; // trailing\n\n  int32 C = 3;\n}\n"
	msgs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := Undocumented(msgs); len(got) != 1 || !strings.HasPrefix(got[0], "M.C ") {
		t.Fatalf("undocumented = %v, want only M.C", got)
	}
	if msgs[0].Fields[0].Doc != "leading" || msgs[0].Fields[1].Doc != "trailing" {
		t.Fatalf("docs = %q, %q", msgs[0].Fields[0].Doc, msgs[0].Fields[1].Doc)
	}
}

// TestRenderEscapes checks that comment text stays literal in the table:
// a "|" would end the cell, "<sensor>" would vanish as an HTML tag.
func TestRenderEscapes(t *testing.T) {
	in := "// M is a *test*.\nmessage M {\n  string A = 1; // \"<sensor>:<source>\" | *x*\n}\n"
	msgs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	page := string(Render(msgs))
	for _, want := range []string{`M is a \*test\*.`, `| 1 | A | ` + "`string`" + ` | "&lt;sensor&gt;:&lt;source&gt;" \| \*x\* |`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}
