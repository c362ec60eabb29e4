package stream

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRunState(t *testing.T) {
	var r runState
	for _, seq := range []int64{1, 2, 5, 4, 7} {
		r.add(seq)
	}
	if r.Done != 2 || !slices.Equal(r.Extra, []int64{4, 5, 7}) {
		t.Fatalf("after 1 2 5 4 7: done %d, extra %v", r.Done, r.Extra)
	}
	r.add(3)
	if r.Done != 5 || !slices.Equal(r.Extra, []int64{7}) || r.has(6) || !r.has(7) || !r.has(1) {
		t.Fatalf("after 3: done %d, extra %v", r.Done, r.Extra)
	}
	for seq := int64(10); seq < 10+maxExtra+5; seq++ {
		r.add(seq)
	}
	if len(r.Extra) != maxExtra || r.has(7) || !r.has(10+maxExtra+4) {
		t.Fatalf("extra not capped at the newest %d: %d kept", maxExtra, len(r.Extra))
	}
	for id, want := range map[string]int64{"lab.Flow.abc.7": 7, "a.b.Flow.r1.12": 12} {
		k, seq, ok := partOf("netcap.x.Flow", id)
		if !ok || seq != want || k == "" {
			t.Errorf("partOf(%q) = %q %d %v", id, k, seq, ok)
		}
	}
	for _, id := range []string{"", "7", "run.x", "run.0", ".5"} {
		if _, _, ok := partOf("netcap.x.Flow", id); ok {
			t.Errorf("partOf(%q) took it", id)
		}
	}
}

// TestStateRecovery: the saved state names a batch going to two files; one
// holds all of its extent, the other only its start. Loading counts the
// parts of the first and cuts the torn write off the second.
func TestStateRecovery(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "lab"), 0o755)
	whole := filepath.Join(out, "lab", "Flow.ncap.gz")
	torn := filepath.Join(out, "lab", "TCP.ncap.gz")
	os.WriteFile(whole, []byte("0123456789"), 0o644)
	os.WriteFile(torn, []byte("01234567"), 0o644)
	st := &collectState{Runs: map[partKey]*runState{"netcap.lab.Flow r": {Done: 2}}}
	st.Pending = []extent{
		{File: "lab/Flow.ncap.gz", Offset: 4, Length: 6, Parts: []part{{"netcap.lab.Flow r", 3}, {"netcap.lab.Flow r", 4}}},
		{File: "lab/TCP.ncap.gz", Offset: 5, Length: 6, Parts: []part{{"netcap.lab.TCP r", 1}}},
		{File: "lab/UDP.ncap.gz", Offset: 0, Length: 6, Parts: []part{{"netcap.lab.UDP r", 1}}},
	}
	if err := st.save(out); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Runs["netcap.lab.Flow r"]; r == nil || r.Done != 4 {
		t.Fatalf("whole extent not counted: %+v", r)
	}
	if r := got.Runs["netcap.lab.TCP r"]; r != nil && r.has(1) {
		t.Fatal("a torn write counted as written")
	}
	if r := got.Runs["netcap.lab.UDP r"]; r != nil && r.has(1) {
		t.Fatal("a write to a missing file counted as written")
	}
	if b, _ := os.ReadFile(torn); string(b) != "01234" {
		t.Fatalf("torn file holds %q, want it cut back to 01234", b)
	}
	if b, _ := os.ReadFile(whole); string(b) != "0123456789" {
		t.Fatalf("whole file changed: %q", b)
	}
	os.WriteFile(filepath.Join(out, StateFile), []byte("{not json"), 0o644)
	if _, err := loadState(out); err == nil {
		t.Fatal("a broken state file was taken")
	}
	os.WriteFile(filepath.Join(out, StateFile), []byte(`{"pending":[{"file":"../../etc/x","offset":0,"length":1}]}`), 0o644)
	if _, err := loadState(out); err == nil {
		t.Fatal("a state naming a file outside the output folder was taken")
	}
}
