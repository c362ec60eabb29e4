package collector

import (
	"fmt"
	"maps"
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

// unmarshals reports whether proto.Unmarshal takes b as a record of type t.
func unmarshals(t *testing.T, typ types.Type, b []byte) bool {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(ncio.MessageDescriptor(typ).FullName())
	if err != nil {
		t.Fatal(err)
	}
	return proto.Unmarshal(b, mt.New().Interface()) == nil
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

// toolsTake reports whether the tools take b as a record of type typ: it
// unmarshals and wirecheck, the check of net util -check and net dump, finds
// nothing wrong. The collector must store exactly such records.
func toolsTake(t *testing.T, typ types.Type, b []byte) bool {
	t.Helper()
	return unmarshals(t, typ, b) && wirecheck.Scan(ncio.MessageDescriptor(typ), b) == nil
}

func newCheck(t testing.TB, typ types.Type) *recordCheck {
	t.Helper()
	rc, err := newRecordCheck(ncio.MessageDescriptor(typ))
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestRecordCheck checks every record net capture makes of loopback.pcap,
// and thousands of damaged copies (a byte changed, cut short, bytes
// appended): the collector takes exactly what the tools take.
func TestRecordCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	checked, refused := 0, 0
	byType := loopbackRecords(t)
	// In a fixed order, so that a run damages the same bytes as the last.
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		recs := byType[typ]
		rc := newCheck(t, typ)
		for i, rec := range recs {
			if err := rc.check(rec); err != nil {
				t.Fatalf("%s record %d refused: %v", types.Name(typ), i, err)
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
				err := rc.check(b)
				if want := toolsTake(t, typ, b); (err == nil) != want {
					t.Fatalf("%s record %d damaged to %x: collector's check %v, the tools take it: %v", types.Name(typ), i, b, err, want)
				}
				checked++
				if err != nil {
					refused++
				}
			}
		}
	}
	t.Logf("%d damaged records, %d refused by both", checked, refused)
}

// FuzzRecordCheck compares the collector's check with what the tools take
// on any bytes.
func FuzzRecordCheck(f *testing.F) {
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
	checks := map[types.Type]*recordCheck{}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		typ := all[int(which)%len(all)]
		if checks[typ] == nil {
			checks[typ] = newCheck(t, typ)
		}
		err := checks[typ].check(b)
		if want := toolsTake(t, typ, b); (err == nil) != want {
			t.Fatalf("%s %x: collector's check %v, the tools take it: %v", types.Name(typ), b, err, want)
		}
	})
}

// hostileRecord is a record of each kind the collector's former hand-written
// wire walk (and its schema check) refused, with the reason and what the
// dead letter line says.
type hostileRecord struct {
	name   string
	typ    types.Type
	rec    []byte
	reason string // bad-record or bad-schema
	says   string
}

func hostileRecords(t testing.TB) []hostileRecord {
	t.Helper()
	flow, err := proto.Marshal(&types.Flow{TimestampFirst: 1_700_000_000_000_000_000, SrcIP: "10.0.0.1", DstIP: "10.0.0.2", SrcPort: 53, NumPackets: 3})
	if err != nil {
		t.Fatal(err)
	}
	fd := (&types.Flow{}).ProtoReflect().Descriptor().Fields()
	srcIP, ts := fd.ByName("SrcIP").Number(), fd.ByName("TimestampFirst").Number()
	with := func(tail ...byte) []byte { return append(append([]byte(nil), flow...), tail...) }
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	nested := func(depth int) []byte {
		// GRE{Routing: GRERouting{Next: GRERouting{Next: ...}}}, depth
		// messages below the record.
		var in []byte
		for range depth - 1 {
			in = protowire.AppendBytes(tag(routingNext, protowire.BytesType), in)
		}
		return protowire.AppendBytes(tag(greRouting, protowire.BytesType), in)
	}
	var lldp []byte
	for range wirecheck.MaxNested + 1 {
		lldp = protowire.AppendBytes(append(lldp, tag(5, protowire.BytesType)...), nil)
	}
	hello := protowire.AppendBytes(tag(8, protowire.BytesType), []byte{0x01, 0x80}) // packed NeighborID cut short
	return []hostileRecord{
		{"field number 0", types.Type_NC_Flow, with(0x00, 0x01), "bad-record", "not well-formed"},
		{"wire type 6", types.Type_NC_Flow, with(tag(1, 6)...), "bad-record", "not well-formed"},
		{"wire type 7", types.Type_NC_Flow, with(tag(1, 7)...), "bad-record", "not well-formed"},
		{"varint cut short", types.Type_NC_Flow, with(append(tag(ts, protowire.VarintType), 0x80)...), "bad-record", "not well-formed"},
		{"varint of 11 bytes", types.Type_NC_Flow, with(append(tag(ts, protowire.VarintType), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)...), "bad-record", "not well-formed"},
		{"varint over 64 bits", types.Type_NC_Flow, with(append(tag(ts, protowire.VarintType), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)...), "bad-record", "not well-formed"},
		{"length past the end", types.Type_NC_Flow, with(append(tag(srcIP, protowire.BytesType), 50, 'a', 'b', 'c')...), "bad-record", "not well-formed"},
		{"string not UTF-8", types.Type_NC_Flow, with(protowire.AppendString(tag(srcIP, protowire.BytesType), "\xc3\x28")...), "bad-record", "not well-formed"},
		{"end of a group not started", types.Type_NC_Flow, with(tag(99, protowire.EndGroupType)...), "bad-record", "not well-formed"},
		{"fixed64 cut short", types.Type_NC_Flow, with(append(tag(99, protowire.Fixed64Type), 1, 2, 3)...), "bad-record", "not well-formed"},
		{"group without end", types.Type_NC_Flow, with(tag(99, protowire.StartGroupType)...), "bad-record", "not well-formed"},
		{"packed varints cut short, nested", types.Type_NC_OSPFv3, protowire.AppendBytes(tag(10, protowire.BytesType), hello), "bad-record", "not well-formed"},
		{"messages nested 20000 deep", types.Type_NC_GRE, nested(20_000), "bad-record", "not well-formed"},
		{"unknown field", types.Type_NC_Flow, with(protowire.AppendVarint(tag(99, protowire.VarintType), 1)...), "bad-schema", "field 99 (wire type 0) that Flow does not have"},
		{"wrong wire type", types.Type_NC_Flow, with(protowire.AppendVarint(tag(srcIP, protowire.VarintType), 7)...), "bad-schema", "wire type 0, but SrcIP is string"},
		{"unknown field, nested", types.Type_NC_GRE, protowire.AppendBytes(tag(greRouting, protowire.BytesType), protowire.AppendVarint(tag(99, protowire.VarintType), 1)), "bad-schema", "field 99 (wire type 0) that GRERouting does not have in Routing"},
		{"unknown groups nested 1000 deep", types.Type_NC_Flow, with(wirecheck.NestedGroups(99, 1000)...), "bad-schema", "nested more than 64 deep"},
		{"unknown field in a map entry", types.Type_NC_HTTP, protowire.AppendBytes(tag(httpRequestHeader, protowire.BytesType), protowire.AppendVarint(tag(4, protowire.VarintType), 1)), "bad-schema", "field 4 (wire type 0) that RequestHeaderEntry does not have in RequestHeader"},
		{"messages nested too deep", types.Type_NC_GRE, nested(wirecheck.MaxDepth + 1), "bad-schema", fmt.Sprintf("nested more than %d deep", wirecheck.MaxDepth)},
		{"too many nested messages", types.Type_NC_LinkLayerDiscovery, lldp, "bad-schema", fmt.Sprintf("more than %d nested messages", wirecheck.MaxNested)},
	}
}

