package label

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	engine "github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// shared returns a path under the shared folder beside the repository, or
// skips the test.
func shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not found (the shared/ folder beside the repository is absent): %v", rel, err)
	}
	return p
}

// capture decodes a capture into a fresh folder with the engine.
func capture(t testing.TB, pcap string) string {
	t.Helper()
	src, err := engine.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "records")
	if _, err := engine.Run(context.Background(), src, engine.Config{
		Decoding: engine.DecodeConfig{Workers: 2},
		Output: engine.OutputConfig{
			Dir:           out,
			Compress:      true,
			IgnoreUnknown: true,
			Created:       time.Unix(1700000000, 0),
		},
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// run labels dir with cfg (Read and Out are filled in).
func run(t testing.TB, dir string, cfg Config) (*Summary, string) {
	t.Helper()
	cfg.Read = dir
	cfg.Out = filepath.Join(t.TempDir(), "labeled")
	sum, err := Run(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sum, cfg.Out
}

// table is one labelled output file, read back with encoding/csv.
type table struct {
	cols map[string]int
	rows [][]string
}

func (tb *table) get(row []string, col string) string { return row[tb.cols[col]] }

func (tb *table) num(t testing.TB, row []string, col string) int64 {
	n, err := strconv.ParseInt(tb.get(row, col), 10, 64)
	if err != nil {
		t.Fatalf("column %s: %v", col, err)
	}
	return n
}

func (tb *table) labels(row []string) []string { return strings.Split(row[len(row)-1], " | ") }

func (tb *table) has(row []string, label string) bool {
	for _, l := range tb.labels(row) {
		if l == label {
			return true
		}
	}
	return false
}

func readTable(t testing.TB, dir, typ string, sep rune) *table {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, typ+"_labeled.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(gz)
	r.Comma = sep
	r.ReuseRecord = false
	hdr, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if hdr[len(hdr)-1] != Column {
		t.Fatalf("%s: last column %q, want %q", typ, hdr[len(hdr)-1], Column)
	}
	tb := &table{cols: map[string]int{}}
	for i, h := range hdr {
		tb.cols[h] = i
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return tb
		}
		if err != nil {
			t.Fatalf("%s row %d: %v", typ, len(tb.rows)+1, err)
		}
		tb.rows = append(tb.rows, row)
	}
}

// countRecords counts the records of every record file in dir, by type name.
func countRecords(t testing.TB, dir string) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.ncap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range files {
		r, err := ncio.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		name := types.Name(r.Header().Type)
		out[name] = 0
		for {
			if _, err := r.NextRaw(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			out[name]++
		}
		r.Close()
	}
	return out
}
