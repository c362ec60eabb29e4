package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/netcap/netcap/internal/testutil"
	ncparquet "github.com/netcap/netcap/io/parquet"
)

// TestRotateParquet: with Parquet, every record file the collector
// completes, rotated or still open when it stops, has a Parquet copy
// beside it with its records, and a .parquet file only for a record file.
func TestRotateParquet(t *testing.T) {
	path := filepath.Join("..", "testdata", "loopback.pcap")
	_, _, js := startJS(t, t.TempDir())
	ag := replay(t, js, path, "lab", 4<<10)
	out := t.TempDir()
	collectWith(t, js, CollectorConfig{Out: out, Fetch: 4, Version: "test", RotateSize: 4 << 10, Parquet: true},
		func(c *Collector) bool { return c.Records.Load() >= ag.Records.Load() })
	dir := filepath.Join(out, "lab")
	gz, _ := filepath.Glob(filepath.Join(dir, "*.ncap.gz"))
	pq, _ := filepath.Glob(filepath.Join(dir, "*"+ncparquet.Ext))
	rotated := 0
	for _, g := range gz {
		p := strings.TrimSuffix(g, ".ncap.gz") + ncparquet.Ext
		want := len(testutil.RawRecords(t, g))
		r, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Errorf("%s: no Parquet copy: %v", filepath.Base(g), err)
			continue
		}
		if got := r.NumRows(); got != int64(want) {
			t.Errorf("%s: %d records, its Parquet copy %d rows", filepath.Base(g), want, got)
		}
		r.Close()
		if strings.Contains(filepath.Base(g), "-") {
			rotated++
		}
	}
	if len(pq) != len(gz) || rotated == 0 {
		t.Errorf("%d record files (%d rotated), %d Parquet files", len(gz), rotated, len(pq))
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// TestParquetCopyFails: a copy that cannot be written is counted and
// reported in one line naming the record file, which stays complete.
func TestParquetCopyFails(t *testing.T) {
	path := filepath.Join("..", "testdata", "loopback.pcap")
	_, _, js := startJS(t, t.TempDir())
	ag := replay(t, js, path, "lab", 0)
	out := t.TempDir()
	// A folder where the copy's temporary file would go.
	if err := os.MkdirAll(filepath.Join(out, "lab", "TCP.parquet.tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	var log testutil.SyncBuffer
	c := collectWith(t, js, CollectorConfig{Out: out, Version: "test", Parquet: true, Log: &log},
		func(c *Collector) bool { return c.Records.Load() >= ag.Records.Load() })
	if c.ParquetFailed.Load() != 1 || !strings.Contains(log.String(), "Parquet copy of "+filepath.Join(out, "lab", "TCP.ncap.gz")+" not written") {
		t.Errorf("%d copies failed; log %q", c.ParquetFailed.Load(), log.String())
	}
	if _, err := os.Stat(filepath.Join(out, "lab", "UDP.parquet")); err != nil {
		t.Errorf("the other copies were not written: %v", err)
	}
	if n := len(testutil.RawRecords(t, filepath.Join(out, "lab", "TCP.ncap.gz"))); n == 0 {
		t.Error("the record file is empty")
	}
}
