package transform

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/netcap/netcap/maltego"
)

// The names of -list equal the transform names in the -generate-config zip.
func TestListEqualsConfig(t *testing.T) {
	var out, log bytes.Buffer
	if code := run([]string{"-list"}, &out, &log); code != 0 {
		t.Fatalf("-list: exit %d: %s", code, log.String())
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[2] != "->" {
			t.Fatalf("-list line %q is not 'name input -> output'", line)
		}
		listed = append(listed, f[0])
	}
	if len(listed) != len(maltego.Transforms) {
		t.Fatalf("-list printed %d transforms, there are %d", len(listed), len(maltego.Transforms))
	}
	sort.Strings(listed)

	mtz := filepath.Join(t.TempDir(), "netcap.mtz")
	out.Reset()
	if code := run([]string{"-generate-config", mtz, "-bin", "net"}, &out, &log); code != 0 {
		t.Fatalf("-generate-config: exit %d: %s", code, log.String())
	}
	if out.Len() != 0 {
		t.Errorf("-generate-config wrote to stdout: %q", out.String())
	}
	b, err := os.ReadFile(mtz)
	if err != nil {
		t.Fatal(err)
	}
	names, err := maltego.ConfigTransformNames(b, func(name string, b []byte) error {
		return xml.Unmarshal(b, new(struct{}))
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != strings.Join(listed, " ") {
		t.Errorf("config %v\n-list %v", names, listed)
	}
}

// Through the command line too, stdout carries only the XML answer, also on
// errors; logs go to stderr.
func TestStdoutOnlyXML(t *testing.T) {
	for _, args := range [][]string{
		{"toDNSQuestions", "10.0.0.1", "path=" + filepath.Join(t.TempDir(), "nothing")},
		{"-limit", "3", "toHTTPHosts", "10.0.0.1"},
		{"noSuchTransform", "x", "path=/"},
	} {
		var out, log bytes.Buffer
		run(args, &out, &log)
		d := xml.NewDecoder(bytes.NewReader(out.Bytes()))
		var m maltego.Message
		if err := d.Decode(&m); err != nil {
			t.Errorf("%v: stdout is not a MaltegoMessage: %v\n%s", args, err, out.String())
			continue
		}
		if len(m.Response.UIMessages) == 0 {
			t.Errorf("%v: no UI message explains the failure", args)
		}
		if rest := strings.TrimSpace(out.String()[d.InputOffset():]); rest != "" {
			t.Errorf("%v: more after the message: %q", args, rest)
		}
	}
}
