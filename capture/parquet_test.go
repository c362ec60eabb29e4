package capture

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// testdataCaptures returns the project's own captures.
func testdataCaptures(t testing.TB) []string {
	var captures []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", pat))
		if err != nil {
			t.Fatal(err)
		}
		captures = append(captures, m...)
	}
	sort.Strings(captures)
	if len(captures) == 0 {
		t.Fatal("no capture in testdata/")
	}
	return captures
}

// TestParquetDeterministic: the Parquet files are the same byte for byte
// with 1, 2 and 8 workers and small or default batches, and one Parquet
// file is written per record file of the default output.
func TestParquetDeterministic(t *testing.T) {
	for _, path := range testdataCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			gzDir, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2}})
			want := sameAcrossWorkers(t, path, OutputConfig{Parquet: true, ParquetRows: 50}, nil)
			for name := range readDir(t, gzDir) {
				if base, ok := strings.CutSuffix(name, ".ncap.gz"); ok {
					if _, ok := want[base+".parquet"]; !ok {
						t.Errorf("%s has no Parquet counterpart", name)
					}
				}
			}
			for name := range want {
				if !strings.HasSuffix(name, ".parquet") && !strings.HasSuffix(name, ".pcap") {
					t.Errorf("unexpected file %s in Parquet output", name)
				}
			}
		})
	}
}
