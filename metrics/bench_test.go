package metrics

import (
	"context"
	"testing"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/types"
)

type hookedRecord struct {
	t   types.Type
	rec []byte
}

// recordsOf decodes path and returns every record the engine hands its
// OnRecord hook, in order.
func recordsOf(b testing.TB, path string) []hookedRecord {
	b.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var recs []hookedRecord
	cfg := capture.Config{Out: b.TempDir(), Workers: 1, Entropy: true, IgnoreUnknown: true,
		OnRecord: func(t types.Type, rec []byte) { recs = append(recs, hookedRecord{t, append([]byte(nil), rec...)}) }}
	if _, err := capture.Run(context.Background(), src, cfg); err != nil {
		b.Fatal(err)
	}
	return recs
}

// BenchmarkRecord is the exporter's hook on the writer's goroutine: the
// time per record, for the records of the mid-run capture (a shared one with
// HTTP, FTP and DNS when the corpus is there).
func BenchmarkRecord(b *testing.B) {
	recs := recordsOf(b, midRunCapture())
	e := New(Options{})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		r := &recs[n]
		e.Record(r.t, r.rec)
		if n++; n == len(recs) {
			n = 0
		}
	}
}
