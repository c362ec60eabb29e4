package stream

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/types"
)

// AgentConfig is what an Agent needs besides its JetStream connection.
type AgentConfig struct {
	Sensor     string
	Buffer     int64         // bytes of parts kept while unacked; 0 means 256 MiB
	Drop       bool          // when the buffer is full: drop the part (live) instead of waiting (file replay)
	Compressed bool          // parts arrive as gzip members (capture.Config.Compress)
	AckTimeout time.Duration // per publish; 0 means 5 s
}

// Agent publishes the parts the capture engine hands to its Output, one
// message per part, each type in order, retrying until the server acks.
type Agent struct {
	js  jetstream.JetStream
	cfg AgentConfig
	run string // distinguishes the message ids of this run from earlier runs

	mu       sync.Mutex
	room     *sync.Cond // signalled when buffered shrinks
	buffered int64
	drops    map[string]int64 // records dropped, by reason
	wg       sync.WaitGroup
	abort    chan struct{}
	aborted  bool
	queues   []*queue

	Batches, Records, Bytes, Retries, Dups atomic.Int64
}

// NewAgent returns an agent publishing through js.
func NewAgent(js jetstream.JetStream, cfg AgentConfig) (*Agent, error) {
	if err := ValidSensor(cfg.Sensor); err != nil {
		return nil, err
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256 << 20
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 5 * time.Second
	}
	a := &Agent{js: js, cfg: cfg, run: strconv.FormatInt(time.Now().UnixNano(), 36), drops: map[string]int64{}, abort: make(chan struct{})}
	a.room = sync.NewCond(&a.mu)
	return a, nil
}

// Output is the capture.Output that publishes.
func (a *Agent) Output() capture.Output {
	return func(t types.Type, h *types.Header) (capture.PartWriter, error) {
		q := &queue{a: a, t: t, subject: Subject(a.cfg.Sensor, t), source: h.InputSource, payloads: h.ContainsPayloads}
		q.more = sync.NewCond(&a.mu)
		a.mu.Lock()
		a.queues = append(a.queues, q)
		a.mu.Unlock()
		a.wg.Add(1)
		go q.loop()
		return q, nil
	}
}

type pending struct {
	data []byte
	n    int
	seq  int64
}

// queue is one record type's parts on their way.
type queue struct {
	a        *Agent
	t        types.Type
	subject  string
	source   string
	payloads bool
	more     *sync.Cond // on a.mu
	parts    []pending
	seq      int64
	closed   bool
}

// WritePart keeps a copy of the part until the server has acked it.
func (q *queue) WritePart(b []byte, n int) error {
	a := q.a
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.buffered+int64(len(b)) > a.cfg.Buffer && a.buffered > 0 && !a.aborted {
		if a.cfg.Drop {
			a.drops["buffer-full"] += int64(n)
			return nil
		}
		a.room.Wait()
	}
	if a.aborted {
		a.drops["stopped"] += int64(n)
		return nil
	}
	// Parts are numbered as they are kept, so a dropped one leaves no gap
	// for the collector to wait on.
	q.seq++
	a.buffered += int64(len(b))
	q.parts = append(q.parts, pending{data: append([]byte(nil), b...), n: n, seq: q.seq})
	q.more.Signal()
	return nil
}

// Close lets the queue end once everything is acked.
func (q *queue) Close() error {
	q.a.mu.Lock()
	q.closed = true
	q.more.Signal()
	q.a.mu.Unlock()
	return nil
}

func (q *queue) loop() {
	a := q.a
	defer a.wg.Done()
	for {
		a.mu.Lock()
		for len(q.parts) == 0 && !q.closed && !a.aborted {
			q.more.Wait()
		}
		if a.aborted {
			for _, p := range q.parts {
				a.drops["stopped"] += int64(p.n)
				a.buffered -= int64(len(p.data))
			}
			q.parts = nil
			a.room.Broadcast()
			a.mu.Unlock()
			return
		}
		if len(q.parts) == 0 {
			a.mu.Unlock()
			return
		}
		p := q.parts[0]
		a.mu.Unlock()

		reason := q.publish(p)

		a.mu.Lock()
		if reason != "" {
			a.drops[reason] += int64(p.n)
		}
		q.parts = q.parts[1:]
		a.buffered -= int64(len(p.data))
		a.room.Broadcast()
		a.mu.Unlock()
	}
}

// publish sends p until the server acks it; it gives up only on a part the
// server can never take (reason returned) or when the agent is aborted.
func (q *queue) publish(p pending) string {
	a := q.a
	m := nats.NewMsg(q.subject)
	m.Data = p.data
	m.Header.Set(jetstream.MsgIDHeader, a.cfg.Sensor+"."+decoder.RecordName(q.t)+"."+a.run+"."+strconv.FormatInt(p.seq, 10))
	m.Header.Set(HdrRecords, strconv.Itoa(p.n))
	enc := "none"
	if a.cfg.Compressed {
		enc = "gzip"
	}
	m.Header.Set(HdrEncoding, enc)
	m.Header.Set(HdrSource, q.source)
	if q.payloads {
		m.Header.Set(HdrPayloads, "1")
	}
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.AckTimeout)
		ack, err := a.js.PublishMsg(ctx, m)
		cancel()
		if err == nil {
			a.Batches.Add(1)
			a.Records.Add(int64(p.n))
			a.Bytes.Add(int64(len(p.data)))
			if ack.Duplicate {
				a.Dups.Add(1)
			}
			return ""
		}
		if errors.Is(err, nats.ErrMaxPayload) {
			return "too-large"
		}
		a.Retries.Add(1)
		select {
		case <-a.abort:
			return "stopped"
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Wait waits until every part is acked, or until ctx ends: then the parts
// still unacked are counted as dropped ("stopped") and Wait returns ctx's
// error.
func (a *Agent) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	a.mu.Lock()
	a.aborted = true
	close(a.abort)
	a.room.Broadcast()
	for _, q := range a.queues {
		q.more.Broadcast()
	}
	a.mu.Unlock()
	<-done
	return fmt.Errorf("stopped with parts unacked: %w", ctx.Err())
}

// Buffered returns the bytes of parts not acked yet.
func (a *Agent) Buffered() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buffered
}

// Drops returns the records dropped so far, by reason.
func (a *Agent) Drops() map[string]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.drops)
}
