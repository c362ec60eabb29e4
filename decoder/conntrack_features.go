package decoder

import (
	"math"
	"time"

	"github.com/netcap/netcap/types"
)

// The FlowFeatures record of the connection table (conntrack.go): the
// statistical features of a connection that CICFlowMeter computes, defined
// in docs/flow-features.md. The flow is the connection itself, so it lives
// and ends as the Connection record does (packet time, both FINs
// acknowledged or a RST, the same timeouts), and the record is written with
// the Connection record. Every feature is updated packet by packet in a
// fixed-size state made once per connection, only when the record is
// selected: nothing per packet is kept and the packet path does not allocate.

// welford is a running summary of int64 samples: count, minimum, maximum,
// and the mean and sum of squared deviations by Welford's method, which
// stays accurate where the sum of squares would lose the digits.
type welford struct {
	n        int64
	min, max int64
	mean, m2 float64
}

func (w *welford) add(x int64) {
	w.n++
	if w.n == 1 || x < w.min {
		w.min = x
	}
	if w.n == 1 || x > w.max {
		w.max = x
	}
	delta := float64(x) - w.mean
	w.mean += delta / float64(w.n)
	w.m2 += delta * (float64(x) - w.mean)
}

// merge is the summary of the samples of a and b together (Chan, Golub
// and LeVeque's pairwise update): the flow's length statistics are made
// from its two directions' when the record is written, which saves two
// updates per packet.
func merge(a, b welford) welford {
	if a.n == 0 {
		return b
	}
	if b.n == 0 {
		return a
	}
	n := a.n + b.n
	delta := b.mean - a.mean
	return welford{n: n, min: min(a.min, b.min), max: max(a.max, b.max),
		mean: a.mean + delta*float64(b.n)/float64(n),
		m2:   a.m2 + b.m2 + delta*delta*float64(a.n)*float64(b.n)/float64(n)}
}

// std is the sample standard deviation (n - 1), as CICFlowMeter's (Apache
// Commons' SummaryStatistics); 0 with fewer than two samples.
func (w *welford) std() float64 {
	if w.n < 2 {
		return 0
	}
	return math.Sqrt(w.m2 / float64(w.n-1))
}

// bulkGap and subflowGap are CICFlowMeter's: a gap of more than a second
// ends a bulk and starts a subflow. bulkMin is its bulk bound.
const (
	bulkGap    = int64(time.Second)
	subflowGap = int64(time.Second)
	bulkMin    = 4
)

// featDir is what the features keep of one direction.
type featDir struct {
	ipLen, payLen, iat welford
	last               int64 // time of this side's previous packet
	ipBytes, payload   int64
	header, minHeader  int64 // minHeader: -1 until a TCP or UDP packet
	dataPackets        int64
	initWin            int32 // -1 until a TCP packet
	ttlMin, ttlMax     int32
	// the run of data packets that may become a bulk, and the bulks
	runN, runBytes, runStart, runLast     int64
	bulks, bulkPackets, bulkBytes, bulkNs int64
	// sequence analysis: the end of the highest sequence number sent and
	// the last gap left below it
	maxEnd, gapLo, gapHi uint32
	seqSeen, gap         bool
	retrans, ooo         int64
}

// flowFeatures is the state of one connection's features.
type flowFeatures struct {
	dir                    [2]featDir
	iat                    welford
	last                   int64 // time of the flow's previous packet
	subflows               int64
	active, idle           welford
	activeStart, activeEnd int64
}

// FlowFeaturesBytes is what MemCap counts more for a connection of more
// than one packet while FlowFeatures records are selected: the state's
// allocation (TestFeaturesNoAllocation keeps it above the state's size).
const FlowFeaturesBytes = 768

func (f *flowFeatures) reset() {
	*f = flowFeatures{}
	for d := range f.dir {
		f.dir[d].minHeader, f.dir[d].initWin = -1, -1
	}
}

// featPacket is what the features read of one packet. A connection keeps
// its first packet's in the conn struct and makes its flowFeatures at the
// second packet: the half-open connections of a SYN flood cost no more than
// before (TestHalfOpenSize), and a flow of one packet is written from it.
type featPacket struct {
	ipLen, payload, seq uint32
	win                 uint16
	header, ttl         uint8 // header 0: no TCP or UDP header
	flags               uint8 // featSeen, featTCP, featSYN, featFIN
	d                   uint8
}

const (
	featSeen = 1 << iota
	featTCP
	featSYN
	featFIN
)

