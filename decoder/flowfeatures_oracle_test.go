package decoder_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The FlowFeatures oracle: every feature of every TCP and UDP flow of the
// shared captures, computed again from tshark's per-packet fields by
// straightforward code that keeps every packet (lists, two-pass mean and
// deviation, scans), and compared with the record.
//
// The flows are netcap's: each packet goes to the flow its TCP or UDP
// record names (FlowID, joined by frame number), so the comparison checks
// the features and not where flows begin and end, which
// TestConnectionsMatchTsharkConversations compares with tshark.

// tsPacket is one frame as tshark decodes it.
type tsPacket struct {
	frame, ts          int64 // ts: Unix ns
	src                string
	sport              int32
	ipLen, payload     int64
	header, ttl        int64
	flags              int64 // tcp.flags; -1 for UDP
	window             int64
	seq                uint32
	tunnel, fragmented bool
	badLength          bool // a UDP length out of the IP datagram's bounds
}

// tsharkPackets reads the TCP and UDP frames of a capture.
func tsharkPackets(path string) (map[int64]*tsPacket, error) {
	cmd := exec.Command("tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.len", "-e", "ipv6.plen",
		"-e", "ip.ttl", "-e", "ipv6.hlim", "-e", "ip.flags.mf", "-e", "ip.frag_offset",
		"-e", "tcp.srcport", "-e", "tcp.hdr_len", "-e", "tcp.len", "-e", "tcp.flags", "-e", "tcp.window_size_value", "-e", "tcp.seq_raw",
		"-e", "udp.srcport", "-e", "udp.length", "-e", "ipv6.fragment", "-e", "ip.hdr_len", "-e", "frame.len")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tshark on %s: %v: %s", path, err, errb.String())
	}
	pkts := map[int64]*tsPacket{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 21 {
			continue
		}
		num := func(s string) int64 {
			s, _, _ = strings.Cut(s, ",")
			n, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				return -1
			}
			return n
		}
		p := &tsPacket{frame: num(f[0]), ts: epochNs(f[1])}
		ips := 0
		for _, i := range []int{2, 3} {
			if f[i] != "" {
				ips += len(strings.Split(f[i], ","))
			}
		}
		tcp, udp := f[10] != "", f[16] != ""
		p.tunnel = ips != 1 || strings.Contains(f[10], ",") || strings.Contains(f[16], ",") || tcp && udp
		p.fragmented = f[8] == "1" || f[8] == "True" || (f[9] != "" && f[9] != "0") || f[18] != ""
		if !tcp && !udp || p.tunnel {
			if tcp || udp {
				pkts[p.frame] = p
			}
			continue
		}
		ipPayload := num(f[5])
		if f[2] != "" {
			p.src, p.ipLen, p.ttl = f[2], num(f[4]), num(f[6])
			ipPayload = p.ipLen - num(f[19])
		} else {
			p.src, p.ipLen, p.ttl = f[3], num(f[5])+40, num(f[7])
		}
		if tcp {
			p.sport = int32(num(f[10]))
			p.header, p.payload, p.flags, p.window = num(f[11]), num(f[12]), num(f[13]), num(f[14])
			p.seq = uint32(num(f[15]))
		} else {
			p.sport = int32(num(f[16]))
			p.header, p.payload, p.flags, p.window = 8, num(f[17])-8, -1, -1
			p.badLength = num(f[17]) < 8 || num(f[17]) > ipPayload || p.ipLen > num(f[20])
		}
		pkts[p.frame] = p
	}
	return pkts, sc.Err()
}

// epochNs reads frame.time_epoch ("1700000000.123456789") exactly.
func epochNs(s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(sec, 10, 64)
	frac = (frac + "000000000")[:9]
	f, _ := strconv.ParseInt(frac, 10, 64)
	return n*1e9 + f
}

// summary is min, max, mean and sample deviation of a list, by two passes.
func summary(xs []int64) (mn, mx int64, mean, std float64) {
	if len(xs) == 0 {
		return 0, 0, 0, 0
	}
	mn, mx = xs[0], xs[0]
	var sum float64
	for _, x := range xs {
		mn, mx = min(mn, x), max(mx, x)
		sum += float64(x)
	}
	mean = sum / float64(len(xs))
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (float64(x) - mean) * (float64(x) - mean)
		}
		std = math.Sqrt(ss / float64(len(xs)-1))
	}
	return mn, mx, mean, std
}

