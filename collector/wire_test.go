package collector

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// unmarshals reports whether proto.Unmarshal takes b as a record of type t:
// what validWire must agree with.
func unmarshals(t *testing.T, typ types.Type, b []byte) bool {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(ncio.MessageDescriptor(typ).FullName())
	if err != nil {
		t.Fatal(err)
	}
	return proto.Unmarshal(b, mt.New().Interface()) == nil
}

// walk runs validWire on b as the collector has it, followed in memory by
// more bytes of the part (which the fast path may load but must not heed):
// with nothing after it, and followed by 48 bytes of 0x00, of 0xff, of 0x80
// and by a copy of itself. It fails the test unless all say the same.
func walk(t *testing.T, b []byte, s *wireShape) bool {
	t.Helper()
	exact := append([]byte(nil), b...)
	got := validWire(exact[:len(b):len(b)], s, 0)
	for _, tail := range [][]byte{bytes.Repeat([]byte{0}, 48), bytes.Repeat([]byte{0xff}, 48), bytes.Repeat([]byte{0x80}, 48), b} {
		buf := append(append([]byte(nil), b...), tail...)
		if v := validWire(buf[:len(b)], s, 0); v != got {
			t.Fatalf("%x: validWire %v alone, %v followed by %x", b, got, v, tail)
		}
	}
	return got
}

// loopbackRecords returns the records net capture's engine makes of
// testdata/loopback.pcap, by type.
func loopbackRecords(t testing.TB) map[types.Type][][]byte {
	t.Helper()
	out := local(t, "../testdata/loopback.pcap")
	files, _ := filepath.Glob(filepath.Join(out, "*.ncap.gz"))
	byName := map[string]types.Type{}
	for _, typ := range decoder.RecordTypes() {
		byName[types.Name(typ)] = typ
	}
	recs := map[types.Type][][]byte{}
	for _, f := range files {
		typ, ok := byName[strings.TrimSuffix(filepath.Base(f), ".ncap.gz")]
		if !ok {
			t.Fatalf("%s: no such record type", f)
		}
		recs[typ] = testutil.RawRecords(t, f)
	}
	if len(recs) < 5 {
		t.Fatalf("loopback.pcap made %d record types", len(recs))
	}
	return recs
}

// TestWireCheck walks every record net capture makes of loopback.pcap, and
// thousands of damaged copies (a byte changed, cut short, bytes appended):
// validWire takes exactly what proto.Unmarshal takes.
func TestWireCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	checked, refused := 0, 0
	for typ, recs := range loopbackRecords(t) {
		shape := shapeOf(ncio.MessageDescriptor(typ))
		for i, rec := range recs {
			if !walk(t, rec, shape) {
				t.Fatalf("%s record %d refused", types.Name(typ), i)
			}
			if i >= 40 || len(rec) == 0 {
				continue
			}
			for k := 0; k < 50; k++ {
				b := append([]byte(nil), rec...)
				switch k % 3 {
				case 0:
					b[rng.IntN(len(b))] = byte(rng.Uint32())
				case 1:
					b = b[:rng.IntN(len(b))]
				case 2:
					b = append(b, byte(rng.Uint32()), byte(rng.Uint32()), 0xff)
				}
				got, want := walk(t, b, shape), unmarshals(t, typ, b)
				if got != want {
					t.Fatalf("%s record %d damaged to %x: validWire %v, proto.Unmarshal %v", types.Name(typ), i, b, got, want)
				}
				checked++
				if !got {
					refused++
				}
			}
		}
	}
	t.Logf("%d damaged records, %d refused by both", checked, refused)
}

// FuzzWireCheck compares validWire with proto.Unmarshal on any bytes.
func FuzzWireCheck(f *testing.F) {
	f.Add(uint8(0), []byte{0x08, 0x01})
	f.Add(uint8(3), []byte{0x0a, 0x02, 0xc3, 0x28})
	f.Add(uint8(7), []byte{0x0b, 0x0c})
	all := decoder.RecordTypes()
	// A real record of each type net capture makes of loopback.pcap.
	for typ, recs := range loopbackRecords(f) {
		if i := slices.Index(all, typ); i >= 0 && i < 256 {
			f.Add(uint8(i), recs[len(recs)/2])
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		typ := all[int(which)%len(all)]
		if got, want := walk(t, b, shapeOf(ncio.MessageDescriptor(typ))), unmarshals(t, typ, b); got != want {
			t.Fatalf("%s %x: validWire %v, proto.Unmarshal %v", types.Name(typ), b, got, want)
		}
	})
}

