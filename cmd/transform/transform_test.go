package transform

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
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

// docs/maltego.md's transform section names every transform -list prints.
func TestDocsNameEveryTransform(t *testing.T) {
	b, err := os.ReadFile("../../docs/maltego.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Properties and transforms")
	if i < 0 {
		t.Fatal("docs/maltego.md has no section \"Properties and transforms\"")
	}
	section := s[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	for _, tr := range maltego.Transforms {
		if !strings.Contains(section, tr.Name) {
			t.Errorf("docs/maltego.md does not name transform %s", tr.Name)
		}
	}
	if want := fmt.Sprintf("There are %d transforms", len(maltego.Transforms)); !strings.Contains(strings.Join(strings.Fields(section), " "), want) {
		t.Errorf("docs/maltego.md does not say %q", want)
	}
}

// asMainEnv makes the test binary run as net transform (see TestMain), so
// that a test sees the real stdout of the process.
const asMainEnv = "NETCAP_TRANSFORM_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runProcess runs net transform as a process of its own and returns its
// stdout.
func runProcess(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// checkOneMessage checks that b is one MaltegoMessage and nothing else,
// with Go's XML parser and xmllint.
func checkOneMessage(t *testing.T, b []byte) *maltego.Message {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var m maltego.Message
	if err := d.Decode(&m); err != nil {
		t.Fatalf("stdout is not a MaltegoMessage: %v\n%s", err, b)
	}
	if rest := bytes.TrimSpace(b[d.InputOffset():]); len(rest) != 0 {
		t.Fatalf("more on stdout after the message: %q", rest)
	}
	if p, err := exec.LookPath("xmllint"); err == nil {
		cmd := exec.Command(p, "--noout", "-")
		cmd.Stdin = bytes.NewReader(b)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("xmllint: %v %s", err, out)
		}
	}
	return &m
}

// The process's stdout is the answer and nothing else, also when the
// Wireshark opener prints: its output goes nowhere.
func TestProcessStdoutOnlyXML(t *testing.T) {
	src, err := filepath.Abs("../../../shared/labels/kareem-attack-scan/attack_scan.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Skip("shared capture absent: ", err)
	}
	tmp := t.TempDir()
	pcap := filepath.Join(tmp, "x.pcap")
	if err := os.Symlink(src, pcap); err != nil {
		t.Fatal(err)
	}
	chatty := filepath.Join(tmp, "chatty-wireshark")
	os.WriteFile(chatty, []byte("#!/bin/sh\necho 'not XML <' ; echo 'on stderr' >&2\n"), 0o755)

	m := checkOneMessage(t, runProcess(t, "toAuditRecords", pcap, "path="+pcap))
	if len(m.Response.Entities) < 10 {
		t.Fatalf("toAuditRecords: %d entities", len(m.Response.Entities))
	}
	dir := pcap + ".net"
	for _, args := range [][]string{
		{"-wireshark", chatty, "openTrafficInWireshark", "8.8.8.8", "path=" + dir},
		{"-wireshark", chatty, "openConnectionInWireshark", "TCP 172.25.100.9:51310 -> 8.8.8.8:443", "path=" + dir},
		{"-limit", "1", "toDevices", "x", "path=" + dir},
		{"-wireshark", chatty, "openTrafficInWireshark", "not an address", "path=" + dir},
	} {
		m := checkOneMessage(t, runProcess(t, args...))
		if len(m.Response.Entities)+len(m.Response.UIMessages) == 0 {
			t.Errorf("%v: empty answer", args)
		}
	}
}
