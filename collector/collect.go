package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	"github.com/netcap/netcap/types"
)

// CollectorConfig is what a Collector needs besides its JetStream connection.
type CollectorConfig struct {
	Out        string
	Durable    string        // consumer name; collectors sharing it share the work
	Fetch      int           // messages per pull; 0 means 256
	MaxRecords int           // bytes of records one message may unpack to; 0 means 16 MiB
	Rotate     time.Duration // start a new file after this long; 0: never
	RotateSize int64         // or once a file has this many bytes; 0: never
	Version    string        // for the file headers
	Log        io.Writer     // dead letters are reported here; nil: not at all
	AckWait    time.Duration // a part delivered but not acked comes again after this; 0 means 30 s
	// OrderWait keeps each type's parts in the order the agent sent
	// them: a part whose predecessor of the same agent run is not written
	// yet (it was delivered before a server went away and comes again
	// after AckWait) is put back for up to this long; after that it is
	// written where it falls. 0: parts are written as they come (for
	// collectors sharing a Durable, each of which sees only some parts).
	OrderWait time.Duration
	// MaxHeldPerSensor and MaxHeld bound the parts put back to wait for
	// an earlier one, of one sensor and of all; a part over either is
	// sent to the dead letters (too-many-held) instead. 0 means
	// DefaultMaxHeldPerSensor and DefaultMaxHeld.
	MaxHeldPerSensor, MaxHeld int
	// AfterWrite, if set, is called after each batch is written and
	// before it is acked (tests stop the process there).
	AfterWrite func(round int64)
	// MaxOpenFiles bounds the output files kept open: the least recently
	// written is closed when another must open (and opened again to append
	// when its sensor sends again). 0 means DefaultMaxOpenFiles().
	MaxOpenFiles int
	// Parquet also writes each record file as Parquet (package ncparquet)
	// once it is complete: a rotated <Type>-<time>.ncap.gz as
	// <Type>-<time>.parquet beside it (on a goroutine of its own, one file
	// at a time, while collection goes on), and, when the collector stops, each
	// <Type>.ncap.gz still being appended to as <Type>.parquet (written
	// again at the next stop, as the file grows). The .ncap.gz files stay:
	// they are what a collector killed at any point resumes from, which a
	// Parquet file, complete only with its footer, cannot be.
	Parquet bool
	// ParquetRows is the most rows of one Parquet row group; 0 means
	// ncparquet.DefaultRowGroupRows.
	ParquetRows int
	// Streams, if set, are the options the collector made its streams
	// with: it checks every StreamCheck that they are still there and
	// makes them (and its consumer) again if not, counting what was lost.
	Streams *StreamOptions
}

// DefaultMaxOpenFiles is 128, or a quarter of the process's limit on open
// files (RLIMIT_NOFILE) if that is lower: the embedded server, its
// clients and the state file need the rest.
func DefaultMaxOpenFiles() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur/4 < 128 {
		return max(1, int(rl.Cur/4))
	}
	return 128
}

// retryDelay is how long a part waits to be delivered again when its file
// or the state could not be written for want of file descriptors.
const retryDelay = time.Second

// Bounds on the parts held (see CollectorConfig.MaxHeldPerSensor): an agent
// has at most -window parts of each type on their way (8 by default), so a
// sensor has far fewer waiting than DefaultMaxHeldPerSensor unless it sends
// parts ahead of ones it never sends.
const (
	DefaultMaxHeldPerSensor = 1024
	DefaultMaxHeld          = 65536
)

// firstHoldDelay is how long a part waits before it comes again the first
// time it is put back to wait for an earlier one; each time it comes again
// the delay doubles, up to a quarter of what it may wait in all (OrderWait),
// so a held part comes a few times, not every 200 ms for the whole wait.
const firstHoldDelay = 200 * time.Millisecond

// StreamCheck is how often the collector checks that its streams and its
// consumer are still there.
const StreamCheck = time.Second

// lostWait is how long a part waits for an earlier one of its run once
// the stream was deleted: those earlier ones may be gone with it.
const lostWait = 2 * time.Second

