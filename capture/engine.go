package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/flowhash"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The engine on one page:
//
//	Reader  reads packets from a Source into batches (copying the bytes into
//	        the batch's own buffer), numbers the frames and tags each packet
//	        with its owner worker: FlowHash % workers, so one flow always
//	        lives in one worker. IP fragments go to every worker (their
//	        ports are in the fragment that holds the transport header
//	        only); the decoder sorts out which one records them.
//	Worker  gets every batch, decodes the packets it owns and serializes their
//	        records into its own arena of that batch, handing each record to
//	        the OnRecord hook as it goes. No locks, no sharing.
//	Writer  takes finished batches in sequence order and, packet by packet,
//	        appends each packet's records to its record type's file and the
//	        packet's bytes to unknown.pcap or errors.pcap when it needs to.
//
// Because the writer walks packets in capture order, the files are the same
// byte for byte whatever the number of workers. Batches come from a fixed pool,
// so memory is bounded by pool size x batch size, not by the input.
//
// Config follows the stages: Config.Input is the Reader's, Config.Decoding
// the Workers', Config.Output the Writer's, and Config.Hooks let the caller
// watch all three. A Source may offer more than it must (FrameNumberer,
// DropCounter) and a PartWriter may name its file (PathNamer); the engine
// asks for each in one place and works without.

// Stats is a snapshot of the engine's counters.
type Stats struct {
	Packets int64
	Unknown int64
	Errors  int64
	Done    int64 // input bytes consumed
	Total   int64 // input size, 0 when unknown
	Elapsed time.Duration
	Kernel  int64 // live: packets the kernel or the interface dropped
	Behind  int64 // live: packets dropped because the workers were behind
}

// Summary is what a finished run reports.
type Summary struct {
	Source        string
	Packets       int64
	Unknown       int64
	Errors        int64
	Records       map[string]int64 // per record type name
	UnknownLayers map[string]int64 // why packets went to unknown.pcap
	ErrorReasons  map[string]int64 // why packets went to errors.pcap
	Elapsed       time.Duration
	Workers       int
	Truncated     error // set when the capture was cut; everything before it was written
	Live          bool  // the source was a live capture
	KernelDrops   int64 // live: packets the kernel or the interface dropped
	Behind        int64 // live: packets dropped because the workers were behind
	Files         []string
	Decoder       decoder.Stats // flow and reassembly counters summed over workers
	// Unencodable counts records that could not be marshalled (a string
	// field that is not UTF-8, which the decoders prevent): not written.
	Unencodable int64
}

type recRef struct {
	pkt     int32
	typ     types.Type
	end     int32
	ordered bool  // emitted with EmitOrdered: written after the packet's own records, by key
	key     int64 // first frame of the flow the record describes
}

type workerOut struct {
	arena []byte
	recs  []recRef
}

type pktInfo struct {
	off, capLen, length int
	frame               int64 // frame number in the input (a filter may skip some)
	ts                  int64
	link                layers.LinkType
	owner               int
	shared              bool // an IP fragment: every worker decodes it, one records it
	status              decoder.Status
	reason              string
	ep                  decoder.Endpoints // for the layer-flow models in the writer
	// expected, when not 0, is 1 + the index in the batch's expected of
	// the control connection that announced this packet's connection.
	expected int32
}

type batch struct {
	seq     uint64
	final   bool  // no packets: the end of input, workers flush their state
	frame0  int64 // frame number of pkts[0]
	data    []byte
	pkts    []pktInfo
	out     []workerOut
	pending atomic.Int32
	// expected are the control connections of the batch's packets of
	// announced data connections (pktInfo.expected).
	expected []decoder.Expected
}

