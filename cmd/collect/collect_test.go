package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/cmd/agent"
	capturecmd "github.com/netcap/netcap/cmd/capture"
	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/internal/natstest"
	"github.com/netcap/netcap/internal/testutil"
)

// asCommand makes the test binary run net collect or net agent with its
// arguments (see TestMain), so the tests run them as processes they can
// signal and kill.
const asCommand = "NETCAP_TEST_AS"

func TestMain(m *testing.M) {
	switch os.Getenv(asCommand) {
	case "collect":
		os.Exit(Run(os.Args[1:]))
	case "agent":
		os.Exit(agent.Run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// scan is the capture the stream tests replay (31 831 records); it is in
// the shared folder beside the repository, never copied into it.
const scan = "../../../shared/labels/kareem-attack-scan/attack_scan.pcap"

func sharedCapture(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(scan); err != nil {
		t.Skipf("shared capture %s not found (the shared/ folder beside the repository is absent): %v", scan, err)
	}
	return scan
}

// localCapture runs net capture on path and returns its output folder.
func localCapture(t *testing.T, path string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "local")
	if code := capturecmd.Run([]string{"-read", path, "-out", out, "-quiet", "-workers", "2"}); code != 0 {
		t.Fatalf("net capture -read %s: status %d", path, code)
	}
	return out
}

// proc is net collect or net agent running as a process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stderr testutil.SyncBuffer
	done   chan struct{}
	code   int
}

func start(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: "net " + name, cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cmd.Env = append(append(os.Environ(), asCommand+"="+name), env...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its status.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s still running after %v: %s", p.name, d, p.stderr.String())
		return -1
	}
}

// drained waits until the stream holds no part: every part the agents sent
// is acked by a collector, so written.
func drained(t *testing.T, url string, d time.Duration, creds string) {
	t.Helper()
	nc, err := collector.Connect(url, collector.ConnOptions{Creds: creds})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := js.Stream(ctx, collector.StreamName)
		var msgs uint64 = 1
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ctx); err == nil {
				msgs = info.State.Msgs
			}
		}
		cancel()
		if msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream still holds %d parts after %v (%v)", msgs, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitConsumer waits until the collector col has made the streams and its