// Collector stores the parts of the NETCAP stream in record files.
type Collector struct {
	js      jetstream.JetStream
	cfg     CollectorConfig
	files   map[string]*outFile    // by sensor/Type
	open    int                    // files with an open descriptor
	tick    int64                  // counts writes, for the least recently written
	putBack map[jetstream.Msg]bool // parts of this batch not written, to come again
	mc      *ncio.MemberCompressor
	gz      gunzipper
	checks  map[types.Type]*recordCheck

	mu   sync.Mutex
	dead map[string]int64 // dead letters by reason
	logs int

	// What was written of each agent run (saved in StateFile): a part
	// whose ack was lost (a server went away, or this collector was
	// killed after writing it) is delivered again, and acked, not written
	// twice.
	st           *collectState
	queued       map[partKey][]int64 // parts of the batch being taken
	savedPending bool                // the saved state names a batch being written
	broken       bool                // a write failed: write nothing more
	dirty        bool                // parts were written since the state was loaded
	logged       int                 // out-of-order lines logged

	// Streams deleted under the collector: when it noticed, the parts the
	// stream held at the check before, and the next part of each run then
	// (parts of it missing above that are lost with the stream).
	lostRuns   map[partKey]int64
	Deletions  atomic.Int64 // streams or consumer found deleted and made again
	LostAtMost atomic.Int64 // parts NETCAP held at the check before it was found deleted

	// The parts put back to wait for an earlier one, by run, with when
	// each came last and when the run began waiting; and how many there
	// are, by sensor and in all. A run is here only while a part of it
	// waits, so the runs remembered as waiting are bounded by MaxHeld
	// (and by MaxHeldPerSensor for one sensor), however many runs a
	// sensor invents.
	held       map[partKey]*heldRun
	heldBy     map[string]int
	heldAll    int
	heldPruned time.Time

	Batches, Records, Bytes atomic.Int64
	Redelivered             atomic.Int64 // parts delivered again and skipped
	PutBack                 atomic.Int64 // parts put back (nak) because their file or the state could not be written: too many open files
	TooManyOpen             atomic.Int64 // opens refused for too many open files (EMFILE, ENFILE)
	Held                    atomic.Int64 // times a part was put back to wait for an earlier one
	TooManyHeld             atomic.Int64 // parts sent to the dead letters for MaxHeldPerSensor or MaxHeld
	OutOfOrder              atomic.Int64 // parts written after OrderWait without an earlier one
	ParquetFailed           atomic.Int64 // Parquet copies not written (Parquet), each warned about

	// Parquet copies of rotated files are written by one goroutine at a
	// time beside the collection (converting a 1 GB file takes minutes,
	// longer than -ack-wait); their failures wait in pqFailed for the
	// collector's own goroutine to report, which writes every log line.
	pqWG     sync.WaitGroup
	pqOne    chan struct{}
	pqMu     sync.Mutex
	pqFailed []string
}

type outFile struct {
	dir, name string   // name: <Type>.ncap.gz
	f         *os.File // nil while closed (see MaxOpenFiles)
	size      int64
	opened    time.Time
	used      int64           // Collector.tick of the last write
	head      []byte          // a new file's header member, written before buf
	buf       []byte          // members waiting for the next write
	parts     []part          // the parts in buf
	msgs      []jetstream.Msg // the messages of parts
	recs      []int           // and their records
}

// NewCollector returns a collector consuming through js.
func NewCollector(js jetstream.JetStream, cfg CollectorConfig) *Collector {
	if cfg.Durable == "" {
		cfg.Durable = "netcap-collect"
	}
	if cfg.Fetch <= 0 {
		cfg.Fetch = 256
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 16 << 20
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxOpenFiles <= 0 {
		cfg.MaxOpenFiles = DefaultMaxOpenFiles()
	}
	if cfg.MaxHeldPerSensor <= 0 {
		cfg.MaxHeldPerSensor = DefaultMaxHeldPerSensor
	}
	if cfg.MaxHeld <= 0 {
		cfg.MaxHeld = DefaultMaxHeld
	}
	return &Collector{js: js, cfg: cfg, files: map[string]*outFile{}, putBack: map[jetstream.Msg]bool{}, mc: ncio.NewMemberCompressor(), checks: map[types.Type]*recordCheck{}, dead: map[string]int64{},
		queued: map[partKey][]int64{}, lostRuns: map[partKey]int64{},
		held: map[partKey]*heldRun{}, heldBy: map[string]int{}}
}

// Dead returns the dead letters so far, by reason.
func (c *Collector) Dead() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.dead)
}

// Run consumes until ctx ends, then writes and acks what it holds, closes
// the files and returns. Every part it acked is in a file by then.
func (c *Collector) Run(ctx context.Context) (err error) {
	if err := os.MkdirAll(c.cfg.Out, 0o755); err != nil {
		return err
	}
	st, err := loadState(c.cfg.Out)
	if err != nil {
		return err
	}
	c.st = st
	cons, err := c.consumer(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := c.closeAll(); err == nil {
			err = cerr
		}
	}()
	remake := make(chan struct{}, 1)
	if c.cfg.Streams != nil {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		go c.watchStreams(wctx, remake)
	}
	for ctx.Err() == nil {
		select {
		case <-remake:
			c.streamsLost()
			if cons, err = c.consumer(ctx); err != nil {
				return err
			}
		default:
		}
		batch, err := cons.Fetch(c.cfg.Fetch, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			// The server is away: wait and pull again.
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if err := c.pull(batch.Messages()); err != nil {
			return err
		}
		if err := c.rotateIdle(); err != nil {
			return err
		}
	}
	return nil
}

// consumer makes (or updates) the collector's durable consumer.
func (c *Collector) consumer(ctx context.Context) (jetstream.Consumer, error) {
	cons, err := c.js.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:   c.cfg.Durable,
		AckPolicy: jetstream.AckExplicitPolicy,
		AckWait:   c.cfg.AckWait,
		// Parts put back to wait for an earlier one stay pending: a
		// limit could fill with them and hold back the very part they
		// wait for. What is delivered at once is bounded by Fetch.
		MaxAckPending: -1,
		MaxDeliver:    -1,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.cfg.Durable, err)
	}
	return cons, nil
}