// oracleFeatures computes the features of the packets of one flow (in
// frame order); fwd says which went forward.
func oracleFeatures(pkts []*tsPacket, fwd []bool, activity int64) map[string]float64 {
	m := map[string]float64{}
	set4 := func(prefix string, xs []int64) {
		mn, mx, mean, std := summary(xs)
		m[prefix+"Min"], m[prefix+"Max"], m[prefix+"Mean"], m[prefix+"Std"] = float64(mn), float64(mx), mean, std
	}
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	first, last := pkts[0], pkts[len(pkts)-1]
	m["TimestampFirst"], m["FrameFirst"], m["FrameLast"] = float64(first.ts), float64(first.frame), float64(last.frame)
	tsMax := first.ts
	for _, p := range pkts {
		tsMax = max(tsMax, p.ts)
	}
	dur := tsMax - first.ts
	m["TimestampLast"], m["Duration"] = float64(tsMax), float64(dur)

	var ipAll, payAll, iatAll []int64
	for i, p := range pkts {
		ipAll = append(ipAll, p.ipLen)
		payAll = append(payAll, p.payload)
		if i > 0 {
			iatAll = append(iatAll, p.ts-pkts[i-1].ts)
		}
	}
	set4("IPLength", ipAll)
	set4("PayloadLength", payAll)
	set4("FlowIAT", iatAll)

	var count [2]int64
	var payTotal [2]int64
	for side, name := range []string{"Fwd", "Bwd"} {
		var ip, pay, iat []int64
		var ipSum, paySum, hdrSum, data int64
		var prev int64 = -1
		win, minHdr, ttlMin, ttlMax := int64(-1), int64(0), int64(0), int64(0)
		flagCount := map[string]int64{}
		for i, p := range pkts {
			if fwd[i] != (side == 0) {
				continue
			}
			ip, pay = append(ip, p.ipLen), append(pay, p.payload)
			ipSum += p.ipLen
			paySum += p.payload
			hdrSum += p.header
			if p.payload > 0 {
				data++
			}
			if prev >= 0 {
				iat = append(iat, p.ts-prev)
			}
			prev = p.ts
			if len(ip) == 1 {
				minHdr, ttlMin, ttlMax = p.header, p.ttl, p.ttl
				if p.flags >= 0 {
					win = p.window
				}
			}
			minHdr, ttlMin, ttlMax = min(minHdr, p.header), min(ttlMin, p.ttl), max(ttlMax, p.ttl)
			if p.flags >= 0 {
				for bit, fl := range []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"} {
					if p.flags&(1<<bit) != 0 {
						flagCount[fl]++
					}
				}
			}
		}
		count[side], payTotal[side] = int64(len(ip)), paySum
		m[name+"Packets"], m[name+"IPBytes"], m[name+"PayloadBytes"] = float64(len(ip)), float64(ipSum), float64(paySum)
		set4(name+"IPLength", ip)
		set4(name+"PayloadLength", pay)
		set4(name+"IAT", iat)
		for _, fl := range []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"} {
			m[name+fl+"Count"] = float64(flagCount[fl])
		}
		m[name+"HeaderBytes"], m[name+"InitWindow"], m[name+"DataPackets"] = float64(hdrSum), float64(win), float64(data)
		m[name+"TTLMin"], m[name+"TTLMax"] = float64(ttlMin), float64(ttlMax)
		if side == 0 {
			m["FwdMinHeaderLength"] = float64(minHdr)
		}

		// Bulks: split this side's data packets into runs, a run ending
		// at a data packet of the other side or a gap over a second; runs
		// of 4 or more are bulks.
		var bulks, bulkPkts, bulkBytes, bulkNs int64
		var run []*tsPacket
		closeRun := func() {
			if len(run) >= 4 {
				bulks++
				bulkPkts += int64(len(run))
				for _, r := range run {
					bulkBytes += r.payload
				}
				bulkNs += run[len(run)-1].ts - run[0].ts
			}
			run = nil
		}
		for i, p := range pkts {
			if p.payload == 0 {
				continue
			}
			if fwd[i] != (side == 0) {
				closeRun()
				continue
			}
			if len(run) > 0 && p.ts-run[len(run)-1].ts > int64(time.Second) {
				closeRun()
			}
			run = append(run, p)
		}
		closeRun()
		m[name+"Bulks"] = float64(bulks)
		m[name+"BulkBytesMean"] = div(float64(bulkBytes), float64(bulks))
		m[name+"BulkPacketsMean"] = div(float64(bulkPkts), float64(bulks))
		m[name+"BulkRate"] = div(float64(bulkBytes), float64(bulkNs)/1e9)

		// Sequence numbers: keep the highest end sent and the gap the
		// last jump forward left, and classify every segment.
		var retrans, ooo int64
		var seen, gapOpen bool
		var high, lo, hi int64 // in unwrapped sequence space
		var base uint32
		for i, p := range pkts {
			if fwd[i] != (side == 0) || p.flags < 0 {
				continue
			}
			n := p.payload + p.flags&1 + (p.flags>>1)&1
			if n == 0 {
				continue
			}
			if !seen {
				base = p.seq
			}
			start := int64(int32(p.seq - base)) // within 2^31 of the first
			end := start + n
			switch {
			case !seen:
				seen, high = true, end
			case start >= high:
				if start > high {
					gapOpen, lo, hi = true, high, start
				}
				high = end
			case gapOpen && start >= lo && end <= hi:
				ooo++
				if start == lo {
					lo = end
				} else if end == hi {
					hi = start
				}
				gapOpen = lo < hi
			default:
				retrans++
				high = max(high, end)
			}
		}
		m[name+"Retransmissions"], m[name+"OutOfOrder"] = float64(retrans), float64(ooo)
	}
	secs := float64(dur) / 1e9
	m["PayloadBytesPerSecond"] = div(float64(payTotal[0]+payTotal[1]), secs)
	m["PacketsPerSecond"] = div(float64(count[0]+count[1]), secs)
	m["FwdPacketsPerSecond"], m["BwdPacketsPerSecond"] = div(float64(count[0]), secs), div(float64(count[1]), secs)
	m["DownUpRatio"] = div(float64(count[1]), float64(count[0]))

	subflows := int64(1)
	var active, idle []int64
	start := pkts[0].ts
	for i := 1; i < len(pkts); i++ {
		gap := pkts[i].ts - pkts[i-1].ts
		if gap > int64(time.Second) {
			subflows++
		}
		if activity > 0 && gap > activity {
			active = append(active, pkts[i-1].ts-start)
			idle = append(idle, gap)
			start = pkts[i].ts
		}
	}
	active = append(active, last.ts-start)
	m["Subflows"] = float64(subflows)
	m["SubflowFwdPackets"], m["SubflowBwdPackets"] = float64(count[0])/float64(subflows), float64(count[1])/float64(subflows)
	m["SubflowFwdBytes"], m["SubflowBwdBytes"] = float64(payTotal[0])/float64(subflows), float64(payTotal[1])/float64(subflows)
	m["ActivePeriods"], m["IdlePeriods"] = float64(len(active)), float64(len(idle))
	set4("Active", active)
	set4("Idle", idle)
	m["ActivityTimeout"] = float64(activity)
	return m
}

