package capture

import (
	"fmt"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// flowIDs maps "frame/occurrence" of each record of a type to its FlowID.
func flowIDs(recs []proto.Message) map[string]string {
	out := map[string]string{}
	seen := map[int64]int{}
	for _, m := range recs {
		r := m.ProtoReflect()
		fd := r.Descriptor().Fields().ByName("FlowID")
		fn := r.Descriptor().Fields().ByName("FrameNumber")
		if fd == nil || fn == nil {
			return nil
		}
		f := r.Get(fn).Int()
		seen[f]++
		out[fmt.Sprintf("%d/%d", f, seen[f])] = r.Get(fd).String()
	}
	return out
}

// TestFlowIDIndependentOfSelection: the FlowID a packet record carries is
// the same whatever else is selected: a run with -include of one record
// type gives every record of that type the FlowID of a full run.
func TestFlowIDIndependentOfSelection(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/*.pcap")
	if len(paths) == 0 {
		t.Fatal("no captures in testdata/")
	}
	for _, path := range paths {
		dir, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2}})
		full := readRecords(t, dir)
		checked := 0
		for name, recs := range full {
			want := flowIDs(recs)
			if want == nil || len(recs) == 0 {
				continue // not a packet record
			}
			typ := types.Type(types.Type_value["NC_"+name])
			only, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2, Enabled: func(tt types.Type) bool { return tt == typ }}})
			got := flowIDs(readRecords(t, only)[name])
			for k, id := range want {
				if got[k] != id {
					t.Errorf("%s: %s record %s: FlowID %q with -include %s, %q in a full run", filepath.Base(path), name, k, got[k], name, id)
					break
				}
			}
			checked++
		}
		if checked < 5 {
			t.Errorf("%s: only %d record types compared", filepath.Base(path), checked)
		}
	}
}

// TestConnectionsIndependentOfSelection: a Connection record is the same
// whatever else is selected; its ApplicationProto ("HTTP", "SMTP/TLS",
// "FTP-DATA") comes from the stream parsers, which run for it even when
// none of their own records are selected.
func TestConnectionsIndependentOfSelection(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/*.pcap")
	named := 0
	for _, path := range paths {
		dir, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2}})
		full := readRecords(t, dir)["Connection"]
		only, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2, Enabled: func(tt types.Type) bool { return tt == types.Type_NC_Connection }}})
		got := readRecords(t, only)["Connection"]
		if len(got) != len(full) {
			t.Fatalf("%s: %d Connection records with -include Connection, %d in a full run", filepath.Base(path), len(got), len(full))
		}
		for i := range full {
			if !proto.Equal(got[i], full[i]) {
				t.Errorf("%s: Connection %d differs with -include Connection:\n%v\nfull run:\n%v", filepath.Base(path), i, got[i], full[i])
			}
			if full[i].(*types.Connection).ApplicationProto != "" {
				named++
			}
		}
	}
	if named == 0 {
		t.Error("no Connection record names an application protocol")
	}
}
