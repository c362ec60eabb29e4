package collector

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/types"
)

// TestStreamFull: with StreamOptions.MaxBytes 256 KiB and no collector, a
// sensor sending 40 parts of 16 KiB fills NETCAP: the server refuses the
// parts over the limit, the store stays within it, and the agent says so
// in one line and keeps the parts; once a collector takes what the stream
// holds, the agent sends them all.
func TestStreamFull(t *testing.T) {
	const limit, parts, size = 256 << 10, 40, 16 << 10
	_, _, js := startJS(t, t.TempDir())
	if err := EnsureStreams(context.Background(), js, StreamOptions{MaxBytes: limit}); err != nil {
		t.Fatal(err)
	}
	var log testutil.SyncBuffer
	ag, err := NewAgent(js, AgentConfig{Sensor: "lab", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := ag.Output()(types.Type_NC_Flow, &types.Header{})
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, size)
	for range parts {
		_, _ = rand.Read(part) // not records: dead letters (mostly bad-record)
		if err := pw.WritePart(part, 1); err != nil {
			t.Fatal(err)
		}
	}
	pw.Close()
	for deadline := time.Now().Add(10 * time.Second); ag.Full.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no part refused in 10 s; %d acked", ag.Batches.Load())
		}
	}
	st, err := js.Stream(context.Background(), StreamName)
	if err != nil {
		t.Fatal(err)
	}
	held := st.CachedInfo().State
	t.Logf("stream full: %d bytes in %d parts (limit %d); agent: %d acked, %d refused; log: %s", held.Bytes, held.Msgs, limit, ag.Batches.Load(), ag.Full.Load(), strings.TrimSpace(log.String()))
	if held.Bytes > limit || ag.Batches.Load() >= parts {
		t.Errorf("stream holds %d bytes, %d parts acked; want at most %d bytes and some refused", held.Bytes, ag.Batches.Load(), limit)
	}
	if want := "net agent: the server refuses parts: stream NETCAP or its store is full"; strings.Count(log.String(), want) != 1 {
		t.Errorf("agent log %q: want one line %q", log.String(), want)
	}

	// A collector takes what the stream holds: the agent sends the rest.
	c := collectWith(t, js, CollectorConfig{Out: t.TempDir(), Version: "test"}, func(c *Collector) bool {
		var dead int64
		for _, n := range c.Dead() {
			dead += n
		}
		return dead == parts
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ag.Wait(ctx); err != nil || ag.Batches.Load() != parts {
		t.Errorf("agent: %v, %d parts acked, want all %d (collector: %v)", err, ag.Batches.Load(), parts, c.Dead())
	}
}