// watchStreams checks every StreamCheck that NETCAP, NETCAP_DEAD and the
// consumer are there, and makes them again if someone deleted them (an
// operator; sensors cannot), says so loudly and counts it; then it tells
// Run (remake) to make its consumer again and count the runs whose parts
// may be gone. It runs beside Run, so a collector busy writing notices too.
// A server that does not answer is left to the fetch loop.
func (c *Collector) watchStreams(ctx context.Context, remake chan<- struct{}) {
	var created time.Time
	var held uint64 // parts NETCAP held at the last check
	t := time.NewTicker(StreamCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, StreamCheck)
		var gone []string
		st, err := c.js.Stream(cctx, StreamName)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			gone = append(gone, StreamName)
		case err != nil:
			cancel()
			continue
		case created.IsZero():
			created = st.CachedInfo().Created
		case !st.CachedInfo().Created.Equal(created):
			gone = append(gone, StreamName+" (deleted and made again by someone else)")
		}
		if _, err := c.js.Stream(cctx, DeadStreamName); errors.Is(err, jetstream.ErrStreamNotFound) {
			gone = append(gone, DeadStreamName)
		}
		if len(gone) == 0 {
			held = st.CachedInfo().State.Msgs
			if _, err := c.js.Consumer(cctx, StreamName, c.cfg.Durable); errors.Is(err, jetstream.ErrConsumerNotFound) {
				c.Deletions.Add(1)
				c.warn("WARNING: consumer %s was deleted: making it again (no part is lost: those not acked come again)", c.cfg.Durable)
				select {
				case remake <- struct{}{}:
				default:
				}
			}
			cancel()
			continue
		}
		c.Deletions.Add(int64(len(gone)))
		lost := ""
		if !strings.HasPrefix(gone[0], DeadStreamName) {
			c.LostAtMost.Add(int64(held))
			lost = fmt.Sprintf("; up to %d parts it held (at the check %v before) are LOST", held, StreamCheck)
			held = 0
		}
		c.warn("WARNING: stream %s deleted under the collector: making it again%s", strings.Join(gone, " and "), lost)
		if err := EnsureStreams(cctx, c.js, *c.cfg.Streams); err != nil {
			c.warn("making the deleted streams again: %v (trying again in %v)", err, StreamCheck)
			created = time.Time{}
		} else if st, err := c.js.Stream(cctx, StreamName); err == nil {
			created = st.CachedInfo().Created
		}
		cancel()
		select {
		case remake <- struct{}{}:
		default: // Run has not taken the last one yet
		}
	}
}

// streamsLost notes that the parts missing from each run from here on are
// lost (see Lost); called by Run when the streams were made again.
func (c *Collector) streamsLost() {
	// Lost counts only runs the state remembers: forget the others, so
	// that runs a sensor invents between deletions do not pile up here.
	maps.DeleteFunc(c.lostRuns, func(k partKey, _ int64) bool {
		return c.st.Runs[k] == nil && c.held[k] == nil
	})
	for k := range c.st.Runs {
		if _, ok := c.lostRuns[k]; !ok {
			c.lostRuns[k] = c.next(k)
		}
	}
	for k := range c.held {
		if _, ok := c.lostRuns[k]; !ok {
			c.lostRuns[k] = c.next(k)
		}
	}
	// The held parts went with the stream; those that come again are
	// held again.
	clear(c.held)
	clear(c.heldBy)
	c.heldAll = 0
}

// warn prints one line, whatever was logged before.
func (c *Collector) warn(format string, a ...any) {
	if c.cfg.Log != nil {
		fmt.Fprintf(c.cfg.Log, "net collect: "+format+"\n", a...)
	}
}

// Lost returns the parts missing from agent runs since a stream deletion:
// parts numbered below a part written after the deletion and above the last
// written before it that never came. Call it once Run has returned.
func (c *Collector) Lost() int64 {
	var n int64
	for k, from := range c.lostRuns {
		r := c.st.Runs[k]
		if r == nil {
			continue
		}
		lost := lostIn(r, from)
		if lost > math.MaxInt64-n {
			return math.MaxInt64 // sensors numbered parts up to 2^63-1
		}
		n += lost
	}
	return n
}

