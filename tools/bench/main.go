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
//     grow with the input;
//   - net agent replaying the file to net collect (embedded NATS server, a
//     free port on 127.0.0.1) against net capture of the same file, in
//     turns: the time from the agent's start until the collector has
//     written and acked every part (the stream is empty and the agent has
//     exited), the records each side wrote (they must agree), and the peak
//     memory of the three processes.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/pcapgen"
	"github.com/netcap/netcap/types"
)

func main() {
	var (
		seed    = flag.String("seed", "", "capture to replicate (default: the first capture in testdata/)")
		dir     = flag.String("dir", "bench", "folder for the benchmark capture and outputs")
		packets = flag.Int("packets", 1_000_000, "packets in the benchmark capture")
		bin     = flag.String("net", "", "net binary to measure (default: build ./cmd/net)")
		flows   = flag.Int("flows", 1_000_000, "short UDP flows in the flow-memory capture (0: skip)")
		streams = flag.Int("agent-runs", 3, "runs of net agent to net collect, each after a run of net capture (0: skip)")
		only    = flag.Bool("agent-only", false, "measure net agent to net collect only")
	)
	decodeFile := flag.String("decode-only", "", "internal: run the decode-only baseline on this file and print its result")
	export := flag.Bool("export", false, "instead: compare net export (metrics on, no scrape) with net capture on the benchmark capture")
	parquet := flag.Bool("parquet", false, "instead: compare net capture -parquet with net capture (.ncap.gz) on the benchmark capture: packets/s and bytes")
	runs := flag.Int("runs", 5, "-export, -parquet: runs of each")
	workers := flag.Int("workers", 2, "-export, -parquet: decoding workers")
	flag.Parse()
	if *export || *parquet {
		measure := exportOverhead
		if *parquet {
			measure = func(path, dir, bin string, workers, runs int) error {
				return parquetBench(path, dir, bin, *packets, workers, runs)
			}
		}
		if err := exportBench(*seed, *dir, *packets, *bin, *workers, *runs, measure); err != nil {
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
	full, netBin, err := prepare(*seed, *dir, *packets, *bin, !*only)
	if err == nil && !*only {
		err = run(full, *dir, netBin)
	}
	if err == nil && *streams > 0 {
		err = agentRuns(netBin, full, *dir, *streams)
	}
	if err == nil && *streams > 0 && !*only {
		// Peak memory must not grow with the input.
		var r result
		if r, err = streamRun(netBin, filepath.Join(*dir, "bench-half.pcap"), filepath.Join(*dir, "out-collect")); err == nil {
			fmt.Printf("net agent to net collect on half the packets: peak RSS agent %d MB, collector %d MB\n", r.rss>>20, r.colRSS>>20)
		}
	}
	if err == nil && !*only {
		err = manyFlows(*dir, *flows, netBin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// prepare writes the benchmark capture (and, with half, one of half its
// size) and builds net unless bin names one; it returns the capture's path
// and the binary.
func prepare(seed, dir string, n int, bin string, half bool) (string, string, error) {
	if seed == "" {
		matches, _ := filepath.Glob("testdata/*.pcap*")
		if len(matches) == 0 {
			return "", "", fmt.Errorf("no capture in testdata/ to replicate; give one with -seed")
		}
		seed = matches[0]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	full := filepath.Join(dir, "bench.pcap")
	if err := replicate(seed, full, n); err != nil {
		return "", "", err
	}
	if half {
		if err := replicate(seed, filepath.Join(dir, "bench-half.pcap"), n/2); err != nil {
			return "", "", err
		}
	}
	if bin == "" {
		bin = filepath.Join(dir, "net")
		build := exec.Command("go", "build", "-o", bin, "./cmd/net")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return "", "", fmt.Errorf("build net: %w", err)
		}
	}
	fmt.Printf("benchmark capture: %s, %d packets (replicated from %s)\n\n", full, n, seed)
	return full, bin, nil
}

func run(full, dir, bin string) error {
	half := filepath.Join(dir, "bench-half.pcap")
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
	stateless, _, err := captureRun(bin, full, filepath.Join(dir, "out-stateless"), 2, total, "-exclude", statefulRecords())
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
// exportBench builds the benchmark capture and net, then runs measure on
// them (net export's overhead, or -parquet against .ncap.gz).
func exportBench(seed, dir string, n int, bin string, workers, runs int, measure func(path, dir, bin string, workers, runs int) error) error {
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
	return measure(path, dir, bin, workers, runs)
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

// result is one measured run of net capture or of net agent to net collect.
type result struct {
	elapsed time.Duration
	packets int64
	records int64
	rss     int64         // net capture's, or net agent's
	colRSS  int64         // net collect's (with its embedded server)
	cpu     time.Duration // user and system time of the process(es)
	tail    time.Duration // from the agent's exit until the collector had written all
}

func (r result) rate() float64 { return float64(r.packets) / r.elapsed.Seconds() }

// agentRuns runs net capture and net agent to net collect on in, in turns,
// runs times each, and prints every run and the ranges.
func agentRuns(bin, in, dir string, runs int) error {
	fmt.Printf("\nnet agent -read to net collect (embedded NATS JetStream on 127.0.0.1) against net capture of the same file, 2 workers each, in turns;\n")
	fmt.Printf("agent->collect: from the agent's start until the collector has written and acked every part (tail: after the agent's exit)\n")
	fmt.Printf("%-4s %12s %8s %9s %16s %8s %7s %9s %10s %12s %7s\n", "run", "capture p/s", "CPU s", "peak RSS", "agent->collect", "CPU s", "tail s", "ratio", "agent RSS", "collect RSS", "CPU")
	var caps, strs, ratios, cpus []float64
	var capRSS, agRSS, colRSS []int64
	for i := 1; i <= runs; i++ {
		lc, err := localRun(bin, in, filepath.Join(dir, "out-local"))
		if err != nil {
			return err
		}
		sr, err := streamRun(bin, in, filepath.Join(dir, "out-collect"))
		if err != nil {
			return err
		}
		if sr.records != lc.records || sr.packets != lc.packets {
			return fmt.Errorf("net capture: %d packets, %d records; net agent to net collect: %d packets, %d records", lc.packets, lc.records, sr.packets, sr.records)
		}
		ratio, cpu := sr.rate()/lc.rate(), sr.cpu.Seconds()/lc.cpu.Seconds()
		fmt.Printf("%-4d %12.0f %8.2f %6d MB %16.0f %8.2f %7.2f %9.2f %7d MB %9d MB %6.2fx\n", i, lc.rate(), lc.cpu.Seconds(), lc.rss>>20,
			sr.rate(), sr.cpu.Seconds(), sr.tail.Seconds(), ratio, sr.rss>>20, sr.colRSS>>20, cpu)
		caps, strs, ratios, cpus = append(caps, lc.rate()), append(strs, sr.rate()), append(ratios, ratio), append(cpus, cpu)
		capRSS, agRSS, colRSS = append(capRSS, lc.rss>>20), append(agRSS, sr.rss>>20), append(colRSS, sr.colRSS>>20)
	}
	fmt.Printf("ranges over %d runs: net capture %.0f to %.0f packets/s, peak RSS %d to %d MB; net agent to net collect %.0f to %.0f packets/s, peak RSS agent %d to %d MB, collector %d to %d MB\n",
		runs, slices.Min(caps), slices.Max(caps), slices.Min(capRSS), slices.Max(capRSS), slices.Min(strs), slices.Max(strs),
		slices.Min(agRSS), slices.Max(agRSS), slices.Min(colRSS), slices.Max(colRSS))
	fmt.Printf("ratio agent->collect / capture: %.2f to %.2f (median %.2f; best rates: %.2f); CPU time agent + collector / capture: %.2f to %.2f\n",
		slices.Min(ratios), slices.Max(ratios), median(ratios), slices.Max(strs)/slices.Max(caps), slices.Min(cpus), slices.Max(cpus))
	return nil
}

// median is the middle value (the mean of the two middle ones for an even
// count) of durations or rates.
func median[T time.Duration | float64](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summaryNumber returns the number before what in a summary.
func summaryNumber(text, what string) (int64, error) {
	m := regexp.MustCompile(`(\d+) ` + regexp.QuoteMeta(what)).FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("no %q in %q", what, text)
	}
	return strconv.ParseInt(m[1], 10, 64)
}

func cpuTime(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }

func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// localRun runs net capture with its summary and reads the packets and
// records from it.
func localRun(bin, in, out string) (result, error) {
	os.RemoveAll(out)
	cmd := exec.Command(bin, "capture", "-read", in, "-out", out, "-workers", "2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("net capture: %v: %s", err, stderr.String())
	}
	r := result{elapsed: time.Since(start), rss: maxRSS(cmd.ProcessState), cpu: cpuTime(cmd.ProcessState)}
	var err error
	if r.packets, err = summaryNumber(stderr.String(), "packets,"); err != nil {
		return r, fmt.Errorf("net capture: %v", err)
	}
	if r.records, err = summaryNumber(stderr.String(), "records,"); err != nil {
		return r, fmt.Errorf("net capture: %v", err)
	}
	return r, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// streamRun starts net collect (embedded server on a free port, store and
// files in out), waits until it has made its consumer, then times net agent
// -read in from its start until the agent has exited (every part acked by
// the server) and the stream is empty (every part acked by the collector,
// which acks a part once it is written). The collector is then stopped with
// SIGTERM and the records come from its summary.
func streamRun(bin, in, out string) (result, error) {
	os.RemoveAll(out)
	port, err := freePort()
	if err != nil {
		return result{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	col := exec.Command(bin, "collect", "-out", out, "-listen", addr, "-status", "0")
	var colErr strings.Builder
	col.Stderr = &colErr
	if err := col.Start(); err != nil {
		return result{}, err
	}
	exited := false
	defer func() {
		if !exited {
			col.Process.Kill()
			col.Wait()
		}
	}()
	var nc *nats.Conn
	deadline := time.Now().Add(30 * time.Second)
	for nc == nil {
		if nc, err = nats.Connect("nats://"+addr, nats.Name("bench")); err != nil && time.Now().After(deadline) {
			return result{}, fmt.Errorf("net collect: no server on %s: %v: %s", addr, err, colErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return result{}, err
	}
	var st jetstream.Stream
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if st, err = js.Stream(ctx, collector.StreamName); err == nil {
			_, err = st.Consumer(ctx, "netcap-collect")
		}
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("net collect made no consumer: %v: %s", err, colErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	ag := exec.Command(bin, "agent", "-read", in, "-sensor", "bench", "-nats", "nats://"+addr, "-workers", "2", "-status", "0")
	var agErr strings.Builder
	ag.Stderr = &agErr
	start := time.Now()
	if err := ag.Run(); err != nil {
		return result{}, fmt.Errorf("net agent: %v: %s", err, agErr.String())
	}
	agentDone := time.Now()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := st.Info(ctx)
		cancel()
		if err == nil && info.State.Msgs == 0 {
			break
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("the stream still holds parts 2 minutes after the agent ended (%v)", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	r := result{elapsed: time.Since(start), rss: maxRSS(ag.ProcessState), cpu: cpuTime(ag.ProcessState), tail: time.Since(agentDone)}
	col.Process.Signal(syscall.SIGTERM)
	err = col.Wait()
	exited = true
	if err != nil {
		return r, fmt.Errorf("net collect: %v: %s", err, colErr.String())
	}
	r.colRSS, r.cpu = maxRSS(col.ProcessState), r.cpu+cpuTime(col.ProcessState)
	if r.packets, err = summaryNumber(agErr.String(), "packets decoded"); err != nil {
		return r, fmt.Errorf("net agent: %v", err)
	}
	if r.records, err = summaryNumber(colErr.String(), "records,"); err != nil {
		return r, fmt.Errorf("net collect: %v", err)
	}
	if sent, err := summaryNumber(agErr.String(), "records,"); err != nil || sent != r.records {
		return r, fmt.Errorf("net agent sent %d records (%v), net collect stored %d", sent, err, r.records)
	}
	return r, nil
}

// statefulRecords lists, from the registry, the records that need flow or
// stream state (flows, stream parsers' records, the inventory), for the
// packet-records-only run: a record type added later is left out too.
func statefulRecords() string {
	seen := map[string]bool{}
	var names []string
	add := func(t types.Type) {
		if n := types.Name(t); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for t := range decoder.FlowRecords {
		add(t)
	}
	for t := range decoder.InventoryRecords {
		add(t)
	}
	fromPackets := map[types.Type]bool{} // DNS comes from UDP packets too: kept
	for _, p := range decoder.Protocols() {
		for _, t := range p.Records {
			fromPackets[t] = true
		}
	}
	for _, p := range decoder.StreamProtocols() {
		for _, t := range p.Records {
			if !fromPackets[t] {
				add(t)
			}
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
