package collector

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// TestTemplates makes a template of records net capture makes of
// loopback.pcap and changes copies of them at random, in masked bits and
// anywhere: every copy a template matches must be well-formed for
// proto.Unmarshal, and changes outside the mask (values) must match.
func TestTemplates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	matched, refused := 0, 0
	for typ, recs := range loopbackRecords(t) {
		shape := shapeOf(ncio.MessageDescriptor(typ))
		for i, rec := range recs {
			if len(rec) > tplMaxLen {
				continue // makes no template (TestTemplateBound)
			}
			var ts templates
			ts.add(rec, shape)
			if !ts.match(rec) {
				t.Fatalf("%s record %d does not match its own template", types.Name(typ), i)
			}
			if i >= 20 || len(rec) == 0 {
				continue
			}
			mask := ts.slots[len(rec)%tplSlots].way[ts.slots[len(rec)%tplSlots].last].mask
			for k := 0; k < 200; k++ {
				b := slices.Clone(rec)
				j := rng.IntN(len(b))
				if k%2 == 0 {
					// A change in the bits the mask leaves out: the
					// same shape, another value.
					b[j] ^= byte(rng.Uint32()) &^ mask[j]
					if !ts.match(b) {
						t.Fatalf("%s record %d changed outside the mask at %d (%x): no match", types.Name(typ), i, j, b)
					}
				} else {
					b[j] ^= byte(rng.Uint32()) | 1
				}
				if !ts.match(b) {
					refused++
					continue
				}
				matched++
				if !unmarshals(t, typ, b) || !walk(t, b, shape) {
					t.Fatalf("%s record %d changed to %x: matches its template, but is malformed", types.Name(typ), i, b)
				}
			}
		}
	}
	if matched == 0 || refused == 0 {
		t.Fatalf("%d changed records matched, %d did not: the test tests nothing", matched, refused)
	}
	t.Logf("%d changed records matched a template (all well-formed), %d did not", matched, refused)
}

// TestTemplateHits counts the records of loopback.pcap that a template of
// their type matches as the collector meets them.
func TestTemplateHits(t *testing.T) {
	hits, total := 0, 0
	for typ, recs := range loopbackRecords(t) {
		shape := shapeOf(ncio.MessageDescriptor(typ))
		var ts templates
		for _, rec := range recs {
			total++
			if ts.match(rec) {
				hits++
			} else {
				ts.add(rec, shape)
			}
		}
	}
	// 61 % when written; a change that breaks the templates shows here.
	if hits*2 < total {
		t.Errorf("templates matched %d of %d records", hits, total)
	}
	t.Logf("templates matched %d of %d records", hits, total)
}

// FuzzTemplate makes a template of any record validWire takes and changes
// it in the bits its mask leaves out, as the fuzzer says: what comes out
// matches the template and must be well-formed for proto.Unmarshal. And
// whatever maskWire takes, validWire takes.
func FuzzTemplate(f *testing.F) {
	all := decoder.RecordTypes()
	for typ, recs := range loopbackRecords(f) {
		if i := slices.Index(all, typ); i >= 0 && i < 256 {
			f.Add(uint8(i), recs[len(recs)/2], []byte{0xff, 0x7f, 0x01})
		}
	}
	f.Add(uint8(0), []byte{0x08, 0x81, 0x01}, []byte{0x7f})
	f.Fuzz(func(t *testing.T, which uint8, p, change []byte) {
		typ := all[int(which)%len(all)]
		shape := shapeOf(ncio.MessageDescriptor(typ))
		m := make([]byte, len(p))
		if maskWire(p, m, shape, 0) && !validWire(p, shape, 0) {
			t.Fatalf("%s %x: maskWire takes it, validWire does not", types.Name(typ), p)
		}
		if !validWire(p, shape, 0) || len(change) == 0 {
			return
		}
		var ts templates
		ts.add(p, shape)
		sl := &ts.slots[len(p)%tplSlots]
		if !sl.way[sl.last].ok {
			return // a group: no template
		}
		mask := sl.way[sl.last].mask
		r := slices.Clone(p)
		for i := range r {
			r[i] ^= change[i%len(change)] &^ mask[i]
		}
		if !ts.match(r) {
			t.Fatalf("%x changed outside the mask to %x: no match", p, r)
		}
		if !unmarshals(t, typ, r) || !walk(t, r, shape) {
			t.Fatalf("%s %x changed to %x matches the template, but is malformed", types.Name(typ), p, r)
		}
	})
}

// TestTemplateBound: a record longer than tplMaxLen makes no template, so
// what the templates hold is bounded whatever comes.
func TestTemplateBound(t *testing.T) {
	shape := shapeOf(ncio.MessageDescriptor(types.Type_NC_Flow))
	for _, n := range []int{tplMaxLen - 3, tplMaxLen + 1} {
		// Field 15 (UID), a string of n-3 bytes: n bytes in all.
		rec := protowire.AppendString(protowire.AppendTag(nil, 15, protowire.BytesType), strings.Repeat("u", n-3))
		if len(rec) != n || !validWire(rec, shape, 0) {
			t.Fatalf("test record of %d bytes: %d bytes, valid %v", n, len(rec), validWire(rec, shape, 0))
		}
		var ts templates
		ts.add(rec, shape)
		if got, want := ts.match(rec), n <= tplMaxLen; got != want {
			t.Errorf("a record of %d bytes matches its template: %v, want %v", n, got, want)
		}
	}
}
