package wirecheck

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/netcap/netcap/types"
)

var dnsMD = (&types.DNS{}).ProtoReflect().Descriptor()

func dnsRecord(t testing.TB) []byte {
	t.Helper()
	b, err := proto.Marshal(&types.DNS{
		Timestamp: 1700000000123456789, ID: 7, QR: true, SrcIP: "10.0.0.1", FrameNumber: 3,
		Questions: []*types.DNSQuestion{{Name: "example.com", Type: 1, Class: 1}},
		Answers: []*types.DNSResourceRecord{
			{Name: "example.com", TTL: 60, IP: "93.184.216.34", TXTs: [][]byte{[]byte("a"), nil}},
			{Name: "example.com", SOA: &types.DNSSOA{MName: "ns1"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kindOf(t testing.TB, err error) Kind {
	t.Helper()
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v is not a *Problem", err)
	}
	return p.Kind
}

func TestValid(t *testing.T) {
	if err := Scan(dnsMD, dnsRecord(t)); err != nil {
		t.Fatalf("valid DNS record: %v", err)
	}
	if err := Scan(dnsMD, nil); err != nil {
		t.Fatalf("empty record: %v", err)
	}
	// A packed repeated number field (CDPPowerDialogue.Values).
	b, _ := proto.Marshal(&types.CDPPowerDialogue{Values: []uint32{1, 300, 70000}})
	if err := Scan((&types.CDPPowerDialogue{}).ProtoReflect().Descriptor(), b); err != nil {
		t.Fatalf("packed values: %v", err)
	}
}

func TestProblems(t *testing.T) {
	rec := dnsRecord(t)
	answer := func(inner []byte) []byte {
		b := protowire.AppendTag(nil, 16, protowire.BytesType)
		return protowire.AppendBytes(b, inner)
	}
	tests := []struct {
		name string
		b    []byte
		kind Kind
		path string
		what string
	}{
		{"unknown field", protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), rec...), 99, protowire.VarintType), 1), Unknown, "", "field 99"},
		{"wrong wire type", protowire.AppendVarint(protowire.AppendTag(nil, 20, protowire.VarintType), 5), WrongType, "SrcIP", "wire type 0"},
		{"unknown inside answer", answer(protowire.AppendVarint(protowire.AppendTag(nil, 50, protowire.VarintType), 1)), Unknown, "Answers", "field 50"},
		{"wrong type inside answer", answer(protowire.AppendFixed32(protowire.AppendTag(nil, 1, protowire.Fixed32Type), 1)), WrongType, "Answers.Name", "wire type 5"},
		{"cut record", rec[:len(rec)-3], Malformed, "", ""},
		{"stray end group", protowire.AppendTag(nil, 4, protowire.EndGroupType), Malformed, "", "end of group 4"},
		{"group without end", protowire.AppendTag(nil, 99, protowire.StartGroupType), Malformed, "", "no end"},
		{"bad utf-8", protowire.AppendString(protowire.AppendTag(nil, 20, protowire.BytesType), "\xff\xfe"), Malformed, "SrcIP", "UTF-8"},
		{"bad packed", protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), []byte{0x80}), Malformed, "Values", "packed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := dnsMD
			if tc.path == "Values" {
				md = (&types.CDPPowerDialogue{}).ProtoReflect().Descriptor()
			}
			err := Scan(md, tc.b)
			if err == nil {
				t.Fatal("no problem found")
			}
			var p *Problem
			errors.As(err, &p)
			if p.Kind != tc.kind || !strings.HasPrefix(p.Path, tc.path) || !strings.Contains(p.What, tc.what) {
				t.Errorf("got kind %d path %q: %v; want kind %d path %q, %q", p.Kind, p.Path, err, tc.kind, tc.path, tc.what)
			}
			if p.Offset < 0 || p.Offset > len(tc.b) {
				t.Errorf("offset %d outside the record of %d bytes", p.Offset, len(tc.b))
			}
		})
	}
}

