package decoder

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// collector gathers what a half-stream delivers.
type collector struct {
	data   []byte
	missed int
}

func (c *collector) out(data []byte, missed int, _, _ int64) {
	if missed > 0 {
		c.missed += missed
		c.data = append(c.data, make([]byte, missed)...) // holes as zeros, to check offsets
	}
	c.data = append(c.data, data...)
}

type seg struct {
	seq  uint32
	data []byte
}

// segmentsOf cuts stream (starting at isn) into random segments, with
// duplicates and overlapping retransmissions, in random order.
func segmentsOf(rng *rand.Rand, isn uint32, stream []byte, shuffle bool) []seg {
	var segs []seg
	for off := 0; off < len(stream); {
		n := 1 + rng.Intn(40)
		if off+n > len(stream) {
			n = len(stream) - off
		}
		segs = append(segs, seg{isn + uint32(off), stream[off : off+n]})
		if rng.Intn(4) == 0 { // a retransmission that overlaps the next bytes
			m := n + rng.Intn(20)
			if off+m > len(stream) {
				m = len(stream) - off
			}
			segs = append(segs, seg{isn + uint32(off), stream[off : off+m]})
		}
		off += n
	}
	if shuffle {
		rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	}
	return segs
}

// TestReassemblyOrder: any order, duplicates, overlaps and a sequence space
// that wraps around give back the stream, byte for byte, once.
func TestReassemblyOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		stream := make([]byte, 1+rng.Intn(3000))
		rng.Read(stream)
		isn := uint32(rng.Int63())
		if i%3 == 0 {
			isn = 0xffffffff - uint32(rng.Intn(2000)) // wraps inside the stream
		}
		segs := segmentsOf(rng, isn, stream, i%2 == 0)
		var h halfStream
		var st reasmStats
		var c collector
		h.start(isn)
		for _, s := range segs {
			h.add(s.seq, s.data, 0, 0, 1<<20, 0, &st, c.out)
		}
		h.flush(&st, c.out)
		if !bytes.Equal(c.data, stream) || c.missed != 0 {
			t.Fatalf("case %d (isn %d, %d segments): got %d bytes (missed %d), want %d", i, isn, len(segs), len(c.data), c.missed, len(stream))
		}
		if st.bufferedNow != 0 {
			t.Fatalf("case %d: %d bytes still counted as buffered", i, st.bufferedNow)
		}
	}
}

// TestReassemblyHoles: lost segments are reported as missed bytes at their
// place, never papered over, and the rest arrives at the right offsets.
func TestReassemblyHoles(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 300; i++ {
		stream := make([]byte, 100+rng.Intn(2000))
		rng.Read(stream)
		isn := uint32(rng.Int63())
		segs := segmentsOf(rng, isn, stream, false)
		// Drop some segments (never the first: the stream must start).
		kept := []seg{segs[0]}
		for _, s := range segs[1:] {
			if rng.Intn(5) != 0 {
				kept = append(kept, s)
			}
		}
		rng.Shuffle(len(kept)-1, func(a, b int) { kept[a+1], kept[b+1] = kept[b+1], kept[a+1] })
		var h halfStream
		var st reasmStats
		var c collector
		h.start(isn)
		for _, s := range kept {
			h.add(s.seq, s.data, 0, 0, 1<<20, 0, &st, c.out)
		}
		h.flush(&st, c.out)
		// Every byte delivered sits at its own offset; holes are zeros.
		for off, b := range c.data {
			if b != stream[off] && b != 0 {
				t.Fatalf("case %d: byte %d is %d, want %d or a hole", i, off, b, stream[off])
			}
		}
		if int64(c.missed) != st.missed {
			t.Fatalf("case %d: delivered holes %d != counted %d", i, c.missed, st.missed)
		}
		if len(c.data) > len(stream) {
			t.Fatalf("case %d: %d bytes out of a %d byte stream", i, len(c.data), len(stream))
		}
	}
}

// TestReassemblyMemoryBound: a hole that never fills does not let the
// waiting bytes grow past the per-connection bound.
func TestReassemblyMemoryBound(t *testing.T) {
	var h halfStream
	var st reasmStats
	var c collector
	h.start(1000)
	limit := 4096
	for i := 1; i < 1000; i++ { // the segment at 1000 is never seen
		h.add(1000+uint32(i*100), make([]byte, 100), 0, 0, limit, 0, &st, c.out)
		if h.buffered > int64(limit) {
			t.Fatalf("buffered %d bytes, limit %d", h.buffered, limit)
		}
	}
	if st.limitHits == 0 || st.missed < 100 {
		t.Fatalf("limit hits %d, missed %d: the bound was never enforced", st.limitHits, st.missed)
	}
}