// readFeatPacket reads what the features need of a packet of direction d.
func readFeatPacket(d int, v *packetView, p *Packet) featPacket {
	fp := featPacket{d: uint8(d), flags: featSeen}
	ipPayload := -1 // the transport bytes the IP header announces
	var transport int
	switch {
	case v.tcp != nil:
		transport = len(v.tcp.Contents) + len(v.tcp.Payload)
	case v.udp != nil:
		transport = len(v.udp.Contents) + len(v.udp.Payload)
	}
	switch {
	case v.ip4 != nil:
		fp.ipLen, fp.ttl = uint32(v.ip4.Length), v.ip4.TTL
		if c := v.ip4.Contents; len(c) >= 4 && c[2] == 0 && c[3] == 0 {
			// A total length of 0 (segmentation offload, BIG TCP):
			// the datagram is what the frame holds, as tshark reads it.
			fp.ipLen = uint32(len(c) + len(v.ip4.Payload) + max(p.Length-p.CaptureLength, 0))
		}
		ipPayload = int(fp.ipLen) - int(v.ip4.IHL)*4
	case v.ip6 != nil:
		fp.ipLen, fp.ttl = uint32(v.ip6.Length)+40, v.ip6.HopLimit
		// Extension headers: what lies between the fixed header and the
		// transport header in the captured bytes.
		ipPayload = int(v.ip6.Length) - max(len(v.ip6.Payload)-transport, 0)
	}
	// The payload is what the headers announce, as tshark's tcp.len, so
	// that a capture cut short by its snap length still counts the bytes
	// sent; but no more than the frame had on the wire (a header that
	// lies), and the bytes captured when the header announces less than
	// itself.
	wire := v.payload + max(p.Length-p.CaptureLength, 0)
	switch {
	case v.tcp != nil:
		fp.header = v.tcp.DataOffset * 4
		fp.payload = uint32(v.payload)
		if n := ipPayload - int(fp.header); ipPayload >= 0 && n >= 0 {
			fp.payload = uint32(min(n, wire))
		}
		fp.seq, fp.win, fp.flags = v.tcp.Seq, v.tcp.Window, fp.flags|featTCP
		if v.tcp.SYN {
			fp.flags |= featSYN
		}
		if v.tcp.FIN {
			fp.flags |= featFIN
		}
	case v.udp != nil:
		// UDP length - 8, unless it is out of the IP datagram's bounds:
		// then the bytes captured.
		fp.header, fp.payload = 8, uint32(v.payload)
		if n := int(v.udp.Length); n >= 8 && (ipPayload < 0 || n <= ipPayload) {
			fp.payload = uint32(min(n-8, wire))
		}
	}
	return fp
}

// featurePacket adds a packet of direction d to the connection's features.
func (t *connTable) featurePacket(c *conn, d int, v *packetView, p *Packet) {
	fp := readFeatPacket(d, v, p)
	switch {
	case c.feat != nil:
		c.feat.add(&fp, p.Timestamp, int64(t.opts.ActivityTimeout))
	case c.feat0.flags&featSeen == 0:
		c.feat0 = fp
	default:
		c.feat = &flowFeatures{}
		c.feat.reset()
		c.feat.add(&c.feat0, c.first, int64(t.opts.ActivityTimeout))
		c.feat.add(&fp, p.Timestamp, int64(t.opts.ActivityTimeout))
		t.featConns++
	}
}

// add adds one packet sent at ts.
func (f *flowFeatures) add(fp *featPacket, ts, activity int64) {
	fd := &f.dir[fp.d]
	ipLen, payload, ttl := int64(fp.ipLen), int64(fp.payload), int32(fp.ttl)

	// the flow
	if f.subflows == 0 {
		f.subflows, f.activeStart = 1, ts
	} else {
		gap := ts - f.last
		f.iat.add(gap)
		if gap > subflowGap {
			f.subflows++
		}
		if activity > 0 && gap > activity {
			f.active.add(f.activeEnd - f.activeStart)
			f.idle.add(gap)
			f.activeStart = ts
		}
	}
	f.activeEnd, f.last = ts, ts

	// the direction
	if fd.ipLen.n == 0 {
		fd.ttlMin, fd.ttlMax = ttl, ttl
	} else {
		fd.iat.add(ts - fd.last)
		fd.ttlMin, fd.ttlMax = min(fd.ttlMin, ttl), max(fd.ttlMax, ttl)
	}
	fd.last = ts
	fd.ipLen.add(ipLen)
	fd.payLen.add(payload)
	fd.ipBytes += ipLen
	fd.payload += payload
	if h := int64(fp.header); h != 0 {
		fd.header += h
		if fd.minHeader < 0 || h < fd.minHeader {
			fd.minHeader = h
		}
	}
	if payload > 0 {
		fd.dataPackets++
		f.dir[1-fp.d].runN = 0 // a data packet this way ends the other side's run
		if fd.runN > 0 && ts-fd.runLast <= bulkGap {
			fd.runN++
			fd.runBytes += payload
			switch {
			case fd.runN == bulkMin:
				fd.bulks++
				fd.bulkPackets += bulkMin
				fd.bulkBytes += fd.runBytes
				fd.bulkNs += ts - fd.runStart
			case fd.runN > bulkMin:
				fd.bulkPackets++
				fd.bulkBytes += payload
				fd.bulkNs += ts - fd.runLast
			}
		} else {
			fd.runN, fd.runBytes, fd.runStart = 1, payload, ts
		}
		fd.runLast = ts
	}
	if fp.flags&featTCP != 0 {
		if fd.initWin < 0 {
			fd.initWin = int32(fp.win)
		}
		fd.sequence(fp.seq, fp.payload, fp.flags&featSYN != 0, fp.flags&featFIN != 0)
	}
}

