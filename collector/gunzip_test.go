package collector

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

func member(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// recordLines makes n lines that look like record data, so that gzip finds
// short matches as in real parts.
func recordLines(n int) []byte {
	var b []byte
	ts := uint64(1_795_465_971_791_977_000)
	for i := range n {
		ts += uint64(i*7919%100_000 + 1)
		b = fmt.Appendf(b, "\x08%d\x12\x0a10.%d.%d.%d\x18%d;", ts, i%7, i*13%251, i*31%253, 1024+i*17%60000)
	}
	return b
}

// TestUnpack: one or more members unpack whole; at the limit is taken, one
// byte more is refused as too large; anything not a clean run of gzip
// members is an error. The same gunzipper serves every case, as the
// collector's does.
func TestUnpack(t *testing.T) {
	recs := recordLines(5000)
	one := member(t, recs, 1)
	two := append(append([]byte(nil), one...), member(t, recs[:777], 9)...)
	flipped := append([]byte(nil), one...)
	flipped[len(flipped)/2] ^= 0x40
	badCRC := append([]byte(nil), one...)
	badCRC[len(badCRC)-6] ^= 1
	badLen := append([]byte(nil), one...)
	badLen[len(badLen)-2] ^= 1
	var named bytes.Buffer
	nw := gzip.NewWriter(&named)
	nw.Name = "part"
	nw.Write(recs)
	nw.Close()
	cases := []struct {
		name  string
		src   []byte
		limit int
		want  []byte
		err   bool
	}{
		{"one member", one, 1 << 20, recs, false},
		{"two members", two, 1 << 20, append(append([]byte(nil), recs...), recs[:777]...), false},
		{"empty member", member(t, nil, 1), 10, nil, false},
		{"a name in the header (Go's readers take it)", named.Bytes(), 1 << 20, recs, false},
		{"at the limit", one, len(recs), recs, false},
		{"one byte over the limit", one, len(recs) - 1, nil, true},
		{"second member over the limit", two, len(recs) + 776, nil, true},
		{"no input", nil, 10, nil, true},
		{"not gzip", []byte("plain text, not a gzip member"), 100, nil, true},
		{"truncated", one[:len(one)-10], 1 << 20, nil, true},
		{"damaged data", flipped, 1 << 20, nil, true},
		{"wrong CRC", badCRC, 1 << 20, nil, true},
		{"wrong length", badLen, 1 << 20, nil, true},
		{"trailing garbage", append(append([]byte(nil), one...), "xyz"...), 1 << 20, nil, true},
		// A second header that says a comment follows, and ends:
		// klauspost's multistream reader took it for the end (FuzzUnpack).
		{"second header cut short in its comment", append(append([]byte(nil), one...), 0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 0xff), 1 << 20, nil, true},
	}
	var g gunzipper
	for _, c := range cases {
		got, err := g.unpack(c.src, c.limit)
		if (err != nil) != c.err {
			t.Errorf("%s: error %v, want one: %v", c.name, err, c.err)
			continue
		}
		if over := c.limit < len(c.want) || c.name == "one byte over the limit" || c.name == "second member over the limit"; over != errors.Is(err, errTooLarge) {
			t.Errorf("%s: error %v; too large: %v", c.name, err, over)
		}
		if err == nil && !bytes.Equal(got, c.want) {
			t.Errorf("%s: %d bytes out, want %d", c.name, len(got), len(c.want))
		}
	}
}

// TestUnpackBomb: a part of about 260 KB that unpacks to 256 MiB is refused as
// too large once the output passes the bound; the buffer grows to the bound
// and one byte, no further, and the time is that of the bound's bytes.
func TestUnpackBomb(t *testing.T) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 256 {
		zw.Write(zeros)
	}
	zw.Close()
	bomb := b.Bytes()
	const limit = 16 << 20 // net collect's default -max-batch
	var g gunzipper
	start := time.Now()
	_, err = g.unpack(bomb, limit)
	took := time.Since(start)
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("a %d byte part that unpacks to 256 MiB: %v, want %v", len(bomb), err, errTooLarge)
	}
	if cap(g.buf) > limit+1 {
		t.Errorf("the buffer grew to %d bytes, the bound is %d", cap(g.buf), limit)
	}
	t.Logf("%d byte bomb refused in %v", len(bomb), took)
	// The gunzipper still serves the next part.
	recs := recordLines(100)
	if got, err := g.unpack(member(t, recs, 6), limit); err != nil || !bytes.Equal(got, recs) {
		t.Errorf("the part after the bomb: %v, %d bytes", err, len(got))
	}
}

func BenchmarkUnpack(b *testing.B) {
	recs := recordLines(20000) // about 1 MB, as a collected part
	src := member(b, recs, 1)
	var g gunzipper
	b.SetBytes(int64(len(recs)))
	for b.Loop() {
		if _, err := g.unpack(src, 4<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzUnpack: whatever the collector unpacks, the standard library's gzip
// reader (net dump's) reads to the same bytes, so every part stored reads
// in every tool.
func FuzzUnpack(f *testing.F) {
	f.Add(member(f, []byte("hello, records"), 1))
	f.Add(append(member(f, []byte("a"), 1), member(f, []byte("b"), 9)...))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	var g gunzipper
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := g.unpack(src, 1<<20)
		if err != nil {
			return
		}
		zr, err := stdgzip.NewReader(bytes.NewReader(src))
		if err != nil {
			t.Fatalf("unpacked %d bytes that compress/gzip refuses: %v", len(got), err)
		}
		want, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("unpacked %d bytes that compress/gzip refuses: %v", len(got), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("unpacked %d bytes, compress/gzip %d", len(got), len(want))
		}
	})
}
