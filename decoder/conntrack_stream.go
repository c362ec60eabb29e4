package decoder

// Stream dispatch of the connection table (conntrack.go): TCP payloads go
// through the reassembler to the detectors and the chosen stream parser.

// streamState is what a TCP connection needs once it carries payload for the
// stream parsers: the reassemblers, the detection and the parser.
type streamState struct {
	dir        [2]dirStream
	detectDone bool
	parser     StreamParser
	info       ConnInfo
	out        [2]deliverFunc
}

// dirStream is the stream state of one direction.
type dirStream struct {
	stream      halfStream
	detectTried bool // detection on this side ended without a parser
	dropped     int  // bytes not handed over before a parser was chosen
	// head holds the first bytes of this side while a detector answers
	// DetectMore (fewer than StreamDetectMax), with the time and frame of
	// the segment that carried the first of them.
	head              []byte
	headTS, headFrame int64
}

// streamOf returns the connection's stream state, made on first use.
func (t *connTable) streamOf(c *conn) *streamState {
	if c.st != nil {
		return c.st
	}
	st := &streamState{}
	t.streamConns++
	cip, sip, cmac, smac := t.endpoints(c)
	st.info = ConnInfo{ClientIP: cip, ServerIP: sip, ClientPort: int32(c.cport), ServerPort: int32(c.sport),
		ClientMAC: cmac, ServerMAC: smac, FlowID: c.uid, Handshake: c.handshake, Counters: &t.counters, Files: t.files,
		Payloads: t.opts.Payloads}
	for d := range st.out {
		st.out[d] = func(data []byte, missed int, ts, frame int64) { t.deliver(c, d, data, missed, ts, frame) }
	}
	for d := range c.dir {
		if c.dir[d].syn {
			st.dir[d].stream.start(c.dir[d].isn + 1)
		}
	}
	c.st = st
	if l := t.links[c]; l != nil {
		// A data connection: its content is a file, never another
		// protocol to detect.
		st.detectDone = true
		if t.files != nil {
			st.parser = &ftpDataParser{c: c, link: l}
		}
	}
	return st
}

// deliver hands in-order bytes of direction d to the connection's parser,
// detecting the protocol on the first bytes.
func (t *connTable) deliver(c *conn, d int, data []byte, missed int, ts, frame int64) {
	st := c.st
	dir := &st.dir[d]
	if st.parser == nil {
		if st.detectDone {
			return
		}
		if dir.detectTried || missed > 0 {
			// Bytes after a gap are not the start of anything: detection
			// starts again on the next chunk.
			dir.dropped += missed + len(dir.head) + len(data)
			dir.head = dir.head[:0]
			return
		}
		if !t.detect(c, d, data, ts, frame) {
			return
		}
	}
	t.feed(c, d, data, missed, ts, frame)
}

// feed hands a chunk to the parser. Bytes of this side seen before the
// parser was chosen (the other side told the protocol) reach it as missed
// bytes, so that it never pairs messages across them.
func (t *connTable) feed(c *conn, d int, data []byte, missed int, ts, frame int64) {
	st := c.st
	if st == nil || st.parser == nil {
		return // stopped by a panic while earlier bytes were fed
	}
	dir := &st.dir[d]
	missed += dir.dropped
	dir.dropped = 0
	t.chunk = Chunk{FromClient: d == 0, Data: data, Missed: missed, Timestamp: ts, Frame: frame,
		ArrivalTimestamp: t.arrTS, ArrivalFrame: t.arrFrame}
	defer t.stopOnPanic(st)
	st.parser.Feed(&t.chunk, &st.info, t.sink)
}

// stopOnPanic, deferred around a parser call, turns a panic into a count
// and stops the connection's parser: a parser that panicked may hold broken
// state, and what it would say next cannot be trusted. The worker goes on.
func (t *connTable) stopOnPanic(st *streamState) {
	if recover() != nil {
		t.counters.Panics++
		st.parser = nil
		st.detectDone = true
	}
}

// detect runs the detectors on the first bytes of direction d, which end
// with data. It returns true when a parser was chosen and data is to be fed
// to it; the bytes held before data have been fed already, those of both
// sides, oldest first.
func (t *connTable) detect(c *conn, d int, data []byte, ts, frame int64) bool {
	st := c.st
	dir := &st.dir[d]
	first := data
	if len(dir.head) > 0 {
		// Only the bytes the detectors see are added; the rest of data
		// is added when more are needed.
		first = append(dir.head, data[:min(len(data), StreamDetectLimit-len(dir.head))]...)
	}
	if len(first) > StreamDetectLimit {
		first = first[:StreamDetectLimit]
	}
	more := false
	var sp *StreamProtocol
	for i := range t.streams {
		switch v := t.detectOne(&t.streams[i], first, d == 0, &st.info); v {
		case DetectYes:
			sp = &t.streams[i]
		case DetectMore:
			more = true
		}
		if sp != nil {
			break
		}
	}
	if sp == nil {
		if more && len(dir.head)+len(data) < StreamDetectMax {
			if len(dir.head) == 0 {
				dir.headTS, dir.headFrame = ts, frame
			}
			dir.head = append(dir.head, data...)
			return false
		}
		dir.detectTried = true
		dir.dropped += len(dir.head) + len(data)
		dir.head = nil
		if st.dir[0].detectTried && st.dir[1].detectTried {
			st.detectDone = true
			st.dir[0].stream.release(&t.reasm)
			st.dir[1].stream.release(&t.reasm)
		}
		return false
	}
	st.parser = sp.New()
	c.app = sp.Name
	st.detectDone = true
	// What both sides held while detectors wanted more, in capture order.
	o := 1 - d
	if len(st.dir[o].head) > 0 && (len(dir.head) == 0 || st.dir[o].headFrame < dir.headFrame) {
		t.feedHead(c, o)
	}
	t.feedHead(c, d)
	t.feedHead(c, o)
	return true
}

// detectOne runs a detector, which must not bring the worker down.
func (t *connTable) detectOne(sp *StreamProtocol, first []byte, fromClient bool, conn *ConnInfo) (v Detection) {
	defer func() {
		if recover() != nil {
			t.counters.Panics++
			v = DetectNo
		}
	}()
	return sp.Detect(first, fromClient, conn)
}

// feedHead hands the bytes direction d held during detection to the parser.
func (t *connTable) feedHead(c *conn, d int) {
	dir := &c.st.dir[d]
	if len(dir.head) == 0 {
		return
	}
	head := dir.head
	dir.head = nil
	t.feed(c, d, head, 0, dir.headTS, dir.headFrame)
}