// lostIn returns the parts of run r not written from part from (or the
// first not written in order, if higher) up to its highest part written.
// It counts them, not loops over them: a sensor may send part 2^62.
func lostIn(r *runState, from int64) int64 {
	if len(r.Extra) == 0 {
		return 0
	}
	from = max(from, r.Done+1)
	top := r.Extra[len(r.Extra)-1]
	if from >= top {
		return 0
	}
	// Extra[i:len-1] are the parts written in [from, top).
	i, _ := slices.BinarySearch(r.Extra, from)
	return top - from - int64(len(r.Extra)-1-i)
}

// flushAfter is how long the collector, having taken every part the
// server handed it so far, waits for more before it writes and acks what
// it holds: parts that come in a burst are written in one go, and the last
// part of a burst waits no longer than this.
const flushAfter = 10 * time.Millisecond

// pull takes the messages of one fetch. The taken parts are written and
// acked whenever no message followed for flushAfter, and at the end.
func (c *Collector) pull(msgs <-chan jetstream.Msg) error {
	type hold struct {
		m     jetstream.Msg
		delay time.Duration
	}
	var acks []jetstream.Msg
	var holds []hold
	flush := func() error {
		if len(acks)+len(holds) == 0 {
			return nil
		}
		if err := c.writeAll(); err != nil {
			// Not acked: the parts come again once the disk is back,
			// and a torn write is cut off then (see loadState).
			c.broken = true
			for _, m := range acks {
				_ = m.Nak()
			}
			for _, h := range holds {
				_ = h.m.Nak()
			}
			return err
		}
		if c.cfg.AfterWrite != nil {
			c.cfg.AfterWrite(c.st.Round)
		}
		for _, m := range acks {
			if c.putBack[m] {
				_ = m.NakWithDelay(retryDelay)
				continue
			}
			_ = m.Ack()
		}
		clear(c.putBack)
		for _, h := range holds {
			_ = h.m.NakWithDelay(h.delay)
		}
		acks, holds = acks[:0], holds[:0]
		return nil
	}
	var idle *time.Timer
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()
	for {
		var m jetstream.Msg
		var ok bool
		select {
		case m, ok = <-msgs:
		default:
			if len(acks)+len(holds) == 0 {
				m, ok = <-msgs
				break
			}
			if idle == nil {
				idle = time.NewTimer(flushAfter)
			} else {
				idle.Reset(flushAfter)
			}
			select {
			case m, ok = <-msgs:
			case <-idle.C:
				if err := flush(); err != nil {
					return err
				}
				continue
			}
		}
		if !ok {
			return flush()
		}
		if delay := c.take(m); delay > 0 {
			holds = append(holds, hold{m, delay})
		} else {
			acks = append(acks, m)
		}
	}
}

// written reports whether part seq of run k is written or queued.
func (c *Collector) written(k partKey, seq int64) bool {
	if r := c.st.Runs[k]; r != nil && r.has(seq) {
		return true
	}
	return slices.Contains(c.queued[k], seq)
}

// next returns the part of run k that comes next in the agent's order: the
// one after the last written. A part below it that was never written (one
// given up on) comes late whatever happens, and is not held.
func (c *Collector) next(k partKey) int64 {
	var n int64
	if r := c.st.Runs[k]; r != nil {
		n = r.Done
		if len(r.Extra) > 0 {
			n = max(n, r.Extra[len(r.Extra)-1])
		}
	}
	for _, q := range c.queued[k] {
		n = max(n, q)
	}
	if n == math.MaxInt64 {
		return n // no part can come after it
	}
	return n + 1
}

// taken notes that part seq of run k is dealt with in this batch.
func (c *Collector) taken(k partKey, seq int64, f *outFile) {
	if seq == c.next(k) {
		if r := c.held[k]; r != nil {
			r.since = time.Time{} // the gap is closed; a next one waits anew
		}
	} else if c.cfg.OrderWait > 0 {
		c.OutOfOrder.Add(1)
	}
	c.queued[k] = append(c.queued[k], seq)
	c.release(k, seq)
	if f != nil {
		f.parts = append(f.parts, part{Key: k, Seq: seq})
	}
}