// Field numbers of GRE.Routing, GRERouting.Next and HTTP.RequestHeader (a map).
var (
	httpRequestHeader = (&types.HTTP{}).ProtoReflect().Descriptor().Fields().ByName("RequestHeader").Number()
	greRouting        = (&types.GRE{}).ProtoReflect().Descriptor().Fields().ByName("Routing").Number()
	routingNext       = (&types.GRERouting{}).ProtoReflect().Descriptor().Fields().ByName("Next").Number()
)

// TestHostileRecords: each record the former hand-written walk refused is
// refused, for the same reason, and the tools refuse it too; GRE nested
// exactly wirecheck.MaxDepth deep is taken, as the tools take it.
func TestHostileRecords(t *testing.T) {
	for _, h := range hostileRecords(t) {
		err := newCheck(t, h.typ).check(h.rec)
		if err == nil {
			t.Errorf("%s: taken", h.name)
			continue
		}
		reason := "bad-schema"
		if err.malformed {
			reason = "bad-record"
		}
		if reason != h.reason || !strings.Contains(err.Error(), h.says) {
			t.Errorf("%s: %s %q, want %s with %q", h.name, reason, err, h.reason, h.says)
		}
		if toolsTake(t, h.typ, h.rec) {
			t.Errorf("%s: the tools take it", h.name)
		}
	}
	var in []byte
	for range wirecheck.MaxDepth - 1 {
		in = protowire.AppendBytes(protowire.AppendTag(nil, routingNext, protowire.BytesType), in)
	}
	deepest := protowire.AppendBytes(protowire.AppendTag(nil, greRouting, protowire.BytesType), in)
	if err := newCheck(t, types.Type_NC_GRE).check(deepest); err != nil || !toolsTake(t, types.Type_NC_GRE, deepest) {
		t.Errorf("GRE nested %d deep: collector %v, tools take it %v", wirecheck.MaxDepth, err, toolsTake(t, types.Type_NC_GRE, deepest))
	}
}

// BenchmarkRecordCheck measures the collector's check over the records of
// loopback.pcap (bytes/s of records), and its parts: proto.Unmarshal
// alone, and wirecheck (what net util -check runs) for comparison.
func BenchmarkRecordCheck(b *testing.B) {
	type rec struct {
		rec []byte
		rc  *recordCheck
		chk *wirecheck.Checker
	}
	var recs []rec
	for typ, rs := range loopbackRecords(b) {
		rc := newCheck(b, typ)
		chk := wirecheck.NewChecker(ncio.MessageDescriptor(typ), wirecheck.Default)
		for _, r := range rs {
			recs = append(recs, rec{r, rc, chk})
		}
	}
	size := 0
	for _, r := range recs {
		size += len(r.rec)
	}
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, r := range recs {
				if err := r.rc.check(r.rec); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, r := range recs {
				if err := proto.Unmarshal(r.rec, r.rc.msg); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("wirecheck", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, r := range recs {
				if err := r.chk.Check(r.rec); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
