package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/internal/testutil"
	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	"github.com/netcap/netcap/types"
)

// The Parquet files are read back with DuckDB (tools/duckdb/check.mjs,
// through Node and @duckdb/node-api), a reader that shares no code with the
// Go library that wrote them, and compared with the .ncap.gz files of the
// same input as net dump -json renders them: every file's row count, its
// timestamp columns' Parquet type, its metadata, and the first rows' values
// column by column.

// duckRows is how many rows of each file are compared value by value.
const duckRows = 300

// duckFile is what check.mjs says about one file.
type duckFile struct {
	File    string
	Rows    int64
	Groups  int
	Columns []struct{ Name, Type string }
	Nanos   []string
	KV      map[string]string
	Values  [][]*string
}

// duckScript returns node and the checker script, or skips the test.
func duckScript(t *testing.T) (string, string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: Parquet files not checked with DuckDB (apt-get install nodejs npm, then npm ci in tools/duckdb)")
	}
	dir, _ := filepath.Abs(filepath.Join("..", "tools", "duckdb"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		t.Skip("@duckdb/node-api not installed: Parquet files not checked with DuckDB (npm ci in tools/duckdb)")
	}
	return node, filepath.Join(dir, "check.mjs")
}

// readDuck runs the checker over files and returns its answer by file.
func readDuck(t *testing.T, files []string) map[string]*duckFile {
	t.Helper()
	node, script := duckScript(t)
	list := filepath.Join(t.TempDir(), "files.txt")
	if err := os.WriteFile(list, []byte(strings.Join(files, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, "-limit", strconv.Itoa(duckRows), "-list", list)
	cmd.Dir = filepath.Dir(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("DuckDB checker: %v: %s", err, stderr.String())
	}
	got := map[string]*duckFile{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var f duckFile
		if err := dec.Decode(&f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("DuckDB checker output: %v", err)
		}
		got[f.File] = &f
	}
	if len(got) != len(files) {
		t.Fatalf("DuckDB read %d of %d files", len(got), len(files))
	}
	return got
}

// pair is a record file and the Parquet file of the same records.
type pair struct{ gz, pq string }

// checkPairs compares each Parquet file, as DuckDB reads it, with the
// records of its record file; it returns the records compared.
func checkPairs(t *testing.T, pairs []pair) (rows, values int64) {
	t.Helper()
	files := make([]string, len(pairs))
	for i, p := range pairs {
		files[i] = p.pq
	}
	duck := readDuck(t, files)
	for _, p := range pairs {
		r, v := comparePair(t, p, duck[p.pq])
		rows += r
		values += v
	}
	return rows, values
}

func comparePair(t *testing.T, p pair, df *duckFile) (rows, values int64) {
	t.Helper()
	r, err := ncio.Open(p.gz)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := r.Header()
	md := r.New().ProtoReflect().Descriptor()
	name := filepath.Base(p.pq)
	if df.KV["netcap.type"] != types.Name(h.Type) || df.KV["netcap.source"] != h.InputSource || df.KV["netcap.version"] != h.Version {
		t.Errorf("%s: metadata %v, header %v", name, df.KV, h)
	}
	if len(df.Columns) != md.Fields().Len() {
		t.Fatalf("%s: %d columns, %s has %d fields", name, len(df.Columns), md.Name(), md.Fields().Len())
	}
	nanos := map[string]bool{}
	for _, n := range df.Nanos {
		nanos[n] = true
	}
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		col := df.Columns[i]
		if col.Name != string(fd.Name()) {
			t.Fatalf("%s: column %d is %s, field %s", name, i, col.Name, fd.Name())
		}
		if ncio.IsTimestamp(fd) && (!nanos[col.Name] || !strings.HasPrefix(col.Type, "TIMESTAMP")) {
			t.Errorf("%s.%s: DuckDB type %s, Parquet TIMESTAMP(NANOS, UTC) %v; want a timestamp", name, col.Name, col.Type, nanos[col.Name])
		}
	}
	m := r.New()
	var n int64
	for {
		b, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", p.gz, err)
		}
		if n < int64(len(df.Values)) {
			if err := proto.Unmarshal(b, m); err != nil {
				t.Fatal(err)
			}
			// The record as net dump -json prints it.
			var rec map[string]any
			dec := json.NewDecoder(bytes.NewReader(ncio.AppendJSON(nil, m.ProtoReflect(), &ncio.Format{})))
			dec.UseNumber()
			if err := dec.Decode(&rec); err != nil {
				t.Fatal(err)
			}
			row := df.Values[n]
			for i := 0; i < md.Fields().Len(); i++ {
				fd := md.Fields().Get(i)
				if msg := sameCell(fd, rec[string(fd.Name())], row[i]); msg != "" {
					t.Errorf("%s row %d, %s: %s", name, n+1, fd.Name(), msg)
					return rows, values
				}
				values++
			}
		}
		n++
	}
	if n != df.Rows {
		t.Errorf("%s: %d rows, %s holds %d records", name, df.Rows, filepath.Base(p.gz), n)
	}
	if df.Groups < 1 && n > 0 {
		t.Errorf("%s: no row group", name)
	}
	return n, values
}

