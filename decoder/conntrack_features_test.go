package decoder

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// runFeatures decodes the script as run does, with Connection and
// FlowFeatures selected, and returns both in the order they were written.
func runFeatures(t *testing.T, script []pkt, udp bool, opts Options) ([]*types.Connection, []*types.FlowFeatures) {
	t.Helper()
	d := NewPacketDecoder(func(tt types.Type) bool {
		return tt == types.Type_NC_Connection || tt == types.Type_NC_FlowFeatures
	}, opts)
	s := &recordSink{}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i, p := range script {
		data := buildScript(t, p, udp)
		ts := base + int64(p.at)
		d.Tick(ts, s)
		meta := Packet{Frame: int64(i + 1), Timestamp: ts, CaptureLength: len(data), Length: len(data)}
		if st, reason := d.Decode(data, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("packet %d: %v %s", i+1, st, reason)
		}
	}
	d.Flush(s)
	var feats []*types.FlowFeatures
	for _, m := range s.recs {
		if f, ok := m.(*types.FlowFeatures); ok {
			feats = append(feats, f)
		}
	}
	conns := s.connections()
	if len(conns) != len(feats) {
		t.Fatalf("%d Connection records, %d FlowFeatures records", len(conns), len(feats))
	}
	for i := range conns {
		if feats[i].FlowID != conns[i].UID {
			t.Errorf("FlowFeatures %d: FlowID %s, its Connection's UID %s", i, feats[i].FlowID, conns[i].UID)
		}
	}
	return conns, feats
}

// near compares floats that went through a running mean or a division.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// teardown is the handshake, data, and a close of FINs both ways with the
// final ACK: 8 packets, 4 each way.
func teardown() []pkt {
	ms := time.Millisecond
	return append(append([]pkt{}, handshake...),
		pkt{5 * ms, true, "FA", 111, 501, 0},
		pkt{6 * ms, false, "FA", 501, 112, 0},
		pkt{7 * ms, true, "A", 112, 502, 0},
	)
}

// CICFlowMeter ends a flow at the first FIN it sees, so the rest of the
// teardown (the other FIN, the last ACK) becomes flows of their own
// (Engelen et al. 2021). Here the flow ends after both FINs are
// acknowledged, and the final ACK stays in it: one record of 8 packets.
func TestFeaturesTeardownIsOneFlow(t *testing.T) {
	_, ff := runFeatures(t, teardown(), false, DefaultOptions())
	if len(ff) != 1 {
		t.Fatalf("%d flows, want 1", len(ff))
	}
	f := ff[0]
	if f.FwdPackets != 5 || f.BwdPackets != 3 || f.FwdFINCount != 1 || f.BwdFINCount != 1 {
		t.Errorf("packets %d/%d FIN %d/%d, want 5/3 and 1/1", f.FwdPackets, f.BwdPackets, f.FwdFINCount, f.BwdFINCount)
	}
	if f.SrcIP != "10.0.0.1" || f.SrcPort != 40000 || f.TransportProto != "TCP" || f.FrameFirst != 1 || f.FrameLast != 8 {
		t.Errorf("forward %s:%d %s frames %d-%d, want the client 10.0.0.1:40000, TCP, 1-8", f.SrcIP, f.SrcPort, f.TransportProto, f.FrameFirst, f.FrameLast)
	}
}

// CICFlowMeter ignores RST: packets after a reset are added to the same
// flow until a timeout. Here a RST ends the flow (after the close delay for
// trailing packets), and a later exchange on the same ports is a flow of
// its own.
func TestFeaturesRSTEndsTheFlow(t *testing.T) {
	script := append(append([]pkt{}, handshake...),
		pkt{5 * time.Millisecond, false, "R", 501, 0, 0},
		pkt{10 * time.Second, true, "PA", 111, 501, 10},
		pkt{10*time.Second + time.Millisecond, false, "A", 501, 121, 0},
	)
	_, ff := runFeatures(t, script, false, DefaultOptions())
	if len(ff) != 2 {
		t.Fatalf("%d flows, want 2", len(ff))
	}
	if f := ff[0]; f.FwdPackets+f.BwdPackets != 6 || f.BwdRSTCount != 1 || f.Duration != int64(5*time.Millisecond) {
		t.Errorf("first flow: %d packets, %d RST backward, duration %d; want 6, 1, 5 ms", f.FwdPackets+f.BwdPackets, f.BwdRSTCount, f.Duration)
	}
	if f := ff[1]; f.FwdPackets+f.BwdPackets != 2 || f.FrameFirst != 7 {
		t.Errorf("second flow: %d packets from frame %d, want 2 from frame 7", f.FwdPackets+f.BwdPackets, f.FrameFirst)
	}
}

