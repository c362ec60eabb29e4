package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// TestOnRecord runs the engine with 3 workers and a hook that keeps its
// counts per worker number, without a lock (the race detector watches the
// promise that calls with one number never overlap): every worker number is
// in range, the records and sizes per type add up to what the files hold,
// and the writer's own records (the layer flows) come with number 3.
func TestOnRecord(t *testing.T) {
	const workers = 3
	for _, csv := range []bool{false, true} {
		src, err := OpenFile(filepath.Join("..", "testdata", "loopback.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		type tally struct{ records, bytes map[types.Type]int64 }
		per := make([]tally, workers+1)
		for i := range per {
			per[i] = tally{map[types.Type]int64{}, map[types.Type]int64{}}
		}
		bad := 0
		cfg := Config{
			Input:    InputConfig{BatchSize: 16},
			Decoding: DecodeConfig{Workers: workers},
			Output:   OutputConfig{Dir: t.TempDir(), CSV: csv},
			Hooks: Hooks{OnRecord: func(w int, typ types.Type, m proto.Message, size int) {
				if w < 0 || w > workers || m == nil || size <= 0 {
					bad++ // racy on purpose: it must stay 0
					return
				}
				per[w].records[typ]++
				per[w].bytes[typ] += int64(size)
			}},
		}
		sum, err := Run(context.Background(), src, cfg)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Fatalf("csv %v: %d calls with a worker number out of range, no message or no size", csv, bad)
		}
		records, bytes := map[string]int64{}, map[string]int64{}
		for w, c := range per {
			for typ, n := range c.records {
				name := types.Name(typ)
				records[name] += n
				bytes[name] += c.bytes[typ]
				if w == workers && !strings.HasSuffix(name, "Flow") && name != "Software" && name != "Service" {
					t.Errorf("csv %v: the writer passed %d %s records, it makes layer flows and the inventory only", csv, n, name)
				}
			}
		}
		if len(per[workers].records) == 0 {
			t.Errorf("csv %v: no layer-flow records from the writer", csv)
		}
		if len(records) != len(sum.Records) {
			t.Errorf("csv %v: hook saw %d record types, the run wrote %d", csv, len(records), len(sum.Records))
		}
		for name, n := range sum.Records {
			if records[name] != n {
				t.Errorf("csv %v: %s: hook saw %d records, the run wrote %d", csv, name, records[name], n)
			}
			if got, want := bytes[name], recordBytes(t, cfg.Output.Dir, name, csv); got != want {
				t.Errorf("csv %v: %s: hook saw %d bytes, the file holds %d", csv, name, got, want)
			}
		}
	}
}

// recordBytes is the bytes of the records of one type's file: without its
// header, length prefixes included.
func recordBytes(t *testing.T, dir, name string, csv bool) int64 {
	t.Helper()
	if csv {
		b, err := os.ReadFile(filepath.Join(dir, name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		_, rows, _ := strings.Cut(string(b), "\n")
		return int64(len(rows))
	}
	r, err := ncio.Open(filepath.Join(dir, name+".ncap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	for {
		b, err := r.NextRaw()
		if err != nil {
			return n
		}
		n += int64(protowire.SizeBytes(len(b)))
	}
}