// sameCell compares the JSON value of a field with DuckDB's cell (see
// check.mjs) and says how they differ, or "".
func sameCell(fd protoreflect.FieldDescriptor, v any, cell *string) string {
	got := "NULL"
	if cell != nil {
		got = *cell
	}
	want := ""
	switch {
	case fd.IsList():
		want = strconv.Itoa(len(v.([]any)))
	case fd.IsMap():
		want = strconv.Itoa(len(v.(map[string]any)))
	case fd.Kind() == protoreflect.MessageKind:
		if link := selfLink(fd.Message()); link != "" {
			// A linked list: a LIST of its entries.
			k := 0
			for v != nil {
				k++
				v = v.(map[string]any)[link]
			}
			want = strconv.Itoa(k)
		} else if v == nil {
			want = "NULL"
		} else {
			want = "struct"
		}
	case ncio.IsTimestamp(fd):
		ns, _ := v.(json.Number).Int64()
		d, err := strconv.ParseInt(got, 10, 64)
		// DuckDB reads TIMESTAMP(NANOS, UTC) at microseconds.
		if err != nil || d-ns >= 1000 || ns-d >= 1000 {
			return fmt.Sprintf("DuckDB %s ns, record %d ns", got, ns)
		}
		return ""
	case fd.Kind() == protoreflect.FloatKind || fd.Kind() == protoreflect.DoubleKind:
		if v == nil {
			// NaN and infinities are null in JSON.
			if cell == nil {
				return "NULL for NaN or infinity"
			}
			return ""
		}
		x, _ := v.(json.Number).Float64()
		y, err := strconv.ParseFloat(got, 64)
		if err != nil || math.Abs(x-y) > 1e-6*math.Max(1, math.Abs(x)) {
			return fmt.Sprintf("DuckDB %s, record %v", got, x)
		}
		return ""
	default:
		switch x := v.(type) {
		case bool:
			want = strconv.FormatBool(x)
		case json.Number:
			want = x.String()
		case string:
			want = x
		default:
			return fmt.Sprintf("unexpected JSON %T", v)
		}
	}
	if got != want {
		return fmt.Sprintf("DuckDB %q, record %q", got, want)
	}
	return ""
}

// selfLink names the field by which md links to the next md (GRE's routing
// entries), or "".
func selfLink(md protoreflect.MessageDescriptor) string {
	link := ""
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && fd.Message().FullName() == md.FullName() {
			if link != "" {
				return ""
			}
			link = string(fd.Name())
		}
	}
	return link
}

// capturePairs runs the engine over path twice, .ncap.gz and -parquet, and
// pairs the files by type.
func capturePairs(t *testing.T, path string) []pair {
	t.Helper()
	gzDir, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2}, Output: OutputConfig{IgnoreUnknown: true}})
	pqDir, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2}, Output: OutputConfig{IgnoreUnknown: true, Parquet: true}})
	gz, _ := filepath.Glob(filepath.Join(gzDir, "*.ncap.gz"))
	var out []pair
	for _, g := range gz {
		p := filepath.Join(pqDir, strings.TrimSuffix(filepath.Base(g), ".ncap.gz")+".parquet")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %s has no Parquet counterpart", path, filepath.Base(g))
		}
		out = append(out, pair{gz: g, pq: p})
	}
	pq, _ := filepath.Glob(filepath.Join(pqDir, "*.parquet"))
	if len(pq) != len(gz) {
		t.Fatalf("%s: %d .ncap.gz files, %d .parquet files", path, len(gz), len(pq))
	}
	return out
}

// TestParquetDuckDBTestdata checks the Parquet files of the project's own
// captures, and of records of every type with every field set (lists,
// maps, nested and linked messages, enums, unsigned and float values).
func TestParquetDuckDBTestdata(t *testing.T) {
	duckScript(t)
	var pairs []pair
	for _, path := range testdataCaptures(t) {
		pairs = append(pairs, capturePairs(t, path)...)
	}
	dir := t.TempDir()
	for v := range types.Type_name {
		tt := types.Type(v)
		md := ncio.MessageDescriptor(tt)
		if md == nil || tt == types.Type_NC_Header || tt == types.Type_NC_Batch {
			continue
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
		if err != nil {
			t.Fatal(err)
		}
		gz := filepath.Join(dir, types.Name(tt)+".ncap.gz")
		w, err := ncio.Create(gz, &types.Header{Type: tt, Version: "test", InputSource: "filled"}, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			m := mt.New()
			testutil.Fill(m, i, 3)
			if err := w.Write(m.Interface()); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		pq := filepath.Join(dir, types.Name(tt)+".parquet")
		if _, err := ncparquet.Convert(gz, pq, ncparquet.Options{RowGroupRows: 2}); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, pair{gz: gz, pq: pq})
	}
	rows, values := checkPairs(t, pairs)
	t.Logf("%d Parquet files, %d rows, %d values compared", len(pairs), rows, values)
}

// TestParquetDuckDBShared checks the Parquet files of every shared capture.
func TestParquetDuckDBShared(t *testing.T) {
	duckScript(t)
	if testing.Short() {
		t.Skip("every shared capture twice through the engine")
	}
	captures := corpusFiles()
	if len(captures) == 0 {
		t.Skipf("no shared captures in %s (the shared/ folder beside the repository is absent)", corpusDir)
	}
	var pairs []pair
	for _, path := range captures {
		src, err := OpenFile(path)
		if err != nil {
			continue // not a capture the engine reads: the corpus test covers it
		}
		src.Close()
		pairs = append(pairs, capturePairs(t, path)...)
	}
	rows, values := checkPairs(t, pairs)
	t.Logf("%d captures, %d Parquet files, %d rows, %d values compared", len(captures), len(pairs), rows, values)
}
