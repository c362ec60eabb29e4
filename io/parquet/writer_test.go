package ncparquet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/internal/testutil"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// recordTypes returns every record type of this build with a message type,
// so that a type added to netcap.proto is tested without a change here.
func recordTypes(t *testing.T) []types.Type {
	var out []types.Type
	for v := range types.Type_name {
		tt := types.Type(v)
		if tt == types.Type_NC_Header || tt == types.Type_NC_Batch {
			continue
		}
		if ncio.MessageDescriptor(tt) != nil {
			out = append(out, tt)
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d record types found", len(out))
	}
	return out
}

func newRecord(t types.Type, seed int) proto.Message {
	m := ncio.MessageDescriptor(t)
	msg := newOf(m)
	testutil.Fill(msg.ProtoReflect(), seed, 3)
	return msg
}

func newOf(md protoreflect.MessageDescriptor) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		panic(err)
	}
	return mt.New().Interface()
}

func readTable(t *testing.T, path string) (arrow.Table, *file.Reader) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdr.Close() })
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Cleanup(tbl.Release)
	return tbl, rdr
}

// TestEveryType writes filled records of every record type, then reads the
// file back: rows, the timestamp type and the header metadata. DuckDB, an
// independent reader, checks the values (duckdb_test.go).
func TestEveryType(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("NETCAP_PARQUET_KEEP"); d != "" {
		dir = d
	}
	for _, tt := range recordTypes(t) {
		name := types.Name(tt)
		path := filepath.Join(dir, name+Ext)
		w, err := Create(path, tt, &types.Header{Type: tt, Version: "v-test", InputSource: "in.pcap", Created: 1}, Options{RowGroupRows: 2})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := 0; i < 3; i++ {
			if err := w.Write(newRecord(tt, i)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tbl, rdr := readTable(t, path)
		if tbl.NumRows() != 3 {
			t.Errorf("%s: %d rows, want 3", name, tbl.NumRows())
		}
		if rdr.NumRowGroups() != 2 {
			t.Errorf("%s: %d row groups, want 2 (2 rows per group)", name, rdr.NumRowGroups())
		}
		md := ncio.MessageDescriptor(tt)
		if int(tbl.NumCols()) != md.Fields().Len() {
			t.Errorf("%s: %d columns, want %d", name, tbl.NumCols(), md.Fields().Len())
		}
		kv := rdr.MetaData().KeyValueMetadata()
		if got := kv.FindValue("netcap.type"); got == nil || *got != name {
			t.Errorf("%s: netcap.type metadata %v", name, got)
		}
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			col := tbl.Schema().Field(i)
			if col.Name != string(fd.Name()) {
				t.Errorf("%s: column %d is %s, want %s", name, i, col.Name, fd.Name())
			}
			if ncio.IsTimestamp(fd) {
				ts, ok := col.Type.(*arrow.TimestampType)
				if !ok || ts.Unit != arrow.Nanosecond || ts.TimeZone != "UTC" {
					t.Errorf("%s.%s: type %v, want timestamp[ns, UTC]", name, fd.Name(), col.Type)
				}
			}
		}
	}
}

// TestValues checks values of the kinds the mapping treats differently
// against the record they came from.
func TestValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "IPv4"+Ext)
	w, err := Create(path, types.Type_NC_IPv4, &types.Header{Type: types.Type_NC_IPv4}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := []*types.IPv4{
		{Timestamp: 1_700_000_000_123_456_789, Version: 4, TTL: 64, SrcIP: "10.0.0.1", DstIP: "10.0.0.2", Protocol: 6,
			Options: []*types.IPv4Option{{OptionType: 7, OptionLength: 3, OptionData: []byte{1, 2}}}},
		{Timestamp: -5, SrcIP: "", Padding: []byte{0}},
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := readTable(t, path)
	col := func(name string) arrow.Array {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("no column %s", name)
		}
		return tbl.Column(idx[0]).Data().Chunk(0)
	}
	ts := col("Timestamp").(*array.Timestamp)
	if ts.Value(0) != arrow.Timestamp(recs[0].Timestamp) || ts.Value(1) != -5 {
		t.Errorf("Timestamp %v %v", ts.Value(0), ts.Value(1))
	}
	if got := col("SrcIP").(*array.String).Value(0); got != "10.0.0.1" {
		t.Errorf("SrcIP %q", got)
	}
	if got := col("TTL").(*array.Int32).Value(0); got != 64 {
		t.Errorf("TTL %d", got)
	}
	opts := col("Options").(*array.List)
	if s, e := opts.ValueOffsets(0); e-s != 1 {
		t.Errorf("first record has %d options, want 1", e-s)
	}
	if s, e := opts.ValueOffsets(1); e-s != 0 {
		t.Errorf("second record has %d options, want 0", e-s)
	}
	od := opts.ListValues().(*array.Struct).Field(2).(*array.Binary)
	if !bytes.Equal(od.Value(0), []byte{1, 2}) {
		t.Errorf("OptionData %x", od.Value(0))
	}
}

