package metrics

import (
	"context"
	"io"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/types"
)

type hookedRecord struct {
	t    types.Type
	m    proto.Message
	size int
}

// recordsOf decodes path and returns every record the engine hands its
// OnRecord hook (1 worker: in order).
func recordsOf(b testing.TB, path string) []hookedRecord {
	b.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var recs []hookedRecord
	cfg := capture.Config{
		Decoding: capture.DecodeConfig{Workers: 1, Entropy: true},
		Output:   capture.OutputConfig{Dir: b.TempDir(), IgnoreUnknown: true},
		Hooks: capture.Hooks{OnRecord: func(_ int, t types.Type, m proto.Message, size int) {
			recs = append(recs, hookedRecord{t, proto.Clone(m), size})
		}},
	}
	if _, err := capture.Run(context.Background(), src, cfg); err != nil {
		b.Fatal(err)
	}
	return recs
}

// BenchmarkRecord is the exporter's hook, per record, for the records of the
// mid-run capture (a shared one with HTTP, FTP and DNS when the corpus is
// there); in parallel, each goroutine is a worker of its own.
func BenchmarkRecord(b *testing.B) {
	recs := recordsOf(b, midRunCapture())
	b.Run("serial", func(b *testing.B) {
		e := New(Options{})
		b.ReportAllocs()
		b.ResetTimer()
		n := 0
		for i := 0; i < b.N; i++ {
			r := &recs[n]
			e.Record(0, r.t, r.m, r.size)
			if n++; n == len(recs) {
				n = 0
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		e := New(Options{})
		e.top.grow(runtime.GOMAXPROCS(0))
		var workers atomic.Int32
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			w := int(workers.Add(1) - 1)
			n := 0
			for pb.Next() {
				r := &recs[n]
				e.Record(w, r.t, r.m, r.size)
				if n++; n == len(recs) {
					n = 0
				}
			}
		})
	})
}

// loopSource yields the packets of a capture, read once into memory, rounds
// times over, each round an hour after the one before (so that the flows of
// one round time out before the next starts): a run long enough to measure
// out of a small capture.
type loopSource struct {
	pkts   [][]byte
	cis    []gopacket.CaptureInfo
	links  []layers.LinkType
	rounds int
	i      int
}

func newLoopSource(b testing.TB, path string, rounds int) *loopSource {
	b.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	s := &loopSource{rounds: rounds}
	for {
		data, ci, link, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		s.pkts = append(s.pkts, append([]byte(nil), data...))
		s.cis, s.links = append(s.cis, ci), append(s.links, link)
	}
	return s
}

func (s *loopSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if s.i == s.rounds*len(s.pkts) {
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	round, k := s.i/len(s.pkts), s.i%len(s.pkts)
	s.i++
	ci := s.cis[k]
	ci.Timestamp = ci.Timestamp.Add(time.Duration(round) * time.Hour)
	return s.pkts[k], ci, s.links[k], nil
}

func (s *loopSource) Name() string                  { return "loop" }
func (s *loopSource) Progress() (done, total int64) { return int64(s.i), 0 }
func (s *loopSource) Close() error                  { return nil }

// BenchmarkExport is net export on a file: the engine decodes the mid-run
// capture 20 times over with the exporter hooked (and, for comparison,
// without it), and reports packets a second over the whole run and the
// process's CPU time per packet (steadier than the rate on a loaded machine).
func BenchmarkExport(b *testing.B) {
	path := midRunCapture()
	for _, c := range []struct {
		name    string
		workers int
		hooked  bool
	}{{"bare-1", 1, false}, {"hooked-1", 1, true}, {"bare-2", 2, false}, {"hooked-2", 2, true}} {
		b.Run(c.name, func(b *testing.B) {
			e := New(Options{})
			src := newLoopSource(b, path, 20)
			var packets int64
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src.i = 0
				cfg := capture.Config{
					Decoding: capture.DecodeConfig{Workers: c.workers, Entropy: true},
					Output: capture.OutputConfig{
						Dir:           b.TempDir(),
						Compress:      true,
						IgnoreUnknown: true,
					},
				}
				if c.hooked {
					e.Hook(&cfg)
				}
				sum, err := capture.Run(context.Background(), src, cfg)
				if err != nil {
					b.Fatal(err)
				}
				packets += sum.Packets
			}
			b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(packets), "cpu-ns/packet")
		})
	}
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
