package libdeflate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func member(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// records makes n lines that look like record data: rising timestamps,
// addresses and ports, so that gzip finds short matches as in real files.
func records(n int) []byte {
	var b []byte
	ts := uint64(1_795_465_971_791_977_000)
	for i := 0; i < n; i++ {
		ts += uint64(i*7919%100_000 + 1)
		b = fmt.Appendf(b, "\x08%d\x12\x0a10.%d.%d.%d\x18%d\x20%d;", ts, i%7, i*13%251, i*31%253, 1024+i*17%60000, []int{53, 80, 443, 8080}[i%4])
	}
	return b
}

// goGunzip is the reference: what net dump and every Go reader of the
// record files do.
func goGunzip(src []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func TestAppend(t *testing.T) {
	records := records(5000)
	one := member(t, records, 1)
	two := append(append([]byte(nil), one...), member(t, records[:777], 9)...)
	empty := member(t, nil, 1)
	flipped := append([]byte(nil), one...)
	flipped[len(flipped)/2] ^= 0x40
	var named bytes.Buffer
	nw := gzip.NewWriter(&named)
	nw.Name = "part"
	nw.Write(records)
	nw.Close()
	badCRC := append([]byte(nil), one...)
	badCRC[len(badCRC)-6] ^= 1
	cases := []struct {
		name  string
		src   []byte
		limit int
		want  []byte
		err   error
	}{
		{"one member", one, 1 << 20, records, nil},
		{"two members", two, 1 << 20, append(append([]byte(nil), records...), records[:777]...), nil},
		{"empty member", empty, 10, nil, nil},
		{"at the limit", one, len(records), records, nil},
		{"one byte over the limit", one, len(records) - 1, nil, ErrTooLarge},
		{"second member over the limit", two, len(records) + 776, nil, ErrTooLarge},
		{"no input", nil, 10, nil, ErrCorrupt},
		{"optional header field", named.Bytes(), 1 << 20, nil, ErrCorrupt},
		{"not gzip", []byte("plain text, not a gzip member"), 100, nil, ErrCorrupt},
		{"truncated", one[:len(one)-10], 1 << 20, nil, ErrCorrupt},
		{"damaged data", flipped, 1 << 20, nil, ErrCorrupt}, // checked against Go's reader below
		{"wrong CRC", badCRC, 1 << 20, nil, ErrCorrupt},
		{"trailing garbage", append(append([]byte(nil), one...), "xyz"...), 1 << 20, nil, ErrCorrupt},
	}
	g, err := NewGunzipper()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := goGunzip(flipped); err == nil {
		t.Fatal("the damaged member must be one Go's reader refuses")
	}
	for _, c := range cases {
		got, err := g.Append(nil, c.src, c.limit)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			continue
		}
		if err == nil && !bytes.Equal(got, c.want) {
			t.Errorf("%s: %d bytes out, want %d", c.name, len(got), len(c.want))
		}
	}
	// Appending keeps what dst held.
	got, err := g.Append([]byte("head:"), one, 1<<20)
	if err != nil || !bytes.HasPrefix(got, []byte("head:")) || !bytes.Equal(got[5:], records) {
		t.Errorf("append to a prefix: %v, %d bytes", err, len(got))
	}
}

// FuzzAppend: whatever libdeflate accepts, Go's gzip reader (the one every
// reader of the record files uses) reads to the same bytes. The converse
// need not hold: a part only libdeflate refuses is a dead letter.
func FuzzAppend(f *testing.F) {
	f.Add(member(f, []byte("hello, records"), 1))
	f.Add(append(member(f, []byte("a"), 1), member(f, []byte("b"), 9)...))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	g, err := NewGunzipper()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := g.Append(nil, src, 1<<20)
		if err != nil {
			return
		}
		want, err := goGunzip(src)
		if err != nil {
			t.Fatalf("libdeflate took %d bytes that Go's gzip refuses: %v", len(src), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("libdeflate gave %d bytes, Go's gzip %d", len(got), len(want))
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	records := records(20000) // about 1 MB, as a collected part
	src := member(b, records, 1)
	g, _ := NewGunzipper()
	defer g.Close()
	buf := make([]byte, 0, 4<<20+1)
	b.Run("libdeflate", func(b *testing.B) {
		b.SetBytes(int64(len(records)))
		for b.Loop() {
			if _, err := g.Append(buf[:0], src, 4<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(records)))
		zr, _ := gzip.NewReader(bytes.NewReader(src))
		var out bytes.Buffer
		for b.Loop() {
			zr.Reset(bytes.NewReader(src))
			out.Reset()
			if _, err := io.Copy(&out, zr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
