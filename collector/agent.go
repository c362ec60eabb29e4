package collector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/types"
)

// AgentConfig is what an Agent needs besides its JetStream connection.
type AgentConfig struct {
	Sensor     string
	Buffer     int64         // bytes of parts kept while unacked; 0 means 256 MiB
	Drop       bool          // when the buffer is full: drop the part (live) instead of waiting (file replay)
	Compressed bool          // parts arrive as gzip members (capture.Config.Output.Compress)
	AckTimeout time.Duration // per publish; 0 means 5 s
	// Window is how many parts of one type may be on their way to the
	// server, not acked yet; 0 means 8. 1 waits for each ack before the
	// next part goes.
	Window int
	// Log is where the agent says that the server refuses parts because
	// its store is full; nil: nowhere.
	Log io.Writer
}

// fullLogEvery is how often at most the agent says the server's store is
// full while it refuses parts.
const fullLogEvery = 10 * time.Second

// Agent publishes the parts the capture engine hands to its Output, one
// message per part, each type in order, retrying until the server acks.
// Up to Window parts of a type are sent before the first is acked, so a
// link's round trip does not bound a type to one part per round trip; a
// part sent again after a failure may land behind later ones, which the
// collector puts back in order.
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
	saidFull time.Time // when the agent last said the store is full

	Batches, Records, Bytes, Retries, Dups atomic.Int64
	Full                                   atomic.Int64 // parts refused because the server's store is full (sent again)
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
	if cfg.Window <= 0 {
		cfg.Window = 8
	}
	if js != nil {
		// A context of its own, whose asynchronous publishes give up
		// after AckTimeout (so a lost ack is not waited for forever).
		var err error
		if js, err = jetstream.New(js.Conn(), jetstream.WithPublishAsyncTimeout(cfg.AckTimeout), jetstream.WithPublishAsyncMaxPending(1<<16)); err != nil {
			return nil, err
		}
	}
	a := &Agent{js: js, cfg: cfg, run: newRunID(), drops: map[string]int64{}, abort: make(chan struct{})}
	a.room = sync.NewCond(&a.mu)
	return a, nil
}

// newRunID returns 16 random hex digits. The server drops a message whose
// id it saw within DupWindow, whatever its subject, so an id another
// sensor could guess is one it could take ahead of this agent, and have
// the part dropped; and one made of the clock could repeat an earlier
// run's (a clock set back), whose parts the collector took as written.
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
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

// flight is a part sent and not acked yet.
type flight struct {
	p   pending
	m   *nats.Msg
	fut jetstream.PubAckFuture // nil: the send failed at once (err)
	err error
}

// loop sends the type's parts in order, up to Window of them before the
// oldest is acked, and settles them oldest first.
func (q *queue) loop() {
	a := q.a
	defer a.wg.Done()
	var flights []*flight // flights[i] is q.parts[i]
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
		send := q.parts[len(flights):min(len(q.parts), a.cfg.Window)]
		a.mu.Unlock()

		for _, p := range send {
			f := &flight{p: p, m: q.message(p)}
			f.fut, f.err = a.js.PublishMsgAsync(f.m)
			flights = append(flights, f)
		}
		reason := q.settle(flights[0])
		flights = flights[1:]

		a.mu.Lock()
		p := q.parts[0]
		if reason != "" {
			a.drops[reason] += int64(p.n)
		}
		q.parts = q.parts[1:]
		a.buffered -= int64(len(p.data))
		a.room.Broadcast()
		a.mu.Unlock()
	}
}

// message is part p as the message that carries it.
func (q *queue) message(p pending) *nats.Msg {
	a := q.a
	m := nats.NewMsg(q.subject)
	m.Data = p.data
	m.Header.Set(jetstream.MsgIDHeader, a.cfg.Sensor+"."+types.Name(q.t)+"."+a.run+"."+strconv.FormatInt(p.seq, 10))
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
	return m
}

// settle waits for the server's ack of f, sending it again after a failure
// until it is acked; it gives up only on a part the server can never take
// (reason returned) or when the agent is aborted.
func (q *queue) settle(f *flight) string {
	a := q.a
	wait := 50 * time.Millisecond
	for {
		if f.fut != nil {
			select {
			case ack := <-f.fut.Ok():
				a.Batches.Add(1)
				a.Records.Add(int64(f.p.n))
				a.Bytes.Add(int64(len(f.p.data)))
				if ack.Duplicate {
					a.Dups.Add(1)
				}
				return ""
			case f.err = <-f.fut.Err():
			case <-a.abort:
				return "stopped"
			}
		}
		if errors.Is(f.err, nats.ErrMaxPayload) {
			return "too-large"
		}
		a.Retries.Add(1)
		if storeFull(f.err) {
			a.Full.Add(1)
			a.sayFull(f.err)
		}
		select {
		case <-a.abort:
			return "stopped"
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
		// The same message id: should the first one have been stored
		// after all, the server drops this one as a duplicate.
		f.fut, f.err = a.js.PublishMsgAsync(f.m)
	}
}

// storeFull reports whether err is the server refusing a part because
// NETCAP is full (its MaxBytes, net collect -max-stream-bytes) or the
// server's JetStream store is.
func storeFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == 10023 || // insufficient resources: the server's store
		(apiErr.ErrorCode == 10077 && strings.Contains(apiErr.Description, "maximum bytes exceeded"))
}

// sayFull logs one line, at most every fullLogEvery, that the server
// refuses parts for a full store.
func (a *Agent) sayFull(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.Log == nil || time.Since(a.saidFull) < fullLogEvery {
		return
	}
	a.saidFull = time.Now()
	fmt.Fprintf(a.cfg.Log, "net agent: the server refuses parts: stream %s or its store is full (%v): the collector is behind or stopped, or net collect -max-stream-bytes is too small; keeping %.1f MB of parts and sending them again\n", StreamName, err, float64(a.buffered)/1e6)
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