// TestGroupBomb builds the record behind the net dump -struct bomb (10,000
// nested groups, 20,000 bytes) and checks that Scan refuses it at MaxDepth,
// quickly and without allocating per level.
func TestGroupBomb(t *testing.T) {
	for _, num := range []protowire.Number{1, 20, 999} { // a number field, a string field, an unknown number
		b := NestedGroups(num, 10_000)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := Scan(dnsMD, b)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if kindOf(t, err) != TooDeep {
			t.Fatalf("field %d: got %v, want nesting too deep", num, err)
		}
		if took > 100*time.Millisecond {
			t.Errorf("field %d: Scan took %v", num, took)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
			t.Errorf("field %d: Scan allocated %d bytes", num, alloc)
		}
	}
	// At the limit it is only an unknown field (or a wrong type).
	if k := kindOf(t, Scan(dnsMD, NestedGroups(999, MaxDepth))); k != Unknown {
		t.Errorf("%d nested groups: kind %d, want Unknown", MaxDepth, k)
	}
}

// deepList is a structpb.ListValue nested depth levels (ListValue -> Value ->
// ListValue ...), a recursive type with known fields only.
func deepList(depth int) *structpb.ListValue {
	l := &structpb.ListValue{}
	for range depth {
		l = &structpb.ListValue{Values: []*structpb.Value{structpb.NewListValue(l)}}
	}
	return l
}

func TestDepthKnownFields(t *testing.T) {
	md := (&structpb.ListValue{}).ProtoReflect().Descriptor()
	ok, _ := proto.Marshal(deepList(MaxDepth / 2)) // two levels per list
	if err := Scan(md, ok); err != nil {
		t.Fatalf("%d levels: %v", MaxDepth, err)
	}
	deep, _ := proto.Marshal(deepList(MaxDepth/2 + 1))
	if k := kindOf(t, Scan(md, deep)); k != TooDeep {
		t.Fatalf("%d levels: kind %d, want TooDeep", MaxDepth+2, k)
	}
	// Maps are messages too (Struct.fields).
	s, _ := structpb.NewStruct(map[string]any{"a": map[string]any{"b": []any{1.0, "x"}}})
	b, _ := proto.Marshal(s)
	if err := Scan((&structpb.Struct{}).ProtoReflect().Descriptor(), b); err != nil {
		t.Fatalf("struct with a map: %v", err)
	}
}

// TestTooMany builds a record of 150,000 empty answers (300 KB) and checks
// that MaxNested stops it.
func TestTooMany(t *testing.T) {
	var b []byte
	for range MaxNested + MaxNested/2 {
		b = protowire.AppendBytes(protowire.AppendTag(b, 16, protowire.BytesType), nil)
	}
	if k := kindOf(t, Scan(dnsMD, b)); k != TooMany {
		t.Fatalf("kind %d, want TooMany", k)
	}
	if err := NewChecker(dnsMD, Limits{MaxDepth: MaxDepth, MaxNested: 2 * MaxNested}).Check(b); err != nil {
		t.Fatalf("under a raised limit: %v", err)
	}
}

// hasUnknown reports whether m or any message inside it kept unknown bytes.
func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = hasUnknown(mv.Message())
					return !found
				})
			}
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len() && !found; i++ {
				found = hasUnknown(v.List().Get(i).Message())
			}
		case fd.Kind() == protoreflect.MessageKind:
			found = hasUnknown(v.Message())
		}
		return !found
	})
	return found
}