// featureCaptures lists the captures of the comparison: the project's own
// (testdata/*.pcap) and the shared corpus's Ethernet captures up to 4 MB (a deterministic
// sample of one in six; all of them with NETCAP_FULL=1).
func featureCaptures() []string {
	caps, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap"))
	root := filepath.Join("..", "..", "shared")
	caps = append(caps, filepath.Join(root, "labels", "kareem-attack-scan", "attack_scan.pcap"), filepath.Join(root, "labels", "menna-zeus", "zeus.pcapng"))
	cat, err := os.ReadFile(filepath.Join(root, "pcaps", "CATALOG.tsv"))
	if err != nil {
		return caps
	}
	n := 0
	for i, line := range strings.Split(string(cat), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 6 || f[2] != "ether" {
			continue
		}
		path := filepath.Join(root, "pcaps", f[0])
		if st, err := os.Stat(path); err != nil || st.Size() > 4<<20 {
			continue
		}
		if n%6 == 0 || os.Getenv("NETCAP_FULL") != "" {
			caps = append(caps, path)
		}
		n++
	}
	// NETCAP_FEATURE_FILES=a,b: the catalog's captures whose names
	// contain a or b, whatever their size.
	if sel := os.Getenv("NETCAP_FEATURE_FILES"); sel != "" {
		caps = nil
		for i, line := range strings.Split(string(cat), "\n") {
			f := strings.Split(line, "\t")
			if i == 0 || len(f) < 6 {
				continue
			}
			for _, s := range strings.Split(sel, ",") {
				if strings.Contains(f[0], s) {
					caps = append(caps, filepath.Join(root, "pcaps", f[0]))
					break
				}
			}
		}
	}
	return caps
}

