package capture

import (
	"io"
	"testing"
)

// TestWorkerBalance: a capture dominated by one host pair (a port scan of
// one target) spreads over workers, since flows hash on their ports too.
// With the IP pair alone, 99% of its packets went to one worker.
func TestWorkerBalance(t *testing.T) {
	src, err := OpenFile(sharedCapture(t, "labels/kareem-attack-scan/attack_scan.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var hashes []uint64
	for {
		data, _, link, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, FlowHash(data, link))
	}
	for _, c := range []struct {
		workers int
		max     float64
	}{{2, 0.6}, {8, 0.25}} {
		counts := make([]int, c.workers)
		for _, h := range hashes {
			counts[h%uint64(c.workers)]++
		}
		busiest := 0
		for _, n := range counts {
			busiest = max(busiest, n)
		}
		share := float64(busiest) / float64(len(hashes))
		t.Logf("%d workers: busiest has %.3f of %d packets %v", c.workers, share, len(hashes), counts)
		if share > c.max {
			t.Errorf("%d workers: the busiest worker has %.3f of the packets, want at most %.2f", c.workers, share, c.max)
		}
	}
}