// FuzzReassembly feeds segments described by the fuzz input (offsets,
// lengths, order) and checks the invariants: no panic, no byte delivered
// twice or at a wrong offset, holes counted, memory bound held.
func FuzzReassembly(f *testing.F) {
	f.Add(uint32(0xfffffff0), []byte{0, 10, 5, 20, 3, 1, 40, 50})
	f.Add(uint32(1), []byte{9, 9, 0, 1, 0, 1, 255, 255})
	for _, seed := range realSegmentPlans(f, filepath.Join("..", "testdata", "loopback.pcap")) {
		f.Add(seed.isn, seed.plan)
	}
	f.Fuzz(func(t *testing.T, isn uint32, plan []byte) {
		if len(plan) > 2000 { // bounded work per input
			plan = plan[:2000]
		}
		stream := make([]byte, 4096)
		for i := range stream {
			stream[i] = byte(i%251) + 1 // never 0, so holes are visible
		}
		var h halfStream
		var st reasmStats
		var c collector
		h.start(isn)
		for i := 0; i+1 < len(plan); i += 2 {
			off := int(plan[i]) * 16
			n := int(plan[i+1]) % 64
			if off+n > len(stream) {
				continue
			}
			h.add(isn+uint32(off), stream[off:off+n], 0, 0, 512, 0, &st, c.out)
			if h.buffered > 512+64 {
				t.Fatalf("buffered %d", h.buffered)
			}
		}
		h.flush(&st, c.out)
		for off, b := range c.data {
			if b != 0 && b != stream[off] {
				t.Fatalf("byte %d delivered as %d, want %d", off, b, stream[off])
			}
		}
		if int64(c.missed) != st.missed || st.bufferedNow != 0 {
			t.Fatalf("missed %d counted %d, buffered %d", c.missed, st.missed, st.bufferedNow)
		}
	})
}

type segmentPlan struct {
	isn  uint32
	plan []byte
}

// realSegmentPlans turns the segments of each direction of each TCP
// connection of a real capture into the fuzz input's form (offset/16,
// length%64 pairs, in capture order, ISN as captured), so that fuzzing
// starts from the orders, sizes and retransmissions of real traffic.
func realSegmentPlans(tb testing.TB, path string) []segmentPlan {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil
	}
	type dirKey struct {
		src, dst string
		sp, dp   layers.TCPPort
	}
	isn := map[dirKey]uint32{}
	plans := map[dirKey][]byte{}
	var order []dirKey
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp)
	parser.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if parser.DecodeLayers(data, &decoded) != nil || len(decoded) < 3 || decoded[len(decoded)-1] != layers.LayerTypeTCP {
			continue
		}
		k := dirKey{sp: tcp.SrcPort, dp: tcp.DstPort}
		if decoded[1] == layers.LayerTypeIPv4 {
			k.src, k.dst = ip4.SrcIP.String(), ip4.DstIP.String()
		} else {
			k.src, k.dst = ip6.SrcIP.String(), ip6.DstIP.String()
		}
		if tcp.SYN {
			isn[k] = tcp.Seq + 1
			order = append(order, k)
			continue
		}
		start, ok := isn[k]
		if !ok || len(tcp.Payload) == 0 {
			continue
		}
		off := int(tcp.Seq-start) / 16
		if off > 255 {
			continue
		}
		plans[k] = append(plans[k], byte(off), byte(len(tcp.Payload)%64))
	}
	var out []segmentPlan
	for _, k := range order {
		if len(plans[k]) > 0 {
			out = append(out, segmentPlan{isn[k], plans[k]})
		}
	}
	return out
}

