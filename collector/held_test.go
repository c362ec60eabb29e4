package collector

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process (the collector and its embedded
// server) has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHeldBound is a hostile sensor that sends many parts of a run but never
// its first: every one of them waits for it (OrderWait).
func TestHeldBound(t *testing.T) {
	t.Run("redeliveries", func(t *testing.T) {
		// Each held part is put back with a delay that doubles from
		// 200 ms: over window it is delivered at most 1+log2(window/200ms+1)
		// times, however many parts wait.
		const parts = 1000
		const window = 4 * time.Second
		_, _, js := startJS(t, t.TempDir())
		for seq := int64(2); seq <= parts+1; seq++ {
			if err := sendPart(t, js, "lab", "run1", seq); err != nil {
				t.Fatal(err)
			}
		}
		c := NewCollector(js, CollectorConfig{Out: t.TempDir(), Version: "test", OrderWait: 10 * window})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		for c.Held.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cpu := cpuTime()
		time.Sleep(window)
		held, used := c.Held.Load(), cpuTime()-cpu
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		perPart := float64(held) / parts
		bound := 1 + math.Log2(float64(window/(200*time.Millisecond))+1)
		t.Logf("%d parts waiting for part 1 over %v: %d deliveries (%.1f per part), %v CPU", parts, window, held, perPart, used)
		if perPart > math.Ceil(bound) {
			t.Errorf("%.1f deliveries per held part in %v, want at most %.0f", perPart, window, math.Ceil(bound))
		}
		if c.Records.Load() != 0 {
			t.Errorf("%d records written while their part 1 never came", c.Records.Load())
		}
	})
	t.Run("cap", func(t *testing.T) {
		// Sensor a sends 10 parts more than it may have held, sensor b
		// 600 with room for 476 left of MaxHeld: the parts over the
		// bounds go to the dead letters, and sensor c, whose parts come
		// in order, is stored all the same.
		const maxHeld = 1500
		_, _, js := startJS(t, t.TempDir())
		sends := []struct {
			sensor       string
			from, to     int64
			dead, stored int64
		}{
			{"a", 2, DefaultMaxHeldPerSensor + 11, 10, 0},
			{"b", 2, 601, 600 - (maxHeld - DefaultMaxHeldPerSensor), 0},
			{"c", 1, 5, 0, 5},
		}
		var wantDead, wantStored int64
		for _, s := range sends {
			for seq := s.from; seq <= s.to; seq++ {
				if err := sendPart(t, js, s.sensor, "run1", seq); err != nil {
					t.Fatal(err)
				}
			}
			wantDead += s.dead
			wantStored += s.stored
		}
		var log bytes.Buffer
		c := collectWith(t, js, CollectorConfig{Out: t.TempDir(), Version: "test", OrderWait: time.Minute, MaxHeld: maxHeld, Log: &log}, func(c *Collector) bool {
			return c.Records.Load() >= wantStored && c.TooManyHeld.Load() >= wantDead && c.Held.Load() >= 2*maxHeld
		})
		t.Logf("held %d times, %d parts dead letters for the bounds, %d records stored", c.Held.Load(), c.TooManyHeld.Load(), c.Records.Load())
		if got := c.Dead(); c.TooManyHeld.Load() != wantDead || got["too-many-held"] != wantDead || len(got) != 1 {
			t.Errorf("%d parts over the bounds, dead letters %v; want too-many-held %d", c.TooManyHeld.Load(), got, wantDead)
		}
		if c.Records.Load() != wantStored {
			t.Errorf("stored %d records, want %d (sensor c's)", c.Records.Load(), wantStored)
		}
		for _, want := range []string{
			fmt.Sprintf("too-many-held: sensor a, Flow, run \"run1\", part %d: sensor a has %d parts waiting for an earlier one already (at most %d per sensor)", DefaultMaxHeldPerSensor+2, DefaultMaxHeldPerSensor, DefaultMaxHeldPerSensor),
			fmt.Sprintf("too-many-held: sensor b, Flow, run \"run1\", part %d: %d parts of all sensors wait for an earlier one already (at most %d)", maxHeld-DefaultMaxHeldPerSensor+2, maxHeld, maxHeld),
		} {
			if !strings.Contains(log.String(), want) {
				t.Errorf("no line %q in the log:\n%.2000s", want, log.String())
			}
		}
	})
}