// take checks one message and queues its records for their file, or sends
// it to the dead letters; a hold above 0 says to put it back for that long,
// for it is ahead of a part of its run not written yet.
func (c *Collector) take(m jetstream.Msg) (hold time.Duration) {
	subj := m.Subject()
	sensor, t, reason := ParseSubject(subj)
	k, seq, ok := partOf(subj, m.Headers().Get(jetstream.MsgIDHeader))
	if ok {
		if c.written(k, seq) {
			c.Redelivered.Add(1)
			return 0
		}
		if next := c.next(k); c.cfg.OrderWait > 0 && seq > next && reason == "" {
			since := time.Now()
			if r := c.held[k]; r != nil && !r.since.IsZero() {
				since = r.since
			}
			wait := c.cfg.OrderWait
			if _, ok := c.lostRuns[k]; ok {
				wait = min(wait, lostWait)
			}
			// Past the wait, a held part below it goes first, for one
			// more wait at most (it comes within a quarter of one): the
			// parts written out of order keep their order.
			waited := time.Since(since)
			if waited < wait || (waited < 2*wait && c.heldBelow(k, seq)) {
				if over := c.hold(k, sensor, seq, since); over != "" {
					// Not counted as written: the parts held
					// stay held, in order, behind it.
					c.TooManyHeld.Add(1)
					c.toDead(m, "too-many-held", over)
					return 0
				}
				c.Held.Add(1)
				return holdDelay(m, wait)
			}
			if c.logged < 20 && c.cfg.Log != nil {
				c.logged++
				fmt.Fprintf(c.cfg.Log, "net collect: part %d of %s came, part %d did not within %v: writing it out of order\n", seq, k, next, wait)
			}
		}
	}
	var member []byte
	var n int
	var detail string
	if reason == "" {
		member, n, reason, detail = c.check(t, m)
	}
	if reason != "" {
		c.toDead(m, reason, detail)
		if ok {
			c.taken(k, seq, nil)
		}
		return 0
	}
	f, err := c.file(sensor, t, m)
	if err != nil {
		c.toDead(m, "file", err.Error())
		if ok {
			c.taken(k, seq, nil)
		}
		return 0
	}
	f.buf = append(f.buf, member...)
	f.msgs, f.recs = append(f.msgs, m), append(f.recs, n)
	if ok {
		c.taken(k, seq, f)
	}
	c.Batches.Add(1)
	c.Records.Add(int64(n))
	c.Bytes.Add(int64(len(m.Data())))
	return 0
}

// heldRun is the parts of one run put back to wait for an earlier one.
type heldRun struct {
	sensor string
	since  time.Time           // when the run began waiting for the part after its last written; zero: not yet
	parts  map[int64]time.Time // when each came last
}

// hold notes that part seq of run k (of sensor), waiting since since, is
// put back to wait. It returns why not, if the part would be one more
// than MaxHeldPerSensor or MaxHeld.
func (c *Collector) hold(k partKey, sensor string, seq int64, since time.Time) (over string) {
	now := time.Now()
	if r := c.held[k]; r != nil {
		if _, ok := r.parts[seq]; ok {
			r.parts[seq] = now
			r.since = since
			return ""
		}
	}
	c.pruneHeld(now)
	r := c.held[k] // pruneHeld may have forgotten it
	switch {
	case c.heldBy[sensor] >= c.cfg.MaxHeldPerSensor:
		return fmt.Sprintf("sensor %s has %d parts waiting for an earlier one already (at most %d per sensor)", sensor, c.heldBy[sensor], c.cfg.MaxHeldPerSensor)
	case c.heldAll >= c.cfg.MaxHeld:
		return fmt.Sprintf("%d parts of all sensors wait for an earlier one already (at most %d)", c.heldAll, c.cfg.MaxHeld)
	}
	if r == nil {
		r = &heldRun{sensor: sensor, parts: map[int64]time.Time{}}
		c.held[k] = r
	}
	r.since = since
	r.parts[seq] = now
	c.heldBy[sensor]++
	c.heldAll++
	return ""
}

// heldBelow reports whether a part of run k below seq is held.
func (c *Collector) heldBelow(k partKey, seq int64) bool {
	if r := c.held[k]; r != nil {
		for s := range r.parts {
			if s < seq {
				return true
			}
		}
	}
	return false
}

// release forgets that part seq of run k was held.
func (c *Collector) release(k partKey, seq int64) {
	r := c.held[k]
	if r == nil {
		return
	}
	if _, ok := r.parts[seq]; !ok {
		return
	}
	delete(r.parts, seq)
	c.heldAll--
	if c.heldBy[r.sensor]--; c.heldBy[r.sensor] == 0 {
		delete(c.heldBy, r.sensor)
	}
	if len(r.parts) == 0 {
		delete(c.held, k)
	}
}

// pruneHeld forgets, at most once a second, the held parts that did not
// come again for OrderWait, four times their longest delay: they are no
// longer in the stream (purged by an operator), and must not count against
// their sensor's bound for ever.
func (c *Collector) pruneHeld(now time.Time) {
	if now.Sub(c.heldPruned) < time.Second {
		return
	}
	c.heldPruned = now
	for k, r := range c.held {
		for seq, last := range r.parts {
			if now.Sub(last) > c.cfg.OrderWait {
				c.release(k, seq)
			}
		}
	}
}