// CICFlowMeter computes its Active and Idle values from absolute
// timestamps where durations belong (the issue lists it among the bugs of
// Engelen et al. 2021 and Lanvin et al. 2022). Here:
// packets at 0, 1 and 2 s, nothing for 10 s, then 12 and 13 s: two active
// periods of 2 s and 1 s and an idle period of 10 s, in ns.
func TestFeaturesActiveIdleAreDurations(t *testing.T) {
	s := time.Second
	script := []pkt{{0, true, "", 0, 0, 10}, {s, false, "", 0, 0, 10}, {2 * s, true, "", 0, 0, 10},
		{12 * s, true, "", 0, 0, 10}, {13 * s, false, "", 0, 0, 10}}
	_, ff := runFeatures(t, script, true, DefaultOptions())
	if len(ff) != 1 {
		t.Fatalf("%d flows, want 1", len(ff))
	}
	f := ff[0]
	if f.ActivePeriods != 2 || f.ActiveMin != int64(s) || f.ActiveMax != int64(2*s) || f.ActiveMean != 1.5e9 {
		t.Errorf("active: %d periods, min %d max %d mean %g; want 2, 1e9, 2e9, 1.5e9", f.ActivePeriods, f.ActiveMin, f.ActiveMax, f.ActiveMean)
	}
	if want := math.Sqrt(0.5) * 1e9; math.Abs(f.ActiveStd-want) > 1e-3 {
		t.Errorf("active std %g, want %g", f.ActiveStd, want)
	}
	if f.IdlePeriods != 1 || f.IdleMin != int64(10*s) || f.IdleMax != int64(10*s) || f.IdleMean != 1e10 || f.IdleStd != 0 {
		t.Errorf("idle: %d periods, min %d max %d mean %g std %g; want 1 of 10 s", f.IdlePeriods, f.IdleMin, f.IdleMax, f.IdleMean, f.IdleStd)
	}
	if f.ActivityTimeout != int64(5*s) {
		t.Errorf("ActivityTimeout %d, want 5 s", f.ActivityTimeout)
	}
	// With the timeout off the flow is one active period of 13 s.
	opts := DefaultOptions()
	opts.ActivityTimeout = 0
	_, ff = runFeatures(t, script, true, opts)
	if f := ff[0]; f.ActivePeriods != 1 || f.ActiveMax != int64(13*s) || f.IdlePeriods != 0 {
		t.Errorf("no activity timeout: %d active periods (max %d), %d idle; want 1 of 13 s, 0", f.ActivePeriods, f.ActiveMax, f.IdlePeriods)
	}
}

// CICFlowMeter's per-direction PSH and URG counters are never
// incremented, so those columns are 0 in its data sets.
func TestFeaturesFlagCounts(t *testing.T) {
	ms := time.Millisecond
	script := append(append([]pkt{}, handshake...),
		pkt{5 * ms, true, "PAU", 111, 501, 10},
		pkt{6 * ms, false, "PAE", 501, 121, 10},
		pkt{7 * ms, true, "AC", 121, 511, 0},
	)
	_, ff := runFeatures(t, script, false, DefaultOptions())
	f := ff[0]
	got := []int64{f.FwdSYNCount, f.FwdACKCount, f.FwdPSHCount, f.FwdURGCount, f.FwdCWRCount, f.FwdECECount,
		f.BwdSYNCount, f.BwdACKCount, f.BwdPSHCount, f.BwdURGCount, f.BwdECECount, f.FwdFINCount, f.BwdRSTCount}
	want := []int64{1, 4, 2, 1, 1, 0, 1, 3, 1, 0, 1, 0, 0}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("SYN ACK PSH URG CWR ECE forward, SYN ACK PSH URG ECE backward, FIN, RST: %v, want %v", got, want)
		}
	}
}