// identityFields are the FlowFeatures fields the oracle does not compute:
// the flow's identity, which tells it what forward is.
var identityFields = map[string]bool{"FlowID": true, "SrcIP": true, "SrcPort": true, "DstIP": true, "DstPort": true, "TransportProto": true}

// TestFlowFeaturesMatchTshark compares every feature of every TCP and UDP
// flow with the oracle's value from tshark's packets.
func TestFlowFeaturesMatchTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	var caps []string
	for _, c := range featureCaptures() {
		if _, err := os.Stat(c); err == nil {
			caps = append(caps, c)
		}
	}
	if len(caps) == 0 {
		t.Skip("the shared captures (../shared/pcaps) are not there")
	}
	type result struct {
		path                          string
		flows, compared, skippedFlows int
		mismatches                    []string
		skipReasons                   map[string]int
		err                           error
	}
	results := make([]result, len(caps))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := &results[i]
				r.path = caps[i]
				r.skipReasons = map[string]int{}
				r.flows, r.compared, r.skippedFlows, r.mismatches, r.err = compareFeatures(caps[i], r.skipReasons)
			}
		}()
	}
	for i := range caps {
		work <- i
	}
	close(work)
	wg.Wait()

	var flows, compared, skipped, mismatches int
	reasons := map[string]int{}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.path, r.err)
			continue
		}
		flows += r.flows
		compared += r.compared
		skipped += r.skippedFlows
		mismatches += len(r.mismatches)
		for k, v := range r.skipReasons {
			reasons[k] += v
		}
		for i, m := range r.mismatches {
			if i == 5 {
				t.Errorf("%s: %d mismatches more", filepath.Base(r.path), len(r.mismatches)-5)
				break
			}
			t.Errorf("%s: %s", filepath.Base(r.path), m)
		}
	}
	t.Logf("%d captures, %d TCP and UDP flows compared (%d not: %v), %d features compared, %d mismatches", len(caps), flows, skipped, reasons, compared, mismatches)
}

