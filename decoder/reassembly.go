package decoder

import (
	"container/heap"
	"unsafe"
)

// TCP reassembly: one half-stream per direction of a connection, owned by the
// worker that owns the connection. It turns segments, in whatever order they
// arrive, into the in-order byte stream of that direction:
//
//   - a sequence number is turned into a 64-bit stream offset as it
//     arrives (seqDiff from the next expected byte, which is within 2^31 of
//     it), so the 32-bit wraparound is just another increment;
//   - bytes already delivered are never delivered again: a retransmission or
//     an overlap only contributes the part after what was delivered (the first
//     copy wins, as in most endpoints' stacks; the overlap is counted);
//   - segments after a hole wait in a min-heap ordered by stream offset,
//     then by arrival (so between equal offsets the first copy wins): each
//     segment costs O(log n), whatever the order segments arrive in;
//   - what waits is counted as allocated (the copies of the segments' data
//     and the heap's slots) and bounded by a per-connection and a
//     per-worker budget; when a budget is exceeded, or the connection ends,
//     the hole is given up: its size is reported to the consumer as missed
//     bytes and counted, never hidden.

// seqDiff is a-b in sequence space.
func seqDiff(a, b uint32) int32 { return int32(a - b) }

// segment is an out-of-order segment waiting for the hole before it.
type segment struct {
	pos       int64  // stream offset of data[0] (see halfStream.pos)
	nth       uint64 // arrival number, orders segments with equal pos
	data      []byte // a copy of the segment's payload
	ts, frame int64  // time and frame of the packet that carried it
}

// segmentSize is what a segment takes in the heap's backing array.
const segmentSize = int64(unsafe.Sizeof(segment{}))

// segmentHeap is a min-heap of segments by (pos, nth) for container/heap.
type segmentHeap []segment

func (q segmentHeap) Len() int { return len(q) }
func (q segmentHeap) Less(i, j int) bool {
	if q[i].pos != q[j].pos {
		return q[i].pos < q[j].pos
	}
	return q[i].nth < q[j].nth
}
func (q segmentHeap) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

// Push and Pop complete heap.Interface; halfStream.insert and pop do their
// work with heap.Fix instead, which does not box every segment in an
// interface value (an allocation per segment).
func (q *segmentHeap) Push(x any) { *q = append(*q, x.(segment)) }
func (q *segmentHeap) Pop() any {
	n := len(*q) - 1
	s := (*q)[n]
	(*q)[n] = segment{}
	*q = (*q)[:n]
	return s
}

// halfStream is one direction of a TCP connection.
type halfStream struct {
	started bool
	next    uint32 // sequence number of the next byte to deliver
	pos     int64  // its stream offset: bytes delivered or missed so far
	pending segmentHeap
	arrived uint64 // segments that went into pending
	// dataCap is the capacity of the copies in pending; buffered is what
	// pending holds as allocated: dataCap and the heap's backing array.
	dataCap  int64
	buffered int64
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
	bufferedNow int64 // memory held by all half-streams of the worker (see memory)
	bufferedMax int64
}

// memory returns the bytes the worker's half-streams hold for segments
// waiting behind a hole, as allocated: the copies of their data and the
// slots of the heaps that order them. It is what Options.StreamMemory
// bounds.
func (st *reasmStats) memory() int64 { return st.bufferedNow }

// deliverFunc receives in-order bytes; missed > 0 means that many bytes were
// lost right before data.
type deliverFunc func(data []byte, missed int, ts, frame int64)

// start sets the first expected sequence number: after the SYN (isn+1) or,
// when the handshake was not captured, the first segment seen.
func (h *halfStream) start(seq uint32) {
	h.started = true
	h.next = seq
}

// advance moves the next expected byte n bytes on.
func (h *halfStream) advance(n int64) {
	h.next += uint32(n)
	h.pos += n
}

// add takes one segment. perConn bounds the memory a half-stream may hold;
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
		h.advance(int64(len(data)))
		st.delivered += int64(len(data))
		out(data, 0, ts, frame)
		h.drain(st, out)
	default:
		st.outOfOrder++
		h.insert(h.pos+int64(d), data, ts, frame, st)
		over := func() bool { return h.buffered > int64(perConn) || (budget > 0 && st.bufferedNow > budget) }
		if over() {
			st.limitHits++
			// Give up holes, oldest first, until this half-stream is back
			// within its bound (one hole may not be enough).
			for len(h.pending) > 0 && over() {
				h.skipHole(st, out)
			}
		}
	}
}

// insert keeps a copy of an out-of-order segment at stream offset pos.
func (h *halfStream) insert(pos int64, data []byte, ts, frame int64, st *reasmStats) {
	cp := append([]byte(nil), data...)
	h.arrived++
	h.pending = append(h.pending, segment{pos: pos, nth: h.arrived, data: cp, ts: ts, frame: frame})
	heap.Fix(&h.pending, len(h.pending)-1)
	h.dataCap += int64(cap(cp))
	h.account(st)
}

// pop removes the first waiting segment and remembers its time and frame.
func (h *halfStream) pop(st *reasmStats) segment {
	s := h.pending[0]
	n := len(h.pending) - 1
	h.pending[0] = h.pending[n]
	h.pending[n] = segment{}
	h.pending = h.pending[:n]
	switch {
	case n == 0:
		h.pending = nil
	case cap(h.pending) >= 64 && n < cap(h.pending)/4:
		// Give back most of a backing array that emptied out; a copy
		// of a heap is still a heap. append sizes the new array as the
		// allocator rounds it, so its capacity is what it takes.
		h.pending = append(segmentHeap(nil), h.pending...)
	}
	if n > 1 {
		heap.Fix(&h.pending, 0)
	}
	h.dataCap -= int64(cap(s.data))
	h.account(st)
	h.lastTS, h.lastFrame = s.ts, s.frame
	return s
}

// account recounts what h holds and moves the difference into st.
func (h *halfStream) account(st *reasmStats) {
	m := int64(cap(h.pending))*segmentSize + h.dataCap
	st.bufferedNow += m - h.buffered
	h.buffered = m
	st.bufferedMax = max(st.bufferedMax, st.bufferedNow)
}

// drain delivers waiting segments that have become contiguous.
func (h *halfStream) drain(st *reasmStats, out deliverFunc) {
	for len(h.pending) > 0 {
		d := h.pending[0].pos - h.pos
		if d > 0 {
			return
		}
		s := h.pop(st)
		skip := -d
		if skip >= int64(len(s.data)) {
			st.overlap += int64(len(s.data))
			continue
		}
		st.overlap += skip
		data := s.data[skip:]
		h.advance(int64(len(data)))
		st.delivered += int64(len(data))
		out(data, 0, h.lastTS, h.lastFrame)
	}
}

// skipHole gives up the hole before the first waiting segment and delivers
// from there on.
func (h *halfStream) skipHole(st *reasmStats, out deliverFunc) {
	if len(h.pending) == 0 {
		return
	}
	missed := h.pending[0].pos - h.pos
	if missed <= 0 {
		h.drain(st, out)
		return
	}
	s := h.pop(st)
	st.missed += missed
	h.advance(missed + int64(len(s.data)))
	st.delivered += int64(len(s.data))
	out(s.data, int(missed), h.lastTS, h.lastFrame)
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
	h.pending, h.dataCap = nil, 0
	h.account(st)
}