// CICFlowMeter's bulk features come out 0 in its data sets.
// Here the client sends 5 data packets of 100 bytes 100 ms apart with only
// ACKs coming back: one bulk of 5 packets, 500 bytes in 0.4 s. Then the
// server sends 3 data packets: too few for a bulk. A data packet of the
// other side and a gap of more than 1 s each end a run.
func TestFeaturesBulks(t *testing.T) {
	ms := time.Millisecond
	script := append([]pkt{}, handshake[:3]...)
	seq := uint32(101)
	for i := 0; i < 5; i++ {
		at := 10*ms + time.Duration(i)*100*ms
		script = append(script, pkt{at, true, "PA", seq, 501, 100}, pkt{at + ms, false, "A", 501, seq + 100, 0})
		seq += 100
	}
	ack := uint32(501)
	for i := 0; i < 3; i++ {
		script = append(script, pkt{time.Second + time.Duration(i)*10*ms, false, "PA", ack, seq, 50})
		ack += 50
	}
	// Forward again: 4 data packets, but the second comes 1.5 s late: no bulk.
	script = append(script, pkt{2 * time.Second, true, "PA", seq, ack, 10}, pkt{3500 * ms, true, "PA", seq + 10, ack, 10},
		pkt{3510 * ms, true, "PA", seq + 20, ack, 10}, pkt{3520 * ms, true, "PA", seq + 30, ack, 10})
	_, ff := runFeatures(t, script, false, DefaultOptions())
	f := ff[0]
	if f.FwdBulks != 1 || f.FwdBulkPacketsMean != 5 || f.FwdBulkBytesMean != 500 || math.Abs(f.FwdBulkRate-1250) > 1e-9 {
		t.Errorf("forward bulks %d, %g packets, %g bytes, %g bytes/s; want 1, 5, 500, 1250", f.FwdBulks, f.FwdBulkPacketsMean, f.FwdBulkBytesMean, f.FwdBulkRate)
	}
	if f.BwdBulks != 0 || f.BwdBulkBytesMean != 0 || f.BwdBulkRate != 0 {
		t.Errorf("backward bulks %d (%g bytes, %g bytes/s), want none", f.BwdBulks, f.BwdBulkBytesMean, f.BwdBulkRate)
	}
	if f.FwdDataPackets != 9 || f.BwdDataPackets != 3 {
		t.Errorf("data packets %d/%d, want 9/3", f.FwdDataPackets, f.BwdDataPackets)
	}
}

// CICFlowMeter divides with integers in its Subflow features (3 packets
// in 2 subflows make 1), and counts subflows from absolute time. Here: 3
// forward packets, 1 backward, with a gap of 2 s: 2 subflows, 1.5 forward
// packets per subflow.
func TestFeaturesSubflowsAreFractions(t *testing.T) {
	s := time.Second
	script := []pkt{{0, true, "", 0, 0, 7}, {s / 2, false, "", 0, 0, 20}, {s, true, "", 0, 0, 7}, {3 * s, true, "", 0, 0, 7}}
	_, ff := runFeatures(t, script, true, DefaultOptions())
	f := ff[0]
	if f.Subflows != 2 || f.SubflowFwdPackets != 1.5 || f.SubflowFwdBytes != 10.5 || f.SubflowBwdPackets != 0.5 || f.SubflowBwdBytes != 10 {
		t.Errorf("subflows %d: %g %g %g %g; want 2: 1.5 packets, 10.5 bytes forward, 0.5 and 10 backward",
			f.Subflows, f.SubflowFwdPackets, f.SubflowFwdBytes, f.SubflowBwdPackets, f.SubflowBwdBytes)
	}
	if f.DownUpRatio != 1.0/3 {
		t.Errorf("DownUpRatio %g, want 1/3 (CICFlowMeter's integer division says 0)", f.DownUpRatio)
	}
}

