package ncio

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/types"
)

// deterministic is what AppendDelimited must give: protobuf's own
// marshaller with map entries sorted, behind a uvarint length.
func deterministic(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return append(protowire.AppendVarint(nil, uint64(len(b))), b...)
}

// fillMaps fills every map field of m with n random entries, one of them
// with empty key and value, and the fields that are not maps as fillRandom
// does.
func fillMaps(rng *rand.Rand, m protoreflect.Message, n int) {
	fillRandom(rng, m, 0)
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if !fd.IsMap() {
			continue
		}
		if fd.MapKey().Kind() != protoreflect.StringKind || fd.MapValue().Kind() != protoreflect.StringKind {
			panic(fmt.Sprintf("%s: a map that is not map<string, string>: give the test values for it", fd.FullName()))
		}
		mp := m.Mutable(fd).Map()
		mp.Set(protoreflect.ValueOfString("").MapKey(), protoreflect.ValueOfString(""))
		for mp.Len() < n {
			mp.Set(protoreflect.ValueOfString(randomText(rng)).MapKey(), protoreflect.ValueOfString(randomText(rng)))
		}
	}
}

// TestEveryMapSorted: every message of netcap.proto that holds a map gives
// through AppendDelimited the bytes of proto's deterministic marshal, map
// entries in random order of insertion. It checks too that the generated
// code alone does not (Go's map order is random), so the comparison can
// catch an unsorted marshaller.
func TestEveryMapSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	msgs := types.File_netcap_proto.Messages()
	withMap := 0
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		if !hasMaps(md) {
			continue
		}
		withMap++
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
		if err != nil {
			t.Fatal(err)
		}
		unsorted := 0
		for run := 0; run < 50; run++ {
			m := mt.New().Interface()
			fillMaps(rng, m.ProtoReflect(), 2+rng.IntN(20))
			before := proto.Clone(m)
			want := deterministic(t, m)
			got, err := AppendDelimited([]byte("x"), m)
			if err != nil {
				t.Fatalf("%s: %v", md.FullName(), err)
			}
			if !bytes.Equal(got[1:], want) || got[0] != 'x' {
				t.Fatalf("%s: AppendDelimited differs from the deterministic marshal\n got %x\nwant %x", md.FullName(), got[1:], want)
			}
			if !proto.Equal(m, before) {
				t.Fatalf("%s: AppendDelimited changed the record", md.FullName())
			}
			if vt, ok := m.(vtMessage); ok {
				plain, err := appendVT(protowire.AppendVarint(nil, uint64(vt.SizeVT())), vt, vt.SizeVT())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(plain, want) {
					unsorted++
				}
			}
		}
		if unsorted == 0 {
			t.Errorf("%s: the generated code gave sorted maps 50 times out of 50: the test cannot tell a sorted marshaller", md.FullName())
		}
	}
	if withMap == 0 {
		t.Fatal("no message with maps: the test checks nothing")
	}
}

// TestHTTPUnknownFields: an HTTP record with unknown fields has them last,
// after the maps, as proto's marshal does.
func TestHTTPUnknownFields(t *testing.T) {
	m := &types.HTTP{Host: "h", RequestHeader: map[string]string{"b": "2", "a": "1"}, RequestCookies: []*types.HTTPCookie{{Name: "c", Value: "v"}}}
	m.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 900, protowire.VarintType), 5))
	got, err := AppendDelimited(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	if want := deterministic(t, m); !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
}

// FuzzAppendHTTP: any HTTP message (the input unmarshalled) gives the bytes
// of the deterministic marshal and is left as it was.
func FuzzAppendHTTP(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 8; i++ {
		m := &types.HTTP{}
		fillMaps(rng, m.ProtoReflect(), 1+rng.IntN(6))
		f.Add(deterministic(f, m)[protowire.SizeVarint(uint64(proto.Size(m))):])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &types.HTTP{}
		if proto.Unmarshal(data, m) != nil {
			return
		}
		before := proto.Clone(m)
		want := deterministic(t, m)
		got, err := AppendDelimited(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got %x\nwant %x", got, want)
		}
		if !proto.Equal(m, before) {
			t.Fatal("AppendDelimited changed the record")
		}
	})
}
