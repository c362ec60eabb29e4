package ncparquet

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// fuzzTypes are record types with every kind of column: nested messages and
// lists of them (TCP options, DNS questions), maps and lists of strings
// (HTTP), a linked list (GRE), enums and unsigned values (Ethernet, IPv6,
// NTP).
var fuzzTypes = []types.Type{types.Type_NC_TCP, types.Type_NC_DNS, types.Type_NC_HTTP, types.Type_NC_GRE, types.Type_NC_IPv6, types.Type_NC_NTP}

// FuzzWireReader compares the wire reader with protobuf's own decoding: any
// bytes that proto.Unmarshal and the tools' check (wirecheck) take as a
// record must give, through WriteRecord, the very file that Write gives for
// the message proto.Unmarshal made of them (fields in another order, a
// message or a key that occurs twice, packed or unpacked lists, unknown
// fields); bytes they refuse must not make WriteRecord panic.
func FuzzWireReader(f *testing.F) {
	for i, t := range fuzzTypes {
		md := ncio.MessageDescriptor(t)
		m := newOf(md)
		testutil.Fill(m.ProtoReflect(), i, 3)
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
		// The same fields in reverse order, a field twice, a packed run
		// as single values: what another protobuf writer may send.
		f.Add(uint8(i), append(append([]byte{}, b[len(b)/2:]...), b[:len(b)/2]...))
		f.Add(uint8(i), append(append([]byte{}, b...), b...))
	}
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		tt := fuzzTypes[int(which)%len(fuzzTypes)]
		md := ncio.MessageDescriptor(tt)
		dir := t.TempDir()
		a, err := Create(filepath.Join(dir, "a"+Ext), tt, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := newOf(md)
		valid := proto.Unmarshal(rec, m) == nil && wirecheck.NewChecker(md, wirecheck.Default).Check(rec) == nil
		werr := a.WriteRecord(rec)
		a.Close()
		if !valid {
			return // refused or not: no panic is all that is asked
		}
		if werr != nil {
			t.Fatalf("%s: proto.Unmarshal takes the record, the wire reader does not: %v", md.Name(), werr)
		}
		b, _ := Create(filepath.Join(dir, "b"+Ext), tt, nil, Options{})
		if err := b.Write(m); err != nil {
			t.Fatal(err)
		}
		b.Close()
		fa, _ := os.ReadFile(a.Path())
		fb, _ := os.ReadFile(b.Path())
		if !bytes.Equal(fa, fb) {
			t.Fatalf("%s: the wire reader and proto.Unmarshal disagree on %x", md.Name(), rec)
		}
	})
}
