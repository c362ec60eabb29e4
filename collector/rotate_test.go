package collector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/netcap/netcap/internal/testutil"
	ncio "github.com/netcap/netcap/io"
)

// rotatedFiles groups the record files of dir by type: <Type>.ncap.gz and
// <Type>-<stamp>[-n].ncap.gz.
func rotatedFiles(t *testing.T, dir string) map[string][]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.ncap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]string{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".ncap.gz")
		typ, _, _ := strings.Cut(name, "-")
		byType[typ] = append(byType[typ], p)
	}
	return byType
}

// checkFile reads path twice: as a plain multi-member gzip to its end, and
// with package io, Next to io.EOF. It returns the raw records.
func checkFile(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: not a gzip: %v", filepath.Base(path), err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatalf("%s: gzip broken: %v", filepath.Base(path), err)
	}
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	for {
		if err := r.Next(r.New()); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: Next: %v", filepath.Base(path), err)
		}
	}
	r.Close()
	return testutil.RawRecords(t, path)
}

// sameRotated checks that the files of each type in got hold, together,
// exactly copies times the records of the local file of that type; it
// returns the most files one type has.
func sameRotated(t *testing.T, want, got string, copies int) (most int) {
	t.Helper()
	locals, _ := filepath.Glob(filepath.Join(want, "*.ncap.gz"))
	byType := rotatedFiles(t, got)
	if len(locals) == 0 || len(locals) != len(byType) {
		t.Fatalf("local capture wrote %d types, the collector %d", len(locals), len(byType))
	}
	for _, lf := range locals {
		typ := strings.TrimSuffix(filepath.Base(lf), ".ncap.gz")
		var w [][]byte
		for range copies {
			w = append(w, testutil.RawRecords(t, lf)...)
		}
		var g [][]byte
		for _, p := range byType[typ] {
			g = append(g, checkFile(t, p)...)
		}
		slices.SortFunc(w, bytes.Compare)
		slices.SortFunc(g, bytes.Compare)
		if len(w) != len(g) {
			t.Errorf("%s: %d records sent, %d in %d files", typ, len(w), len(g), len(byType[typ]))
			continue
		}
		for i := range w {
			if !bytes.Equal(w[i], g[i]) {
				t.Errorf("%s: records differ", typ)
				break
			}
		}
		most = max(most, len(byType[typ]))
	}
	return most
}

func TestRotateSize(t *testing.T) {
	path := sharedCapture(t)
	want := local(t, path)
	_, _, js := startJS(t, t.TempDir())
	ag := replay(t, js, path, "lab", 4<<10)
	out := t.TempDir()
	c := collectWith(t, js, CollectorConfig{Out: out, Fetch: 4, Version: "test", RotateSize: 16 << 10},
		func(c *Collector) bool { return c.Records.Load() >= ag.Records.Load() })
	most := sameRotated(t, want, filepath.Join(out, "lab"), 1)
	if most < 3 {
		t.Fatalf("rotation by 16 KiB made at most %d files of a type", most)
	}
	t.Logf("%d records in %d messages; up to %d files per type", c.Records.Load(), c.Batches.Load(), most)
}

// TestRotateTime replays the capture twice with a pause longer than -rotate
// between: the files of the first replay are closed while the collector
// idles, the second starts new ones.
func TestRotateTime(t *testing.T) {
	path := sharedCapture(t)
	want := local(t, path)
	_, _, js := startJS(t, t.TempDir())
	out := t.TempDir()
	c := NewCollector(js, CollectorConfig{Out: out, Fetch: 8, Version: "test", Rotate: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor := func(n int64) {
		deadline := time.Now().Add(30 * time.Second)
		for c.Records.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("collector stored %d of %d records", c.Records.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	first := replay(t, js, path, "lab", 0)
	waitFor(first.Records.Load())
	time.Sleep(700 * time.Millisecond) // the idle files rotate
	if n := len(rotatedFiles(t, filepath.Join(out, "lab"))); n == 0 {
		t.Fatal("no files after the first replay")
	}
	second := replay(t, js, path, "lab", 0)
	waitFor(first.Records.Load() + second.Records.Load())
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil
	most := sameRotated(t, want, filepath.Join(out, "lab"), 2)
	if most < 2 {
		t.Fatalf("rotation by time made at most %d files of a type", most)
	}
	if c.Records.Load() != first.Records.Load()+second.Records.Load() {
		t.Fatalf("collector stored %d records, agents sent %d", c.Records.Load(), first.Records.Load()+second.Records.Load())
	}
}
