package dump

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netcap/netcap/capture"
)

// runCapture writes the records of testdata's loopback capture into a new
// folder, as .ncap.gz or, with parquet, as .parquet files.
func runCapture(t *testing.T, parquet bool) string {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "..", "testdata", "loopback.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	_, err = capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output:   capture.OutputConfig{Dir: dir, Compress: true, Parquet: parquet, Created: time.Unix(1700000000, 0), Version: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestParquetConvert: net dump -parquet turns every .ncap.gz file of a run
// into the same bytes as net capture -parquet writes for the same input:
// same rows, same schema, same header metadata (the header comes from the
// record file).
func TestParquetConvert(t *testing.T) {
	gz, pq := runCapture(t, false), runCapture(t, true)
	files, _ := filepath.Glob(filepath.Join(gz, "*.ncap.gz"))
	if len(files) < 10 {
		t.Fatalf("only %d record files", len(files))
	}
	out := t.TempDir()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".ncap.gz") + ".parquet"
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-read", f, "-parquet", "-out", filepath.Join(out, name)}, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: -parquet printed %q", f, stdout.String())
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(pq, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: net dump -parquet gives %d bytes, net capture -parquet %d, not the same", name, len(got), len(want))
		}
	}
}

// TestParquetFlags: what -parquet refuses, each in one line, and a cut
// file whose records before the cut are written, exit 1.
func TestParquetFlags(t *testing.T) {
	gz := runCapture(t, false)
	tcp := filepath.Join(gz, "TCP.ncap.gz")
	dir := t.TempDir()
	b, _ := os.ReadFile(tcp)
	cut := filepath.Join(dir, "cut.ncap.gz")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"-read", tcp, "-parquet"}, 2, "-parquet writes a file: give it with -out"},
		{[]string{"-read", tcp, "-out", filepath.Join(dir, "x.parquet")}, 2, "-out names the file of -parquet"},
		{[]string{"-read", tcp, "-parquet", "-json", "-out", filepath.Join(dir, "x.parquet")}, 2, "does not combine with"},
		{[]string{"-read", tcp, "-parquet", "-out", tcp}, 2, "is the -read file"},
		{[]string{"-read", tcp, "-parquet", "-parquet-rows", "0", "-out", filepath.Join(dir, "x.parquet")}, 2, "-parquet-rows 0"},
		{[]string{"-read", tcp, "-parquet", "-out", filepath.Join(dir, "missing", "x.parquet")}, 1, "create parquet file"},
		{[]string{"-read", cut, "-parquet", "-out", filepath.Join(dir, "cut.parquet")}, 1, "were written to"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.err) || strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line saying %q", tt.args, code, stderr.String(), tt.code, tt.err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "cut.parquet")); err != nil || st.Size() == 0 {
		t.Errorf("the records before the cut were not written: %v", err)
	}
}
