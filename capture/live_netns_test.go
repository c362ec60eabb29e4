package capture

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/internal/testutil"
)

// The live capture tests build two network namespaces joined by a veth pair,
// run real programs across them and capture on one end. Traffic never leaves
// the namespaces. They need root (CI runs as root) and skip without it.

// netnsPair is two namespaces, a and b, joined by veth interfaces ifA/ifB
// with addresses ipA/ipB (10.200.1.0/24). IPv6 is off in both so that no
// neighbour discovery or MLD packet comes at a random moment.
type netnsPair struct {
	a, b, ifA, ifB, ipA, ipB string
}

// needNetns skips the test unless it may create namespaces and has the tools.
func needNetns(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture test skipped: creating network namespaces needs root (CI runs it as root; locally: sudo go test -run Live ./capture/)")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("live capture test skipped: %s is not installed", tool)
		}
	}
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetnsPair(t *testing.T) *netnsPair {
	t.Helper()
	id := strconv.Itoa(os.Getpid())
	p := &netnsPair{a: "netcap-a-" + id, b: "netcap-b-" + id, ifA: "nca" + id, ifB: "ncb" + id, ipA: "10.200.1.1", ipB: "10.200.1.2"}
	if out, err := exec.Command("ip", "netns", "add", p.a).CombinedOutput(); err != nil {
		t.Skipf("live capture test skipped: ip netns add failed (no privilege to create namespaces?): %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.a).Run() })
	sh(t, "ip", "netns", "add", p.b)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.b).Run() })
	sh(t, "ip", "link", "add", p.ifA, "netns", p.a, "type", "veth", "peer", "name", p.ifB, "netns", p.b)
	for _, side := range []struct{ ns, ifc, ip string }{{p.a, p.ifA, p.ipA}, {p.b, p.ifB, p.ipB}} {
		sh(t, "ip", "netns", "exec", side.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		sh(t, "ip", "-n", side.ns, "link", "set", "lo", "up")
		sh(t, "ip", "-n", side.ns, "addr", "add", side.ip+"/24", "dev", side.ifc)
		sh(t, "ip", "-n", side.ns, "link", "set", side.ifc, "up")
	}
	return p
}

