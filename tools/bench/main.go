// Command bench measures net capture against a decode-only baseline.
//
// It builds a benchmark capture by replicating the project's own loopback
// recording (testdata/) until it holds at least -packets packets: each copy
// shifts the IPv4 addresses (fixing the header checksum) and the timestamps,
// so the copies are distinct flows, as on a real link. It then measures, in
// the same run and on the same file:
//
//   - decode-only: gopacket's DecodingLayerParser over every packet, in one
//     goroutine, no records, no output: the ceiling for any decoder (from
//     memory, and once more reading the file as it goes);
//   - net capture with all records and gzip, with 1 and with 2 workers, as a
//     separate process, wall time and peak memory (max RSS);
//   - net capture on a file half the size, to show that peak memory does not
//     grow with the input.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/internal/pcapgen"
)

func main() {
	var (
		seed    = flag.String("seed", "", "capture to replicate (default: the first capture in testdata/)")
		dir     = flag.String("dir", "bench", "folder for the benchmark capture and outputs")
		packets = flag.Int("packets", 1_000_000, "packets in the benchmark capture")
		bin     = flag.String("net", "", "net binary to measure (default: build ./cmd/net)")
		flows   = flag.Int("flows", 1_000_000, "short UDP flows in the flow-memory capture (0: skip)")
	)
	decodeFile := flag.String("decode-only", "", "internal: run the decode-only baseline on this file and print its result")
	export := flag.Bool("export", false, "instead: compare net export (metrics on, no scrape) with net capture on the benchmark capture")
	runs := flag.Int("runs", 5, "-export: runs of each")
	workers := flag.Int("workers", 2, "-export: decoding workers")
	flag.Parse()
	if *export {
		if err := exportBench(*seed, *dir, *packets, *bin, *workers, *runs); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if *decodeFile != "" {
		n, rate, readRate, err := decodeOnly(*decodeFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(n, rate, readRate)
		return
	}
	if err := run(*seed, *dir, *packets, *bin); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	if err := manyFlows(*dir, *flows, *bin); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(seed, dir string, n int, bin string) error {
	if seed == "" {
		matches, _ := filepath.Glob("testdata/*.pcap*")
		if len(matches) == 0 {
			return fmt.Errorf("no capture in testdata/ to replicate; give one with -seed")
		}
		seed = matches[0]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	full := filepath.Join(dir, "bench.pcap")
	half := filepath.Join(dir, "bench-half.pcap")
	if err := replicate(seed, full, n); err != nil {
		return err
	}
	if err := replicate(seed, half, n/2); err != nil {
		return err
	}
	if bin == "" {
		bin = filepath.Join(dir, "net")
		build := exec.Command("go", "build", "-o", bin, "./cmd/net")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build net: %w", err)
		}
	}
	// The baseline runs in a process of its own: it holds the whole file in
	// memory, and a child started from a big parent inherits the parent's
	// peak RSS in its own ru_maxrss (exec keeps the old mm's high-water
	// mark), which would inflate every peak memory reported below.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	res, err := exec.Command(self, "-decode-only", full).Output()
	if err != nil {
		return fmt.Errorf("decode-only baseline: %v", err)
	}
	var (
		total                int
		decodeRate, readRate float64
	)
	if _, err := fmt.Sscan(string(res), &total, &decodeRate, &readRate); err != nil {
		return fmt.Errorf("decode-only baseline: %q: %v", res, err)
	}
	fmt.Printf("benchmark capture: %s, %d packets (replicated from %s)\n\n", full, total, seed)
	fmt.Printf("%-44s %12s %8s %10s\n", "run", "packets/s", "ratio", "peak RSS")
	fmt.Printf("%-44s %12.0f %8s %10s\n", "decode-only (DecodingLayerParser, 1 goroutine)", decodeRate, "1.00", "-")
	fmt.Printf("%-44s %12.0f %8.2f %10s\n", "  same, reading the file as it goes", readRate, readRate/decodeRate, "-")
	var rate1 float64
	for _, w := range []int{1, 2} {
		rate, rss, err := captureRun(bin, full, filepath.Join(dir, fmt.Sprintf("out-w%d", w)), w, total)
		if err != nil {
			return err
		}
		if w == 1 {
			rate1 = rate
		}
		fmt.Printf("%-44s %12.0f %8.2f %8d MB\n", fmt.Sprintf("net capture, all records, gzip, %d worker(s)", w), rate, rate/decodeRate, rss>>20)
		if w == 2 {
			fmt.Printf("\nscaling 1 -> 2 workers: %.2fx\n", rate/rate1)
		}
	}
	stateless, _, err := captureRun(bin, full, filepath.Join(dir, "out-stateless"), 2, total,
		"-exclude", "Connection,Flow,LinkFlow,NetworkFlow,TransportFlow,HTTP,TLSClientHello,TLSServerHello")
	if err != nil {
		return err
	}
	fmt.Printf("%-44s %12.0f %8.2f\n", "  same, packet records only (no flows/streams)", stateless, stateless/decodeRate)
	_, rssHalf, err := captureRun(bin, half, filepath.Join(dir, "out-half"), 2, total/2)
	if err != nil {
		return err
	}
	fmt.Printf("peak RSS on half the packets (2 workers): %d MB\n", rssHalf>>20)
	return nil
}

// exportBench builds the benchmark capture and compares net export with
// net capture on it.
func exportBench(seed, dir string, n int, bin string, workers, runs int) error {
	if seed == "" {
		matches, _ := filepath.Glob("testdata/*.pcap*")
		if len(matches) == 0 {
			return fmt.Errorf("no capture in testdata/ to replicate; give one with -seed")
		}
		seed = matches[0]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "export-bench.pcap")
	if err := replicate(seed, path, n); err != nil {
		return err
	}
	if bin == "" {
		bin = filepath.Join(dir, "net")
		build := exec.Command("go", "build", "-o", bin, "./cmd/net")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build net: %w", err)
		}
	}
	fmt.Printf("benchmark capture: %s, %d packets (replicated from %s), %d workers\n", path, n, seed, workers)
	return exportOverhead(path, dir, bin, workers, runs)
}

// manyFlows measures peak memory on a capture of n short flows (two packets
// each, one packet per millisecond) against one with n/4: with idle
// timeouts on packet time, the flow tables and so the memory stay flat.
func manyFlows(dir string, n int, bin string) error {
	if n == 0 {
		return nil
	}
	if bin == "" {
		bin = filepath.Join(dir, "net")
	}
	fmt.Printf("\nflow state: captures of short UDP flows, 1 packet per ms, default timeouts (1 min for UDP)\n")
	for _, k := range []int{n / 4, n} {
		path := filepath.Join(dir, fmt.Sprintf("flows-%d.pcap", k))
		if err := pcapgen.ManyFlows(path, k, time.Unix(1700000000, 0)); err != nil {
			return err
		}
		rate, rss, err := captureRun(bin, path, filepath.Join(dir, "out-flows"), 2, 2*k)
		if err != nil {
			return err
		}
		fmt.Printf("%9d flows (%d packets): %8.0f packets/s, peak RSS %d MB\n", k, 2*k, rate, rss>>20)
	}
	return nil
}

// replicate writes n packets made of copies of the seed capture.
func replicate(seed, out string, n int) error {
	src, err := capture.OpenFile(seed)
	if err != nil {
		return err
	}
	type pkt struct {
		data []byte
		ci   gopacket.CaptureInfo
	}
	var pkts []pkt
	var link layers.LinkType
	for {
		data, ci, lt, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		link = lt
		pkts = append(pkts, pkt{append([]byte(nil), data...), ci})
	}
	src.Close()
	if len(pkts) == 0 {
		return fmt.Errorf("%s has no packets", seed)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(262144, link); err != nil {
		return err
	}
	span := pkts[len(pkts)-1].ci.Timestamp.Sub(pkts[0].ci.Timestamp) + time.Millisecond
	buf := make([]byte, 0, 65536)
	for i := 0; i < n; i++ {
		round, p := i/len(pkts), pkts[i%len(pkts)]
		buf = append(buf[:0], p.data...)
		shiftIPv4(buf, link, round)
		ci := p.ci
		ci.Timestamp = ci.Timestamp.Add(time.Duration(round) * span)
		if err := w.WritePacket(ci, buf); err != nil {
			return err
		}
	}
	return nil
}

// shiftIPv4 makes copy number round a different pair of hosts: it adds round
// to the two middle bytes of both IPv4 addresses and fixes the checksum.
func shiftIPv4(b []byte, link layers.LinkType, round int) {
	off := 0
	switch link {
	case layers.LinkTypeEthernet:
		if len(b) < 14 || binary.BigEndian.Uint16(b[12:14]) != 0x0800 {
			return
		}
		off = 14
	case layers.LinkTypeRaw, layers.LinkTypeIPv4:
	default:
		return
	}
	ip := b[off:]
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return
	}
	for _, a := range []int{12, 16} {
		binary.BigEndian.PutUint16(ip[a+1:a+3], uint16(round))
	}
	ihl := int(ip[0]&0x0f) * 4
	if ihl < 20 || len(ip) < ihl {
		return
	}
	ip[10], ip[11] = 0, 0
	var sum uint32
	for i := 0; i < ihl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i : i+2]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:12], ^uint16(sum))
}

