package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/testutil"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
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

// TestCollectorOrder publishes the parts of one run out of order, one of
// them twice, one late and one never: the collector writes them in the
// agent's order, skips the second copy, after OrderWait writes the part
// behind the missing ones where it falls, and the late one at once.
func TestCollectorOrder(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	send := func(seq int64) {
		t.Helper()
		m := nats.NewMsg("netcap.lab.Flow")
		rec, err := ncio.AppendDelimited(nil, &types.Flow{SrcIP: fmt.Sprintf("10.0.0.%d", seq)})
		if err != nil {
			t.Fatal(err)
		}
		m.Data = rec
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("lab.Flow.run1.%d", seq))
		m.Header.Set(HdrRecords, "1")
		m.Header.Set(HdrEncoding, "none")
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	for _, seq := range []int64{1, 3, 4, 2, 7} {
		send(seq)
	}
	// The same part 3 again, as the server stores it when the first copy
	// is out of its duplicate window.
	ctx := context.Background()
	st, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.Duplicates = 100 * time.Millisecond
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	send(3)
	out := t.TempDir()
	began := time.Now()
	late := false
	c := collectWith(t, js, CollectorConfig{Out: out, Fetch: 8, Version: "test", OrderWait: time.Second},
		func(c *Collector) bool {
			if !late && c.Records.Load() >= 5 {
				// 7 is written, 5 and 6 given up on: 8 follows 7
				// in order, 5 comes late and is written at once.
				late = true
				send(8)
				send(5)
			}
			return c.Records.Load() >= 7 && c.Redelivered.Load() >= 1
		})
	var got []string
	for _, b := range testutil.RawRecords(t, filepath.Join(out, "lab", "Flow.ncap.gz")) {
		var f types.Flow
		if err := proto.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		got = append(got, f.SrcIP[len("10.0.0."):])
	}
	if strings.Join(got, " ") != "1 2 3 4 7 8 5" {
		t.Fatalf("written in the order %v, want 1 2 3 4 7 8 5", got)
	}
	if c.Held.Load() == 0 || c.OutOfOrder.Load() != 2 || c.Redelivered.Load() != 1 || time.Since(began) < time.Second {
		t.Fatalf("held %d times, %d out of order, %d skipped, after %v", c.Held.Load(), c.OutOfOrder.Load(), c.Redelivered.Load(), time.Since(began))
	}
	// A new collector on the same folder knows what is written.
	state, err := loadState(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := state.Runs["netcap.lab.Flow run1"]; r == nil || r.Done != 5 || !slices.Equal(r.Extra, []int64{7, 8}) {
		t.Fatalf("state after the run: %+v", r)
	}
}
