package collector

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/testutil"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// sendPart publishes part seq of run of sensor: one Flow record whose
// source address tells the part, with the id an agent gives it.
func sendPart(t testing.TB, js jetstream.JetStream, sensor, run string, seq int64) error {
	t.Helper()
	m := nats.NewMsg("netcap." + sensor + ".Flow")
	rec, err := ncio.AppendDelimited(nil, &types.Flow{SrcIP: fmt.Sprintf("10.0.0.%d", seq)})
	if err != nil {
		t.Fatal(err)
	}
	m.Data = rec
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s.Flow.%s.%d", sensor, run, seq))
	m.Header.Set(HdrRecords, "1")
	m.Header.Set(HdrEncoding, "none")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = js.PublishMsg(ctx, m)
	return err
}

// flowParts returns the part numbers of the Flow records in file.
func flowParts(t *testing.T, file string) string {
	t.Helper()
	var got []string
	for _, b := range testutil.RawRecords(t, file) {
		var f types.Flow
		if err := proto.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		got = append(got, f.SrcIP[len("10.0.0."):])
	}
	return strings.Join(got, " ")
}

// TestStreamDeleted deletes NETCAP and NETCAP_DEAD (as an operator could)
// while parts 4 to 6 of a run wait in NETCAP and the collector is busy
// writing part 3: the collector notices within 2 s, says so in one line,
// makes the streams and its consumer again, stores parts 7 and 8 sent
// after, and counts parts 4 to 6 as lost.
func TestStreamDeleted(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	var log testutil.SyncBuffer
	paused, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	out := t.TempDir()
	cfg := CollectorConfig{Out: out, Fetch: 1, Version: "test", OrderWait: time.Minute, Log: &log, Streams: &StreamOptions{},
		AfterWrite: func(round int64) {
			if round == 3 {
				once.Do(func() {
					close(paused)
					<-resume
				})
			}
		}}
	var deleted, noticed time.Duration
	began := time.Now()
	state := 0
	c := collectWith(t, js, cfg, func(c *Collector) bool {
		switch state {
		case 0:
			for seq := int64(1); seq <= 3; seq++ {
				if err := sendPart(t, js, "lab", "run1", seq); err != nil {
					t.Fatal(err)
				}
			}
			<-paused
			for seq := int64(4); seq <= 6; seq++ {
				if err := sendPart(t, js, "lab", "run1", seq); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(StreamCheck + 200*time.Millisecond) // a check sees them
			for _, name := range []string{StreamName, DeadStreamName} {
				if err := js.DeleteStream(context.Background(), name); err != nil {
					t.Fatal(err)
				}
			}
			deleted = time.Since(began)
			state = 1
		case 1:
			if c.Deletions.Load() > 0 {
				noticed = time.Since(began) - deleted
				close(resume)
				state = 2
			}
		case 2:
			// The agent sends its next parts once the stream is back.
			if sendPart(t, js, "lab", "run1", 7) == nil && sendPart(t, js, "lab", "run1", 8) == nil {
				state = 3
			}
		case 3:
			return c.Records.Load() >= 5
		}
		return false
	})
	t.Logf("deleted; noticed after %v; log: %s", noticed.Round(time.Millisecond), strings.TrimSpace(log.String()))
	if noticed > 2*time.Second+500*time.Millisecond {
		t.Errorf("noticed %v after the deletion; want within about 2 s", noticed)
	}
	if got := flowParts(t, filepath.Join(out, "lab", "Flow.ncap.gz")); got != "1 2 3 7 8" {
		t.Errorf("stored parts %q, want 1 2 3 7 8", got)
	}
	if c.Deletions.Load() != 2 || c.Lost() != 3 || c.LostAtMost.Load() < 3 {
		t.Errorf("%d deletions, %d lost, up to %d; want 2, 3 and at least 3", c.Deletions.Load(), c.Lost(), c.LostAtMost.Load())
	}
	if n := strings.Count(log.String(), "WARNING: stream NETCAP and NETCAP_DEAD deleted"); n != 1 {
		t.Errorf("%d warnings about the deletion, want 1: %s", n, log.String())
	}
	for _, name := range []string{StreamName, DeadStreamName} {
		if _, err := js.Stream(context.Background(), name); err != nil {
			t.Errorf("%s not made again: %v", name, err)
		}
	}
}
