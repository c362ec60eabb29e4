package collector

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestLostHugePart is a hostile sensor that, after a stream deletion, sends
// part 2^62 of its run: the parts 2 to 2^62-1 it never sent count as lost,
// and counting them takes no time.
func TestLostHugePart(t *testing.T) {
	const huge = int64(1) << 62
	_, _, js := startJS(t, t.TempDir())
	cfg := CollectorConfig{Out: t.TempDir(), Fetch: 1, Version: "test", OrderWait: time.Minute, Streams: &StreamOptions{}}
	state := 0
	c := collectWith(t, js, cfg, func(c *Collector) bool {
		switch state {
		case 0:
			if err := sendPart(t, js, "evil", "run1", 1); err != nil {
				t.Fatal(err)
			}
			state = 1
		case 1:
			if c.Records.Load() == 1 {
				if err := js.DeleteStream(context.Background(), StreamName); err != nil {
					t.Fatal(err)
				}
				state = 2
			}
		case 2:
			// Sent once the stream is back; written after lostWait.
			if c.Deletions.Load() > 0 && sendPart(t, js, "evil", "run1", huge) == nil {
				state = 3
			}
		case 3:
			return c.Records.Load() == 2
		}
		return false
	})
	began := time.Now()
	done := make(chan int64, 1)
	go func() { done <- c.Lost() }()
	select {
	case n := <-done:
		t.Logf("Lost() = %d in %v", n, time.Since(began))
		if n != huge-2 {
			t.Errorf("Lost() = %d, want %d (parts 2 to 2^62-1)", n, huge-2)
		}
	case <-time.After(time.Second):
		t.Fatal("Lost() did not return within 1 s")
	}
}

// TestLostCount checks the parts counted lost against counting them one by
// one.
func TestLostCount(t *testing.T) {
	tests := []struct {
		name  string
		done  int64
		extra []int64
		from  int64
		want  int64
	}{
		{"nothing above", 5, nil, 3, 0},
		{"one above", 5, []int64{9}, 6, 3},
		{"from above done", 5, []int64{9}, 8, 1},
		{"some written", 2, []int64{4, 6, 9}, 3, 4},
		{"from past the top", 2, []int64{4, 6}, 10, 0},
		{"from below done", 4, []int64{7, 8}, 1, 2},
		{"top is max", 1, []int64{math.MaxInt64}, 2, math.MaxInt64 - 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &runState{Done: tt.done, Extra: tt.extra}
			got := lostIn(r, tt.from)
			if got != tt.want {
				t.Errorf("lostIn(done %d, extra %v, from %d) = %d, want %d", tt.done, tt.extra, tt.from, got, tt.want)
			}
			if top := tt.extra; len(top) > 0 && top[len(top)-1] < 1000 {
				var n int64
				for seq := max(tt.from, tt.done+1); seq < top[len(top)-1]; seq++ {
					if !r.has(seq) {
						n++
					}
				}
				if n != got {
					t.Errorf("counted one by one: %d, lostIn: %d", n, got)
				}
			}
		})
	}
}

// TestLostAtMax: parts numbered up to 2^63-1 neither wrap the next part
// expected nor the sum of the parts lost.
func TestLostAtMax(t *testing.T) {
	c := NewCollector(nil, CollectorConfig{})
	c.st = &collectState{Runs: map[partKey]*runState{
		"a": {Done: 1, Extra: []int64{math.MaxInt64}},
		"b": {Done: 1, Extra: []int64{math.MaxInt64}},
	}}
	c.lostRuns = map[partKey]int64{"a": 2, "b": 2}
	if got := c.next("a"); got != math.MaxInt64 {
		t.Errorf("next part of a run whose highest is 2^63-1: %d, want 2^63-1", got)
	}
	if got := c.Lost(); got != math.MaxInt64 {
		t.Errorf("Lost() = %d, want 2^63-1 (two runs of 2^63-3 each, saturated)", got)
	}
}
