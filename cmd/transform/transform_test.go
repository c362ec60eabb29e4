package transform

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path"
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
	// Every file of the zip: version.properties is "key=value" lines,
	// everything else parses as XML (Go's strict parser and xmllint) and
	// sits in a folder of Maltego's layout.
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the .mtz is not a zip: %v", err)
	}
	folders := map[string]int{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "version.properties" {
			folders[f.Name]++
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if !strings.HasPrefix(line, "#") && !strings.Contains(line, "=") {
					t.Errorf("version.properties: line %q is not key=value", line)
				}
			}
			continue
		}
		folders[path.Dir(f.Name)+"/*"+path.Ext(f.Name)]++
		d := xml.NewDecoder(bytes.NewReader(data))
		d.Strict = true
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
		if p, err := exec.LookPath("xmllint"); err == nil {
			cmd := exec.Command(p, "--noout", "-")
			cmd.Stdin = bytes.NewReader(data)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: xmllint: %v %s", f.Name, err, out)
			}
		}
	}
	n := len(maltego.Transforms)
	for f, want := range map[string]int{
		"version.properties":                              1,
		"TransformRepositories/Local/*.transform":         n,
		"TransformRepositories/Local/*.transformsettings": n,
		"TransformSets/*.set":                             1,
		"Servers/*.tas":                                   1,
	} {
		if folders[f] != want {
			t.Errorf("%d files %s, want %d", folders[f], f, want)
		}
	}
	if folders["Entities/*.entity"] < 10 {
		t.Errorf("only %d entity files", folders["Entities/*.entity"])
	}
	names, err := maltego.ConfigTransformNames(b, func(string, []byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != strings.Join(listed, " ") {
		t.Errorf("config %v\n-list %v", names, listed)
	}
	for _, want := range []string{"toAuditRecords", "toDevices", "openTrafficInWireshark", "openConnectionInWireshark"} {
		if sort.SearchStrings(listed, want) == len(listed) || listed[sort.SearchStrings(listed, want)] != want {
			t.Errorf("%s is not listed", want)
		}
	}
}

// Through the command line too, stdout carries only the XML answer, also on
// errors; logs go to stderr.
func TestStdoutOnlyXML(t *testing.T) {
	for _, args := range [][]string{
		{"toDNSQuestions", "10.0.0.1", "path=" + filepath.Join(t.TempDir(), "nothing")},
		{"-limit", "3", "toHTTPHosts", "10.0.0.1"},
		{"noSuchTransform", "x", "path=/"},
		{"-wireshark", "none", "openTrafficInWireshark", "10.0.0.1", "path=" + filepath.Join(t.TempDir(), "x.pcap.net")},
		{"-oui", filepath.Join(t.TempDir(), "no-list"), "toDevices", "x", "path=" + t.TempDir()},
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