// CICFlowMeter's packet counts are off by one (Engelen et al. 2021, Rosay
// et al. 2022). Here every count, sum and length statistic is checked
// against the packets sent.
func TestFeaturesCountsAndLengths(t *testing.T) {
	_, ff := runFeatures(t, teardown(), false, DefaultOptions())
	f := ff[0]
	// forward: SYN, ACK, 10 bytes of data, FIN, ACK; backward: SYN-ACK,
	// ACK, FIN. IPv4 and TCP headers of 20 bytes, no options.
	if f.FwdPackets != 5 || f.BwdPackets != 3 || f.FwdPayloadBytes != 10 || f.BwdPayloadBytes != 0 {
		t.Errorf("packets %d/%d payload %d/%d, want 5/3, 10/0", f.FwdPackets, f.BwdPackets, f.FwdPayloadBytes, f.BwdPayloadBytes)
	}
	if f.FwdIPBytes != 5*40+10 || f.BwdIPBytes != 3*40 || f.FwdHeaderBytes != 5*20 || f.BwdHeaderBytes != 3*20 || f.FwdMinHeaderLength != 20 {
		t.Errorf("IP bytes %d/%d, header bytes %d/%d, min header %d; want 210/120, 100/60, 20", f.FwdIPBytes, f.BwdIPBytes, f.FwdHeaderBytes, f.BwdHeaderBytes, f.FwdMinHeaderLength)
	}
	if f.FwdIPLengthMin != 40 || f.FwdIPLengthMax != 50 || f.FwdIPLengthMean != 42 || !near(f.IPLengthMean, 41.25) || f.BwdIPLengthStd != 0 {
		t.Errorf("IP length forward %d..%d mean %g, all mean %g, backward std %g; want 40..50, 42, 41.25, 0", f.FwdIPLengthMin, f.FwdIPLengthMax, f.FwdIPLengthMean, f.IPLengthMean, f.BwdIPLengthStd)
	}
	if want := math.Sqrt(20); math.Abs(f.FwdPayloadLengthStd-want) > 1e-12 || f.FwdPayloadLengthMax != 10 || f.PayloadLengthMin != 0 {
		t.Errorf("payload forward std %g max %d, min %d; want %g, 10, 0", f.FwdPayloadLengthStd, f.FwdPayloadLengthMax, f.PayloadLengthMin, want)
	}
	if f.FwdInitWindow != 1000 || f.BwdInitWindow != 1000 || f.FwdTTLMin != 64 || f.BwdTTLMax != 64 {
		t.Errorf("init window %d/%d, TTL %d/%d; want 1000/1000, 64/64", f.FwdInitWindow, f.BwdInitWindow, f.FwdTTLMin, f.BwdTTLMax)
	}
	ms := int64(time.Millisecond)
	// forward at 0, 2, 3, 5, 7 ms; backward at 1, 4, 6 ms
	if f.FwdIATMin != ms || f.FwdIATMax != 2*ms || f.FwdIATMean != 1.75e6 || f.BwdIATMean != 2.5e6 || f.FlowIATMin != ms || f.FlowIATMax != ms || f.FlowIATStd != 0 {
		t.Errorf("IAT forward %d..%d mean %g, backward mean %g, flow %d..%d std %g", f.FwdIATMin, f.FwdIATMax, f.FwdIATMean, f.BwdIATMean, f.FlowIATMin, f.FlowIATMax, f.FlowIATStd)
	}
	if f.Duration != 7*ms || !near(f.PacketsPerSecond, 8/0.007) || !near(f.FwdPacketsPerSecond, 5/0.007) || !near(f.PayloadBytesPerSecond, 10/0.007) {
		t.Errorf("duration %d, %g packets/s, %g forward, %g bytes/s", f.Duration, f.PacketsPerSecond, f.FwdPacketsPerSecond, f.PayloadBytesPerSecond)
	}
}

// A flow of one packet has a duration of 0: its rates are 0, where
// CICFlowMeter writes Infinity or NaN; a UDP flow has no window.
func TestFeaturesOnePacket(t *testing.T) {
	_, ff := runFeatures(t, []pkt{{0, true, "", 0, 0, 30}}, true, DefaultOptions())
	f := ff[0]
	if f.Duration != 0 || f.PacketsPerSecond != 0 || f.PayloadBytesPerSecond != 0 || f.DownUpRatio != 0 || f.FlowIATMax != 0 {
		t.Errorf("duration %d, rates %g %g, down/up %g, IAT %d; want all 0", f.Duration, f.PacketsPerSecond, f.PayloadBytesPerSecond, f.DownUpRatio, f.FlowIATMax)
	}
	if f.FwdInitWindow != -1 || f.BwdInitWindow != -1 || f.FwdHeaderBytes != 8 || f.FwdPayloadLengthMax != 30 || f.BwdPackets != 0 || f.ActivePeriods != 1 || f.ActiveMax != 0 {
		t.Errorf("windows %d/%d, header %d, payload %d, backward %d packets, %d active periods of %d", f.FwdInitWindow, f.BwdInitWindow, f.FwdHeaderBytes, f.FwdPayloadLengthMax, f.BwdPackets, f.ActivePeriods, f.ActiveMax)
	}
}

