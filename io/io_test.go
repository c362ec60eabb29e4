package ncio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/types"
)

// randomText returns valid UTF-8 with the characters that trouble text
// formats: separators, quotes, line breaks, multi-byte runes.
func randomText(rng *rand.Rand) string {
	const alphabet = "abcXYZ019 ,;\"'\t\n\r-_.:/\\é€𝄞"
	runes := []rune(alphabet)
	n := rng.IntN(24)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteRune(runes[rng.IntN(len(runes))])
	}
	return sb.String()
}

func randomBytes(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(40))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func randomScalar(rng *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rng.IntN(2) == 1)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(rng.Uint32()))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(rng.Uint64()))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(rng.Uint32())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(rng.Uint64())
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(rng.Float32() * 8)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(rng.NormFloat64() * 1e6)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(randomText(rng))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(randomBytes(rng))
	case protoreflect.EnumKind:
		vs := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vs.Get(rng.IntN(vs.Len())).Number())
	}
	panic(fmt.Sprintf("no random value for %v", fd.Kind()))
}

// fillRandom sets about three quarters of m's fields, sub-messages and lists
// included, to random values.
func fillRandom(rng *rand.Rand, m protoreflect.Message, depth int) {
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if rng.IntN(4) == 0 || fd.IsMap() || (fd.Kind() == protoreflect.MessageKind && depth > 2) {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := rng.IntN(4); n > 0; n-- {
				if fd.Kind() == protoreflect.MessageKind {
					v := l.NewElement()
					fillRandom(rng, v.Message(), depth+1)
					l.Append(v)
				} else {
					l.Append(randomScalar(rng, fd))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			fillRandom(rng, m.Mutable(fd).Message(), depth+1)
		default:
			m.Set(fd, randomScalar(rng, fd))
		}
	}
}

// recordTypes are the record types that have a message (every Type value
// but the Header and Batch).
func recordTypes(t *testing.T) []types.Type {
	var out []types.Type
	for n := int32(2); n < 256; n++ {
		typ := types.Type(n)
		if _, ok := types.Type_name[n]; !ok {
			continue
		}
		if MessageDescriptor(typ) != nil {
			out = append(out, typ)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d record types have a message", len(out))
	}
	return out
}

func newRecord(typ types.Type) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(MessageDescriptor(typ).FullName())
	if err != nil {
		panic(err)
	}
	return mt.New().Interface()
}

// TestRoundTrip writes random records of every record type, gzip'd and
// plain, and reads them back equal. The random source is seeded, so a failure
// reproduces.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	dir := t.TempDir()
	for _, compress := range []bool{true, false} {
		for _, typ := range recordTypes(t) {
			n := 1 + rng.IntN(30)
			want := make([]proto.Message, n)
			for i := range want {
				want[i] = newRecord(typ)
				fillRandom(rng, want[i].ProtoReflect(), 0)
			}
			h := &types.Header{Created: int64(rng.Uint64() >> 1), InputSource: "in é.pcap", Type: typ, Version: "v9", ContainsPayloads: compress}
			path := filepath.Join(dir, fmt.Sprintf("%s-%v.ncap", types.Name(typ), compress))
			w, err := Create(path, h, compress)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range want {
				if err := w.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			if w.Count() != int64(n) {
				t.Errorf("%s: Count %d after %d records", path, w.Count(), n)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			checkFile(t, path, h, want)
		}
	}
}

// checkFile reads path back and compares its header and records.
func checkFile(t *testing.T, path string, h *types.Header, want []proto.Message) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !proto.Equal(r.Header(), h) {
		t.Errorf("%s: header %v, want %v", path, r.Header(), h)
	}
	for i := 0; ; i++ {
		m := r.New()
		err := r.Next(m)
		if err == io.EOF {
			if i != len(want) {
				t.Errorf("%s: %d records read, %d written", path, i, len(want))
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: record %d: %v", path, i, err)
		}
		if i >= len(want) || !proto.Equal(m, want[i]) {
			t.Fatalf("%s: record %d differs:\n got %v\nwant %v", path, i, m, want[i])
		}
	}
}

// TestMembers writes files the way the engine does, in parts (gzip members
// when compressed), and reads them back, with our reader and with gzip(1).
func TestMembers(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	dir := t.TempDir()
	c := NewMemberCompressor()
	for _, compress := range []bool{true, false} {
		for _, typ := range recordTypes(t) {
			n := 1 + rng.IntN(40)
			want := make([]proto.Message, n)
			var plain []byte
			h := &types.Header{Created: 7, InputSource: "x.pcap", Type: typ, Version: "v1"}
			plain, err := AppendDelimited(plain, h)
			if err != nil {
				t.Fatal(err)
			}
			head := append([]byte(nil), plain...)
			path := filepath.Join(dir, fmt.Sprintf("%s-%v.ncap", types.Name(typ), compress))
			w, err := CreateMembers(path, head, compress, c)
			if err != nil {
				t.Fatal(err)
			}
			var part []byte
			parts, inPart := 0, 0
			cut := func() {
				b := part
				if compress {
					b = c.AppendMember(nil, part)
				}
				if err := w.WritePart(b, inPart); err != nil {
					t.Fatal(err)
				}
				part, inPart = part[:0], 0
				parts++
			}
			for i := range want {
				want[i] = newRecord(typ)
				fillRandom(rng, want[i].ProtoReflect(), 0)
				if part, err = AppendDelimited(part, want[i]); err != nil {
					t.Fatal(err)
				}
				plain, _ = AppendDelimited(plain, want[i])
				inPart++
				if rng.IntN(4) == 0 {
					cut()
				}
			}
			cut()
			if w.Count() != int64(n) {
				t.Errorf("%s: Count %d after %d records", path, w.Count(), n)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			checkFile(t, path, h, want)
			if !compress {
				continue
			}
			if _, err := exec.LookPath("gzip"); err != nil {
				continue
			}
			out, err := exec.Command("gzip", "-dc", path).Output()
			if err != nil {
				t.Fatalf("gzip -dc %s (%d parts): %v", path, parts, err)
			}
			if !bytes.Equal(out, plain) {
				t.Fatalf("gzip -dc %s: %d bytes, want the %d bytes written", path, len(out), len(plain))
			}
		}
	}
}

// smallFile returns a record file of a few DNS records as bytes, gzip'd or
// not, with the records and the offsets where each message ends (header first).
func smallFile(t *testing.T, compress bool) (data []byte, recs []proto.Message, ends []int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	path := filepath.Join(t.TempDir(), "DNS.ncap")
	w, err := Create(path, &types.Header{Type: types.Type_NC_DNS, InputSource: "x.pcap", Version: "v1"}, compress)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		m := &types.DNS{}
		fillRandom(rng, m.ProtoReflect(), 1)
		m.FrameNumber = int64(i + 1)
		recs = append(recs, m)
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain := data
	if compress {
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if plain, err = io.ReadAll(gz); err != nil {
			t.Fatal(err)
		}
	}
	for off := 0; off < len(plain); {
		size, n := protowire.ConsumeVarint(plain[off:])
		if n < 0 {
			t.Fatal("bad length prefix in a file just written")
		}
		off += n + int(size)
		ends = append(ends, off)
	}
	if len(ends) != len(recs)+1 {
		t.Fatalf("%d messages in a file of a header and %d records", len(ends), len(recs))
	}
	return data, recs, ends
}

// readAll reads every record it can; it returns the records and the error
// that ended the loop.
func readAll(data []byte) ([]proto.Message, error, error) {
	r, err := NewReader(bytes.NewReader(data), "cut.ncap")
	if err != nil {
		return nil, err, nil
	}
	var got []proto.Message
	for {
		m := r.New()
		if err := r.Next(m); err != nil {
			return got, nil, err
		}
		got = append(got, m)
	}
}

// TestTruncatedPlain cuts a plain record file at every byte: the records
// before the cut come back, then ErrTruncated; io.EOF only where a cut
// falls between two records (a plain file has no end marker).
func TestTruncatedPlain(t *testing.T) {
	data, recs, ends := smallFile(t, false)
	for cut := 0; cut <= len(data); cut++ {
		got, openErr, err := readAll(data[:cut])
		if cut < ends[0] {
			if openErr == nil {
				t.Fatalf("cut at %d, inside the header: opened", cut)
			}
			if cut >= 2 && !errors.Is(openErr, ErrTruncated) {
				t.Fatalf("cut at %d, inside the header: %v, want ErrTruncated", cut, openErr)
			}
			continue
		}
		if openErr != nil {
			t.Fatalf("cut at %d, after the header: %v", cut, openErr)
		}
		complete, boundary := 0, false
		for i, e := range ends[1:] {
			if e <= cut {
				complete = i + 1
			}
		}
		for _, e := range ends {
			boundary = boundary || e == cut
		}
		checkPrefix(t, cut, got, recs[:complete])
		switch {
		case boundary && err != io.EOF:
			t.Fatalf("cut at %d, between records: %v, want io.EOF", cut, err)
		case !boundary && !errors.Is(err, ErrTruncated):
			t.Fatalf("cut at %d, inside a record: %v, want ErrTruncated", cut, err)
		}
	}
}

// TestTruncatedGzip cuts a gzip'd record file at every byte. Deflate gives
// records only as blocks complete, so fewer records than the plain bytes
// before the cut may come back, but always a prefix of them and then
// ErrTruncated: the gzip trailer tells a cut file from a complete one.
func TestTruncatedGzip(t *testing.T) {
	data, recs, _ := smallFile(t, true)
	for cut := 0; cut <= len(data); cut++ {
		got, openErr, err := readAll(data[:cut])
		if cut == len(data) {
			if openErr != nil || err != io.EOF {
				t.Fatalf("whole file: open %v, end %v", openErr, err)
			}
			checkPrefix(t, cut, got, recs)
			if len(got) != len(recs) {
				t.Fatalf("whole file: %d of %d records", len(got), len(recs))
			}
			continue
		}
		if openErr != nil {
			// Inside the 10-byte gzip header the stream cannot be opened;
			// after it, only a header that did not arrive may stop Open.
			if cut >= 10 && !errors.Is(openErr, ErrTruncated) {
				t.Fatalf("cut at %d of %d: open: %v, want ErrTruncated", cut, len(data), openErr)
			}
			continue
		}
		checkPrefix(t, cut, got, recs)
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d (%d records read): %v, want ErrTruncated", cut, len(data), len(got), err)
		}
	}
}

func checkPrefix(t *testing.T, cut int, got, want []proto.Message) {
	t.Helper()
	if len(got) > len(want) {
		t.Fatalf("cut at %d: %d records, at most %d complete", cut, len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("cut at %d: record %d differs", cut, i)
		}
	}
}

// TestCorruptGzip damages the gzip trailer's checksum: every record still
// comes back, then an error that names the file and says the stream is
// corrupt (FuzzReader found the bare "gzip: invalid checksum").
func TestCorruptGzip(t *testing.T) {
	data, recs, _ := smallFile(t, true)
	data = bytes.Clone(data)
	data[len(data)-8] ^= 0xff // first byte of the CRC-32
	got, openErr, err := readAll(data)
	if openErr != nil {
		t.Fatal(openErr)
	}
	checkPrefix(t, len(data), got, recs)
	if len(got) != len(recs) {
		t.Errorf("bad checksum: %d of %d records before the error", len(got), len(recs))
	}
	if err == nil || err == io.EOF || !strings.HasPrefix(err.Error(), "cut.ncap: corrupt gzip stream") {
		t.Fatalf("bad checksum: %v, want a corrupt gzip stream error naming the file", err)
	}
}

// allocated runs fn and returns the bytes it allocated on the heap. It
// reads runtime/metrics, which unlike runtime.ReadMemStats does not stop the
// world; large allocations, the ones that matter here, are counted exactly.
func allocated(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	fn()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

// TestCorruptLength gives the reader length prefixes that no file of this
// size can satisfy: it must fail without allocating what they claim.
func TestCorruptLength(t *testing.T) {
	var head bytes.Buffer
	w, err := Create(filepath.Join(t.TempDir(), "h.ncap"), &types.Header{Type: types.Type_NC_TCP}, false)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	hb, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	head.Write(hb)
	overflow := bytes.Repeat([]byte{0xff}, 10)
	cases := []struct {
		name   string
		prefix []byte
		trunc  bool // the error is ErrTruncated
	}{
		{"just under the limit", protowire.AppendVarint(nil, MaxRecordSize-1), true},
		{"at the limit", protowire.AppendVarint(nil, MaxRecordSize), true},
		{"over the limit", protowire.AppendVarint(nil, MaxRecordSize+1), false},
		{"2^63", protowire.AppendVarint(nil, 1<<63), false},
		{"overflowing varint", append(overflow, 0x01), false},
		{"unterminated varint", overflow[:5], true},
	}
	for _, c := range cases {
		data := append(bytes.Clone(head.Bytes()), c.prefix...)
		if c.name != "unterminated varint" {
			data = append(data, "some bytes"...)
		}
		var err error
		n := allocated(func() {
			r, oerr := NewReader(bytes.NewReader(data), "corrupt.ncap")
			if oerr != nil {
				err = oerr
				return
			}
			_, err = r.NextRaw()
		})
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if errors.Is(err, ErrTruncated) != c.trunc {
			t.Errorf("%s: %v (ErrTruncated: %v)", c.name, err, c.trunc)
		}
		// The reader's own buffers are 2 x 256 KiB; a few MiB more is fine,
		// the claimed 64 MiB is not.
		if n > 4<<20 {
			t.Errorf("%s: allocated %d bytes for a %d byte file", c.name, n, len(data))
		}
	}
}

// TestNotRecordFile checks the errors for inputs that are no record file.
func TestNotRecordFile(t *testing.T) {
	cases := map[string][]byte{
		"empty":          nil,
		"one byte":       {0x1f},
		"bad gzip":       {0x1f, 0x8b, 0x00, 0x00},
		"text":           []byte("Timestamp,SrcIP\n1,2\n"),
		"unknown type":   protowire.AppendBytes(nil, protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 250)),
		"header as type": protowire.AppendBytes(nil, protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 0)),
	}
	for name, data := range cases {
		r, err := NewReader(bytes.NewReader(data), "bad.ncap")
		if err == nil {
			t.Errorf("%s: opened as a %v record file", name, r.Header().Type)
			continue
		}
		if !strings.HasPrefix(err.Error(), "bad.ncap: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q does not name the file on one line", name, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.ncap.gz")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// fuzzReaderMax caps the input: every length prefix and gzip structure is
// reachable with a few KiB; bigger inputs only make executions (and the
// fuzzer's minimization, quadratic in the input length) slow.
const fuzzReaderMax = 16 << 10

// FuzzReader reads arbitrary bytes as a record file. The reader must end
// with an error (io.EOF, ErrTruncated or a corrupt-file error), never panic,
// return no more records than a plain file can hold, keep Next and NextRaw
// in agreement, and allocate in proportion to the input, not to what its
// length prefixes claim.
func FuzzReader(f *testing.F) {
	for _, compress := range []bool{false, true} {
		path := filepath.Join(f.TempDir(), "seed.ncap")
		w, err := Create(path, &types.Header{Type: types.Type_NC_DNS, InputSource: "s.pcap"}, compress)
		if err != nil {
			f.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		for i := 0; i < 3; i++ {
			m := &types.DNS{}
			fillRandom(rng, m.ProtoReflect(), 1)
			w.Write(m)
		}
		w.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	f.Add([]byte{})
	f.Add([]byte{0x02, 0x18, 0x26, 0xff, 0xff, 0xff, 0x1f})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzReaderMax {
			return
		}
		gzipped := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		var raws [][]byte
		var rawErr error
		n := allocated(func() {
			r, err := NewReader(bytes.NewReader(data), "fuzz.ncap")
			if err != nil {
				if r != nil {
					t.Fatalf("NewReader returned a reader and %v", err)
				}
				rawErr = err
				return
			}
			// A gzip bomb can hold millions of empty records; the
			// decompressed size is not bounded by the input, so stop early.
			for len(raws) < 1<<16 {
				b, err := r.NextRaw()
				if err != nil {
					rawErr = err
					return
				}
				raws = append(raws, bytes.Clone(b))
			}
		})
		if rawErr == nil {
			return
		}
		if !gzipped && len(raws) > len(data) {
			t.Fatalf("%d records from %d bytes", len(raws), len(data))
		}
		if !gzipped && n > 4<<20+uint64(8*len(data)) {
			t.Fatalf("allocated %d bytes reading %d bytes", n, len(data))
		}
		if rawErr != io.EOF && !errors.Is(rawErr, ErrTruncated) && !strings.HasPrefix(rawErr.Error(), "fuzz.ncap") &&
			!strings.Contains(rawErr.Error(), "corrupt") {
			t.Fatalf("error that names neither the file nor the damage: %v", rawErr)
		}
		if !utf8.ValidString(rawErr.Error()) {
			t.Fatalf("error is not valid UTF-8: %q", rawErr)
		}

		// Next must fail exactly where the raw bytes do not unmarshal.
		r, err := NewReader(bytes.NewReader(data), "fuzz.ncap")
		if err != nil {
			if len(raws) > 0 {
				t.Fatalf("second open failed: %v", err)
			}
			return
		}
		for i, raw := range raws {
			m := r.New()
			err := r.Next(m)
			uerr := proto.Unmarshal(raw, r.New())
			if (err == nil) != (uerr == nil) {
				t.Fatalf("record %d: Next %v, Unmarshal %v", i, err, uerr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "fuzz.ncap: ") {
				t.Fatalf("record %d: error does not name the file: %v", i, err)
			}
		}
	})
}
