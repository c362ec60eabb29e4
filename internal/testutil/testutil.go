// Package testutil holds what several packages' tests share: a buffer a
// process writes while the test reads it, and record file comparisons.
package testutil

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"

	ncio "github.com/netcap/netcap/io"
)

// SyncBuffer is a bytes.Buffer that a process (or goroutine) may write
// while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// RawRecords returns the records of a record file as their bytes, the
// header left out.
func RawRecords(t testing.TB, path string) [][]byte {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs [][]byte
	for {
		b, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		recs = append(recs, append([]byte(nil), b...))
	}
}

// SameRecordFiles checks that the folder got holds the record files of
// want (*.ncap.gz), no other, each with the same records in the same
// order; it returns the number of records compared.
func SameRecordFiles(t testing.TB, want, got string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(want, "*.ncap.gz"))
	gotFiles, _ := filepath.Glob(filepath.Join(got, "*.ncap.gz"))
	if len(files) == 0 || len(files) != len(gotFiles) {
		t.Fatalf("%s holds %d record files, %s %d", want, len(files), got, len(gotFiles))
	}
	n := 0
	for _, f := range files {
		w := RawRecords(t, f)
		g := RawRecords(t, filepath.Join(got, filepath.Base(f)))
		if len(w) != len(g) {
			t.Errorf("%s: want %d records, got %d", filepath.Base(f), len(w), len(g))
			continue
		}
		for i := range w {
			if !bytes.Equal(w[i], g[i]) {
				t.Errorf("%s: record %d of %d differs", filepath.Base(f), i, len(w))
				break
			}
		}
		n += len(w)
	}
	return n
}