// consumer.
func waitConsumer(t *testing.T, js jetstream.JetStream, col *proc) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.Consumer(ctx, collector.StreamName, "netcap-collect")
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || col.exited() {
			t.Fatalf("net collect made no consumer (%v): %s", err, col.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// summary reads a number from the summary lines of a process: the one
// before what.
func summary(t *testing.T, p *proc, what string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(\d+) ` + regexp.QuoteMeta(what)).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("%s printed no %q: %s", p.name, what, p.stderr.String())
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// TestServerRestart runs net collect and net agent as processes against
// Debian's nats-server, and stops the server (SIGTERM) in the middle of
// the replay, then starts it again on the same store. The collected files
// must equal net capture's record for record, in order, with none twice.
func TestServerRestart(t *testing.T) {
	path := sharedCapture(t)
	port := natstest.FreePort(t)
	store := t.TempDir()
	srv := natstest.Start(t, port, "-js", "-sd", store, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	want := localCapture(t, path)
	out := t.TempDir()
	began := time.Now()
	col := start(t, nil, "collect", "-out", out, "-nats", srv.URL, "-ack-wait", "2s", "-status", "0")

	// The collector makes the streams and its consumer.
	nc, err := collector.Connect(srv.URL, collector.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitConsumer(t, js, col)

	// The agent reads the file from a pipe, half of it at first: it
	// cannot be done before the server has been stopped and started.
	pcap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fifo, rest := halfPipe(t, pcap)
	ag := start(t, nil, "agent", "-read", fifo, "-sensor", "lab", "-nats", srv.URL, "-batch-size", "4KiB",
		"-workers", "2", "-status", "0", "-wait", "60s")
	// Stop the server once the collector has been handed some parts,
	// while the agent is still sending.
	deadline := time.Now().Add(30 * time.Second)
	for delivered(js) < 100 {
		if time.Now().After(deadline) || ag.exited() {
			t.Fatalf("the collector was handed %d parts; agent exited %v: %s", delivered(js), ag.exited(), ag.stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	delivered := delivered(js)
	srv.Stop(syscall.SIGTERM)
	agentRunning := !ag.exited()
	time.Sleep(500 * time.Millisecond)
	srv.Restart()
	t.Logf("nats-server stopped with SIGTERM after %d parts were delivered (agent still sending: %v), started again on the same store", delivered, agentRunning)
	if !agentRunning {
		t.Fatal("the agent had finished before the server stopped: the restart did not land mid-replay")
	}
	rest()

	if code := ag.wait(t, 90*time.Second); code != 0 {
		t.Fatalf("net agent: status %d: %s", code, ag.stderr.String())
	}
	drained(t, srv.URL, 60*time.Second, "")
	col.cmd.Process.Signal(syscall.SIGTERM)
	if code := col.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("net collect: status %d: %s", code, col.stderr.String())
	}
	elapsed := time.Since(began)
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "lab"))
	sent := summary(t, ag, "records,")
	stored := summary(t, col, "records,")
	if int64(n) != sent || stored != sent {
		t.Fatalf("agent sent %d records, collector stored %d, files hold %d", sent, stored, n)
	}
	if k := summary(t, col, "written out of order"); k != 0 {
		t.Fatalf("%d parts written out of order", k)
	}
	t.Logf("%d records equal to net capture's in order, %.1f s from the collector's start to its exit; agent: %d messages sent again, %d duplicates dropped by the server; collector: %d parts delivered again and skipped, %d waits for an earlier part",
		n, elapsed.Seconds(), summary(t, ag, "sent again"), summary(t, ag, "duplicates dropped"), summary(t, col, "parts delivered again"), summary(t, col, "times a part waited"))
}

// TestCollectorKilled kills net collect (SIGKILL) right after it wrote a
// batch and before it acked it (the test hook NETCAP_COLLECT_TEST_STALL
// holds it there): the next collector on the same folder gets the batch
// again and must not write it twice.
func TestCollectorKilled(t *testing.T) {
	path := sharedCapture(t)
	want := localCapture(t, path)
	url, js := natstest.Embedded(t)
	if err := collector.EnsureStreams(context.Background(), js, collector.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	ag := start(t, nil, "agent", "-read", path, "-sensor", "lab", "-nats", url, "-batch-size", "4KiB", "-workers", "2", "-status", "0")
	if code := ag.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("net agent: status %d: %s", code, ag.stderr.String())
	}
	sent := summary(t, ag, "records,")

	out := t.TempDir()
	first := start(t, []string{stallEnv + "=2"}, "collect", "-out", out, "-nats", url, "-ack-wait", "2s", "-status", "0")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(first.stderr.String(), "waiting to be killed"); {
		if time.Now().After(deadline) || first.exited() {
			t.Fatalf("net collect did not stop at the hook: %s", first.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.cmd.Process.Signal(syscall.SIGKILL)
	first.wait(t, 10*time.Second)
	state, err := os.ReadFile(filepath.Join(out, collector.StateFile))
	if err != nil || !bytes.Contains(state, []byte(`"pending"`)) {
		t.Fatalf("no state naming the batch written when killed: %v %.200s", err, state)
	}
	before := 0
	files, _ := filepath.Glob(filepath.Join(out, "lab", "*.ncap.gz"))
	for _, f := range files {
		before += len(testutil.RawRecords(t, f))
	}

	second := start(t, nil, "collect", "-out", out, "-nats", url, "-ack-wait", "2s", "-status", "0")
	drained(t, url, 60*time.Second, "")
	second.cmd.Process.Signal(syscall.SIGTERM)
	if code := second.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("second net collect: status %d: %s", code, second.stderr.String())
	}
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "lab"))
	skipped := summary(t, second, "parts delivered again")
	if int64(n) != sent || skipped == 0 {
		t.Fatalf("agent sent %d records, files hold %d; the second collector skipped %d parts delivered again", sent, n, skipped)
	}
	t.Logf("killed after 2 batches with %d records on disk; the second collector skipped %d parts delivered again; %d records equal to net capture's in order", before, skipped, n)
}

// TestJWTServer runs Debian's nats-server in operator mode (a config file
// with the operator JWT, resolver MEMORY and the account JWTs preloaded,
// all made by the test): net collect -creds and net agent -creds with
// users of the account store a replay equal to net capture's; an agent
// with a user JWT and another user's seed, and a collector with a user of
// an account the server does not know, stop with one line and status 2.
func TestJWTServer(t *testing.T) {
	natstest.Binary(t)
	const loopback = "../../testdata/loopback.pcap"
	dir := t.TempDir()
	auth := natstest.NewAuth(t, dir)
	port := natstest.FreePort(t)
	srv := natstest.Start(t, port, "-c", auth.WriteConfig(t, dir, port, t.TempDir()))
	// Before net collect and the forged agent connect at once: see
	// LoadAccount.
	js, err := jetstream.New(auth.LoadAccount(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	want := localCapture(t, loopback)
	out := t.TempDir()

	refused := func(p *proc) {
		t.Helper()
		code := p.wait(t, 20*time.Second)
		msg := p.stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "refused by the server: ") || !strings.Contains(msg, "Authorization Violation") {
			t.Errorf("%s: status %d, %q; want status 2 and one line saying why", p.name, code, msg)
		}
		t.Logf("%s: %s", p.name, strings.TrimSpace(msg))
	}
	refused(start(t, nil, "collect", "-out", out, "-nats", srv.URL, "-creds", auth.Stranger, "-status", "0"))

	col := start(t, nil, "collect", "-out", out, "-nats", srv.URL, "-creds", auth.Collector, "-status", "0", "-ack-wait", "2s")
	refused(start(t, nil, "agent", "-read", loopback, "-sensor", "lab", "-nats", srv.URL, "-creds", auth.Forged))
	waitConsumer(t, js, col)
	ag := start(t, nil, "agent", "-read", loopback, "-sensor", "lab", "-nats", srv.URL, "-creds", auth.Sensor, "-status", "0", "-wait", "20s")
	if code := ag.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("net agent with the sensor's credentials: status %d: %s", code, ag.stderr.String())
	}
	drained(t, srv.URL, 30*time.Second, auth.Collector)
	col.cmd.Process.Signal(syscall.SIGTERM)
	if code := col.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("net collect: status %d: %s", code, col.stderr.String())
	}
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "lab"))
	if int64(n) != summary(t, ag, "records,") {
		t.Fatalf("files hold %d records, the agent sent %d", n, summary(t, ag, "records,"))
	}
	t.Logf("with the sensor's and the collector's credentials: %d records equal to net capture's", n)
}

// TestAgentSIGTERM sends SIGTERM to the net agent process in the middle of
// its input: the agent reads attack_scan.pcap from a named pipe that the
// test has filled with the first half of the file, and is stopped while
// it waits for the rest. It must stop the capture, send what it decoded,
// wait for the acks, print its summary and exit with status 0; the
// collector must then hold exactly the records the agent had acked, each
// once, in valid files: for every type net capture's records up to where
// the agent stopped, in net capture's order, then the flows and
// connections the stop cut short.
func TestAgentSIGTERM(t *testing.T) {
	path := sharedCapture(t)
	want := localCapture(t, path)
	pcap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	total := countPackets(t, path)
	url, js := natstest.Embedded(t)
	out := t.TempDir()
	col := start(t, nil, "collect", "-out", out, "-nats", url, "-status", "0")
	waitConsumer(t, js, col)

	fifo, rest := halfPipe(t, pcap)
	ag := start(t, nil, "agent", "-read", fifo, "-sensor", "cut", "-nats", url, "-batch-size", "4KiB", "-workers", "2", "-status", "0", "-wait", "30s")
	for deadline := time.Now().Add(30 * time.Second); delivered(js) < 50; {
		if time.Now().After(deadline) || ag.exited() {
			t.Fatalf("the collector was handed %d parts; agent exited %v: %s", delivered(js), ag.exited(), ag.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	handed := delivered(js)
	ag.cmd.Process.Signal(syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(ag.stderr.String(), "stopping the capture"); {
		if time.Now().After(deadline) || ag.exited() {
			t.Fatalf("net agent did not say it stops: %s", ag.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	rest()
	if code := ag.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("net agent: status %d after SIGTERM: %s", code, ag.stderr.String())
	}
	for _, line := range []string{"net agent: sensor cut: ", "packets decoded", "dropped records: none"} {
		if !strings.Contains(ag.stderr.String(), line) {
			t.Fatalf("net agent's summary has no %q: %s", line, ag.stderr.String())
		}
	}
	sent, packets := summary(t, ag, "records,"), summary(t, ag, "packets decoded")
	if packets >= total || packets < 100 {
		t.Fatalf("net agent decoded %d of %d packets: the stop did not land in the middle of the file", packets, total)
	}
	drained(t, url, 30*time.Second, "")
	col.cmd.Process.Signal(syscall.SIGTERM)
	if code := col.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("net collect: status %d: %s", code, col.stderr.String())
	}
	if stored := summary(t, col, "records,"); stored != sent {
		t.Fatalf("net agent sent %d records, net collect stored %d", sent, stored)
	}

	n, cut := 0, 0
	gotFiles, _ := filepath.Glob(filepath.Join(out, "cut", "*.ncap.gz"))
	for _, f := range gotFiles {
		name := filepath.Base(f)
		got := testutil.RawRecords(t, f)
		local := testutil.RawRecords(t, filepath.Join(want, name))
		n += len(got)
		p := 0
		for p < len(got) && p < len(local) && bytes.Equal(got[p], local[p]) {
			p++
		}
		switch name {
		case "Ethernet.ncap.gz", "IPv4.ncap.gz", "TCP.ncap.gz":
			// One record per packet: exactly net capture's first ones.
			if p != len(got) || p == 0 {
				t.Errorf("%s: %d records, the first %d are net capture's", name, len(got), p)
			}
		}
		// After the common start: what the stop flushed, each record
		// once, none that was already written before it.
		times := map[string]int{}
		for _, r := range local {
			times[string(r)]++
		}
		seen := map[string]int{}
		for _, r := range got[:p] {
			seen[string(r)]++
		}
		for _, r := range got[p:] {
			seen[string(r)]++
			if times[string(r)] == 0 {
				cut++
			}
			if seen[string(r)] > max(times[string(r)], 1) {
				t.Fatalf("%s: a record is stored %d times, net capture wrote it %d times", name, seen[string(r)], times[string(r)])
			}
		}
	}
	if int64(n) != sent {
		t.Fatalf("net agent sent %d records, the files hold %d", sent, n)
	}
	if cut > n/2 {
		t.Fatalf("%d of %d records stored are not net capture's", cut, n)
	}
	t.Logf("SIGTERM after %d parts were handed to the collector: the agent decoded %d of %d packets and sent %d records (status 0); the files hold them all, each once; %d are flows or connections cut short by the stop",
		handed, packets, total, sent, cut)
}

// halfPipe makes a named pipe for net agent -read and writes the first
// half of data into it once the agent opens it; rest writes the other
// half and closes the pipe. An agent that stops reading before the end
// makes the writes fail, which is fine.
func halfPipe(t *testing.T, data []byte) (path string, rest func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "replay.pcap")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	more := make(chan struct{})
	var once sync.Once
	rest = func() { once.Do(func() { close(more) }) }
	t.Cleanup(rest)
	go func() {
		// Opening blocks until the agent opens the pipe to read it.
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		if _, err := w.Write(data[:len(data)/2]); err != nil {
			return
		}
		<-more
		w.Write(data[len(data)/2:])
	}()
	return path, rest
}

// countPackets counts the packets of a capture file.
func countPackets(t *testing.T, path string) int64 {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var n int64
	for {
		_, _, _, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestJWTEmbedded runs the embedded server of net collect in operator mode
// from a nats-server configuration file (-server-config; operator JWT,
// resolver MEMORY, accounts preloaded, all made by the test): the collector
// signs in with -creds, an agent with the sensor's credentials stores a
// replay equal to net capture's, an agent with a forged user JWT and a
// collector with a user of an unknown account stop with one line and
// status 2.
func TestJWTEmbedded(t *testing.T) {
	const loopback = "../../testdata/loopback.pcap"
	dir := t.TempDir()
	auth := natstest.NewAuth(t, dir)
	want := localCapture(t, loopback)

	// A collector whose own user the server does not know cannot start.
	strangerDir := t.TempDir()
	bad := start(t, nil, "collect", "-out", t.TempDir(), "-status", "0", "-creds", auth.Stranger,
		"-server-config", auth.WriteConfig(t, strangerDir, natstest.FreePort(t), t.TempDir()))
	code := bad.wait(t, 30*time.Second)
	lines := strings.Split(strings.TrimSpace(bad.stderr.String()), "\n")
	if last := lines[len(lines)-1]; code != 2 || !strings.HasPrefix(last, "net collect: refused by the server: ") {
		t.Errorf("collector with an unknown account: status %d, %q; want 2 and a last line saying it was refused", code, bad.stderr.String())
	}

	port := natstest.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	out := t.TempDir()
	col := start(t, nil, "collect", "-out", out, "-status", "0", "-ack-wait", "2s", "-creds", auth.Collector,
		"-server-config", auth.WriteConfig(t, dir, port, filepath.Join(out, ".jetstream")))
	nc, err := collector.Connect(url, collector.ConnOptions{Creds: auth.Collector})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitConsumer(t, js, col)

	forged := start(t, nil, "agent", "-read", loopback, "-sensor", "lab", "-nats", url, "-creds", auth.Forged)
	if code := forged.wait(t, 20*time.Second); code != 2 || !strings.Contains(forged.stderr.String(), "Authorization Violation") {
		t.Errorf("agent with a forged JWT: status %d, %q; want 2, refused", code, forged.stderr.String())
	}
	ag := start(t, nil, "agent", "-read", loopback, "-sensor", "lab", "-nats", url, "-creds", auth.Sensor, "-status", "0", "-wait", "20s")
	if code := ag.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("net agent with the sensor's credentials: status %d: %s", code, ag.stderr.String())
	}
	drained(t, url, 30*time.Second, auth.Collector)
	col.cmd.Process.Signal(syscall.SIGTERM)
	if code := col.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("net collect: status %d: %s", code, col.stderr.String())
	}
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "lab"))
	if n == 0 || int64(n) != summary(t, ag, "records,") {
		t.Fatalf("files hold %d records, the agent sent %d", n, summary(t, ag, "records,"))
	}
	t.Logf("embedded server in operator mode: %d records equal to net capture's", n)
}

// delivered returns the stream sequence the collector's consumer has
// delivered up to (0 until it exists).
func delivered(js jetstream.JetStream) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, collector.StreamName, "netcap-collect")
	if err != nil {
		return 0
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0
	}
	return info.Delivered.Stream
}

// TestListenRefused: an embedded server on an address other than loopback
// that says no one in particular may connect is refused in one line with
// status 2; -insecure or -users let it past (here to the next check,
// which refuses -creds without -server-config, so nothing listens).
func TestListenRefused(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	os.WriteFile(users, []byte("lab s3cret\n"), 0o600)
	for _, listen := range []string{"0.0.0.0:0", "[::]:0", ":4222", "192.0.2.1:0", "collector.example:4222"} {
		var stderr bytes.Buffer
		code := run([]string{"-out", t.TempDir(), "-listen", listen}, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "is not loopback") {
			t.Errorf("-listen %s: status %d, %q; want status 2 and one line", listen, code, msg)
		}
	}
	for _, extra := range [][]string{{"-insecure"}, {"-users", users}} {
		var stderr bytes.Buffer
		code := run(append([]string{"-out", t.TempDir(), "-listen", "0.0.0.0:0", "-creds", users}, extra...), &stderr)
		if code != 2 || strings.Contains(stderr.String(), "is not loopback") || !strings.Contains(stderr.String(), "-creds and -nkey") {
			t.Errorf("%v: status %d, %q; want past the refusal", extra, code, stderr.String())
		}
	}
}

// TestNATSUnreachable: net collect -nats where no server can be reached
// says what failed in one line, status 2, at once.
func TestNATSUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	for _, tc := range []struct{ url, want string }{
		{"nats://c:pw-123@" + refused, "cannot connect to nats://c:xxxxx@" + refused + ": connection refused; is the NATS server running?"},
		{"nats://netcap-nats.invalid:4222", "cannot connect to nats://netcap-nats.invalid:4222: unknown host netcap-nats.invalid"},
		{"nats://c:pw-123@127.0.0.1:99999", `malformed -nats URL "nats://xxxxx@127.0.0.1:99999": port "99999": want 1 to 65535`},
	} {
		var stderr bytes.Buffer
		start := time.Now()
		code := run([]string{"-out", t.TempDir(), "-nats", tc.url, "-quiet"}, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "pw-123") || time.Since(start) > 2*time.Second {
			t.Errorf("-nats %s: status %d after %v, %q; want status 2 and one line with %q", tc.url, code, time.Since(start), msg, tc.want)
		}
	}
}

// TestMaxStreamBytes: -max-stream-bytes is NETCAP's MaxBytes (default
// 10 GiB, 0: no limit); a size the server cannot set aside in its store,
// or no size at all, is refused in one line with status 2.
func TestMaxStreamBytes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{nil, collector.DefaultMaxStreamBytes},
		{[]string{"-max-stream-bytes", "64KiB"}, 64 << 10},
		{[]string{"-max-stream-bytes", "0"}, -1},
	} {
		port := natstest.FreePort(t)
		url := fmt.Sprintf("nats://127.0.0.1:%d", port)
		col := start(t, nil, "collect", append([]string{"-out", t.TempDir(), "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-quiet"}, tc.args...)...)
		nc, err := collector.Connect(url, collector.ConnOptions{})
		if err != nil {
			t.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		waitConsumer(t, js, col)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := js.Stream(ctx, collector.StreamName)
		cancel()
		nc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := st.CachedInfo().Config.MaxBytes; got != tc.want {
			t.Errorf("%v: NETCAP's MaxBytes %d, want %d", tc.args, got, tc.want)
		}
		col.cmd.Process.Signal(syscall.SIGTERM)
		if code := col.wait(t, 10*time.Second); code != 0 {
			t.Errorf("%v: status %d: %s", tc.args, code, col.stderr.String())
		}
	}
	for _, tc := range []struct{ size, want string }{
		{"lots", `-max-stream-bytes: size "lots": want a number of bytes`},
		{"9000000000GiB", `-max-stream-bytes: size "9000000000GiB"`},
		{"4000000000GiB", "insufficient storage resources available: the server cannot set aside -max-stream-bytes 4000000000GiB for it; free space in its store, or give a smaller -max-stream-bytes"},
	} {
		var stderr bytes.Buffer
		code := run([]string{"-out", t.TempDir(), "-listen", "127.0.0.1:0", "-quiet", "-max-stream-bytes", tc.size}, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("-max-stream-bytes %s: status %d, %q; want status 2 and one line with %q", tc.size, code, msg, tc.want)
		}
	}
}

// TestParquetRowsRefused: -parquet-rows below 1 is refused in one line.
func TestParquetRowsRefused(t *testing.T) {
	var stderr bytes.Buffer
	code := run([]string{"-out", t.TempDir(), "-parquet", "-parquet-rows", "0"}, &stderr)
	if msg := stderr.String(); code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "-parquet-rows 0") {
		t.Errorf("status %d, %q; want status 2 and one line", code, msg)
	}
}
