package decoder

// Upgrade reads what a connection carries after its protocol handed it to
// another inside the same stream: the tunnel after an HTTP CONNECT or
// Upgrade, TLS after a STARTTLS. A parser that sees the switch makes an
// Upgrade and feeds it the bytes that follow; the Upgrade finds the inner
// protocol by content among the registered stream protocols, as the engine
// does for a connection's first bytes, and runs its parser. The inner
// parser's records are those of any connection of that protocol (TLS
// hellos with JA3 and JA4), and the Connection record names both protocols
// ("HTTP/TLS"; see Inner).
type Upgrade struct {
	parser StreamParser
	name   string
	dir    [2]upgradeDir
	done   bool // no protocol was found: the rest is skipped
}

// upgradeDir is what one direction sent while detectors wanted more.
type upgradeDir struct {
	head       []byte
	ts, frame  int64 // of head's first byte
	arrivalTS  int64
	arrivalFrm int64
	tried      bool // the detectors said no, or bytes were missed
}

// Inner names the protocol found inside, or "" while none is.
func (u *Upgrade) Inner() string {
	if u == nil {
		return ""
	}
	return u.name
}

// Feed gives the Upgrade the next bytes of one direction after the switch.
func (u *Upgrade) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if u.parser != nil {
		u.parser.Feed(c, conn, s)
		return
	}
	if u.done || len(c.Data) == 0 && c.Missed == 0 {
		return
	}
	i := 1
	if c.FromClient {
		i = 0
	}
	d := &u.dir[i]
	if d.tried {
		return
	}
	if c.Missed > 0 {
		// The inner protocol's first bytes were not captured.
		d.tried, d.head = true, nil
		u.giveUp()
		return
	}
	first := c.Data
	if len(d.head) > 0 {
		first = append(d.head, c.Data[:min(len(c.Data), StreamDetectLimit-len(d.head))]...)
	}
	if len(first) > StreamDetectLimit {
		first = first[:StreamDetectLimit]
	}
	more := false
	for k := range streamProtocols {
		sp := &streamProtocols[k]
		switch upgradeDetect(sp, first, c.FromClient, conn) {
		case DetectYes:
			u.parser, u.name = sp.New(), sp.Name
			u.start(i, c, conn, s)
			return
		case DetectMore:
			more = true
		}
	}
	if more && len(d.head)+len(c.Data) < StreamDetectMax {
		if len(d.head) == 0 {
			d.ts, d.frame = c.Timestamp, c.Frame
		}
		d.arrivalTS, d.arrivalFrm = c.arrival()
		d.head = append(d.head, c.Data...)
		return
	}
	d.tried, d.head = true, nil
	u.giveUp()
}

// giveUp ends the Upgrade when neither direction can be detected any more.
func (u *Upgrade) giveUp() {
	if u.dir[0].tried && u.dir[1].tried {
		u.done = true
	}
}

// start feeds the new parser what both directions held, in capture
// order, then the chunk that decided.
func (u *Upgrade) start(i int, c *Chunk, conn *ConnInfo, s Sink) {
	o := 1 - i
	held := func(k int) {
		d := &u.dir[k]
		if len(d.head) == 0 {
			return
		}
		head := d.head
		d.head = nil
		u.parser.Feed(&Chunk{FromClient: k == 0, Data: head, Timestamp: d.ts, Frame: d.frame,
			ArrivalTimestamp: d.arrivalTS, ArrivalFrame: d.arrivalFrm}, conn, s)
	}
	if len(u.dir[o].head) > 0 && (len(u.dir[i].head) == 0 || u.dir[o].frame < u.dir[i].frame) {
		held(o)
	}
	if len(u.dir[i].head) > 0 {
		// The decided bytes continue what this direction held.
		d := &u.dir[i]
		head := append(d.head, c.Data...)
		d.head = nil
		u.parser.Feed(&Chunk{FromClient: c.FromClient, Data: head, Timestamp: d.ts, Frame: d.frame,
			ArrivalTimestamp: c.ArrivalTimestamp, ArrivalFrame: c.ArrivalFrame}, conn, s)
	} else {
		u.parser.Feed(c, conn, s)
	}
	held(o)
}

// Close ends the inner parser, which records what it still holds.
func (u *Upgrade) Close(conn *ConnInfo, s Sink) {
	if u.parser != nil {
		u.parser.Close(conn, s)
	}
	u.dir[0].head, u.dir[1].head = nil, nil
}

// upgradeFrom makes the Upgrade of a parser that saw its connection
// switch inside chunk c, and feeds it the chunk's bytes after the switch.
func upgradeFrom(c *Chunk, rest []byte, conn *ConnInfo, s Sink) *Upgrade {
	u := &Upgrade{}
	if len(rest) > 0 {
		more := *c
		more.Data, more.Missed = rest, 0
		u.Feed(&more, conn, s)
	}
	return u
}

// upgradeDetect runs a detector, counting a panic as the engine does.
func upgradeDetect(sp *StreamProtocol, first []byte, fromClient bool, conn *ConnInfo) (v Detection) {
	defer func() {
		if recover() != nil {
			conn.count().Panics++
			v = DetectNo
		}
	}()
	return sp.Detect(first, fromClient, conn)
}

// upgraded is implemented by parsers that may carry an Upgrade: the
// Connection record's ApplicationProto is then "outer/inner".
type upgraded interface {
	Inner() string
}
