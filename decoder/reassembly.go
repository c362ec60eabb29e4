package decoder

// TCP reassembly: one half-stream per direction of a connection, owned by the
// worker that owns the connection. It turns segments, in whatever order they
// arrive, into the in-order byte stream of that direction:
//
//   - sequence numbers are compared as int32(a-b), so the 32-bit wraparound is
//     just another increment;
//   - bytes already delivered are never delivered again: a retransmission or
//     an overlap only contributes the part after what was delivered (the first
//     copy wins, as in most endpoints' stacks; the overlap is counted);
//   - segments after a hole wait in a list sorted by sequence number, bounded
//     by a per-connection and a per-worker budget; when a budget is exceeded,
//     or the connection ends, the hole is given up: its size is reported to
//     the consumer as missed bytes and counted, never hidden.

// seqDiff is a-b in sequence space.
func seqDiff(a, b uint32) int32 { return int32(a - b) }

type segment struct {
	seq  uint32
	data []byte
}

// halfStream is one direction of a TCP connection.
type halfStream struct {
	started  bool
	next     uint32 // next sequence number to deliver
	pending  []segment
	buffered int // bytes in pending
	// first segment time/frame of the bytes waiting in pending[0], for the
	// Chunk handed over when it is delivered.
	pendingTS    []int64
	pendingFrame []int64
	// time and frame of the segment popped last
	lastTS, lastFrame int64
}

// reasmStats counts what the reassemblers of one worker did.
type reasmStats struct {
	delivered   int64 // bytes handed to parsers, in order
	missed      int64 // bytes given up (holes)
	overlap     int64 // bytes received twice (retransmissions, overlaps)
	outOfOrder  int64 // segments that arrived after a hole
	limitHits   int64 // times a memory budget forced a hole to be given up
	bufferedNow int64 // bytes waiting in all half-streams of the worker
	bufferedMax int64
}

// deliverFunc receives in-order bytes; missed > 0 means that many bytes were
// lost right before data.
type deliverFunc func(data []byte, missed int, ts, frame int64)

// start sets the first expected sequence number: after the SYN (isn+1) or,
// when the handshake was not captured, the first segment seen.
func (h *halfStream) start(seq uint32) {
	h.started = true
	h.next = seq
}

// add takes one segment. perConn bounds the bytes a half-stream may hold;
// st.bufferedNow against budget bounds the worker.
func (h *halfStream) add(seq uint32, data []byte, ts, frame int64, perConn int, budget int64, st *reasmStats, out deliverFunc) {
	if len(data) == 0 {
		return
	}
	if !h.started {
		h.start(seq)
	}
	d := seqDiff(seq, h.next)
	switch {
	case d <= 0:
		// Starts at or before the next expected byte: skip what was
		// delivered already.
		skip := int(-d)
		if skip >= len(data) {
			st.overlap += int64(len(data))
			return
		}
		st.overlap += int64(skip)
		data = data[skip:]
		h.next += uint32(len(data))
		st.delivered += int64(len(data))
		out(data, 0, ts, frame)
		h.drain(st, out)
	default:
		st.outOfOrder++
		h.insert(seq, data, ts, frame, st)
		if h.buffered > perConn || (budget > 0 && st.bufferedNow > budget) {
			st.limitHits++
			// Give up holes, oldest first, until this half-stream is back
			// within its bound (one hole may not be enough).
			for len(h.pending) > 0 && (h.buffered > perConn || (budget > 0 && st.bufferedNow > budget)) {
				h.skipHole(st, out)
			}
		}
	}
}

// insert keeps a copy of an out-of-order segment, sorted by sequence number.
func (h *halfStream) insert(seq uint32, data []byte, ts, frame int64, st *reasmStats) {
	i := len(h.pending)
	for i > 0 && seqDiff(h.pending[i-1].seq, seq) > 0 {
		i--
	}
	cp := append([]byte(nil), data...)
	h.pending = append(h.pending, segment{})
	h.pendingTS = append(h.pendingTS, 0)
	h.pendingFrame = append(h.pendingFrame, 0)
	copy(h.pending[i+1:], h.pending[i:])
	copy(h.pendingTS[i+1:], h.pendingTS[i:])
	copy(h.pendingFrame[i+1:], h.pendingFrame[i:])
	h.pending[i], h.pendingTS[i], h.pendingFrame[i] = segment{seq, cp}, ts, frame
	h.buffered += len(cp)
	st.bufferedNow += int64(len(cp))
	if st.bufferedNow > st.bufferedMax {
		st.bufferedMax = st.bufferedNow
	}
}

// drain delivers waiting segments that have become contiguous.
func (h *halfStream) drain(st *reasmStats, out deliverFunc) {
	for len(h.pending) > 0 {
		s := h.pending[0]
		d := seqDiff(s.seq, h.next)
		if d > 0 {
			return
		}
		h.pop(st)
		skip := int(-d)
		if skip >= len(s.data) {
			st.overlap += int64(len(s.data))
			continue
		}
		st.overlap += int64(skip)
		data := s.data[skip:]
		h.next += uint32(len(data))
		st.delivered += int64(len(data))
		out(data, 0, h.lastTS, h.lastFrame)
	}
}

// pop removes pending[0] and remembers its time and frame.
func (h *halfStream) pop(st *reasmStats) {
	h.buffered -= len(h.pending[0].data)
	st.bufferedNow -= int64(len(h.pending[0].data))
	h.lastTS, h.lastFrame = h.pendingTS[0], h.pendingFrame[0]
	h.pending[0] = segment{}
	h.pending = h.pending[1:]
	h.pendingTS = h.pendingTS[1:]
	h.pendingFrame = h.pendingFrame[1:]
	if len(h.pending) == 0 {
		h.pending, h.pendingTS, h.pendingFrame = nil, nil, nil
	}
}

// skipHole gives up the hole before the first waiting segment and delivers
// from there on.
func (h *halfStream) skipHole(st *reasmStats, out deliverFunc) {
	if len(h.pending) == 0 {
		return
	}
	s := h.pending[0]
	missed := int(seqDiff(s.seq, h.next))
	if missed <= 0 {
		h.drain(st, out)
		return
	}
	h.pop(st)
	st.missed += int64(missed)
	h.next = s.seq + uint32(len(s.data))
	st.delivered += int64(len(s.data))
	out(s.data, missed, h.lastTS, h.lastFrame)
	h.drain(st, out)
}

// flush gives up every hole and delivers everything waiting: the connection
// ended.
func (h *halfStream) flush(st *reasmStats, out deliverFunc) {
	for len(h.pending) > 0 {
		h.skipHole(st, out)
	}
}

// release drops waiting data without delivering it (no consumer).
func (h *halfStream) release(st *reasmStats) {
	st.bufferedNow -= int64(h.buffered)
	h.buffered = 0
	h.pending, h.pendingTS, h.pendingFrame = nil, nil, nil
}