// sequence classifies a TCP segment by the sequence space it covers:
// beyond what this side sent (new data, maybe past a gap it then
// remembers), inside the last gap (out of order), or else at or below what
// it already sent (a retransmission). One gap is remembered, so memory is
// constant; a segment filling an older gap counts as a retransmission.
func (fd *featDir) sequence(seq, payload uint32, syn, fin bool) {
	n := payload
	if syn {
		n++
	}
	if fin {
		n++
	}
	if n == 0 {
		return // a pure ACK covers no sequence space
	}
	end := seq + n
	switch {
	case !fd.seqSeen:
		fd.seqSeen, fd.maxEnd = true, end
	case seqDiff(seq, fd.maxEnd) >= 0:
		if seq != fd.maxEnd {
			fd.gap, fd.gapLo, fd.gapHi = true, fd.maxEnd, seq
		}
		fd.maxEnd = end
	case fd.gap && seqDiff(seq, fd.gapLo) >= 0 && seqDiff(end, fd.gapHi) <= 0:
		fd.ooo++
		if seq == fd.gapLo {
			fd.gapLo = end
		} else if end == fd.gapHi {
			fd.gapHi = seq
		}
		if seqDiff(fd.gapLo, fd.gapHi) >= 0 {
			fd.gap = false
		}
	default:
		fd.retrans++
		if seqDiff(end, fd.maxEnd) > 0 {
			fd.maxEnd = end
		}
	}
}