type engine struct {
	cfg     Config
	src     Source
	workers int
	enabled [256]bool
	// decode are the types the decoders make: the selected ones and
	// those the inventory reads (Connection for Service); observe, those
	// the inventory reads.
	decode, observe [256]bool
	inventory       *decoder.Inventory
	csvHdr          map[types.Type][]byte

	seq         uint64 // sequence number of the last batch read
	pool        chan *batch
	toWork      []chan *batch
	done        chan *batch
	compress    chan *part // parts of record files for the workers to gzip
	packets     atomic.Int64
	unknown     atomic.Int64
	errs        atomic.Int64
	unencodable atomic.Int64 // records marshalling refused
	behind      atomic.Int64 // live: packets dropped for want of a free batch
	start       time.Time
	workerStats []decoder.Stats // per worker, filled at the final flush
	gauges      *gauges
	// expect is the reader's table of announced FTP data connections,
	// routed to their control's worker (decoder/ftpdata.go).
	expect *decoder.Expectations
}

// Run decodes every packet of src and writes the records to cfg.Output.Dir
// (or hands them to cfg.Output.Parts). It stops early, with everything so
// far written, when ctx is cancelled.
func Run(ctx context.Context, src Source, cfg Config) (*Summary, error) {
	in, dec, out := &cfg.Input, &cfg.Decoding, &cfg.Output
	if dec.Workers <= 0 {
		dec.Workers = runtime.NumCPU()
	}
	if in.BatchSize <= 0 {
		in.BatchSize = 256
	}
	if in.BatchBytes <= 0 {
		in.BatchBytes = DefaultBatchBytes
	}
	if dec.Enabled == nil {
		dec.Enabled = func(types.Type) bool { return true }
	}
	if dec.Options == (decoder.Options{}) {
		dec.Options = decoder.DefaultOptions()
	}
	if dec.MemCap > 0 {
		dec.Options.MemCap = MemCapShare(dec.MemCap, dec.Workers)
	}
	dec.Options.Payloads = dec.Payloads
	if out.Created.IsZero() {
		out.Created = time.Now()
	}
	if out.Parquet {
		if out.Parts != nil {
			return nil, errors.New("capture: Parquet output goes to files in Output.Dir, not to Output.Parts")
		}
		// The Parquet writer takes length-delimited records as they are,
		// and compresses them itself.
		out.CSV, out.Compress = false, false
	}
	if out.Parts == nil {
		if err := os.MkdirAll(out.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("capture: output folder: %w", err)
		}
	}
	e := &engine{cfg: cfg, src: src, workers: dec.Workers, start: time.Now(), workerStats: make([]decoder.Stats, dec.Workers)}
	e.expect = decoder.NewExpectations(dec.Options.MaxExpected, dec.Options.ConnTimeout)
	e.inventory = decoder.NewInventory(func(t types.Type) bool { return dec.Enabled(t) })
	for _, t := range decoder.RecordTypes() {
		e.enabled[t] = dec.Enabled(t)
		e.observe[t] = e.inventory != nil && e.inventory.Reads(t)
		e.decode[t] = e.enabled[t] || e.observe[t]
	}
	poolSize := BatchPool(e.workers)
	e.pool = make(chan *batch, poolSize)
	for i := 0; i < poolSize; i++ {
		e.pool <- &batch{out: make([]workerOut, e.workers), pkts: make([]pktInfo, 0, in.BatchSize)}
	}
	e.toWork = make([]chan *batch, e.workers)
	for i := range e.toWork {
		e.toWork[i] = make(chan *batch, poolSize)
	}
	e.done = make(chan *batch, poolSize)
	e.compress = make(chan *part, 2*e.workers)
	e.gauges = &gauges{queues: e.toWork, workers: make([]workerGauges, e.workers)}
	e.gauges.engine.Store(e)
	if m := cfg.Hooks.Monitor; m != nil {
		m.g.Store(e.gauges)
	}

	// decoding counts the workers still decoding; workers counts them until
	// they have also compressed the last part, after the writer is done.
	var decoding, workers sync.WaitGroup
	for i := 0; i < e.workers; i++ {
		decoding.Add(1)
		workers.Add(1)
		go func(id int) {
			defer workers.Done()
			e.work(id, &decoding)
		}(i)
	}
	w := newWriter(e)
	writerDone := make(chan error, 1)
	go func() { writerDone <- w.run() }()

	stopProgress := e.progress()
	readErr := e.read(ctx)
	// A last, empty batch tells the workers to flush what they hold (open
	// flows, streams) so that it is written after every packet.
	final := <-e.pool
	final.seq, final.final, final.pkts, final.data = e.seq+1, true, final.pkts[:0], final.data[:0]
	final.pending.Store(int32(e.workers))
	for _, ch := range e.toWork {
		ch <- final
	}
	for _, ch := range e.toWork {
		close(ch)
	}
	decoding.Wait()
	close(e.done)
	werr := <-writerDone
	workers.Wait()
	stopProgress()
	last := e.stats()
	e.gauges.final.Store(&last)
	e.gauges.engine.Store(nil)

	s := &Summary{
		Source:        src.Name(),
		Packets:       e.packets.Load(),
		Unknown:       e.unknown.Load(),
		Errors:        e.errs.Load(),
		Unencodable:   e.unencodable.Load(),
		Records:       w.counts(),
		UnknownLayers: w.unknownLayers,
		ErrorReasons:  w.errorReasons,
		Elapsed:       time.Since(e.start),
		Workers:       e.workers,
		Files:         w.files(),
		Live:          in.Live,
		KernelDrops:   kernelDrops(src),
		Behind:        e.behind.Load(),
	}
	for _, st := range e.workerStats {
		s.Decoder.Add(st)
	}
	if w.layerFlows != nil {
		s.Decoder.LayerFlowsEvicted = w.layerFlows.Evicted()
	}
	if e.inventory != nil {
		s.Decoder.InventoryDropped = e.inventory.Dropped
	}
	s.Decoder.ExpectedDropped = e.expect.Dropped
	if readErr != nil {
		if !errors.Is(readErr, ErrTruncatedCapture) {
			return s, readErr
		}
		s.Truncated = readErr
	}
	return s, werr
}

