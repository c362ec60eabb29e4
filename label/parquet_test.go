package label

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestParquetLabels: -parquet writes one <Type>_labeled.parquet per record
// type with the same rows and labels as the CSV output, the label column
// last; the record columns are those of net capture -parquet.
func TestParquetLabels(t *testing.T) {
	recs := capture(t, filepath.Join("..", "testdata", "loopback.pcap"))
	// An attack on ::1 over the whole capture, so that not every label
	// is normal.
	yml := filepath.Join(t.TempDir(), "attacks.yml")
	os.WriteFile(yml, []byte("timezone: UTC\nattacks:\n  - name: loop attack\n    start: 2000-01-01 00:00:00\n    end: 2100-01-01 00:00:00\n    attackers: [\"::1\"]\n    victims: [\"::1\"]\n    category: intrusion\n"), 0o644)
	sumCSV, outCSV := run(t, recs, Config{Attacks: yml, Sep: ","})
	sumPq, outPq := run(t, recs, Config{Attacks: yml, Parquet: true, ParquetRows: 16})
	if len(sumPq.Types) != len(sumCSV.Types) || len(sumPq.Types) < 10 {
		t.Fatalf("%d types as Parquet, %d as CSV", len(sumPq.Types), len(sumCSV.Types))
	}
	labelled := 0
	for _, tr := range sumPq.Types {
		if !strings.HasSuffix(tr.File, "_labeled.parquet") {
			t.Errorf("%s: file %s", tr.Type, tr.File)
		}
		csvTable := readTable(t, outCSV, tr.Type, ',')
		labels, ncols, groups := parquetLabels(t, filepath.Join(outPq, tr.File))
		if want := (len(labels) + 15) / 16; groups != want {
			t.Errorf("%s: %d rows in %d row groups, want %d of at most 16 rows", tr.Type, len(labels), groups, want)
		}
		if len(labels) != len(csvTable.rows) {
			t.Fatalf("%s: %d Parquet rows, %d CSV rows", tr.Type, len(labels), len(csvTable.rows))
		}
		for i, row := range csvTable.rows {
			if labels[i] != row[len(row)-1] {
				t.Fatalf("%s row %d: label %q in Parquet, %q in CSV", tr.Type, i+1, labels[i], row[len(row)-1])
			}
			if labels[i] != Normal {
				labelled++
			}
		}
		if ncols != len(csvTable.cols) {
			t.Errorf("%s: %d Parquet columns, %d CSV columns", tr.Type, ncols, len(csvTable.cols))
		}
	}
	if labelled == 0 {
		t.Error("no record got the alert's label: the comparison checks normal only")
	}
}

// parquetLabels returns the label column of a labelled Parquet file, its
// number of columns and of row groups, checking that label is the last.
func parquetLabels(t *testing.T, path string) ([]string, int, int) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	last := int(tbl.NumCols()) - 1
	if tbl.Schema().Field(last).Name != Column {
		t.Fatalf("%s: last column %q", path, tbl.Schema().Field(last).Name)
	}
	var out []string
	for _, chunk := range tbl.Column(last).Data().Chunks() {
		s := chunk.(*array.String)
		for i := 0; i < s.Len(); i++ {
			out = append(out, s.Value(i))
		}
	}
	if kv := rdr.MetaData().KeyValueMetadata().FindValue("netcap.type"); kv == nil || !strings.HasPrefix(filepath.Base(path), *kv+"_") {
		t.Errorf("%s: netcap.type metadata %v", path, kv)
	}
	return out, int(tbl.NumCols()), rdr.NumRowGroups()
}
