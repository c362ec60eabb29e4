package capture

import (
	"context"
	"io"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// BenchmarkPipeline runs the whole engine (read, decode, marshal, gzip,
// write) over a real capture and reports packets per second.
func BenchmarkPipeline(b *testing.B) {
	path := sharedCapture(b, "labels/kareem-attack-scan/attack_scan.pcap")
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			var packets int64
			for i := 0; i < b.N; i++ {
				src, err := OpenFile(path)
				if err != nil {
					b.Fatal(err)
				}
				sum, err := Run(context.Background(), src, Config{
					Decoding: DecodeConfig{Workers: workers},
					Output:   OutputConfig{Dir: b.TempDir(), Compress: true},
				})
				src.Close()
				if err != nil {
					b.Fatal(err)
				}
				packets += sum.Packets
			}
			b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkFlowHash measures the per-packet cost the reader pays to pick a
// worker.
func BenchmarkFlowHash(b *testing.B) {
	path := sharedCapture(b, "labels/kareem-attack-scan/attack_scan.pcap")
	src, err := OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var pkts [][]byte
	for {
		d, _, _, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), d...))
	}
	src.Close()
	b.ResetTimer()
	var h uint64
	for i := 0; i < b.N; i++ {
		h += FlowHash(pkts[i%len(pkts)], layers.LinkTypeEthernet)
	}
	_ = h
}