// read is the Reader: it fills batches and hands each to every worker.
func (e *engine) read(ctx context.Context) error {
	frame := int64(1)
	framed, _ := e.src.(FrameNumberer)
	for {
		var b *batch
		if e.cfg.Input.Live {
			var err error
			if b, err = e.takeLive(ctx, &frame); b == nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		} else {
			select {
			case b = <-e.pool:
			case <-ctx.Done():
				return nil
			}
		}
		b.frame0 = frame
		b.data, b.pkts, b.expected = b.data[:0], b.pkts[:0], b.expected[:0]
		var err error
		for len(b.pkts) < e.cfg.Input.BatchSize && len(b.data) < e.cfg.Input.BatchBytes {
			data, ci, link, rerr := e.src.ReadPacket()
			if rerr == ErrIdle {
				// A live source had nothing for a while: hand on what
				// the batch holds, so records do not wait for a full
				// batch, and see whether to stop.
				if len(b.pkts) > 0 || ctx.Err() != nil {
					break
				}
				continue
			}
			if rerr != nil {
				err = rerr
				break
			}
			if framed != nil {
				frame = framed.Frame()
			}
			off := len(b.data)
			b.data = append(b.data, data...)
			// Fragments are marked whatever the number of workers, so
			// that one worker reassembles as many do.
			h, shared := flowhash.Packet(data, link)
			ts := ci.Timestamp.UnixNano()
			var expected int32
			if !shared {
				// A packet of an announced FTP data connection goes to
				// its control's worker, with the control named.
				if seg, ok := flowhash.TCP(data, link); ok {
					if ctl, ch, ok := e.expect.Packet(&seg, h, ts); ok {
						h = ch
						b.expected = append(b.expected, *ctl)
						expected = int32(len(b.expected))
					}
				}
			}
			owner := 0
			if e.workers > 1 {
				owner = int(h % uint64(e.workers))
			}
			b.pkts = append(b.pkts, pktInfo{off: off, capLen: len(data), length: ci.Length, ts: ts, link: link, owner: owner, shared: shared, frame: frame, expected: expected})
			frame++
			if ctx.Err() != nil {
				break
			}
		}
		if len(b.pkts) > 0 {
			e.seq++
			b.seq, b.final = e.seq, false
			e.packets.Add(int64(len(b.pkts)))
			b.pending.Store(int32(e.workers))
			for _, ch := range e.toWork {
				ch <- b
			}
		} else {
			e.pool <- b
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// liveWait is how long the live reader waits for a free batch before it
// drops packets: the kernel buffer rides out short stalls of the workers (a
// garbage collection, a burst of flow ends) without loss.
const liveWait = 50 * time.Millisecond

// takeLive gets a free batch without making a live source wait long: when
// every batch is still with the workers after liveWait, it reads packets and
// drops them, counting them, until one is free, so that the kernel's buffer
// keeps draining and the loss is told. It returns a nil batch when ctx is
// done or the source fails.
func (e *engine) takeLive(ctx context.Context, frame *int64) (*batch, error) {
	select {
	case b := <-e.pool:
		return b, nil
	default:
	}
	wait := time.NewTimer(liveWait)
	select {
	case b := <-e.pool:
		wait.Stop()
		return b, nil
	case <-ctx.Done():
		wait.Stop()
		return nil, nil
	case <-wait.C:
	}
	for {
		select {
		case b := <-e.pool:
			return b, nil
		case <-ctx.Done():
			return nil, nil
		default:
		}
		_, _, _, err := e.src.ReadPacket()
		switch {
		case err == nil:
			e.behind.Add(1)
			*frame++
		case err == ErrIdle:
		default:
			return nil, err
		}
	}
}

// DefaultBatchBytes is the default Config.Input.BatchBytes. A batch is
// handed over at BatchSize packets or BatchBytes bytes, whichever comes
// first, so that the pool holds pool size x BatchBytes (plus one frame each),
// not pool size x BatchSize x the largest frame. 256 packets of 1,514 bytes take 388 KB:
// full-size Ethernet frames still make batches of 256 packets; only jumbo or
// offloaded frames make smaller ones.
const DefaultBatchBytes = 1 << 20

// BatchPool is how many batches the engine has for workers workers, so no
// queue holds more: at least 16 (4,096 packets at the default batch size, a
// few ms of work), so that when another process takes a core from one
// worker for a time slice, the others go on with later batches instead of
// waiting with the writer for that one. With 8 (the earlier floor), net
// agent, which shares the cores with the collector and NATS server on one
// machine, left them idle 7 to 8 % of the time.
func BatchPool(workers int) int { return max(16, 4*workers) }

// MemCapShare is the share of memcap that each of workers workers, and the
// layer flows of the writer, may hold.
func MemCapShare(memcap int64, workers int) int64 { return memcap / int64(max(workers, 1)+1) }

// kernelDrops asks a source that can lose packets (a live capture) how many
// it lost; other sources lose none.
func kernelDrops(src Source) int64 {
	if k, ok := src.(DropCounter); ok {
		return k.KernelDrops()
	}
	return 0
}

// work is a Worker: it decodes the packets of each batch that it owns, and
// gzips parts of record files that the writer has cut, whichever comes
// first. So -workers bounds the cores that the heavy work uses, and
// compression scales with it. decoding is marked done when the batches end;
// the worker then only compresses, until the writer closes the queue.
func (e *engine) work(id int, decoding *sync.WaitGroup) {
	opts := e.cfg.Decoding.Options
	opts.Worker, opts.Workers = id, e.workers
	pd := decoder.NewPacketDecoder(func(t types.Type) bool { return e.decode[t] }, opts)
	stateful := pd.Stateful()
	sink := &sink{e: e, worker: id}
	var meta decoder.Packet
	var mc *ncio.MemberCompressor
	batches, parts := e.toWork[id], e.compress
	for batches != nil || parts != nil {
		var b *batch
		select {
		case bb, ok := <-batches:
			if !ok {
				batches = nil
				decoding.Done()
				continue
			}
			b = bb
		case p, ok := <-parts:
			if !ok {
				parts = nil
				continue
			}
			if mc == nil {
				mc = ncio.NewMemberCompressor()
			}
			p.out = mc.AppendMember(p.out[:0], p.in)
			p.done <- struct{}{}
			continue
		}
		out := &b.out[id]
		out.arena, out.recs = out.arena[:0], out.recs[:0]
		sink.out = out
		if b.final {
			sink.pkt = 0
			pd.Flush(sink)
			e.workerStats[id] = pd.Stats()
		}
		for i := range b.pkts {
			p := &b.pkts[i]
			sink.pkt = int32(i)
			if stateful {
				// Every worker sees the time of every packet, so flows
				// time out at the same place in the capture whatever
				// worker holds them.
				pd.Tick(p.ts, sink)
			}
			if p.owner != id && !p.shared {
				continue
			}
			meta = decoder.Packet{
				Frame:         p.frame,
				Timestamp:     p.ts,
				CaptureLength: p.capLen,
				Length:        p.length,
				Payloads:      e.cfg.Decoding.Payloads,
				Entropy:       e.cfg.Decoding.Entropy,
				Shared:        p.shared,
				NotOwner:      p.owner != id,
			}
			if p.expected > 0 {
				meta.Expected = &b.expected[p.expected-1]
			}
			// A shared packet (an IP fragment) is decoded by every
			// worker; exactly one records it and fills its status.
			st, reason := pd.Decode(b.data[p.off:p.off+p.capLen], p.link, &meta, sink)
			if !meta.Skipped {
				p.status, p.reason, p.ep = st, reason, meta.Endpoints
			}
		}
		// Once a batch, not once a packet: a few plain loads and three
		// stores to this worker's own cache line.
		g, h := &e.gauges.workers[id], pd.Held()
		g.stream.Store(h.StreamBytes)
		g.fragments.Store(h.FragmentBytes)
		g.connections.Store(h.Connections)
		if b.pending.Add(-1) == 0 {
			e.gauges.writing.Add(1)
			e.done <- b
		}
	}
}

// sink serializes records into the worker's arena of the current batch.
type sink struct {
	e      *engine
	worker int
	out    *workerOut
	pkt    int32
}

func (s *sink) Emit(t types.Type, m proto.Message) { s.emit(t, m, false, 0) }

// EmitOrdered implements decoder.OrderedSink.
func (s *sink) EmitOrdered(t types.Type, m proto.Message, key int64) { s.emit(t, m, true, key) }

func (s *sink) emit(t types.Type, m proto.Message, ordered bool, key int64) {
	if int(t) >= len(s.e.enabled) {
		return
	}
	if s.e.observe[t] {
		s.e.inventory.Observe(m)
	}
	if !s.e.enabled[t] {
		return
	}
	var err error
	start := len(s.out.arena)
	if s.e.cfg.Output.CSV {
		s.out.arena = ncio.AppendCSVRow(s.out.arena, m.ProtoReflect(), &ncio.CaptureCSV)
	} else {
		s.out.arena, err = ncio.AppendDelimited(s.out.arena, m)
	}
	if err != nil {
		// Marshalling only fails on invalid UTF-8 in a string field, which
		// the decoders prevent; drop the partial bytes and count it.
		s.out.arena = s.out.arena[:start]
		s.e.unencodable.Add(1)
		return
	}
	s.out.recs = append(s.out.recs, recRef{pkt: s.pkt, typ: t, end: int32(len(s.out.arena)), ordered: ordered, key: key})
	if hook := s.e.cfg.Hooks.OnRecord; hook != nil {
		hook(s.worker, t, m, len(s.out.arena)-start)
	}
}

func (e *engine) progress() (stop func()) {
	if e.cfg.Hooks.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				e.cfg.Hooks.Progress(e.stats())
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func (e *engine) stats() Stats {
	done, total := e.src.Progress()
	return Stats{Packets: e.packets.Load(), Unknown: e.unknown.Load(), Errors: e.errs.Load(), Done: done, Total: total, Elapsed: time.Since(e.start),
		Kernel: kernelDrops(e.src), Behind: e.behind.Load()}
}

// sortedKeys returns m's keys in order, for stable printing.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func outPath(dir, name string) string { return filepath.Join(dir, name) }
