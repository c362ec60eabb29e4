package capture

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/pcapgen"
)

// TestManyShortFlowsBoundedState: 100,000 short flows spread over 200
// seconds of capture time, with a 10 s idle timeout, never leave more than a
// few thousand flows in the tables, and every flow is written.
func TestManyShortFlowsBoundedState(t *testing.T) {
	const flows = 100_000
	path := filepath.Join(t.TempDir(), "flows.pcap")
	if err := pcapgen.ManyFlows(path, flows, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	opts := decoder.DefaultOptions()
	opts.FlowTimeout = 10 * time.Second
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sum, err := Run(context.Background(), src, Config{
		Decoding: DecodeConfig{Workers: 2, Options: opts},
		Output:   OutputConfig{Dir: t.TempDir(), Compress: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.Records["Connection"]; got != flows {
		t.Fatalf("%d Connection records, want %d", got, flows)
	}
	if got := sum.Records["Flow"]; got != 2*flows {
		t.Fatalf("%d Flow records, want %d", got, 2*flows)
	}
	// 10 s of traffic holds 2,500 exchanges; a sweep runs every second.
	if peak := sum.Decoder.ConnectionsPeak; peak > 4000 {
		t.Fatalf("peak %d connections in one worker: state is not bounded by the timeout", peak)
	}
	t.Logf("%d flows, peak %d connections per worker, %d timed out", flows, sum.Decoder.ConnectionsPeak, sum.Decoder.TimedOut)
}