// BenchmarkRecordCheck compares the wire walk with proto.Unmarshal over
// the records of loopback.pcap (bytes/s of records).
func BenchmarkRecordCheck(b *testing.B) {
	type rec struct {
		rec   []byte
		shape *wireShape
		msg   proto.Message
	}
	var recs []rec
	for typ, rs := range loopbackRecords(b) {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(ncio.MessageDescriptor(typ).FullName())
		if err != nil {
			b.Fatal(err)
		}
		m, shape := mt.New().Interface(), shapeOf(ncio.MessageDescriptor(typ))
		// The records of a type one after the other in one buffer, as
		// the collector has them after unpacking a part.
		var part []byte
		for _, r := range rs {
			part = append(part, r...)
		}
		for _, r := range rs {
			recs = append(recs, rec{part[:len(r)], shape, m})
			part = part[len(r):]
		}
	}
	size := 0
	for _, r := range recs {
		size += len(r.rec)
	}
	b.Run("wire", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, r := range recs {
				if !validWire(r.rec, r.shape, 0) {
					b.Fatal("refused")
				}
			}
		}
	})
	b.Run("templates", func(b *testing.B) {
		// As the collector checks: a record that matches a template of
		// its type is not walked (templates kept from part to part).
		tpls := map[*wireShape]*templates{}
		byRec := make([]*templates, len(recs))
		for i, r := range recs {
			if tpls[r.shape] == nil {
				tpls[r.shape] = &templates{}
			}
			byRec[i] = tpls[r.shape]
		}
		b.SetBytes(int64(size))
		for b.Loop() {
			for i, r := range recs {
				if ts := byRec[i]; !ts.match(r.rec) {
					if !validWire(r.rec, r.shape, 0) {
						b.Fatal("refused")
					}
					ts.add(r.rec, r.shape)
				}
			}
		}
	})
	b.Run("templates+schema", func(b *testing.B) {
		// As the collector checks since it refuses records that do not
		// fit their type: the records walked are checked by wirecheck
		// too before they become templates.
		tpls := map[*wireShape]*templates{}
		byRec := make([]*templates, len(recs))
		chks := make([]*wirecheck.Checker, len(recs))
		for i, r := range recs {
			if tpls[r.shape] == nil {
				tpls[r.shape] = &templates{}
			}
			byRec[i] = tpls[r.shape]
			chks[i] = wirecheck.NewChecker(r.msg.ProtoReflect().Descriptor(), wirecheck.Default)
		}
		b.SetBytes(int64(size))
		for b.Loop() {
			for i, r := range recs {
				if ts := byRec[i]; !ts.match(r.rec) {
					if !validWire(r.rec, r.shape, 0) || chks[i].Check(r.rec) != nil {
						b.Fatal("refused")
					}
					ts.add(r.rec, r.shape)
				}
			}
		}
	})
	b.Run("schema", func(b *testing.B) {
		chks := make([]*wirecheck.Checker, len(recs))
		for i, r := range recs {
			chks[i] = wirecheck.NewChecker(r.msg.ProtoReflect().Descriptor(), wirecheck.Default)
		}
		b.SetBytes(int64(size))
		for b.Loop() {
			for i, r := range recs {
				if err := chks[i].Check(r.rec); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, r := range recs {
				if err := (proto.UnmarshalOptions{}).Unmarshal(r.rec, r.msg); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// FuzzSkipVarint compares skipVarint with protowire.ConsumeVarint.
func FuzzSkipVarint(f *testing.F) {
	for _, b := range [][]byte{{}, {1}, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, want := protowire.ConsumeVarint(b); skipVarint(b) != want && !(want < 0 && skipVarint(b) < 0) {
			t.Fatalf("%x: skipVarint %d, ConsumeVarint %d", b, skipVarint(b), want)
		}
	})
}
