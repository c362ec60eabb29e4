package label

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netcap/netcap/capture"
	lab "github.com/netcap/netcap/label"
)

// TestDataset runs the documented workflow (docs/parquet.md) end to end on
// the shared Suricata pairs: net capture, net label -alerts eve.json
// -parquet -drop-identifiers, and reads FlowFeatures_labeled.parquet back
// with DuckDB, an independent reader: one row per connection, no
// identifier column, and the same labels, row by row, as the CSV that the
// same labelling writes with every column.
func TestDataset(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the dataset is not read back (.ci/run installs it)")
	}
	check, _ := filepath.Abs(filepath.Join("..", "..", "tools", "duckdb", "check.mjs"))
	if _, err := os.Stat(filepath.Join(filepath.Dir(check), "node_modules", "@duckdb", "node-api")); err != nil {
		t.Skip("@duckdb/node-api not installed: run npm ci in tools/duckdb")
	}
	pairs := []struct{ pcap, eve string }{
		{"kareem-attack-scan/attack_scan.pcap", "kareem-attack-scan/eve.json"},
		{"menna-zeus/zeus.pcapng", "menna-zeus/eve.json"},
	}
	ran := 0
	for _, p := range pairs {
		pcap := filepath.Join("..", "..", "..", "shared", "labels", p.pcap)
		eve := filepath.Join("..", "..", "..", "shared", "labels", p.eve)
		if _, err := os.Stat(pcap); err != nil {
			continue
		}
		ran++
		dir := t.TempDir()
		recs := filepath.Join(dir, "records")
		src, err := capture.OpenFile(pcap)
		if err != nil {
			t.Fatal(err)
		}
		_, err = capture.Run(context.Background(), src, capture.Config{
			Decoding: capture.DecodeConfig{Workers: 2},
			Output:   capture.OutputConfig{Dir: recs, Compress: true, IgnoreUnknown: true},
		})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		dataset, full := filepath.Join(dir, "dataset"), filepath.Join(dir, "csv")
		if _, stderr, code := label(t, "-read", recs, "-alerts", eve, "-parquet", "-drop-identifiers", "-out", dataset, "-quiet"); code != 0 {
			t.Fatalf("%s: net label -parquet: exit %d: %s", p.pcap, code, stderr)
		}
		if _, stderr, code := label(t, "-read", recs, "-alerts", eve, "-out", full, "-quiet"); code != 0 {
			t.Fatalf("%s: net label: exit %d: %s", p.pcap, code, stderr)
		}
		want := csvLabels(t, filepath.Join(full, "FlowFeatures_labeled.csv.gz"))
		out, err := exec.Command(node, check, "-limit", "1000000", filepath.Join(dataset, "FlowFeatures_labeled.parquet")).Output()
		if err != nil {
			t.Fatalf("%s: DuckDB: %v", p.pcap, err)
		}
		var got struct {
			Rows    int
			Columns []struct{ Name, Type string }
			Values  [][]*string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: DuckDB's answer: %v", p.pcap, err)
		}
		var names []string
		for _, c := range got.Columns {
			names = append(names, c.Name)
		}
		for _, id := range lab.Identifiers {
			if slices.Contains(names, id) {
				t.Errorf("%s: column %s in the dataset", p.pcap, id)
			}
		}
		li := slices.Index(names, lab.Column)
		if li < 0 || !slices.Contains(names, "FwdPackets") || !slices.Contains(names, "Duration") {
			t.Fatalf("%s: columns %v", p.pcap, names)
		}
		if got.Rows != len(want) || len(got.Values) != len(want) {
			t.Fatalf("%s: %d rows (%d read), the CSV %d", p.pcap, got.Rows, len(got.Values), len(want))
		}
		attacks := 0
		for i, row := range got.Values {
			if row[li] == nil || *row[li] != want[i] {
				t.Fatalf("%s: row %d: label %v, the CSV's %q", p.pcap, i, row[li], want[i])
			}
			if want[i] != "normal" {
				attacks++
			}
		}
		if attacks == 0 {
			t.Errorf("%s: no labelled flow: the labelling did not reach the dataset", p.pcap)
		}
		t.Logf("%s: %d flows, %d labelled, %d columns", p.pcap, got.Rows, attacks, len(names))
	}
	if ran == 0 {
		t.Skip("the shared Suricata pairs (../shared/labels) are absent")
	}
}

// csvLabels returns the label column of a labelled CSV file.
func csvLabels(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bufio.NewReader(zr))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], lab.Column)
	var out []string
	for _, row := range rows[1:] {
		out = append(out, row[col])
	}
	return out
}

// TestDropFlag: -drop leaves the fields out of CSV files too, and a name no
// record type has is refused in one line.
func TestDropFlag(t *testing.T) {
	recs, _ := loopbackRecords(t)
	p := filepath.Join(t.TempDir(), "attacks.yml")
	os.WriteFile(p, []byte("timezone: UTC\nattacks:\n  - name: x\n    start: 2000-01-01 00:00:00\n    end: 2000-01-01 01:00:00\n    attackers: [\"::1\"]\n    category: c\n"), 0o644)
	if _, stderr, code := label(t, "-read", recs, "-attacks", p, "-drop", "SrcIP,NoSuchField", "-out", filepath.Join(t.TempDir(), "o")); code != 2 ||
		!strings.Contains(stderr, "-drop NoSuchField: no record type has this field") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("unknown field: exit %d, stderr %q", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "o")
	if _, stderr, code := label(t, "-read", recs, "-attacks", p, "-drop", "SrcIP,DstPort", "-out", out, "-quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(filepath.Join(out, "TCP_labeled.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	header, err := csv.NewReader(zr).Read()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(header, "SrcIP") || slices.Contains(header, "DstPort") || !slices.Contains(header, "DstIP") || header[len(header)-1] != lab.Column {
		t.Errorf("TCP header %v", header)
	}
}