// holdDelay is how long held part m is put back for: firstHoldDelay the
// first time it is held, twice as long each time it comes again, at most a
// quarter of wait (what it may wait in all).
func holdDelay(m jetstream.Msg, wait time.Duration) time.Duration {
	d := min(firstHoldDelay, wait)
	top := max(d, wait/4)
	var n uint64 = 1
	if md, err := m.Metadata(); err == nil {
		n = md.NumDelivered
	}
	for i := uint64(1); i < n && d < top; i++ {
		d *= 2
	}
	return min(d, top)
}

// check unpacks a part and checks each record (see recordCheck): it
// unmarshals, and fits its type as net util -check wants it (no unknown
// field, no other wire type than the schema's, not nested too deep), so
// that every record stored is one the tools take. It returns the part as a
// gzip member for the file: a gzip part as it came; or the reason to refuse
// it, and for bad-record and bad-schema what is wrong.
func (c *Collector) check(t types.Type, m jetstream.Msg) (member []byte, n int, reason, detail string) {
	data := m.Data()
	h := m.Headers()
	want, err := strconv.Atoi(h.Get(HdrRecords))
	if err != nil || want < 0 {
		return nil, 0, "bad-header", ""
	}
	recs := data
	switch h.Get(HdrEncoding) {
	case "gzip":
		recs, err = c.gz.unpack(data, c.cfg.MaxRecords)
		if errors.Is(err, errTooLarge) {
			return nil, 0, "oversized", ""
		}
		if err != nil {
			return nil, 0, "bad-gzip", ""
		}
	case "none":
		if len(data) > c.cfg.MaxRecords {
			return nil, 0, "oversized", ""
		}
	default:
		return nil, 0, "bad-encoding", ""
	}
	rc := c.checks[t]
	if rc == nil {
		md := ncio.MessageDescriptor(t)
		if md == nil {
			return nil, 0, "unknown-type", ""
		}
		if rc, err = newRecordCheck(md); err != nil {
			return nil, 0, "unknown-type", ""
		}
		c.checks[t] = rc
	}
	for b := recs; len(b) > 0; n++ {
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return nil, 0, "bad-record", fmt.Sprintf("record %d: its length runs past the end of the part", n)
		}
		rec := b[k : k+int(size)]
		b = b[k+int(size):]
		if e := rc.check(rec); e != nil {
			if e.malformed {
				return nil, 0, "bad-record", fmt.Sprintf("record %d is %v", n, e)
			}
			return nil, 0, "bad-schema", fmt.Sprintf("record %d: %v", n, e)
		}
	}
	if n != want {
		return nil, 0, "bad-count", fmt.Sprintf("%d records, the header says %d", n, want)
	}
	if h.Get(HdrEncoding) == "gzip" {
		return data, n, "", ""
	}
	return c.mc.AppendMember(nil, recs), n, "", ""
}

// toDead publishes part m to netcap.dead and counts it by reason; the first
// 100 are logged, one line each naming where the part came from and, in
// detail, what is wrong with it. The caller acks the original.
func (c *Collector) toDead(m jetstream.Msg, reason, detail string) {
	c.mu.Lock()
	c.dead[reason]++
	log := c.cfg.Log != nil && c.logs < 100
	c.logs++
	c.mu.Unlock()
	subj, data := m.Subject(), m.Data()
	if log {
		what := ""
		if detail != "" {
			what = ": " + detail
		}
		fmt.Fprintf(c.cfg.Log, "net collect: dead letter: %s: %s%s (%d bytes)\n", reason, origin(subj, m.Headers().Get(jetstream.MsgIDHeader)), what, len(data))
	}
	if len(data) > MaxPayload/2 {
		data = data[:MaxPayload/2]
	}
	dm := nats.NewMsg(DeadSubject)
	dm.Header.Set(HdrSubject, subj)
	dm.Header.Set(HdrReason, reason)
	if detail != "" {
		dm.Header.Set(HdrDetail, detail)
	}
	dm.Data = data
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = c.js.PublishMsg(ctx, dm)
}

// origin names the sender of a part for a log line: sensor, type, agent
// run and part number, or the subject as it came when it names no sensor.
func origin(subj, id string) string {
	sensor, t, reason := ParseSubject(subj)
	if reason != "" {
		return fmt.Sprintf("subject %q", subj)
	}
	s := fmt.Sprintf("sensor %s, %s", sensor, types.Name(t))
	if run, seq, ok := runPart(id); ok {
		return fmt.Sprintf("%s, run %q, part %d", s, run, seq)
	}
	return s + ", no run and part number"
}