// compareFeatures runs the engine over one capture and compares its
// FlowFeatures records with the oracle.
func compareFeatures(path string, skip map[string]int) (flows, compared, skipped int, mismatches []string, err error) {
	pkts, err := tsharkPackets(path)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		skip["capture netcap does not open: "+err.Error()]++
		return 0, 0, 0, nil, nil
	}
	defer src.Close()
	out, err := os.MkdirTemp("", "features")
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer os.RemoveAll(out)
	opts := decoder.DefaultOptions()
	want := map[types.Type]bool{types.Type_NC_TCP: true, types.Type_NC_UDP: true, types.Type_NC_FlowFeatures: true}
	if _, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2, Options: opts, Enabled: func(tt types.Type) bool { return want[tt] }},
		Output:   capture.OutputConfig{Dir: out, Compress: true},
	}); err != nil {
		return 0, 0, 0, nil, err
	}
	// the frames of each flow, from the packet records
	frames := map[string][]int64{}
	frameFlow := map[int64]string{}
	each := func(frame int64, flow string) {
		if prev, ok := frameFlow[frame]; ok && prev != flow {
			frameFlow[frame] = "" // a frame of two flows: a tunnel
			return
		}
		if _, ok := frameFlow[frame]; !ok {
			frameFlow[frame] = flow
			frames[flow] = append(frames[flow], frame)
		}
	}
	if err := readRecords(filepath.Join(out, "TCP.ncap.gz"), &types.TCP{}, func(m *types.TCP) { each(m.FrameNumber, m.FlowID) }); err != nil {
		return 0, 0, 0, nil, err
	}
	if err := readRecords(filepath.Join(out, "UDP.ncap.gz"), &types.UDP{}, func(m *types.UDP) { each(m.FrameNumber, m.FlowID) }); err != nil {
		return 0, 0, 0, nil, err
	}
	var records []*types.FlowFeatures
	if err := readRecords(filepath.Join(out, "FlowFeatures.ncap.gz"), &types.FlowFeatures{}, func(m *types.FlowFeatures) {
		records = append(records, proto.Clone(m).(*types.FlowFeatures))
	}); err != nil {
		return 0, 0, 0, nil, err
	}
	for _, r := range records {
		if r.TransportProto != "TCP" && r.TransportProto != "UDP" {
			continue
		}
		fs := frames[r.FlowID]
		if why := flowSkip(r, fs, frameFlow, pkts); why != "" {
			skipped++
			skip[why]++
			continue
		}
		sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
		var list []*tsPacket
		var fwd []bool
		for _, f := range fs {
			p := pkts[f]
			list = append(list, p)
			fwd = append(fwd, p.src == r.SrcIP && p.sport == r.SrcPort)
		}
		flows++
		want := oracleFeatures(list, fwd, int64(opts.ActivityTimeout))
		rm := r.ProtoReflect()
		fields := rm.Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			name := string(fd.Name())
			if identityFields[name] {
				continue
			}
			w, ok := want[name]
			if !ok {
				mismatches = append(mismatches, fmt.Sprintf("the oracle has no value for %s", name))
				continue
			}
			compared++
			var got float64
			switch fd.Kind() {
			case protoreflect.Int64Kind, protoreflect.Int32Kind:
				got = float64(rm.Get(fd).Int())
				if got == w {
					continue
				}
			case protoreflect.DoubleKind:
				// A mean or deviation is as exact as the values it
				// summarizes are large: float64 keeps 16 digits of them.
				scale := math.Max(1, math.Abs(w))
				if prefix, ok := strings.CutSuffix(name, "Mean"); ok {
					scale = math.Max(scale, math.Max(math.Abs(want[prefix+"Min"]), math.Abs(want[prefix+"Max"])))
				} else if prefix, ok := strings.CutSuffix(name, "Std"); ok {
					scale = math.Max(scale, math.Max(math.Abs(want[prefix+"Min"]), math.Abs(want[prefix+"Max"])))
				}
				got = rm.Get(fd).Float()
				if math.Abs(got-w) <= 1e-9*scale {
					continue
				}
			}
			mismatches = append(mismatches, fmt.Sprintf("flow %s (frames %d-%d): %s %v, oracle %v", r.FlowID, r.FrameFirst, r.FrameLast, name, got, w))
		}
	}
	return flows, compared, skipped, mismatches, nil
}

// flowSkip says why a flow is not compared: its packets are not all plain
// TCP or UDP in one IP header as tshark reads them.
func flowSkip(r *types.FlowFeatures, frames []int64, frameFlow map[int64]string, pkts map[int64]*tsPacket) string {
	if len(frames) == 0 {
		return "no packet record names the flow (inside a tunnel)"
	}
	if int64(len(frames)) != r.FwdPackets+r.BwdPackets {
		return "packets of the flow inside a tunnel"
	}
	for _, f := range frames {
		p := pkts[f]
		switch {
		case frameFlow[f] == "":
			return "a frame of two flows (tunnel)"
		case p == nil:
			return "tshark does not read TCP or UDP in a frame"
		case p.tunnel:
			return "a frame with more than one IP header (tunnel, ICMP error)"
		case p.fragmented:
			return "IP fragments (tshark's fields are the fragment's)"
		case p.badLength:
			return "a UDP length field out of the IP datagram's bounds, or an IP length beyond the frame (tshark takes the field, netcap the bytes the frame holds)"
		}
	}
	return ""
}

func readRecords[M proto.Message](path string, m M, each func(M)) error {
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	r, err := ncio.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if err := r.Next(m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		each(m)
	}
}
