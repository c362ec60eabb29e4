package capture

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// sharedCapture returns the path of a capture in the shared corpus, or skips.
func sharedCapture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared capture %s not found (the shared/ folder beside the repository is absent): %v", rel, err)
	}
	return p
}

// runEngine decodes path into a fresh folder and returns the folder.
func runEngine(t testing.TB, path string, cfg Config) (string, *Summary) {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if cfg.Output.Dir == "" {
		cfg.Output.Dir = t.TempDir()
	}
	cfg.Output.Compress = true
	cfg.Output.Created = time.Unix(1700000000, 0)
	sum, err := Run(context.Background(), src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Output.Dir, sum
}

func readDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// TestDeterministicAcrossWorkers proves that the output files are the same
// byte for byte whatever the number of workers: records are written in
// capture order, not in the order workers finish. Small batches make many
// batches, so workers really do run ahead of each other.
func TestDeterministicAcrossWorkers(t *testing.T) {
	captures := []string{
		"labels/kareem-attack-scan/attack_scan.pcap",
		"labels/menna-zeus/zeus.pcapng",
		"pcaps/tcpdump/arp-oobr.pcap",
		// IP fragments, which every worker reassembles and one decodes:
		// 200 of 601 packets fragments of UDP (AFS RX) datagrams, some
		// reassembled ones in flows whose unfragmented packets are there
		// too; IPv4 and IPv6 TCP in fragments (in VLAN); fragments inside
		// GRE, which stay in one worker.
		"pcaps/tcpdump/afs.pcap",
		"pcaps/suricata-verify/defrag__frag-ip-tcp.pcap",
		"pcaps/suricata-verify/defrag__frag-eth-vlan-ipv6-tcp.pcap",
		"pcaps/suricata-verify/defrag__frag-eth-vlan-ip-tcp-syn.pcap",
		"pcaps/suricata-verify/defrag__eth-ip-gre-ppp-max-ip-packet.pcap",
		"pcaps/tcpdump/vrrp-vrrp_print-oobr-2.pcap",
		"pcaps/tcpdump/babel_update_oobr.pcap",
	}
	for _, rel := range captures {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := sharedCapture(t, rel)
			sameAcrossWorkers(t, path, OutputConfig{}, nil)
		})
	}
}

// sameAcrossWorkers runs the engine on path with 1, 2 and 8 workers and
// batches of 7 and 256 packets, writing out, and fails unless every run
// writes the same files (as norm makes them, when not nil); it returns them.
func sameAcrossWorkers(t *testing.T, path string, out OutputConfig, norm func(t *testing.T, files map[string][]byte) map[string][]byte) map[string][]byte {
	t.Helper()
	var want map[string][]byte
	for _, workers := range []int{1, 2, 8} {
		for _, batch := range []int{7, 256} {
			dir, sum := runEngine(t, path, Config{Input: InputConfig{BatchSize: batch}, Decoding: DecodeConfig{Workers: workers}, Output: out})
			got := readDir(t, dir)
			if norm != nil {
				got = norm(t, got)
			}
			if sum.Packets == 0 || len(got) == 0 {
				t.Fatalf("workers=%d: no output (%d packets)", workers, sum.Packets)
			}
			if want == nil {
				want = got
				continue
			}
			if !sameFiles(t, want, got) {
				t.Fatalf("workers=%d batch=%d: output differs from workers=1 batch=7", workers, batch)
			}
		}
	}
	return want
}

func sameFiles(t testing.TB, a, b map[string][]byte) bool {
	t.Helper()
	names := func(m map[string][]byte) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	na, nb := names(a), names(b)
	if len(na) != len(nb) {
		t.Errorf("files differ: %v vs %v", na, nb)
		return false
	}
	ok := true
	for i := range na {
		if na[i] != nb[i] {
			t.Errorf("files differ: %v vs %v", na, nb)
			return false
		}
		if !bytes.Equal(a[na[i]], b[na[i]]) {
			t.Errorf("%s differs (%d vs %d bytes)", na[i], len(a[na[i]]), len(b[na[i]]))
			ok = false
		}
	}
	return ok
}