// file returns the output file of sensor's type t, to be created (with its
// header) or appended to. It opens nothing: writeAll does.
func (c *Collector) file(sensor string, t types.Type, m jetstream.Msg) (*outFile, error) {
	key := sensor + "/" + types.Name(t)
	if f := c.files[key]; f != nil {
		return f, nil
	}
	dir := filepath.Join(c.cfg.Out, sensor)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f := &outFile{dir: dir, name: types.Name(t) + ".ncap.gz", opened: time.Now()}
	st, err := os.Stat(filepath.Join(dir, f.name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		f.size = st.Size()
	}
	if f.size == 0 {
		h := m.Headers()
		head, err := ncio.HeaderBytes(&types.Header{
			Created:          time.Now().UnixNano(),
			InputSource:      sensor + ":" + h.Get(HdrSource),
			Type:             t,
			Version:          c.cfg.Version,
			ContainsPayloads: h.Get(HdrPayloads) == "1",
		})
		if err != nil {
			return nil, err
		}
		f.head = c.mc.AppendMember(nil, head)
	}
	c.files[key] = f
	return f, nil
}

// tooManyOpen reports whether err is the process or the system out of file
// descriptors.
func tooManyOpen(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// openFile opens f to append, first closing the least recently written
// files while MaxOpenFiles are open. Out of descriptors anyway (other
// files of the process), it closes half of the open ones and tries once
// more.
func (c *Collector) openFile(f *outFile) error {
	if f.f != nil {
		return nil
	}
	c.closeLRU(c.open - c.cfg.MaxOpenFiles + 1)
	path := filepath.Join(f.dir, f.name)
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil && tooManyOpen(err) {
		c.TooManyOpen.Add(1)
		c.closeLRU(max(1, c.open/2))
		fh, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	}
	if err != nil {
		if tooManyOpen(err) {
			c.TooManyOpen.Add(1)
		}
		return err
	}
	f.f = fh
	c.open++
	return nil
}

// closeLRU closes the n least recently written open files.
func (c *Collector) closeLRU(n int) {
	for ; n > 0 && c.open > 0; n-- {
		var lru *outFile
		for _, f := range c.files {
			if f.f != nil && (lru == nil || f.used < lru.used) {
				lru = f
			}
		}
		c.closeFile(lru)
	}
}

func (c *Collector) closeFile(f *outFile) {
	if f.f != nil {
		f.f.Close()
		f.f = nil
		c.open--
	}
}

// putBackFile drops f's waiting members: its parts are not written now and
// their messages are put back, to come again (see pull).
func (c *Collector) putBackFile(f *outFile) {
	for i, m := range f.msgs {
		c.putBack[m] = true
		c.Batches.Add(-1)
		c.Records.Add(-int64(f.recs[i]))
		c.Bytes.Add(-int64(len(m.Data())))
	}
	c.PutBack.Add(int64(len(f.msgs)))
	for _, p := range f.parts {
		c.queued[p.Key] = slices.DeleteFunc(c.queued[p.Key], func(seq int64) bool { return seq == p.Seq })
	}
	f.buf, f.parts, f.msgs, f.recs = f.buf[:0], f.parts[:0], f.msgs[:0], f.recs[:0]
}

// writeAll writes each file's waiting members in one write. The state is
// saved first, naming where each file's bytes go and which parts they hold:
// a collector killed during or after the writes, before the acks, counts
// those parts as written when it starts again (or cuts a torn write off).
func (c *Collector) writeAll() error {
	var pending []extent
	for _, f := range c.files {
		if len(f.buf) > 0 {
			rel, err := filepath.Rel(c.cfg.Out, filepath.Join(f.dir, f.name))
			if err != nil {
				return err
			}
			pending = append(pending, extent{File: rel, Offset: f.size, Length: int64(len(f.head) + len(f.buf)), Parts: f.parts})
		}
	}
	if len(pending) > 0 {
		c.st.Round++
		c.st.Pending = pending
		if err := c.st.save(c.cfg.Out); err != nil {
			// Nothing is written yet: every part comes again.
			c.warn("state %s not written: %v; the batch is put back", StateFile, err)
			for _, f := range c.files {
				c.putBackFile(f)
			}
			c.st.Pending = nil
			c.commitQueued()
			return nil
		}
		c.savedPending = true
	}
	var full []string
	for key, f := range c.files {
		if len(f.buf) == 0 {
			continue
		}
		if err := c.openFile(f); err != nil {
			if !tooManyOpen(err) {
				return err
			}
			// Not written: its extent in the saved state stays where the
			// file ends, so nothing of it counts when the state is read.
			c.putBackFile(f)
			continue
		}
		if f.size == 0 && len(f.head) > 0 {
			f.buf = append(f.head, f.buf...)
			f.head = nil
		}
		c.tick++
		f.used = c.tick
		k, err := f.f.Write(f.buf)
		f.size += int64(k)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(f.dir, f.name), err)
		}
		f.buf, f.parts, f.msgs, f.recs = f.buf[:0], f.parts[:0], f.msgs[:0], f.recs[:0]
		if (c.cfg.RotateSize > 0 && f.size >= c.cfg.RotateSize) || (c.cfg.Rotate > 0 && time.Since(f.opened) >= c.cfg.Rotate) {
			full = append(full, key)
		}
	}
	c.commitQueued()
	c.st.Pending = nil
	for _, key := range full {
		if err := c.rotate(key, c.files[key]); err != nil {
			return err
		}
	}
	c.reportParquet()
	return nil
}