// decodeOnly runs gopacket's DecodingLayerParser over every packet.
func decodeOnly(path string) (int, float64, float64, error) {
	src, err := capture.OpenFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer src.Close()
	var (
		eth   layers.Ethernet
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
		udp   layers.UDP
		dns   layers.DNS
		icmp4 layers.ICMPv4
		icmp6 layers.ICMPv6
		pl    gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp, &dns, &icmp4, &icmp6, &pl)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 16)
	// Read everything first so that the rate is decoding, not disk.
	var all [][]byte
	for {
		data, _, _, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, 0, err
		}
		all = append(all, append([]byte(nil), data...))
	}
	start := time.Now()
	for _, d := range all {
		_ = parser.DecodeLayers(d, &decoded)
	}
	rate := float64(len(all)) / time.Since(start).Seconds()
	all = nil

	// The same, reading the file as net capture does: what one goroutine
	// can do before any record exists.
	src2, err := capture.OpenFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer src2.Close()
	start = time.Now()
	n := 0
	for {
		data, _, _, err := src2.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, 0, err
		}
		_ = parser.DecodeLayers(data, &decoded)
		n++
	}
	return n, rate, float64(n) / time.Since(start).Seconds(), nil
}

// captureRun runs net capture as its own process and returns packets/s and
// the peak resident memory in bytes.
func captureRun(bin, in, out string, workers, packets int, extra ...string) (float64, int64, error) {
	os.RemoveAll(out)
	args := append([]string{"capture", "-read", in, "-out", out, "-workers", fmt.Sprint(workers), "-quiet"}, extra...)
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("net capture: %v: %s", err, stderr.String())
	}
	elapsed := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss * 1024
	}
	return float64(packets) / elapsed.Seconds(), rss, nil
}
