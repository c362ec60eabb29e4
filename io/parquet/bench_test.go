package ncparquet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	ncio "github.com/netcap/netcap/io"
)

// BenchmarkConvert writes the records of the .ncap.gz files in
// $NETCAP_PARQUET_BENCH (a net capture output folder) as Parquet, from the
// length-delimited bytes as the engine hands them on, and reports the bytes
// against the .ncap.gz files'.
func BenchmarkConvert(b *testing.B) {
	dir := os.Getenv("NETCAP_PARQUET_BENCH")
	if dir == "" {
		b.Skip("set NETCAP_PARQUET_BENCH to a net capture output folder")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ncap.gz"))
	type input struct {
		name  string
		parts [][]byte
		size  int64
	}
	var inputs []input
	var records int
	for _, f := range files {
		r, err := ncio.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		in := input{name: strings.TrimSuffix(filepath.Base(f), ".ncap.gz")}
		st, _ := os.Stat(f)
		in.size = st.Size()
		var part []byte
		for {
			rec, err := r.NextRaw()
			if err != nil {
				break
			}
			part = protowire.AppendVarint(part, uint64(len(rec)))
			part = append(part, rec...)
			records++
			if len(part) > 256<<10 {
				in.parts = append(in.parts, part)
				part = nil
			}
		}
		in.parts = append(in.parts, part)
		r.Close()
		inputs = append(inputs, in)
	}
	out := b.TempDir()
	b.ResetTimer()
	var pq, gz int64
	for i := 0; i < b.N; i++ {
		pq, gz = 0, 0
		for _, in := range inputs {
			r, _ := ncio.Open(filepath.Join(dir, in.name+".ncap.gz"))
			h := r.Header()
			r.Close()
			w, err := Create(filepath.Join(out, in.name+Ext), h.Type, h, Options{})
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range in.parts {
				if err := w.WritePart(p, 0); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			st, _ := os.Stat(w.Path())
			pq += st.Size()
			gz += in.size
			if i == 0 && os.Getenv("NETCAP_PARQUET_BENCH_V") != "" {
				b.Logf("%-20s %10d %10d %.1f%%", in.name, in.size, st.Size(), 100*float64(st.Size())/float64(in.size))
			}
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(100*float64(pq)/float64(gz), "%size")
}
