package dump

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

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// writeRaw writes a record file of type typ holding the given records' bytes.
func writeRaw(t testing.TB, path string, typ types.Type, recs ...[]byte) {
	t.Helper()
	w, err := ncio.Create(path, &types.Header{Type: typ, Version: "test"}, strings.HasSuffix(path, ".gz"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range recs {
		if err := w.WriteDelimited(protowire.AppendBytes(nil, b), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
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

// TestGroupBomb builds the record file of the issue: a TCP header, one good
// record and a record of 10,000 nested groups, a few hundred bytes gzip'd.
// Before wirecheck, -struct printed 200 MB from it (1 GB of memory); now
// every mode prints the good record, refuses the bomb in one line that names
// the file and the record, and exits 1.
func TestGroupBomb(t *testing.T) {
	path := filepath.Join(t.TempDir(), "TCP.ncap.gz")
	good := marshal(t, &types.TCP{Timestamp: 1700000000000000000, SrcPort: 80, FrameNumber: 1})
	writeRaw(t, path, types.Type_NC_TCP, good, wirecheck.NestedGroups(2, 10_000))
	st, _ := os.Stat(path)
	t.Logf("bomb file: %d bytes", st.Size())
	if st.Size() > 400 {
		t.Fatalf("the bomb file is %d bytes; the test means a few hundred", st.Size())
	}
	for _, mode := range []string{"-struct", "-json", "-table", "-csv"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"-read", path}
			if mode != "-csv" {
				args = append(args, mode)
			}
			var stdout, stderr string
			var code int
			alloc := allocDuring(func() { stdout, stderr, code = dumpArgs(args...) })
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if n := len(stdout) + len(stderr); n > 4<<10 {
				t.Errorf("%d bytes of output, want at most 4 KB", n)
			}
			t.Logf("%d bytes out, %d KB allocated", len(stdout)+len(stderr), alloc>>10)
			if alloc > 16<<20 {
				t.Errorf("allocated %d MB, want at most 16", alloc>>20)
			}
			oneLine(t, stderr)
			for _, want := range []string{path, "record 2 is damaged", "nested more than", "the 1 record before it was printed"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("error %q does not say %q", stderr, want)
				}
			}
			if !strings.Contains(stdout, "80") {
				t.Errorf("the good record before the bomb is not printed: %q", stdout)
			}
		})
	}
}

// TestUnknownFieldRefused: a record whose nested DNS answer holds a field
// DNSResourceRecord does not have is refused, not printed.
func TestUnknownFieldRefused(t *testing.T) {
	ans := protowire.AppendVarint(protowire.AppendTag(nil, 77, protowire.VarintType), 1)
	rec := protowire.AppendBytes(protowire.AppendTag(nil, 16, protowire.BytesType), ans)
	path := filepath.Join(t.TempDir(), "DNS.ncap")
	writeRaw(t, path, types.Type_NC_DNS, rec)
	stdout, stderr, code := dumpArgs("-read", path, "-struct")
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	oneLine(t, stderr)
	if !strings.Contains(stderr, "record 1 is damaged") || !strings.Contains(stderr, "Answers") || !strings.Contains(stderr, "field 77") {
		t.Errorf("error %q does not name the record, the field and the path", stderr)
	}
}

// TestStructLongList: a DNS record of 5,000 answers prints 1,000 under
// -struct and a line counting the 4,000 left out; -json prints all.
func TestStructLongList(t *testing.T) {
	const n = 5000
	dns := &types.DNS{FrameNumber: 9}
	for i := range n {
		dns.Answers = append(dns.Answers, &types.DNSResourceRecord{Name: fmt.Sprintf("a%d.example", i)})
	}
	path := filepath.Join(t.TempDir(), "DNS.ncap.gz")
	writeRaw(t, path, types.Type_NC_DNS, marshal(t, dns))
	stdout, stderr, code := dumpArgs("-read", path, "-struct")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Count(stdout, "Answers: {"); got != maxList {
		t.Errorf("%d answers printed, want %d", got, maxList)
	}
	if !strings.Contains(stdout, fmt.Sprintf("... %d more Answers", n-maxList)) {
		t.Errorf("no line counting the %d answers left out", n-maxList)
	}
	stdout, _, _ = dumpArgs("-read", path, "-json")
	if got := strings.Count(stdout, `"Name":`); got != n {
		t.Errorf("-json printed %d answers, want all %d", got, n)
	}
}

// TestStructIndent renders a message nested 40 levels (structpb.ListValue)
// and checks that no line is indented more than maxIndent levels.
func TestStructIndent(t *testing.T) {
	l := &structpb.ListValue{}
	for range 20 {
		l = &structpb.ListValue{Values: []*structpb.Value{structpb.NewListValue(l)}}
	}
	text := string(appendText(nil, l.ProtoReflect(), 1))
	deepest := 0
	for _, line := range strings.Split(text, "\n") {
		deepest = max(deepest, (len(line)-len(strings.TrimLeft(line, " ")))/2)
	}
	if deepest != maxIndent {
		t.Errorf("deepest line indented %d levels, want %d", deepest, maxIndent)
	}
	if !strings.Contains(text, "{...}") {
		t.Error("the cut nesting is not marked {...}")
	}
}

// TestTableLongCell: a 1 MB payload is a 2 MB hex cell; -table cuts it to
// the column width before it holds the row for measuring, so 100 such
// records (a 100 KB file) keep a few KB of rows, not 200 MB.
func TestTableLongCell(t *testing.T) {
	rec := marshal(t, &types.TCP{SrcPort: 1, Payload: make([]byte, 1<<20)})
	recs := make([][]byte, 100)
	for i := range recs {
		recs[i] = rec
	}
	path := filepath.Join(t.TempDir(), "TCP.ncap.gz")
	writeRaw(t, path, types.Type_NC_TCP, recs...)
	var stdout, stderr string
	var code int
	var peak uint64
	stop := make(chan bool)
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	stdout, stderr, code = dumpArgs("-read", path, "-table", "-select", "SrcPort,Payload")
	close(stop)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(recs)+2 {
		t.Fatalf("%d lines, want %d rows and the header", len(lines), len(recs))
	}
	for _, l := range lines {
		if len(l) > 200 {
			t.Fatalf("a row of %d bytes: cells are not cut", len(l))
		}
	}
	if peak > 64<<20 {
		t.Errorf("heap in use reached %d MB; cells of 2 MB are held whole", peak>>20)
	}
	t.Logf("peak heap in use %d MB", peak>>20)
}

// TestDevices: character devices are refused with one line (exit 2) instead
// of being read as an empty or endless file.
func TestDevices(t *testing.T) {
	for _, dev := range []string{"/dev/zero", "/dev/null"} {
		if _, err := os.Stat(dev); err != nil {
			t.Skipf("%s: %v", dev, err)
		}
		stdout, stderr, code := dumpArgs("-read", dev)
		if code != 2 || stdout != "" {
			t.Fatalf("%s: exit %d, stdout %q; want 2 and nothing", dev, code, stdout)
		}
		oneLine(t, stderr)
		if !strings.Contains(stderr, "character device") {
			t.Errorf("%s: error %q does not say it is a character device", dev, stderr)
		}
	}
}

// TestFIFO streams a record file through a FIFO: the first record is printed
// while the writer still holds the FIFO open, the second after it writes it.
// Before, a FIFO was called empty.
func TestFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "TCP.ncap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	file := filepath.Join(dir, "whole.ncap")
	writeRaw(t, file, types.Type_NC_TCP,
		marshal(t, &types.TCP{SrcPort: 1111, FrameNumber: 1}), marshal(t, &types.TCP{SrcPort: 2222, FrameNumber: 2}))
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	second := marshal(t, &types.TCP{SrcPort: 2222, FrameNumber: 2})
	cut := len(whole) - len(protowire.AppendBytes(nil, second))

	var out, errOut testutil.SyncBuffer
	done := make(chan int)
	go func() { done <- run([]string{"-read", fifo, "-json"}, &out, &errOut) }()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write(whole[:cut])
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "1111") {
		if time.Now().After(deadline) {
			t.Fatalf("the first record was not printed while the FIFO is open (stdout %q, stderr %q)", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.Write(whole[cut:])
	w.Close()
	select {
	case code := <-done:
		if code != 0 || strings.Count(out.String(), "\n") != 2 || !strings.Contains(out.String(), "2222") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want both records", code, out.String(), errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("net dump did not end when the writer closed the FIFO")
	}
}

// TestEmptyFIFO: a writer that closes the FIFO without writing gives one line
// and exit 2.
func TestEmptyFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "TCP.ncap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
	}()
	var o, e bytes.Buffer
	code := run([]string{"-read", fifo}, &o, &e)
	if code != 2 || o.Len() != 0 {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, o.String())
	}
	oneLine(t, e.String())
	if !strings.Contains(e.String(), "FIFO") {
		t.Errorf("error %q does not say it is a FIFO", e.String())
	}
}

// TestCollectorFolderHint: -read on net collect's folder (a subfolder per
// sensor) names one of the sensors' record files as the example.
func TestCollectorFolderHint(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "lab"), 0o755)
	writeRaw(t, filepath.Join(dir, "lab", "TCP.ncap.gz"), types.Type_NC_TCP)
	_, stderr, code := dumpArgs("-read", dir)
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "lab", "TCP.ncap.gz")) {
		t.Errorf("exit %d, stderr %q; want 2 and the sensor's file as the example", code, stderr)
	}
}