// commitQueued counts the parts taken in this batch as written.
func (c *Collector) commitQueued() {
	for k, seqs := range c.queued {
		if len(seqs) > 0 {
			c.dirty = true
			r := c.st.run(k)
			for _, seq := range seqs {
				r.add(seq)
			}
		}
		delete(c.queued, k)
	}
}

func (c *Collector) rotateIdle() error {
	c.reportParquet()
	if c.cfg.Rotate <= 0 {
		return nil
	}
	for key, f := range c.files {
		if len(f.buf) == 0 && time.Since(f.opened) >= c.cfg.Rotate {
			if err := c.rotate(key, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// rotate closes f and renames it <Type>-<opened, UTC>.ncap.gz; the next part
// of its type starts a new file with a header.
func (c *Collector) rotate(key string, f *outFile) error {
	if c.savedPending {
		// The saved state must not name a file about to be renamed.
		if err := c.st.save(c.cfg.Out); err != nil {
			// Rotated later, once the state is written.
			c.warn("state %s not written: %v; rotating %s later", StateFile, err, f.name)
			return nil
		}
		c.savedPending = false
	}
	c.closeFile(f)
	base := f.name[:len(f.name)-len(".ncap.gz")]
	stamp := f.opened.UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		name := base + "-" + stamp + ".ncap.gz"
		if i > 0 {
			name = fmt.Sprintf("%s-%s-%d.ncap.gz", base, stamp, i)
		}
		dst := filepath.Join(f.dir, name)
		if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
			if os.Rename(filepath.Join(f.dir, f.name), dst) == nil {
				c.toParquetLater(dst)
			}
			break
		}
	}
	delete(c.files, key)
	return nil
}

// toParquet writes the record file path as Parquet beside it (-parquet). A
// failure is counted and returned as a line to report; the record file is
// kept as it is, only its Parquet copy is missing.
func (c *Collector) toParquet(path string) (failure string) {
	if !c.cfg.Parquet {
		return ""
	}
	dst := strings.TrimSuffix(path, ".ncap.gz") + ncparquet.Ext
	if _, err := ncparquet.Convert(path, dst, ncparquet.Options{RowGroupRows: c.cfg.ParquetRows}); err != nil {
		c.ParquetFailed.Add(1)
		return fmt.Sprintf("Parquet copy of %s not written: %v", path, err)
	}
	return ""
}

// toParquetLater converts a rotated file, which nothing writes any more, on
// a goroutine of its own (one conversion at a time).
func (c *Collector) toParquetLater(path string) {
	if !c.cfg.Parquet {
		return
	}
	c.pqMu.Lock()
	if c.pqOne == nil {
		c.pqOne = make(chan struct{}, 1)
	}
	c.pqMu.Unlock()
	c.pqWG.Add(1)
	go func() {
		defer c.pqWG.Done()
		c.pqOne <- struct{}{}
		failure := c.toParquet(path)
		<-c.pqOne
		if failure != "" {
			c.pqMu.Lock()
			c.pqFailed = append(c.pqFailed, failure)
			c.pqMu.Unlock()
		}
	}()
}

// reportParquet logs the conversions that failed since the last call.
func (c *Collector) reportParquet() {
	c.pqMu.Lock()
	failed := c.pqFailed
	c.pqFailed = nil
	c.pqMu.Unlock()
	for _, line := range failed {
		c.warn("%s", line)
	}
}

// closeAll writes what is waiting, closes the files and saves the state.
func (c *Collector) closeAll() error {
	if c.broken {
		for key, f := range c.files {
			c.closeFile(f)
			delete(c.files, key)
		}
		c.pqWG.Wait()
		c.reportParquet()
		return nil
	}
	err := c.writeAll()
	// The rotated files' copies first: every copy is written when Run
	// returns.
	c.pqWG.Wait()
	c.reportParquet()
	for key, f := range c.files {
		c.closeFile(f)
		if err == nil {
			if _, serr := os.Stat(filepath.Join(f.dir, f.name)); serr == nil {
				if failure := c.toParquet(filepath.Join(f.dir, f.name)); failure != "" {
					c.warn("%s", failure)
				}
			}
		}
		delete(c.files, key)
	}
	if err == nil && c.dirty {
		err = c.st.save(c.cfg.Out)
	}
	return err
}