// TestReassemblyReverseLinear: one-byte segments that arrive in reverse
// order (each one before all that wait) cost a few times what the same
// segments cost in order behind one hole (where they wait as well, but
// each lands after the others), and give the same stream. A sorted list made
// the reverse order quadratic.
func TestReassemblyReverseLinear(t *testing.T) {
	const n = 160000
	stream := make([]byte, n)
	for i := range stream {
		stream[i] = byte(i%251) + 1
	}
	isn := uint32(0xffffffff - n/2) // the sequence numbers wrap halfway
	// order returns the offset of the i-th segment sent.
	orders := []struct {
		name  string
		order func(i int) int
	}{
		{"in order", func(i int) int { return i }},
		{"in order behind a hole", func(i int) int { return (i + 1) % n }},
		{"reversed", func(i int) int { return n - 1 - i }},
	}
	took := make([]time.Duration, len(orders))
	for k, o := range orders {
		for try := range 3 { // the fastest of a few runs: the machine may be busy
			var h halfStream
			var st reasmStats
			c := collector{data: make([]byte, 0, n)}
			h.start(isn)
			begin := time.Now()
			for i := range n {
				off := o.order(i)
				h.add(isn+uint32(off), stream[off:off+1], 0, 0, 1<<30, 0, &st, c.out)
			}
			h.flush(&st, c.out)
			d := time.Since(begin)
			if !bytes.Equal(c.data, stream) || c.missed != 0 || st.bufferedNow != 0 {
				t.Fatalf("%s: got %d bytes (missed %d, %d still buffered), not the stream of %d", o.name, len(c.data), c.missed, st.bufferedNow, n)
			}
			if try == 0 || d < took[k] {
				took[k] = d
			}
		}
		t.Logf("%d one-byte segments %s: %v", n, o.name, took[k])
	}
	if took[2] > 5*took[1]+20*time.Millisecond {
		t.Errorf("reversed took %v, in order behind a hole %v: more than 5 times (+20 ms)", took[2], took[1])
	}
}

// heapInUse is the heap's live bytes after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestReassemblyAccounting: the memory the reassembler counts is what its
// waiting segments take on the heap, bookkeeping included, for segments of
// one byte to a full Ethernet frame.
func TestReassemblyAccounting(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	src := make([]byte, 1500)
	hs := make([]halfStream, 64)
	for i := range hs {
		hs[i].start(0)
	}
	var st reasmStats
	var c collector
	before := heapInUse()
	for range 200000 {
		n := 1 // a third of the segments are one byte long
		switch rng.Intn(3) {
		case 1:
			n = 1 + rng.Intn(100)
		case 2:
			n = 100 + rng.Intn(1401)
		}
		// Never at 0: the hole at the start stays open, everything waits.
		seq := 1 + uint32(rng.Intn(1<<24))
		hs[rng.Intn(len(hs))].add(seq, src[:n], 0, 0, 1<<30, 0, &st, c.out)
	}
	used := heapInUse() - before
	counted := st.memory()
	t.Logf("counted %d bytes, the heap grew by %d", counted, used)
	if diff := float64(counted-used) / float64(used); diff < -0.03 || diff > 0.03 {
		t.Errorf("counted %d bytes, the heap grew by %d: %.1f%% apart, more than 3%%", counted, used, 100*diff)
	}
	for i := range hs {
		hs[i].release(&st)
	}
	if st.memory() != 0 {
		t.Errorf("%d bytes counted after every half-stream was released", st.memory())
	}
	if left := heapInUse() - before; left > 64<<10 {
		t.Errorf("the heap still holds %d bytes after every half-stream was released", left)
	}
	runtime.KeepAlive(hs)
}

// TestReassemblyMemoryBudget builds the attack of one-byte segments each
// behind a hole of its own that never fills: what the reassembler holds,
// measured on the heap, stays near the worker's budget, however many
// segments come.
func TestReassemblyMemoryBudget(t *testing.T) {
	const budget = 2000000
	const segments = 1000000
	opts := DefaultOptions()
	var h halfStream
	var st reasmStats
	discard := func([]byte, int, int64, int64) {}
	h.start(0)
	payload := []byte{'x'}
	before := heapInUse()
	var peak int64
	for i := 1; i <= segments; i++ {
		h.add(uint32(2*i), payload, 0, 0, opts.StreamMemoryPerConn, budget, &st, discard)
		if st.memory() > budget {
			t.Fatalf("segment %d: %d bytes held, budget %d", i, st.memory(), budget)
		}
		if i%100000 == 0 {
			peak = max(peak, heapInUse()-before)
		}
	}
	t.Logf("%d one-byte segments behind holes, budget %d: heap grew by at most %d bytes, %d counted", segments, budget, peak, st.memory())
	if peak > budget+budget/20 {
		t.Errorf("the heap grew by %d bytes, budget %d", peak, budget)
	}
	if st.limitHits == 0 || st.missed == 0 {
		t.Errorf("limit hits %d, missed %d: the budget was never enforced", st.limitHits, st.missed)
	}
	runtime.KeepAlive(&h)
}