// perSecond is n per second of d ns; 0 when d is 0 (a flow of one packet,
// or of packets with one timestamp), where CICFlowMeter writes Infinity or
// NaN, and when d is negative (timestamps that go backward).
func perSecond(n float64, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return n / (float64(d) / 1e9)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// emitFeatureRecord writes the FlowFeatures record of c, right after its
// Connection record and with the same ordering key.
func (t *connTable) emitFeatureRecord(c *conn, s *orderedSink) {
	f := c.feat
	if f == nil {
		// A flow of one packet: its features from the packet kept.
		f = &t.oneFeat
		f.reset()
		f.add(&c.feat0, c.first, int64(t.opts.ActivityTimeout))
	} else {
		t.featConns--
	}
	r := &t.features
	r.Reset()
	r.TimestampFirst, r.TimestampLast, r.Duration = c.first, c.last, c.last-c.first
	r.FlowID = c.uid
	cip, sip, _, _ := t.endpoints(c)
	r.SrcIP, r.SrcPort, r.DstIP, r.DstPort = cip, int32(c.cport), sip, int32(c.sport)
	r.TransportProto = transportName(c.key.proto)
	r.FrameFirst = t.frameFirst(c)
	r.FrameLast = max(c.dir[0].frameLast, c.dir[1].frameLast)
	r.ActivityTimeout = int64(t.opts.ActivityTimeout)
	fw, bw := &f.dir[0], &f.dir[1]

	r.FwdPackets, r.FwdIPBytes, r.FwdPayloadBytes = fw.ipLen.n, fw.ipBytes, fw.payload
	r.BwdPackets, r.BwdIPBytes, r.BwdPayloadBytes = bw.ipLen.n, bw.ipBytes, bw.payload
	r.FwdIPLengthMin, r.FwdIPLengthMax, r.FwdIPLengthMean, r.FwdIPLengthStd = fw.ipLen.min, fw.ipLen.max, fw.ipLen.mean, fw.ipLen.std()
	r.BwdIPLengthMin, r.BwdIPLengthMax, r.BwdIPLengthMean, r.BwdIPLengthStd = bw.ipLen.min, bw.ipLen.max, bw.ipLen.mean, bw.ipLen.std()
	ipLen, payLen := merge(fw.ipLen, bw.ipLen), merge(fw.payLen, bw.payLen)
	r.IPLengthMin, r.IPLengthMax, r.IPLengthMean, r.IPLengthStd = ipLen.min, ipLen.max, ipLen.mean, ipLen.std()
	r.FwdPayloadLengthMin, r.FwdPayloadLengthMax, r.FwdPayloadLengthMean, r.FwdPayloadLengthStd = fw.payLen.min, fw.payLen.max, fw.payLen.mean, fw.payLen.std()
	r.BwdPayloadLengthMin, r.BwdPayloadLengthMax, r.BwdPayloadLengthMean, r.BwdPayloadLengthStd = bw.payLen.min, bw.payLen.max, bw.payLen.mean, bw.payLen.std()
	r.PayloadLengthMin, r.PayloadLengthMax, r.PayloadLengthMean, r.PayloadLengthStd = payLen.min, payLen.max, payLen.mean, payLen.std()
	r.FwdIATMin, r.FwdIATMax, r.FwdIATMean, r.FwdIATStd = fw.iat.min, fw.iat.max, fw.iat.mean, fw.iat.std()
	r.BwdIATMin, r.BwdIATMax, r.BwdIATMean, r.BwdIATStd = bw.iat.min, bw.iat.max, bw.iat.mean, bw.iat.std()
	r.FlowIATMin, r.FlowIATMax, r.FlowIATMean, r.FlowIATStd = f.iat.min, f.iat.max, f.iat.mean, f.iat.std()

	// TCP flags, counted by the connection's accounting: FIN, RST, ACK,
	// SYN, URG, ECE, PSH, CWR, NS.
	a, b := &c.dir[0].flags, &c.dir[1].flags
	r.FwdFINCount, r.FwdSYNCount, r.FwdRSTCount, r.FwdPSHCount = int64(a[0]), int64(a[3]), int64(a[1]), int64(a[6])
	r.FwdACKCount, r.FwdURGCount, r.FwdECECount, r.FwdCWRCount = int64(a[2]), int64(a[4]), int64(a[5]), int64(a[7])
	r.BwdFINCount, r.BwdSYNCount, r.BwdRSTCount, r.BwdPSHCount = int64(b[0]), int64(b[3]), int64(b[1]), int64(b[6])
	r.BwdACKCount, r.BwdURGCount, r.BwdECECount, r.BwdCWRCount = int64(b[2]), int64(b[4]), int64(b[5]), int64(b[7])

	r.FwdHeaderBytes, r.BwdHeaderBytes = fw.header, bw.header
	r.FwdInitWindow, r.BwdInitWindow = fw.initWin, bw.initWin
	r.FwdDataPackets, r.BwdDataPackets = fw.dataPackets, bw.dataPackets
	r.FwdMinHeaderLength = max(fw.minHeader, 0)
	r.PayloadBytesPerSecond = perSecond(float64(fw.payload+bw.payload), r.Duration)
	r.PacketsPerSecond = perSecond(float64(fw.ipLen.n+bw.ipLen.n), r.Duration)
	r.FwdPacketsPerSecond = perSecond(float64(fw.ipLen.n), r.Duration)
	r.BwdPacketsPerSecond = perSecond(float64(bw.ipLen.n), r.Duration)
	r.DownUpRatio = ratio(bw.ipLen.n, fw.ipLen.n)

	r.FwdBulks, r.FwdBulkBytesMean, r.FwdBulkPacketsMean = fw.bulks, ratio(fw.bulkBytes, fw.bulks), ratio(fw.bulkPackets, fw.bulks)
	r.FwdBulkRate = perSecond(float64(fw.bulkBytes), fw.bulkNs)
	r.BwdBulks, r.BwdBulkBytesMean, r.BwdBulkPacketsMean = bw.bulks, ratio(bw.bulkBytes, bw.bulks), ratio(bw.bulkPackets, bw.bulks)
	r.BwdBulkRate = perSecond(float64(bw.bulkBytes), bw.bulkNs)

	r.Subflows = f.subflows
	r.SubflowFwdPackets, r.SubflowFwdBytes = ratio(fw.ipLen.n, f.subflows), ratio(fw.payload, f.subflows)
	r.SubflowBwdPackets, r.SubflowBwdBytes = ratio(bw.ipLen.n, f.subflows), ratio(bw.payload, f.subflows)

	// The last active period ends with the flow.
	active := f.active
	active.add(f.activeEnd - f.activeStart)
	r.ActivePeriods, r.ActiveMin, r.ActiveMax, r.ActiveMean, r.ActiveStd = active.n, active.min, active.max, active.mean, active.std()
	r.IdlePeriods, r.IdleMin, r.IdleMax, r.IdleMean, r.IdleStd = f.idle.n, f.idle.min, f.idle.max, f.idle.mean, f.idle.std()

	r.FwdRetransmissions, r.BwdRetransmissions = fw.retrans, bw.retrans
	r.FwdOutOfOrder, r.BwdOutOfOrder = fw.ooo, bw.ooo
	r.FwdTTLMin, r.FwdTTLMax, r.BwdTTLMin, r.BwdTTLMax = fw.ttlMin, fw.ttlMax, bw.ttlMin, bw.ttlMax
	s.EmitOrdered(types.Type_NC_FlowFeatures, r, r.FrameFirst)
}