// Retransmissions and out-of-order segments by sequence numbers, per
// direction: a segment that skips 10 bytes opens a gap, the segment that
// fills it is out of order, a segment sent again is a retransmission, and
// a retransmitted SYN counts too.
func TestFeaturesRetransmissions(t *testing.T) {
	ms := time.Millisecond
	script := []pkt{
		{0, true, "S", 100, 0, 0},
		{ms, true, "S", 100, 0, 0}, // SYN again
		{2 * ms, false, "SA", 500, 101, 0},
		{3 * ms, true, "A", 101, 501, 0},
		{4 * ms, true, "PA", 101, 501, 10},
		{5 * ms, true, "PA", 121, 501, 10}, // 111-121 missing
		{6 * ms, true, "PA", 111, 501, 10}, // fills it
		{7 * ms, true, "PA", 101, 501, 10}, // sent again
		{8 * ms, false, "PA", 501, 131, 5},
		{9 * ms, false, "PA", 501, 131, 5}, // sent again
	}
	_, ff := runFeatures(t, script, false, DefaultOptions())
	f := ff[0]
	if f.FwdRetransmissions != 2 || f.FwdOutOfOrder != 1 || f.BwdRetransmissions != 1 || f.BwdOutOfOrder != 0 {
		t.Errorf("retransmissions %d/%d, out of order %d/%d; want 2/1, 1/0", f.FwdRetransmissions, f.BwdRetransmissions, f.FwdOutOfOrder, f.BwdOutOfOrder)
	}
}

// CICFlowMeter's CSV repeats columns (Fwd Header Length twice, Avg Fwd
// Segment Size = Fwd Packet Length Mean, the Subflow counts = the totals
// with its integer division). Every FlowFeatures field is its own: no two
// share a name in any case or a definition.
func TestFeaturesNoDuplicateColumns(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "netcap.proto"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "message FlowFeatures {\n")
	body, _, _ = strings.Cut(body, "\n}")
	if !ok {
		t.Fatal("netcap.proto has no message FlowFeatures")
	}
	names := map[string]string{}
	docs := map[string]string{}
	var doc []string
	fields := 0
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if c, ok := strings.CutPrefix(line, "//"); ok {
			doc = append(doc, strings.TrimSpace(c))
			continue
		}
		decl, trailing, _ := strings.Cut(line, "//")
		f := strings.Fields(decl)
		if len(f) < 2 {
			continue
		}
		fields++
		name := f[1]
		if other, ok := names[strings.ToLower(name)]; ok {
			t.Errorf("%s and %s are one name", name, other)
		}
		names[strings.ToLower(name)] = name
		d := strings.TrimSpace(strings.Join(append(doc, trailing), " "))
		doc = nil
		if other, ok := docs[d]; ok {
			t.Errorf("%s and %s have one definition: %q", name, other, d)
		}
		docs[d] = name
	}
	if want := (&types.FlowFeatures{}).ProtoReflect().Descriptor().Fields().Len(); fields != want {
		t.Errorf("read %d fields of FlowFeatures in netcap.proto, it has %d", fields, want)
	}
}