// FuzzCheck checks Scan against the protobuf decoder: Scan accepts a record
// only when it decodes and keeps no unknown field at any depth, and refuses
// every record the decoder refuses; it never panics.
func FuzzCheck(f *testing.F) {
	f.Add(dnsRecord(f), false)
	f.Add(NestedGroups(16, 50), false)
	f.Add(NestedGroups(3, 40), true)
	lv, _ := proto.Marshal(deepList(5))
	f.Add(lv, true)
	s, _ := structpb.NewStruct(map[string]any{"a": map[string]any{"b": []any{1.0, "x", true}}})
	sb, _ := proto.Marshal(s)
	f.Add(sb, true)
	f.Fuzz(func(t *testing.T, b []byte, structType bool) {
		var m proto.Message = &types.DNS{}
		if structType {
			m = &structpb.Struct{}
		}
		err := Scan(m.ProtoReflect().Descriptor(), b)
		derr := proto.Unmarshal(b, m)
		if err == nil {
			if derr != nil {
				t.Fatalf("Scan accepted a record the decoder refuses: %v", derr)
			}
			if hasUnknown(m.ProtoReflect()) {
				t.Fatal("Scan accepted a record with unknown fields")
			}
			return
		}
		var p *Problem
		if !errors.As(err, &p) || p.Kind < Malformed || p.Kind > TooMany {
			t.Fatalf("error %v is not a Problem of a known kind", err)
		}
		if p.Offset < 0 || p.Offset > len(b) {
			t.Fatalf("offset %d outside the %d byte record", p.Offset, len(b))
		}
		// The decoder drops unknown fields of map entries, so this side
		// is checked on DNS, which has no map.
		if !structType && (p.Kind == Unknown || p.Kind == WrongType) && derr == nil && !hasUnknown(m.ProtoReflect()) {
			t.Fatalf("Scan says %v but the decoder kept no unknown field", err)
		}
	})
}

// BenchmarkScan measures a Checker against proto.Unmarshal on a DNS record.
func BenchmarkScan(b *testing.B) {
	rec := dnsRecord(b)
	b.Run("Check", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		c := NewChecker(dnsMD, Default)
		for range b.N {
			if err := c.Check(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		m := &types.DNS{}
		for range b.N {
			if err := proto.Unmarshal(rec, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// schemaDepth is how deep messages nest in md's schema; -1 for a recursive
// type.
func schemaDepth(md protoreflect.MessageDescriptor, path map[protoreflect.FullName]bool) int {
	if path[md.FullName()] {
		return -1
	}
	path[md.FullName()] = true
	defer delete(path, md.FullName())
	deepest := 0
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		if fd.Message() == nil {
			continue
		}
		d := schemaDepth(fd.Message(), path)
		if d < 0 {
			return -1
		}
		deepest = max(deepest, d+1)
	}
	return deepest
}

// TestSchemaDepth checks that no netcap type nests near MaxDepth, so that
// the limit never refuses a real record. GRE is the one recursive type: its
// source route entries are a linked list that the decoder takes from
// gopacket, which stops at 32 entries; a GRE record of 32 entries passes.
func TestSchemaDepth(t *testing.T) {
	msgs := dnsMD.ParentFile().Messages()
	deepest, name := 0, ""
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		d := schemaDepth(md, map[protoreflect.FullName]bool{})
		if d < 0 {
			if md.Name() != "GRE" && md.Name() != "GRERouting" {
				t.Errorf("%s is recursive: check that its decoder bounds the nesting well below MaxDepth", md.Name())
			}
			continue
		}
		if d > deepest {
			deepest, name = d, string(md.Name())
		}
	}
	t.Logf("deepest type: %s, %d levels", name, deepest)
	if deepest == 0 || deepest > MaxDepth/4 {
		t.Errorf("the deepest netcap type (%s) nests %d levels; MaxDepth %d leaves too little room", name, deepest, MaxDepth)
	}
	g := &types.GRE{RoutingPresent: true}
	next := &g.Routing
	for i := range 32 {
		*next = &types.GRERouting{AddressFamily: 0x0800, SRELength: 4, RoutingInformation: []byte{10, 0, 0, byte(i)}}
		next = &(*next).Next
	}
	if err := Scan(g.ProtoReflect().Descriptor(), marshalT(t, g)); err != nil {
		t.Errorf("a GRE record of 32 source route entries: %v", err)
	}
}

func marshalT(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
