package capture

import "sync/atomic"

// Monitor lets another goroutine (a metrics scrape) read a running engine:
// its counters as they are now (Config.Hooks.Progress only comes once a second),
// how many batches wait for each worker and for the writer, and what the
// workers' reassemblers hold. Give it to Run in Config.Hooks.Monitor. Reading
// costs the engine nothing: counters and queue lengths are read where the
// engine keeps them, and each worker publishes its decoder's state once per
// batch with atomic stores to a cache line of its own.
type Monitor struct {
	g atomic.Pointer[gauges]
}

// Gauges is the state of a run at one moment.
type Gauges struct {
	// Workers holds one entry per worker, in worker order.
	Workers []WorkerGauges
	// WriterQueue is the number of batches that every worker has decoded
	// and the writer has not written yet (a batch that waits for an
	// earlier one counts too).
	WriterQueue int
}

// WorkerGauges is one worker's share of Gauges.
type WorkerGauges struct {
	// Queue is the number of batches waiting for the worker (the one it is
	// decoding aside).
	Queue int
	// StreamBytes is the memory its reassembler holds for out-of-order TCP
	// segments, FragmentBytes that of the IP fragments of incomplete
	// datagrams (both data and bookkeeping, as allocated), and
	// Connections the flows it tracks, as of the last batch it finished.
	StreamBytes, FragmentBytes, Connections int64
}

// Gauges returns the state of the last run the monitor was given to; ok is
// false when no run started yet. Once a run has ended its queues are empty
// and its workers hold nothing.
func (m *Monitor) Gauges() (g Gauges, ok bool) {
	st := m.g.Load()
	if st == nil {
		return g, false
	}
	g.Workers = make([]WorkerGauges, len(st.workers))
	for i := range st.workers {
		w := &st.workers[i]
		g.Workers[i] = WorkerGauges{
			Queue:         len(st.queues[i]),
			StreamBytes:   w.stream.Load(),
			FragmentBytes: w.fragments.Load(),
			Connections:   w.connections.Load(),
		}
	}
	g.WriterQueue = int(st.writing.Load())
	return g, true
}

// Stats returns the counters of the last run the monitor was given to, as
// they are now, or once the run has ended as they were at its end; ok is
// false when no run started yet.
func (m *Monitor) Stats() (s Stats, ok bool) {
	st := m.g.Load()
	if st == nil {
		return s, false
	}
	if e := st.engine.Load(); e != nil {
		return e.stats(), true
	}
	if f := st.final.Load(); f != nil {
		return *f, true
	}
	return s, false
}

// gauges is what a Monitor reads. It only points to the engine while the
// run goes, so a monitor kept after its run does not keep the run's memory.
type gauges struct {
	engine  atomic.Pointer[engine] // nil once the run has ended
	final   atomic.Pointer[Stats]  // set as the run ends
	queues  []chan *batch          // the workers' queues (len is safe from any goroutine)
	workers []workerGauges
	writing atomic.Int64 // batches handed to the writer and not written yet
}

// workerGauges is written by one worker only, padded to a cache line so that
// workers do not share one.
type workerGauges struct {
	stream, fragments, connections atomic.Int64
	_                              [64 - 3*8]byte
}