// TestChain writes GRE's linked routing entries as a list, in chain order.
func TestChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "GRE"+Ext)
	w, err := Create(path, types.Type_NC_GRE, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &types.GRE{Timestamp: 1, RoutingPresent: true, Routing: &types.GRERouting{AddressFamily: 1,
		Next: &types.GRERouting{AddressFamily: 2, Next: &types.GRERouting{AddressFamily: 3}}}}
	for _, rec := range []*types.GRE{r, {Timestamp: 2}} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := readTable(t, path)
	idx := tbl.Schema().FieldIndices("Routing")[0]
	l := tbl.Column(idx).Data().Chunk(0).(*array.List)
	st := l.ListValues().(*array.Struct)
	if st.NumField() != 4 {
		t.Errorf("routing entry has %d columns, want 4 (Next left out)", st.NumField())
	}
	af := st.Field(0).(*array.Int32)
	s, e := l.ValueOffsets(0)
	var got []int32
	for i := s; i < e; i++ {
		got = append(got, af.Value(int(i)))
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("routing chain %v, want [1 2 3]", got)
	}
	if s, e := l.ValueOffsets(1); e != s {
		t.Errorf("record without routing has %d entries", e-s)
	}
}

// TestDeterministic: the same records give the same bytes.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for run := range files {
		path := filepath.Join(dir, fmt.Sprintf("HTTP%d%s", run, Ext))
		w, err := Create(path, types.Type_NC_HTTP, &types.Header{Type: types.Type_NC_HTTP, Created: 7}, Options{RowGroupRows: 5})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 23; i++ {
			if err := w.Write(newRecord(types.Type_NC_HTTP, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		files[run], _ = os.ReadFile(path)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two writes of the same records differ")
	}
}

// TestWritePart reads length-delimited parts as the capture engine hands
// them on, the same rows as Write.
func TestWritePart(t *testing.T) {
	dir := t.TempDir()
	var part []byte
	var err error
	a, _ := Create(filepath.Join(dir, "a"+Ext), types.Type_NC_TCP, nil, Options{})
	for i := 0; i < 10; i++ {
		r := newRecord(types.Type_NC_TCP, i)
		if part, err = ncio.AppendDelimited(part, r); err != nil {
			t.Fatal(err)
		}
		if err := a.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := Create(filepath.Join(dir, "b"+Ext), types.Type_NC_TCP, nil, Options{})
	if err := b.WritePart(part, 10); err != nil {
		t.Fatal(err)
	}
	c, _ := Create(filepath.Join(dir, "c"+Ext), types.Type_NC_TCP, nil, Options{})
	if err := c.WritePart(part[:len(part)-1], 10); err == nil {
		t.Error("a part cut inside a record was taken")
	}
	c.Close()
	a.Close()
	b.Close()
	ba, _ := os.ReadFile(a.Path())
	bb, _ := os.ReadFile(b.Path())
	if a.Count() != 10 || !bytes.Equal(ba, bb) {
		t.Errorf("WritePart and Write differ (%d records)", a.Count())
	}
}

// TestMemoryFlat writes 1,000,000 records in row groups of 20,000 rows: the
// groups are written as they fill, so the heap after all of them is about
// what it was after the first few.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,000,000 records")
	}
	path := filepath.Join(t.TempDir(), "UDP"+Ext)
	w, err := Create(path, types.Type_NC_UDP, nil, Options{RowGroupRows: 20000})
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	r := &types.UDP{SrcPort: 53, DstPort: 40000, Length: 80, Payload: make([]byte, 64)}
	var early uint64
	const n = 1000000
	for i := 0; i < n; i++ {
		r.Timestamp = int64(i)
		r.FrameNumber = int64(i)
		r.Payload[0] = byte(i)
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if i == 100000 {
			early = heap()
		}
	}
	late := heap()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.RowGroups() != n/20000 {
		t.Errorf("%d row groups, want %d", w.RowGroups(), n/20000)
	}
	// The records themselves are 1,000,000 x ~100 bytes = 100 MB: a writer
	// that held them would grow by 90 MB. The allowance is for the pools
	// of the encoders and the collector's timing.
	if late > early+32<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d records", early, late, n)
	}
	st, _ := os.Stat(path)
	t.Logf("%d records, %d row groups, %d bytes; heap %d -> %d", n, w.RowGroups(), st.Size(), early, late)
}

// TestExtra adds the label column and refuses a name the record has.
func TestExtra(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(filepath.Join(dir, "TCP"+Ext), types.Type_NC_TCP, nil, Options{Extra: []string{"label"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteExtra(&types.TCP{SrcPort: 1}, "attack"); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&types.TCP{}); err == nil {
		t.Error("a row without its label was taken")
	}
	if err := w.WriteExtra(&types.UDP{}, "x"); err == nil {
		t.Error("a UDP record was taken into a TCP file")
	}
	w.Close()
	tbl, _ := readTable(t, w.Path())
	last := tbl.Schema().Field(int(tbl.NumCols()) - 1)
	if last.Name != "label" || tbl.Column(int(tbl.NumCols())-1).Data().Chunk(0).(*array.String).Value(0) != "attack" {
		t.Errorf("last column %v", last)
	}
	if _, err := Create(filepath.Join(dir, "MPLS"+Ext), types.Type_NC_MPLS, nil, Options{Extra: []string{"Label"}}); err == nil {
		t.Error("an extra column named like a field was taken")
	}
}
