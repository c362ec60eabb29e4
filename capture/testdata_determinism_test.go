package capture

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeterministicOnTestdata is TestDeterministicAcrossWorkers on the
// project's own captures, so that a clone without the shared corpus checks it
// too: 1, 2 and 8 workers, small and default batches, give the same record
// files, compared after decompression.
func TestDeterministicOnTestdata(t *testing.T) {
	for _, path := range testdataCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := sameAcrossWorkers(t, path, OutputConfig{}, func(t *testing.T, files map[string][]byte) map[string][]byte { return gunzipAll(t, files) })
			// The comparison can fail: one byte changed in one record file.
			changed, largest := map[string][]byte{}, ""
			for k, v := range want {
				changed[k] = bytes.Clone(v)
				if len(v) > len(want[largest]) {
					largest = k
				}
			}
			changed[largest][len(changed[largest])/2] ^= 1
			rec := &errRecorder{TB: t}
			if sameFiles(rec, want, changed) || len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], largest+" differs") {
				t.Fatalf("a changed byte in %s was not reported as such: %q", largest, rec.msgs)
			}
		})
	}
}

// gunzipAll decompresses the .gz files of a folder read by readDir, so that
// the comparison is of the records, whatever the gzip encoder does.
func gunzipAll(t testing.TB, files map[string][]byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, b := range files {
		if !strings.HasSuffix(name, ".gz") {
			out[name] = b
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[strings.TrimSuffix(name, ".gz")] = raw
	}
	return out
}

// errRecorder keeps the errors a helper reports instead of failing the test.
type errRecorder struct {
	testing.TB
	msgs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