// Welford's running mean and deviation against the two-pass computation,
// on values around a large offset (Unix ns), where the naive sum of
// squares loses every digit of the deviation.
func TestWelford(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, offset := range []int64{0, 1.7e18} {
		for _, n := range []int{1, 2, 3, 10, 1000} {
			var w welford
			xs := make([]int64, n)
			for i := range xs {
				xs[i] = offset + rng.Int63n(1e9)
				w.add(xs[i])
			}
			var sum float64
			mn, mx := xs[0], xs[0]
			for _, x := range xs {
				sum += float64(x - offset)
				mn, mx = min(mn, x), max(mx, x)
			}
			mean := sum / float64(n)
			var ss float64
			for _, x := range xs {
				d := float64(x-offset) - mean
				ss += d * d
			}
			std := 0.0
			if n > 1 {
				std = math.Sqrt(ss / float64(n-1))
			}
			// the two halves merged are the whole
			var a, b welford
			for i, x := range xs {
				if i < n/2 {
					a.add(x)
				} else {
					b.add(x)
				}
			}
			if m := merge(a, b); m.n != w.n || m.min != w.min || m.max != w.max || math.Abs(m.mean-w.mean) > 1e-9*math.Max(1, math.Abs(w.mean)) || math.Abs(m.std()-w.std()) > 1e-6*w.std()+1e-6+512*float64(offset/1e18) {
				t.Errorf("offset %d n %d: merged halves %+v (std %g), whole %+v (std %g)", offset, n, m, m.std(), w, w.std())
			}
			if w.n != int64(n) || w.min != mn || w.max != mx {
				t.Errorf("offset %d n %d: count %d min %d max %d, want %d %d %d", offset, n, w.n, w.min, w.max, n, mn, mx)
			}
			if got := w.mean - float64(offset); math.Abs(got-mean) > 1e-12*math.Abs(mean)+1e-9*float64(offset) {
				t.Errorf("offset %d n %d: mean %g, want %g", offset, n, got, mean)
			}
			// The deviation is in ns; an offset of 1.7e18 leaves float64
			// about 256 ns of resolution per value.
			tol := 1e-6 * std
			if offset != 0 {
				tol = 512
			}
			if math.Abs(w.std()-std) > tol {
				t.Errorf("offset %d n %d: std %g, want %g", offset, n, w.std(), std)
			}
		}
	}
}

// The per-packet work allocates nothing, and the state fits what MemCap
// counts for it.
func TestFeaturesNoAllocation(t *testing.T) {
	sz := unsafe.Sizeof(flowFeatures{})
	t.Logf("flowFeatures: %d bytes, featPacket: %d bytes", sz, unsafe.Sizeof(featPacket{}))
	if sz > FlowFeaturesBytes {
		t.Errorf("flowFeatures is %d bytes, FlowFeaturesBytes counts %d", sz, FlowFeaturesBytes)
	}
	f := &flowFeatures{}
	f.reset()
	var v packetView
	v.ip4 = &layers.IPv4{Length: 140, TTL: 9}
	v.tcp = &layers.TCP{Seq: 1, DataOffset: 5, Window: 7}
	v.payload = 100
	p := Packet{Timestamp: 1e18, Length: 154, CaptureLength: 154}
	allocs := testing.AllocsPerRun(1000, func() {
		p.Timestamp += 1e6
		v.tcp.Seq += 100
		fp := readFeatPacket(int(p.Timestamp/1e6)&1, &v, &p)
		f.add(&fp, p.Timestamp, 5e9)
	})
	if allocs != 0 {
		t.Errorf("%g allocations per packet, want 0", allocs)
	}
}