// start runs a program in namespace ns; it is killed at cleanup.
func start(t *testing.T, ns string, stderr *testutil.SyncBuffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	if stderr != nil {
		cmd.Stderr = stderr
		cmd.Stdout = stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// waitFor polls cond every 20ms for up to limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listening tells whether something in ns listens on port (proto "t" or "u").
func listening(ns, proto, port string) bool {
	out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hln"+proto, "sport = :"+port).Output()
	return len(bytes.TrimSpace(out)) > 0
}

// stopWith sends sig to cmd and waits up to 20s for it to exit.
func stopWith(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) error {
	t.Helper()
	cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s did not exit within 20s of %v", cmd.Args, sig)
		return nil
	}
}

// timeFields are the fields that hold capture times or differences of them.
var timeFields = []string{"Timestamp", "TimestampFirst", "TimestampLast", "ResponseTimestamp", "Duration"}

// timeDerived matches the FlowFeatures fields computed from packet times.
var timeDerived = regexp.MustCompile(`IAT|PerSecond|BulkRate|^Active[A-Z]|^Idle[A-Z]`)

// recordKey is a record's content without its frame numbers, which depend on
// where a capture started, and without its times: two packet sockets that
// see the same packet may stamp it a few hundred nanoseconds apart (the
// kernel takes the time per socket when the driver left it unset, as veth
// does for forwarded packets). Times are matched separately, within
// timeSlack.
func recordKey(m proto.Message) string {
	c := proto.Clone(m)
	r := c.ProtoReflect()
	for _, name := range append([]string{"FrameNumber", "FrameFirst", "FrameLast"}, timeFields...) {
		if fd := r.Descriptor().Fields().ByName(protoreflect.Name(name)); fd != nil {
			r.Clear(fd)
		}
	}
	// FlowFeatures' statistics of packet times (inter-arrival times,
	// rates, bulk rates, active and idle periods) move with the stamps.
	fds := r.Descriptor().Fields()
	for i := range fds.Len() {
		if n := string(fds.Get(i).Name()); r.Descriptor().Name() == "FlowFeatures" && timeDerived.MatchString(n) {
			r.Clear(fds.Get(i))
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// timeSlack is how far apart two captures may stamp the same packet.
const timeSlack = time.Millisecond

// diffRecords compares two runs' records type by type: records with the same
// content (recordKey) are paired in time order, and each pair's times must
// agree within timeSlack. It describes the differences.
func diffRecords(got, want map[string][]proto.Message) []string {
	var problems []string
	names := map[string]bool{}
	for n := range got {
		names[n] = true
	}
	for n := range want {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		type side struct{ got, want []proto.Message }
		groups := map[string]*side{}
		for _, m := range want[n] {
			k := recordKey(m)
			if groups[k] == nil {
				groups[k] = &side{}
			}
			groups[k].want = append(groups[k].want, m)
		}
		for _, m := range got[n] {
			k := recordKey(m)
			if groups[k] == nil {
				groups[k] = &side{}
			}
			groups[k].got = append(groups[k].got, m)
		}
		var missing, extra, late int
		var shown []string
		show := func(format string, args ...any) {
			if len(shown) < 3 {
				shown = append(shown, fmt.Sprintf(format, args...))
			}
		}
		for _, g := range groups {
			byTime := func(ms []proto.Message) {
				sort.Slice(ms, func(i, j int) bool { a, _ := recordTime(ms[i]); b, _ := recordTime(ms[j]); return a < b })
			}
			byTime(g.got)
			byTime(g.want)
			switch {
			case len(g.got) < len(g.want):
				missing += len(g.want) - len(g.got)
				show("missing %v", g.want[len(g.got)])
			case len(g.got) > len(g.want):
				extra += len(g.got) - len(g.want)
				show("extra %v", g.got[len(g.want)])
			}
			for i := 0; i < len(g.got) && i < len(g.want); i++ {
				for _, f := range timeFields {
					a, ok := int64Field(g.got[i], f)
					b, _ := int64Field(g.want[i], f)
					if ok && (a-b > int64(timeSlack) || b-a > int64(timeSlack)) {
						late++
						show("%s %d vs %d in %v", f, a, b, g.got[i])
						break
					}
				}
			}
		}
		if missing+extra+late > 0 {
			problems = append(problems, fmt.Sprintf("%s: live capture has %d records, tcpdump's capture %d: %d missing, %d extra, %d with times more than %v apart; e.g. %s",
				n, len(got[n]), len(want[n]), missing, extra, late, timeSlack, strings.Join(shown, "; ")))
		}
	}
	return problems
}

// tcpdumpCount counts the packets of file that match filter, by tcpdump.
func tcpdumpCount(t *testing.T, file, filter string) int {
	t.Helper()
	out, err := exec.Command("tcpdump", "-nr", file, filter).Output()
	if err != nil {
		t.Fatalf("tcpdump -r %s %q: %v", file, filter, err)
	}
	return bytes.Count(out, []byte("\n"))
}

// TestLiveCaptureMatchesTcpdump runs an HTTP server and a DNS resolver in
// namespace b, curl, dig and ping in namespace a, and captures on a's veth
// with net capture -iface and tcpdump at the same time. net is stopped with
// SIGINT. Every record file must read back whole, and the records must be
// those that net capture -read makes of tcpdump's file, matched by content
// and timestamp (frame numbers aside); per-protocol counts are checked
// against tcpdump's own filters.
func TestLiveCaptureMatchesTcpdump(t *testing.T) {
	needNetns(t, "tcpdump", "curl", "dig", "dnsmasq", "ping", "python3", "ss")
	p := newNetnsPair(t)
	bin := buildNet(t)
	dir := t.TempDir()

	// Servers in b.
	www := filepath.Join(dir, "www")
	os.Mkdir(www, 0o755)
	body := strings.Repeat("netcap live capture test\n", 40)
	os.WriteFile(filepath.Join(www, "hello.txt"), []byte(body), 0o644)
	var httpLog, dnsLog testutil.SyncBuffer
	start(t, p.b, &httpLog, "python3", "-m", "http.server", "8080", "--bind", p.ipB, "--directory", www)
	start(t, p.b, &dnsLog, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--listen-address="+p.ipB, "--bind-interfaces", "--port=53", "--address=/example.test/10.1.2.3",
		"--pid-file="+filepath.Join(dir, "dnsmasq.pid"), "--user=root")
	waitFor(t, "the HTTP server in "+p.b+" ("+httpLog.String()+")", 10*time.Second, func() bool { return listening(p.b, "t", "8080") })
	waitFor(t, "dnsmasq in "+p.b+" ("+dnsLog.String()+")", 10*time.Second, func() bool { return listening(p.b, "u", "53") })

	// Both captures on a's end.
	pcapFile := filepath.Join(dir, "tcpdump.pcap")
	liveOut := filepath.Join(dir, "live.net")
	var tdErr, netErr testutil.SyncBuffer
	td := start(t, p.a, &tdErr, "tcpdump", "-i", p.ifA, "-n", "-U", "--immediate-mode", "-Z", "root", "--time-stamp-precision=nano", "-s", "262144", "-w", pcapFile)
	nc := start(t, p.a, &netErr, bin, "capture", "-iface", p.ifA, "-out", liveOut, "-snaplen", "262144", "-workers", "2")
	waitFor(t, "tcpdump to listen ("+tdErr.String()+")", 10*time.Second, func() bool { return strings.Contains(tdErr.String(), "listening on") })
	waitFor(t, "net capture to start ("+netErr.String()+")", 10*time.Second, func() bool { return strings.Contains(netErr.String(), "capturing on") })
	time.Sleep(200 * time.Millisecond)

	// Traffic from a to b.
	client := func(args ...string) string {
		out, err := exec.Command("ip", append([]string{"netns", "exec", p.a}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	client("ping", "-c", "3", "-i", "0.2", p.ipB)
	if out := client("dig", "+short", "+tries=1", "+time=3", "@"+p.ipB, "example.test", "A"); strings.TrimSpace(out) != "10.1.2.3" {
		t.Fatalf("dig example.test: %q, want 10.1.2.3", out)
	}
	client("dig", "+tries=1", "+time=3", "@"+p.ipB, "www.example.test", "TXT")
	if out := client("curl", "-sS", "-m", "5", "http://"+p.ipB+":8080/hello.txt"); out != body {
		t.Fatalf("curl hello.txt: got %d bytes, want %d", len(out), len(body))
	}
	client("curl", "-s", "-m", "5", "-o", "/dev/null", "http://"+p.ipB+":8080/missing")
	time.Sleep(500 * time.Millisecond) // the last FIN and ACK

	if err := stopWith(t, nc, syscall.SIGINT); err != nil {
		t.Fatalf("net capture after SIGINT: %v (want exit 0)\n%s", err, netErr.String())
	}
	// tcpdump hands packets on as they come (--immediate-mode, -U); give it
	// time to write the last ones on a busy machine before it stops, or its
	// file, the reference, misses what net capture got.
	time.Sleep(500 * time.Millisecond)
	stopWith(t, td, syscall.SIGINT)
	stderr := netErr.String()
	for _, want := range []string{"interrupt: stopping", p.ifA + ": ", "packets,", "dropped: 0 by the kernel", "0 because the workers were behind"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("net capture's summary lacks %q:\n%s", want, stderr)
		}
	}

	// tcpdump's file through net capture -read.
	fileOut := filepath.Join(dir, "file.net")
	if out, err := exec.Command(bin, "capture", "-read", pcapFile, "-out", fileOut, "-quiet", "-workers", "2").CombinedOutput(); err != nil {
		t.Fatalf("net capture -read %s: %v\n%s", pcapFile, err, out)
	}
	live := readRecords(t, liveOut)
	file := readRecords(t, fileOut)
	for _, problem := range diffRecords(live, file) {
		t.Error(problem)
	}

	// Counts against tcpdump's own reading of its file.
	for _, c := range []struct{ record, filter string }{
		{"Ethernet", ""},
		{"ARP", "arp"},
		{"ICMPv4", "icmp"},
		{"DNS", "udp port 53"},
		{"TCP", "tcp"},
		{"UDP", "udp"},
	} {
		want := tcpdumpCount(t, pcapFile, c.filter)
		if want == 0 && c.record != "ARP" {
			t.Errorf("tcpdump saw no %q packets: the traffic did not happen", c.filter)
		}
		if got := len(live[c.record]); got != want {
			t.Errorf("live capture: %d %s records; tcpdump counts %d packets matching %q", got, c.record, want, c.filter)
		}
	}
	if n := len(live["ICMPv4"]); n != 6 {
		t.Errorf("live capture: %d ICMPv4 records; ping -c 3 makes 6", n)
	}
	if len(live["HTTP"]) != 2 {
		t.Errorf("live capture: %d HTTP records; want 2 (hello.txt and a 404)", len(live["HTTP"]))
	}
	if len(live["Connection"]) == 0 {
		t.Error("live capture: no Connection records: flows were not flushed at the stop")
	}
	t.Logf("live capture: %d Ethernet, %d TCP, %d DNS, %d ICMPv4, %d HTTP, %d Connection records; tcpdump file gives the same",
		len(live["Ethernet"]), len(live["TCP"]), len(live["DNS"]), len(live["ICMPv4"]), len(live["HTTP"]), len(live["Connection"]))
}

// TestLiveSignals stops live captures with SIGTERM (clean: exit 0, summary,
// every file reads back) and with two signals at once (the second quits at
// once, exit 130).
func TestLiveSignals(t *testing.T) {
	needNetns(t, "ping")
	p := newNetnsPair(t)
	bin := buildNet(t)
	dir := t.TempDir()

	t.Run("SIGTERM", func(t *testing.T) {
		out := filepath.Join(dir, "term.net")
		var stderr testutil.SyncBuffer
		nc := start(t, p.a, &stderr, bin, "capture", "-iface", p.ifA, "-out", out, "-workers", "2", "-bpf", "icmp")
		waitFor(t, "net capture to start ("+stderr.String()+")", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "capturing on") })
		if out, err := exec.Command("ip", "netns", "exec", p.a, "ping", "-c", "3", "-i", "0.2", p.ipB).CombinedOutput(); err != nil {
			t.Fatalf("ping: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
		if err := stopWith(t, nc, syscall.SIGTERM); err != nil {
			t.Fatalf("net capture after SIGTERM: %v (want exit 0)\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "terminated: stopping") || !strings.Contains(stderr.String(), p.ifA+": 6 packets") {
			t.Errorf("no stop message or summary with 6 packets after SIGTERM:\n%s", stderr.String())
		}
		recs := readRecords(t, out)
		if len(recs["ICMPv4"]) != 6 || len(recs["ARP"]) != 0 {
			t.Errorf("-bpf icmp with ping -c 3: %d ICMPv4 and %d ARP records; want 6 and 0", len(recs["ICMPv4"]), len(recs["ARP"]))
		}
		if len(recs["Flow"]) == 0 {
			t.Error("no Flow records: flows were not flushed at SIGTERM")
		}
	})

	t.Run("second signal", func(t *testing.T) {
		out := filepath.Join(dir, "twice.net")
		var stderr testutil.SyncBuffer
		nc := start(t, p.a, &stderr, bin, "capture", "-iface", p.ifA, "-out", out, "-workers", "2")
		waitFor(t, "net capture to start ("+stderr.String()+")", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "capturing on") })
		// Stopped, the process gets both signals together when it goes on.
		nc.Process.Signal(syscall.SIGSTOP)
		nc.Process.Signal(syscall.SIGINT)
		nc.Process.Signal(syscall.SIGTERM)
		nc.Process.Signal(syscall.SIGCONT)
		err := stopWith(t, nc, syscall.SIGCONT)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("after two signals: %v; want exit status 130", err)
		}
		if !strings.Contains(stderr.String(), "again: quitting") {
			t.Errorf("no message for the second signal:\n%s", stderr.String())
		}
	})
}
