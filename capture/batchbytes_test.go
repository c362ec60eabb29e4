package capture

import (
	"context"
	"encoding/binary"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// bigFrames is a Source of n frames of size bytes: Ethernet, IPv4, UDP with
// the largest datagram, then zeros up to size (a trailer the decoders skip).
type bigFrames struct {
	n, size, read int
	frame         []byte
}

func newBigFrames(n, size int) *bigFrames {
	f := make([]byte, size)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 65535)
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	var sum uint32
	for j := 0; j < 20; j += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[j:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], 9999)
	binary.BigEndian.PutUint16(udp[4:], 65515)
	return &bigFrames{n: n, size: size, frame: f}
}

func (b *bigFrames) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if b.read == b.n {
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	b.read++
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(b.read)*1000), CaptureLength: b.size, Length: b.size}
	return b.frame, ci, layers.LinkTypeEthernet, nil
}

func (b *bigFrames) Name() string { return "big frames" }
func (b *bigFrames) Progress() (done, total int64) {
	return int64(b.read * b.size), int64(b.n * b.size)
}
func (b *bigFrames) Close() error { return nil }

// TestBatchPoolBytes feeds the engine the largest frames a capture may hold
// (MaxFrameLength): batches are handed over at BatchBytes, so the pool
// holds a few MiB however large the frames, not batch size x frame size.
func TestBatchPoolBytes(t *testing.T) {
	const n = 8192
	for _, c := range []struct {
		batchBytes int
		maxHeap    int64
	}{
		{0, 64 << 20}, // DefaultBatchBytes
		{MaxFrameLength, 32 << 20},
	} {
		runtime.GC()
		var peak atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				peak.Store(max(peak.Load(), int64(ms.HeapAlloc)))
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		sum, err := Run(context.Background(), newBigFrames(n, MaxFrameLength), Config{
			Input:    InputConfig{BatchBytes: c.batchBytes},
			Decoding: DecodeConfig{Workers: 2},
			Output:   OutputConfig{Dir: t.TempDir(), Compress: true},
		})
		close(stop)
		<-sampled
		if err != nil {
			t.Fatal(err)
		}
		if sum.Packets != n {
			t.Fatalf("%d packets, want %d", sum.Packets, n)
		}
		t.Logf("%d frames of %d bytes, BatchBytes %d: heap peak %d MiB", n, MaxFrameLength, c.batchBytes, peak.Load()>>20)
		if peak.Load() > c.maxHeap {
			t.Errorf("heap peaked at %d MiB, want at most %d", peak.Load()>>20, c.maxHeap>>20)
		}
	}
}
