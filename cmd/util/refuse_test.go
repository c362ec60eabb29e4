package util

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// TestCheckCapture: a pcap, a gzip'd pcap and a pcapng given to -check are
// named as captures with what to do, exit 2; before, the pcap header was
// read as "record length 606904788".
func TestCheckCapture(t *testing.T) {
	pcap := filepath.Join("..", "..", "testdata", "loopback.pcap")
	b, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gz := filepath.Join(dir, "loopback.pcap.gz")
	writeGzip(t, gz, b)
	ng := filepath.Join(dir, "x.pcapng")
	os.WriteFile(ng, []byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a}, 0o644)
	// A capture under a record file's name, in a folder.
	named := filepath.Join(t.TempDir(), "TCP.ncap.gz")
	writeGzip(t, named, b)
	for path, kind := range map[string]string{pcap: "(pcap)", gz: "(gzip'd pcap)", ng: "(pcapng)", filepath.Dir(named): "(gzip'd pcap)"} {
		code, out := check(t, path)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2:\n%s", path, code, out)
		}
		if !strings.Contains(out, "is a capture file "+kind) || !strings.Contains(out, "use net capture -read") || strings.Contains(out, "record length") {
			t.Errorf("%s: output does not name the capture %s and what to do:\n%s", path, kind, out)
		}
	}
}

// TestCheckSpecial: a FIFO is refused at once (before, -check waited for a
// writer forever), and so is a character device; exit 2.
func TestCheckSpecial(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "TCP.ncap.gz")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for path, want := range map[string]string{fifo: "is a FIFO", filepath.Dir(fifo): "is a FIFO", "/dev/zero": "character device"} {
		type result struct {
			code int
			out  string
		}
		done := make(chan result, 1)
		go func() {
			code, out := check(t, path)
			done <- result{code, out}
		}()
		select {
		case r := <-done:
			if r.code != 2 || !strings.Contains(r.out, want) {
				t.Errorf("%s: exit %d, want 2 and %q:\n%s", path, r.code, want, r.out)
			}
		case <-time.After(5 * time.Second):
			// Unblock the open so the goroutine ends.
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			t.Fatalf("%s: -check blocks", path)
		}
	}
}

// TestCheckCollectorFolder: the folder of net collect holds a subfolder per
// sensor; -check reads every file of each, names it with its sensor folder,
// and finds the damaged one.
func TestCheckCollectorFolder(t *testing.T) {
	dec, sum := decode(t, false)
	out := t.TempDir()
	for _, sensor := range []string{"dmz-1", "lab"} {
		os.Mkdir(filepath.Join(out, sensor), 0o755)
		for name := range sum.Records {
			b, err := os.ReadFile(filepath.Join(dec, name+".ncap.gz"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(out, sensor, name+".ncap.gz"), b, 0o644)
		}
	}
	code, text := check(t, out)
	if code != 0 {
		t.Fatalf("exit %d on valid files:\n%s", code, text)
	}
	for _, sensor := range []string{"dmz-1", "lab"} {
		for name := range sum.Records {
			if !strings.Contains(text, "ok  "+filepath.Join(out, sensor, name+".ncap.gz")+": ") {
				t.Errorf("%s/%s not checked:\n%s", sensor, name, text)
			}
		}
	}
	tcp := filepath.Join(out, "lab", "TCP.ncap.gz")
	b, _ := os.ReadFile(tcp)
	os.WriteFile(tcp, b[:len(b)/2], 0o644)
	code, text = check(t, out)
	if code != 1 || !strings.Contains(text, "BAD "+tcp+": ") {
		t.Errorf("exit %d, want 1 and %s named BAD:\n%s", code, tcp, text)
	}
}

func writeRaw(t *testing.T, path string, typ types.Type, recs ...[]byte) {
	t.Helper()
	w, err := ncio.Create(path, &types.Header{Type: typ, Version: "test"}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range recs {
		w.WriteDelimited(protowire.AppendBytes(nil, b), 1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCheckNested: damage inside nested messages (a field a DNS answer does
// not have) and the nested-group bomb are BAD, exit 1, with the path to the
// field and the depth. Before, the first file was called valid: the record
// itself kept no unknown bytes, only its answer did.
func TestCheckNested(t *testing.T) {
	ans := protowire.AppendVarint(protowire.AppendTag(nil, 77, protowire.VarintType), 1)
	rec := protowire.AppendBytes(protowire.AppendTag(nil, 16, protowire.BytesType), ans)
	good := protowire.AppendVarint(protowire.AppendTag(nil, 19, protowire.VarintType), 5) // FrameNumber 5
	tests := []struct {
		name string
		rec  []byte
		want []string
	}{
		{"unknown field in an answer", rec, []string{"record 1 at uncompressed byte", "does not decode as DNS", "field 77", "in Answers"}},
		{"nested groups", wirecheck.NestedGroups(99, 10_000), []string{"record 1 at uncompressed byte", fmt.Sprintf("nested more than %d deep", wirecheck.MaxDepth)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "DNS.ncap.gz")
			writeRaw(t, p, types.Type_NC_DNS, good, tc.rec)
			code, out := check(t, p)
			if code != 1 || !strings.Contains(out, "BAD "+p+": ") {
				t.Fatalf("exit %d, want 1 and BAD:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
		})
	}
}

// allocDuring returns the bytes fn allocated.
func allocDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestCheckLongCSVRow: a gzip'd CSV file whose second line is 100 MB without
// a line break (100 KB on disk) is BAD at MaxCSVRow, allocating a few times
// MaxCSVRow (encoding/csv copies a row several times), not a few times the
// line.
func TestCheckLongCSVRow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "TCP.csv.gz")
	f, _ := os.Create(p)
	gz, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	gz.Write(bytes.TrimSuffix(ncio.CSVHeaderLine(types.Type_NC_TCP, &ncio.CaptureCSV), nil))
	line := bytes.Repeat([]byte("1"), 1<<20)
	for range 100 {
		gz.Write(line)
	}
	gz.Close()
	f.Close()
	var code int
	var out string
	alloc := allocDuring(func() { code, out = check(t, p) })
	if code != 1 || !strings.Contains(out, "BAD "+p) || !strings.Contains(out, fmt.Sprintf("row longer than %d MiB", MaxCSVRow>>20)) {
		t.Errorf("exit %d, want 1 and the long row named:\n%s", code, out)
	}
	if alloc > 16*MaxCSVRow {
		t.Errorf("allocated %d MB for a row cut at %d MB", alloc>>20, MaxCSVRow>>20)
	}
	t.Logf("allocated %d MB", alloc>>20)
}

// TestCheckLyingPrefix: a record file whose first record claims 60 MiB but
// holds 10 bytes is BAD (runs past the end) without allocating the 60 MiB.
func TestCheckLyingPrefix(t *testing.T) {
	p := filepath.Join(t.TempDir(), "TCP.ncap.gz")
	w, err := ncio.Create(p, &types.Header{Type: types.Type_NC_TCP, Version: "test"}, true)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteDelimited(append(protowire.AppendVarint(nil, 60<<20), make([]byte, 10)...), 1)
	w.Close()
	var code int
	var out string
	alloc := allocDuring(func() { code, out = check(t, p) })
	if code != 1 || !strings.Contains(out, "runs past the end of the data") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if alloc > 8<<20 {
		t.Errorf("allocated %d MB for a 10-byte record", alloc>>20)
	}
}
