package collector

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/internal/testutil"
)

// localRecords counts the records of every local record file by type and
// content.
func localRecords(t *testing.T, dir string) (map[string]int, int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.ncap.gz"))
	m := map[string]int{}
	n := 0
	for _, f := range files {
		typ := strings.TrimSuffix(filepath.Base(f), ".ncap.gz")
		for _, r := range testutil.RawRecords(t, f) {
			m[typ+"\x00"+string(r)]++
			n++
		}
	}
	return m, n
}

// TestAgentStopMidFile cancels the agent's capture in the middle of the file
// (what SIGTERM does in net agent), lets it wait for the acks of what it
// holds, and checks that the collector stored every acked record once, each
// one a record net capture writes for the same file.
func TestAgentStopMidFile(t *testing.T) {
	path := sharedCapture(t)
	want, total := localRecords(t, local(t, path))
	_, _, js := startJS(t, t.TempDir())
	// A small buffer ties the capture to the acks, so the stop lands
	// in the middle of the file.
	ag, err := NewAgent(js, AgentConfig{Sensor: "cut", Compressed: true, Buffer: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ag.Batches.Load() < 30 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := capture.Run(ctx, src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output: capture.OutputConfig{
			Compress: true,
			Parts:    ag.Output(),
			PartSize: 4 << 10,
		},
	}); err != nil {
		t.Fatal(err)
	}
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := ag.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	sent := ag.Records.Load()
	if sent == 0 || sent >= int64(total) {
		t.Fatalf("the agent sent %d of %d records: the stop did not land mid-file", sent, total)
	}
	out := t.TempDir()
	c := collectUntil(t, js, out, func(c *Collector) bool { return c.Records.Load() >= sent })
	time.Sleep(300 * time.Millisecond)
	got, n := localRecords(t, filepath.Join(out, "cut"))
	if int64(n) != sent || c.Records.Load() != sent {
		t.Fatalf("agent acked %d records, collector stored %d, files hold %d", sent, c.Records.Load(), n)
	}
	// Flows, links and connections cut by the stop are written with what
	// they had so far, so they need not be among net capture's; but none
	// may be there twice.
	partial := 0
	for k, v := range got {
		if want[k] == 0 {
			partial++
		}
		if v > max(want[k], 1) {
			typ, _, _ := strings.Cut(k, "\x00")
			t.Fatalf("a %s record is on disk %d times, net capture wrote it %d times", typ, v, want[k])
		}
	}
	if partial > n/2 {
		t.Fatalf("%d of %d records stored are not net capture's", partial, n)
	}
	t.Logf("stopped after %d of %d records (%d messages, drops %v); all on disk once, %d cut short by the stop", sent, total, ag.Batches.Load(), ag.Drops(), partial)
}

// TestAgentAbort gives the agent no time to wait for acks: what it could
// not send is counted as dropped, and what it did send is stored.
func TestAgentAbort(t *testing.T) {
	path := sharedCapture(t)
	srv, _, js := startJS(t, t.TempDir())
	ag, err := NewAgent(js, AgentConfig{Sensor: "abort", Compressed: true, AckTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// No stream for the parts to go to: nothing is acked.
	if err := js.DeleteStream(context.Background(), StreamName); err != nil {
		t.Fatal(err)
	}
	if _, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output: capture.OutputConfig{
			Compress: true,
			Parts:    ag.Output(),
			PartSize: 4 << 10,
		},
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ag.Wait(ctx); err == nil {
		t.Fatal("Wait returned no error with every part unacked")
	}
	if ag.Records.Load() != 0 || ag.Drops()["stopped"] == 0 || ag.Buffered() != 0 {
		t.Fatalf("acked %d records, dropped %v, %d bytes still buffered", ag.Records.Load(), ag.Drops(), ag.Buffered())
	}
	_ = srv
}
