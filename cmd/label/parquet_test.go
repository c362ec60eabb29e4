package label

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParquetFlag: -parquet writes <Type>_labeled.parquet files and no CSV;
// with -utc or -csv-sep, which shape CSV text, it is refused in one line.
func TestParquetFlag(t *testing.T) {
	recs, _ := loopbackRecords(t)
	p := filepath.Join(t.TempDir(), "attacks.yml")
	os.WriteFile(p, []byte("timezone: UTC\nattacks:\n  - name: x\n    start: 2000-01-01 00:00:00\n    end: 2000-01-01 01:00:00\n    attackers: [\"::1\"]\n    category: c\n"), 0o644)
	if _, stderr, code := label(t, "-read", recs, "-attacks", p, "-parquet", "-parquet-rows", "0", "-out", filepath.Join(t.TempDir(), "out")); code != 2 || !strings.Contains(stderr, "-parquet-rows 0") {
		t.Errorf("-parquet-rows 0: exit %d, stderr %q", code, stderr)
	}
	for _, extra := range [][]string{{"-utc"}, {"-csv-sep", ";"}} {
		args := append([]string{"-read", recs, "-attacks", p, "-parquet", "-out", filepath.Join(t.TempDir(), "out")}, extra...)
		_, stderr, code := label(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "-parquet writes typed columns") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", extra, code, stderr)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, stderr, code := label(t, "-read", recs, "-attacks", p, "-parquet", "-out", out, "-quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	pq, _ := filepath.Glob(filepath.Join(out, "*_labeled.parquet"))
	csv, _ := filepath.Glob(filepath.Join(out, "*.csv.gz"))
	if len(pq) < 10 || len(csv) != 0 {
		t.Errorf("-parquet wrote %d Parquet and %d CSV files", len(pq), len(csv))
	}
}
