package decoder

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ownCatalog lists the project's own captures (testdata/) in the format of
// the shared corpus's CATALOG.tsv, so that the tshark oracles compare them
// too, on a fresh clone without ../shared. TestOwnCatalog keeps it equal to
// what tshark finds.
const ownCatalog = "../testdata/CATALOG.tsv"

// catalogEntry is one line of a CATALOG.tsv: a capture and the protocols
// tshark finds in it.
type catalogEntry struct {
	name    string // relative to corpusDir, as filepath.Join(corpusDir, name) opens it
	packets int
	protos  []string
}

// catalog reads the project's own catalog and the shared corpus's, when
// present: the own captures first, so that a test with a time budget always
// compares them.
func catalog(t testing.TB) []catalogEntry {
	t.Helper()
	var out []catalogEntry
	read := func(file string, name func(string) string) {
		b, err := os.ReadFile(file)
		if err != nil {
			return
		}
		for i, line := range strings.Split(string(b), "\n") {
			col := strings.Split(line, "\t")
			if i == 0 || len(col) < 6 {
				continue
			}
			n, _ := strconv.Atoi(col[3])
			out = append(out, catalogEntry{name(col[0]), n, strings.Split(strings.TrimSpace(col[5]), ",")})
		}
	}
	// The own captures' names lead from corpusDir to testdata/: both are
	// made absolute for filepath.Rel, which keeps the result relative.
	shared, err1 := filepath.Abs(corpusDir)
	own, err2 := filepath.Abs(filepath.Dir(ownCatalog))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	read(ownCatalog, func(s string) string {
		rel, err := filepath.Rel(shared, filepath.Join(own, s))
		if err != nil {
			t.Fatal(err)
		}
		return rel
	})
	read(filepath.Join(corpusDir, "CATALOG.tsv"), func(s string) string { return s })
	return out
}

// corpusWith lists the captures, shared and own, whose protocol column
// holds one of the names; it skips the test without tshark.
func corpusWith(t *testing.T, names ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: records not compared")
	}
	var files []string
	for _, e := range catalog(t) {
		for _, n := range names {
			if slices.Contains(e.protos, n) {
				files = append(files, e.name)
				break
			}
		}
	}
	return files
}

// TestOwnCatalog: testdata/CATALOG.tsv names every capture in testdata/
// with its packet count and the protocols tshark finds (frame.protocols
// without frame, eth, ethertype, ip, ipv6, tcp and udp, as the shared
// catalog lists them).
func TestOwnCatalog(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	pcaps, _ := filepath.Glob("../testdata/*.pcap")
	b, err := os.ReadFile(ownCatalog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) != len(pcaps)+1 {
		t.Fatalf("%s has %d captures, testdata/ %d", ownCatalog, len(lines)-1, len(pcaps))
	}
	for i, p := range pcaps {
		out, err := exec.Command("tshark", "-r", p, "-n", "-T", "fields", "-e", "frame.protocols").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", p, err)
		}
		seen := map[string]bool{}
		rows := strings.Split(strings.TrimSpace(string(out)), "\n")
		for _, row := range rows {
			for _, pr := range strings.Split(row, ":") {
				seen[pr] = true
			}
		}
		for _, skip := range []string{"frame", "eth", "ethertype", "ip", "ipv6", "tcp", "udp"} {
			delete(seen, skip)
		}
		protos := make([]string, 0, len(seen))
		for pr := range seen {
			protos = append(protos, pr)
		}
		slices.Sort(protos)
		want := strings.Join([]string{filepath.Base(p), "netcap testdata/", "ether", strconv.Itoa(len(rows)), "pcap", strings.Join(protos, ",")}, "\t")
		if lines[i+1] != want {
			t.Errorf("%s line %d:\n got %q\nwant %q", ownCatalog, i+2, lines[i+1], want)
		}
	}
}

// captureLabel names a capture of corpusWith in messages and in the tables
// of known differences: the shared ones by their name in the corpus, the
// project's own as testdata/<file>, whatever the checkout's folder is called.
func captureLabel(name string) string {
	if i := strings.LastIndex(name, "/testdata/"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// knownFor reports whether a known difference's key, which starts with a
// capture's name up to the first of stops, names a capture of files: a
// known difference of a shared capture is not expected to occur when the
// shared corpus is absent.
func knownFor(key, stops string, files []string) bool {
	name := key
	if i := strings.IndexAny(key, stops); i >= 0 {
		name = key[:i]
	}
	for _, f := range files {
		if captureLabel(f) == name {
			return true
		}
	}
	return false
}
