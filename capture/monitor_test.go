package capture

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// tcpFrame is an Ethernet frame with a TCP segment from A:40000 to B:80 (or
// back) holding n bytes.
func tcpFrame(t testing.TB, toServer bool, flags string, seq, ack uint32, n int) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: testIP4A, DstIP: testIP4B}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: seq, Ack: ack, Window: 1024}
	if !toServer {
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'P':
			tcp.PSH = true
		}
	}
	tcp.SetNetworkLayerForChecksum(ip)
	return etherFrame(mustSerialize(t, ip, tcp, gopacket.Payload(make([]byte, n))))
}

// fragmentFrame is an Ethernet frame with bytes [off, off+n) of the payload
// of IPv4 datagram 77 (UDP), n a multiple of 8 unless it is the last.
func fragmentFrame(t testing.TB, off, n int, more bool) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 77, Protocol: layers.IPProtocolUDP, SrcIP: testIP4A, DstIP: testIP4B, FragOffset: uint16(off / 8)}
	if more {
		ip.Flags = layers.IPv4MoreFragments
	}
	return etherFrame(mustSerialize(t, ip, gopacket.Payload(make([]byte, n))))
}

// TestMonitorGauges stops the writer at its first record and reads the
// gauges once the engine has nothing more to do: every batch of the pool
// waits for the writer, and the worker that owns the TCP connection holds
// the segment that came after a hole, while every worker holds the first
// fragment of a datagram (fragments go to all workers). Once the run ends,
// nothing is queued or held.
func TestMonitorGauges(t *testing.T) {
	const segment, fragment = 100, 64
	// bookkeeping bounds what the decoder adds to the bytes it holds (a
	// heap slot, a datagram, rounding to the allocator's size classes).
	const bookkeeping = 512
	frames := [][]byte{
		tcpFrame(t, true, "S", 1000, 0, 0),
		tcpFrame(t, false, "SA", 5000, 1001, 0),
		tcpFrame(t, true, "A", 1001, 5001, 0),
		tcpFrame(t, true, "PA", 1011, 5001, segment), // bytes 10.. before 0..9
		fragmentFrame(t, 0, fragment, true),
	}
	for i := 0; i < 20; i++ {
		frames = append(frames, etherFrame(ipv4UDP(t, uint16(i))))
	}
	frames = append(frames, tcpFrame(t, true, "PA", 1001, 5001, 10), fragmentFrame(t, fragment, 40, false))
	path := writeFile(t, t.TempDir(), "monitor.pcap", pcapBytes(t, layers.LinkTypeEthernet, true, frames))

	for _, workers := range []int{1, 2} {
		src, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m Monitor
		if _, ok := m.Gauges(); ok {
			t.Fatal("a monitor not given to a run reports gauges")
		}
		if _, ok := m.Stats(); ok {
			t.Fatal("a monitor not given to a run reports counters")
		}
		release := make(chan struct{})
		var once sync.Once
		// The writer asks for the first record type's output when it
		// writes the first record: it waits there.
		cfg := Config{
			Input:    InputConfig{BatchSize: 1},
			Decoding: DecodeConfig{Workers: workers},
			Output: OutputConfig{Dir: t.TempDir(), Parts: func(types.Type, *types.Header) (PartWriter, error) {
				once.Do(func() { <-release })
				return discardParts{}, nil
			}},
			Hooks: Hooks{Monitor: &m},
		}
		done := make(chan error, 1)
		go func() {
			_, err := Run(context.Background(), src, cfg)
			done <- err
		}()

		// The pool's batches all end up with the writer: the first one
		// in its hook, the others waiting.
		pool := BatchPool(workers)
		var g Gauges
		deadline := time.Now().Add(20 * time.Second)
		for {
			var ok bool
			if g, ok = m.Gauges(); ok && g.WriterQueue == pool {
				break
			}
			if time.Now().After(deadline) {
				close(release)
				t.Fatalf("%d workers: the writer queue never reached %d batches: %+v", workers, pool, g)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if len(g.Workers) != workers {
			t.Fatalf("%d workers: gauges for %d", workers, len(g.Workers))
		}
		var stream, frags, conns int64
		for i, w := range g.Workers {
			if w.Queue != 0 {
				t.Errorf("%d workers: worker %d has %d batches queued, want 0 (all are with the writer)", workers, i, w.Queue)
			}
			// Held as allocated: the bytes and their bookkeeping.
			if w.FragmentBytes < fragment || w.FragmentBytes > fragment+bookkeeping {
				t.Errorf("%d workers: worker %d holds %d fragment bytes, want %d and at most %d of bookkeeping", workers, i, w.FragmentBytes, fragment, bookkeeping)
			}
			stream += w.StreamBytes
			frags += w.FragmentBytes
			conns += w.Connections
		}
		// Frames 1 to pool are decoded: the TCP connection (frames 1
		// to 4), the first fragment (5), and a UDP flow for each frame
		// from 6 on.
		if pool > 25 {
			t.Fatalf("a pool of %d batches: the test needs more frames", pool)
		}
		if wantConns := int64(1 + pool - 5); stream < segment || stream > segment+bookkeeping || conns != wantConns {
			t.Errorf("%d workers: %d stream bytes and %d connections held, want %d (and at most %d of bookkeeping) and %d", workers, stream, conns, segment, bookkeeping, wantConns)
		}
		if st, ok := m.Stats(); !ok || st.Packets != int64(pool) {
			t.Errorf("%d workers: Stats with the writer stopped: %+v (%v), want the %d packets read", workers, st, ok, pool)
		}
		t.Logf("%d workers, writer stopped: %+v", workers, g)

		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		src.Close()
		g, _ = m.Gauges()
		for i, w := range g.Workers {
			if w != (WorkerGauges{}) {
				t.Errorf("%d workers: after the run worker %d reports %+v, want nothing", workers, i, w)
			}
		}
		if g.WriterQueue != 0 {
			t.Errorf("%d workers: after the run %d batches wait for the writer", workers, g.WriterQueue)
		}
		if st, ok := m.Stats(); !ok || st.Packets != int64(len(frames)) {
			t.Errorf("%d workers: Stats after the run: %+v (%v), want %d packets", workers, st, ok, len(frames))
		}
	}
}

// discardParts is a PartWriter that keeps nothing.
type discardParts struct{}

func (discardParts) WritePart([]byte, int) error { return nil }
func (discardParts) Close() error                { return nil }

// TestMonitorSharedCapture reads the gauges as often as it can while a
// shared capture with TCP streams is decoded (the race detector watches):
// they stay within the engine's bounds.
func TestMonitorSharedCapture(t *testing.T) {
	path := sharedCapture(t, filepath.Join("pcaps", "suricata-verify", "output-eve-ftp-data__input.pcap"))
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var m Monitor
	stop := make(chan struct{})
	reads := make(chan int)
	var maxQueue, maxWriter int
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				reads <- n
				return
			default:
			}
			if g, ok := m.Gauges(); ok {
				n++
				maxWriter = max(maxWriter, g.WriterQueue)
				for _, w := range g.Workers {
					maxQueue = max(maxQueue, w.Queue)
					if w.StreamBytes < 0 || w.FragmentBytes < 0 || w.Connections < 0 {
						t.Errorf("negative gauge: %+v", w)
					}
				}
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	sum, err := Run(context.Background(), src, Config{
		Input:    InputConfig{BatchSize: 16},
		Decoding: DecodeConfig{Workers: 2},
		Output:   OutputConfig{Dir: t.TempDir()},
		Hooks:    Hooks{Monitor: &m},
	})
	close(stop)
	n := <-reads
	if err != nil {
		t.Fatal(err)
	}
	// No queue can hold more batches than the pool has.
	if pool := BatchPool(2); maxQueue > pool || maxWriter > pool {
		t.Errorf("queues beyond the pool of %d batches: worker %d, writer %d", pool, maxQueue, maxWriter)
	}
	g, _ := m.Gauges()
	for i, w := range g.Workers {
		if w != (WorkerGauges{}) {
			t.Errorf("after the run worker %d reports %+v", i, w)
		}
	}
	t.Logf("%d packets, %d reads of the gauges: longest worker queue %d, writer queue %d", sum.Packets, n, maxQueue, maxWriter)
}
