package decoder

import "math"

// Per-direction accounting of the connection table (conntrack.go): what each
// side of a connection sent, counted packet by packet.

// direction is what one side sent. A SYN flood makes a connection per
// packet, so what every connection carries is kept small: counters of TCP
// flags are 32 bits (they stop at the largest value rather than wrap), and
// the stream state lives apart (streamState), made at the first payload.
type direction struct {
	packets, bytes, payload int64
	first, last             int64
	frameFirst, frameLast   int64
	flags                   [9]uint32
	finSeq                  uint32
	isn                     uint32 // sequence number of its SYN
	history                 uint8  // bit per history letter already recorded
	fin, finAcked           bool
	syn                     bool // a SYN was seen from this side
}

func (t *connTable) frameFirst(c *conn) int64 {
	f := c.dir[0].frameFirst
	if f == 0 || (c.dir[1].frameFirst != 0 && c.dir[1].frameFirst < f) {
		f = c.dir[1].frameFirst
	}
	return f
}

// account adds one packet of direction d (0: client to server).
func (t *connTable) account(c *conn, d int, v *packetView, p *Packet, s Sink) {
	dir := &c.dir[d]
	if t.emitFeatures {
		t.featurePacket(c, d, v, p)
	}
	if dir.packets == 0 {
		dir.first, dir.frameFirst = p.Timestamp, p.Frame
	}
	dir.packets++
	dir.bytes += int64(p.Length)
	dir.payload += int64(v.payload)
	dir.last, dir.frameLast = p.Timestamp, p.Frame
	if p.Timestamp > c.last {
		c.last = p.Timestamp
	}
	if c.list != nil && !c.closing {
		c.list.moveToBack(c)
	}
	if v.tcp == nil {
		return
	}
	tcp := v.tcp
	for i, on := range [9]bool{tcp.FIN, tcp.RST, tcp.ACK, tcp.SYN, tcp.URG, tcp.ECE, tcp.PSH, tcp.CWR, tcp.NS} {
		if on && dir.flags[i] < math.MaxUint32 {
			dir.flags[i]++
		}
	}
	if tcp.SYN && !dir.syn {
		dir.syn, dir.isn = true, tcp.Seq
	}
	if tcp.SYN && tcp.ACK && d == 1 && c.dir[0].syn {
		c.handshake = true
		if c.st != nil {
			c.st.info.Handshake = true
		}
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		c.mark(d, 'S')
	case tcp.SYN && tcp.ACK:
		c.mark(d, 'H')
	case tcp.ACK && v.payload == 0 && !tcp.FIN && !tcp.RST:
		c.mark(d, 'A')
	}
	if v.payload > 0 {
		c.mark(d, 'D')
	}
	if tcp.FIN {
		c.mark(d, 'F')
		dir.fin = true
		dir.finSeq = tcp.Seq + uint32(v.payload)
	}
	if tcp.RST {
		c.mark(d, 'R')
		c.rst[d] = true
	}
	other := &c.dir[1-d]
	if tcp.ACK && other.fin && seqDiff(tcp.Ack, other.finSeq+1) >= 0 {
		other.finAcked = true
	}

	if len(t.streams) > 0 && (c.st != nil || v.payload > 0) {
		st := t.streamOf(c)
		ds := &st.dir[d].stream
		t.sink = s
		t.arrTS, t.arrFrame = p.Timestamp, p.Frame
		if tcp.SYN && !ds.started {
			ds.start(tcp.Seq + 1)
		}
		if v.payload > 0 {
			// TCP Fast Open carries data in the SYN: it starts at Seq+1.
			seq := tcp.Seq
			if tcp.SYN {
				seq++
			}
			if st.parser == nil && st.detectDone {
				// Nobody reads this connection: do not buffer it.
			} else {
				ds.add(seq, tcp.Payload, p.Timestamp, p.Frame, t.opts.StreamMemoryPerConn, t.opts.StreamMemory, &t.reasm, st.out[d])
			}
		}
		if tcp.FIN || tcp.RST {
			ds.flush(&t.reasm, st.out[d])
		}
	}

	if !c.closing && (c.rst[0] || c.rst[1] || c.dir[0].finAcked && c.dir[1].finAcked) {
		// Closed; it stays a while for its trailing packets.
		c.closing = true
		c.list.remove(c)
		c.last = p.Timestamp
		t.closing.push(c)
	}
}
