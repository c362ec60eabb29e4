package collector

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestGapBound is a hostile sensor that invents run ids: it sends part 2 of
// each of 3000 runs, never part 1. Each such run waits for its part 1; what
// the collector keeps about the waiting runs stays within the held bound
// (the parts over it are dead letters, too-many-held), and once the parts
// are written out of order after OrderWait it keeps nothing about them.
// Every part is stored or a dead letter: none is dropped unsaid.
func TestGapBound(t *testing.T) {
	const runs = 3000
	_, _, js := startJS(t, t.TempDir())
	for i := range runs {
		if err := sendPart(t, js, "evil", fmt.Sprintf("run%05d", i), 2); err != nil {
			t.Fatal(err)
		}
	}
	var c *Collector
	most := 0
	cfg := CollectorConfig{Out: t.TempDir(), Version: "test", OrderWait: time.Second,
		// Called by Run after each batch: c is not written meanwhile.
		AfterWrite: func(int64) { most = max(most, waitingRuns(c)) }}
	c = NewCollector(js, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for deadline := time.Now().Add(60 * time.Second); c.Records.Load()+c.TooManyHeld.Load() < runs; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("%d parts stored, %d dead letters in 60 s; want %d in all", c.Records.Load(), c.TooManyHeld.Load(), runs)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d parts stored (out of order), %d dead letters; waiting runs remembered: at most %d, %d after", c.Records.Load(), c.TooManyHeld.Load(), most, waitingRuns(c))
	if most > DefaultMaxHeldPerSensor {
		t.Errorf("%d waiting runs remembered at once; want at most %d (MaxHeldPerSensor)", most, DefaultMaxHeldPerSensor)
	}
	if c.Records.Load()+c.Dead()["too-many-held"] != runs {
		t.Errorf("%d stored and %v dead letters; want %d in all", c.Records.Load(), c.Dead(), runs)
	}
	if n := waitingRuns(c); n > 0 {
		t.Errorf("%d waiting runs remembered once no part waits; want 0", n)
	}
}

// TestLostRunsBound: stream deletions while a sensor invents runs between
// them. The runs noted as losing parts are those the collector remembers,
// at most maxRuns, not every run ever seen.
func TestLostRunsBound(t *testing.T) {
	c := NewCollector(nil, CollectorConfig{})
	c.st = &collectState{Runs: map[partKey]*runState{}}
	for del := range 3 {
		clear(c.st.Runs) // the state remembers the newest runs only
		for i := range maxRuns {
			c.st.Runs[partKey(fmt.Sprintf("netcap.evil.Flow r%d-%d", del, i))] = &runState{Done: 1}
		}
		c.streamsLost()
	}
	t.Logf("%d runs noted after 3 deletions of %d runs each", len(c.lostRuns), maxRuns)
	if len(c.lostRuns) > maxRuns {
		t.Errorf("%d runs noted as losing parts; want at most %d", len(c.lostRuns), maxRuns)
	}
}

// waitingRuns is how many runs the collector remembers as waiting for a
// part.
func waitingRuns(c *Collector) int { return len(c.held) }