// FuzzFlowFeatures decodes a fuzzed exchange on one connection (directions,
// TCP flags, sequence numbers, payload lengths, times that may go backward,
// frames cut short) and checks that every record is sane: finite floats,
// means within their minimum and maximum, counts that add up to the
// Connection's.
func FuzzFlowFeatures(f *testing.F) {
	f.Add([]byte{0x01, 0, 10, 0, 0, 5, 0x12, 0, 10, 1, 0, 0})
	f.Add([]byte{0x41, 0x80, 0, 0, 0, 0, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"))
	f.Fuzz(func(t *testing.T, data []byte) {
		udp := len(data) > 0 && data[0]&0x80 != 0
		var script []pkt
		var at time.Duration
		seq := [2]uint32{100, 500}
		for i := 0; i+6 <= len(data) && len(script) < 32; i += 6 {
			b := data[i : i+6]
			toServer := b[0]&1 == 0
			flags := ""
			for bit, fl := range "SAFRPUEC" {
				if !udp && b[1]&(1<<bit) != 0 {
					flags += string(fl)
				}
			}
			at += time.Duration(int16(uint16(b[2])<<8|uint16(b[3]))) * time.Millisecond
			d := 0
			if !toServer {
				d = 1
			}
			seq[d] += uint32(int8(b[4])) * 7
			script = append(script, pkt{at, toServer, flags, seq[d], seq[1-d], int(b[5])})
		}
		if len(script) == 0 {
			return
		}
		opts := DefaultOptions()
		opts.ActivityTimeout = time.Duration(data[0]&0x7f) * 10 * time.Millisecond
		pd := NewPacketDecoder(func(tt types.Type) bool {
			return tt == types.Type_NC_Connection || tt == types.Type_NC_FlowFeatures
		}, opts)
		s := &recordSink{}
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		for i, p := range script {
			frame := buildScript(t, p, udp)
			meta := Packet{Frame: int64(i + 1), Timestamp: base + int64(p.at), CaptureLength: len(frame), Length: len(frame)}
			if cut := int(data[0] >> 4); cut > 0 && i%3 == 1 && len(frame) > 54+cut {
				frame = frame[:len(frame)-cut] // cut by the snap length
				meta.CaptureLength = len(frame)
			}
			pd.Tick(meta.Timestamp, s)
			pd.Decode(frame, layers.LinkTypeEthernet, &meta, s)
		}
		pd.Flush(s)
		var conns, feats int
		var packets int64
		for _, m := range s.recs {
			switch r := m.(type) {
			case *types.Connection:
				conns++
				packets += r.NumPackets
			case *types.FlowFeatures:
				feats++
				packets -= r.FwdPackets + r.BwdPackets
				checkFeatures(t, r)
			}
		}
		if conns != feats || packets != 0 {
			t.Fatalf("%d Connection and %d FlowFeatures records, packets differ by %d", conns, feats, packets)
		}
	})
}

// checkFeatures checks what holds for every FlowFeatures record.
func checkFeatures(t *testing.T, r *types.FlowFeatures) {
	t.Helper()
	m := r.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if v, ok := m.Get(fd).Interface().(float64); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("%s is %v", fd.Name(), v)
		}
	}
	within := func(name string, mn, mx int64, mean, std float64, n int64) {
		slack := 1e-6 * math.Max(math.Abs(float64(mn)), math.Abs(float64(mx)))
		if n > 0 && (mean < float64(mn)-slack || mean > float64(mx)+slack || std < 0 || mn > mx) {
			t.Fatalf("%s: min %d max %d mean %g std %g", name, mn, mx, mean, std)
		}
	}
	within("FwdIPLength", r.FwdIPLengthMin, r.FwdIPLengthMax, r.FwdIPLengthMean, r.FwdIPLengthStd, r.FwdPackets)
	within("BwdPayloadLength", r.BwdPayloadLengthMin, r.BwdPayloadLengthMax, r.BwdPayloadLengthMean, r.BwdPayloadLengthStd, r.BwdPackets)
	within("FlowIAT", r.FlowIATMin, r.FlowIATMax, r.FlowIATMean, r.FlowIATStd, r.FwdPackets+r.BwdPackets-1)
	within("Active", r.ActiveMin, r.ActiveMax, r.ActiveMean, r.ActiveStd, r.ActivePeriods)
	if r.ActivePeriods != r.IdlePeriods+1 || r.Subflows < 1 || r.FwdDataPackets > r.FwdPackets || r.FwdRetransmissions+r.FwdOutOfOrder > r.FwdPackets {
		t.Fatalf("active %d idle %d subflows %d data %d/%d retransmissions %d out of order %d", r.ActivePeriods, r.IdlePeriods, r.Subflows, r.FwdDataPackets, r.FwdPackets, r.FwdRetransmissions, r.FwdOutOfOrder)
	}
	if r.FwdPayloadBytes > r.FwdIPBytes || r.Duration != r.TimestampLast-r.TimestampFirst {
		t.Fatalf("payload %d of %d IP bytes; duration %d", r.FwdPayloadBytes, r.FwdIPBytes, r.Duration)
	}
}

// BenchmarkFlowFeatures measures what FlowFeatures adds per packet: a TCP
// packet of an established connection decoded with every record type but
// FlowFeatures, and with it.
func BenchmarkFlowFeatures(b *testing.B) {
	pkt := benchPackets(b)["TCP"]
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			d := NewPacketDecoder(func(tt types.Type) bool { return on || tt != types.Type_NC_FlowFeatures })
			var s countSink
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p := Packet{Frame: int64(i + 1), Timestamp: int64(i) * 1000, CaptureLength: len(pkt), Length: len(pkt)}
				if st, reason := d.Decode(pkt, layers.LinkTypeEthernet, &p, &s); st != Decoded {
					b.Fatalf("status %d: %s", st, reason)
				}
			}
		})
	}
}
