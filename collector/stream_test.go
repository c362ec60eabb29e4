package collector

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/internal/testutil"
	"github.com/netcap/netcap/types"
)

const scan = "../../shared/labels/kareem-attack-scan/attack_scan.pcap"

func sharedCapture(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(scan); err != nil {
		t.Skipf("shared capture %s not found (the shared/ folder beside the repository is absent): %v", scan, err)
	}
	return scan
}

// startJS starts an embedded server on a free 127.0.0.1 port with the
// streams, and returns it with a JetStream client.
func startJS(t *testing.T, store string) (*Server, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	s, err := StartServer("127.0.0.1", -1, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := Connect(s.ClientURL(), ConnOptions{FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureStreams(context.Background(), js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return s, nc, js
}

// local runs net capture's engine on path into a folder.
func local(t testing.TB, path string) string {
	t.Helper()
	out := t.TempDir()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output: capture.OutputConfig{
			Dir:           out,
			Compress:      true,
			IgnoreUnknown: true,
		},
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// replay runs the agent on path, publishing through js.
func replay(t *testing.T, js jetstream.JetStream, path, sensor string, partSize int) *Agent {
	t.Helper()
	ag, err := NewAgent(js, AgentConfig{Sensor: sensor, Compressed: true})
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 2},
		Output: capture.OutputConfig{
			Compress: true,
			Parts:    ag.Output(),
			PartSize: partSize,
		},
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ag.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	return ag
}

// collectUntil runs a collector until it has stored want records (or stop
// says so), then stops it cleanly.
func collectUntil(t *testing.T, js jetstream.JetStream, out string, stop func(*Collector) bool) *Collector {
	t.Helper()
	return collectWith(t, js, CollectorConfig{Out: out, Fetch: 8, Version: "test"}, stop)
}

// collectWith is collectUntil with a collector made from cfg.
func collectWith(t *testing.T, js jetstream.JetStream, cfg CollectorConfig, stop func(*Collector) bool) *Collector {
	t.Helper()
	c := NewCollector(js, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for !stop(c) {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("collector stored %d records in 60 s; dead letters %v", c.Records.Load(), c.Dead())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndToEnd(t *testing.T) {
	path := sharedCapture(t)
	want := local(t, path)
	_, _, js := startJS(t, t.TempDir())
	ag := replay(t, js, path, "lab-1", 0)
	out := t.TempDir()
	c := collectUntil(t, js, out, func(c *Collector) bool { return c.Records.Load() >= ag.Records.Load() })
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "lab-1"))
	if n == 0 || int64(n) != c.Records.Load() || len(ag.Drops()) != 0 || len(c.Dead()) != 0 {
		t.Fatalf("compared %d records; collector stored %d, agent drops %v, dead letters %v", n, c.Records.Load(), ag.Drops(), c.Dead())
	}
	t.Logf("%d records in %d messages, equal record for record to net capture's", n, ag.Batches.Load())
}

// TestCollectorRestart stops the collector while the agent is replaying,
// and starts another on the same folder: every record arrives once.
func TestCollectorRestart(t *testing.T) {
	path := sharedCapture(t)
	want := local(t, path)
	_, _, js := startJS(t, t.TempDir())
	out := t.TempDir()
	agentDone := make(chan *Agent, 1)
	go func() { agentDone <- replay(t, js, path, "lab", 4<<10) }()
	first := collectUntil(t, js, out, func(c *Collector) bool { return c.Batches.Load() >= 20 })
	var ag *Agent
	select {
	case ag = <-agentDone:
		t.Log("the agent finished before the first collector stopped")
	default:
	}
	firstRecs := first.Records.Load()
	if ag == nil {
		ag = <-agentDone
	}
	second := collectUntil(t, js, out, func(c *Collector) bool { return firstRecs+c.Records.Load() >= ag.Records.Load() })
	time.Sleep(300 * time.Millisecond) // anything more would be a duplicate
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "lab"))
	if int64(n) != firstRecs+second.Records.Load() {
		t.Fatalf("files hold %d records, the collectors stored %d + %d", n, firstRecs, second.Records.Load())
	}
	t.Logf("%d records: %d by the first collector, %d by the second; %d messages", n, firstRecs, second.Records.Load(), ag.Batches.Load())
}

// TestDeadLetters sends garbage, a bomb and bad subjects: each is counted,
// dead-lettered, and the collector goes on.
func TestDeadLetters(t *testing.T) {
	_, nc, js := startJS(t, t.TempDir())
	send := func(subj, enc, records string, data []byte) {
		m := nats.NewMsg(subj)
		m.Data = data
		if enc != "" {
			m.Header.Set(HdrEncoding, enc)
		}
		if records != "" {
			m.Header.Set(HdrRecords, records)
		}
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatalf("%s: %v", subj, err)
		}
	}
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 20<<20))
	zw.Close()
	send("netcap.lab.Flow", "gzip", "1", []byte("not gzip at all"))
	send("netcap.lab.Flow", "none", "1", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	send("netcap.lab.Flow", "none", "", []byte{})
	send("netcap.lab.Flow", "gzip", "1", bomb.Bytes())
	send("netcap.lab.NoSuchType", "none", "0", nil)
	send("netcap."+strings.Repeat("x", 65)+".Flow", "none", "0", nil)
	send("netcap.lab.Flow", "none", "2", []byte{0x02, 0x08, 0x01}) // one record, says two
	// Too big for the server: refused at the client, never stored.
	m := nats.NewMsg("netcap.lab.Flow")
	m.Data = make([]byte, MaxPayload+1)
	if _, err := js.PublishMsg(context.Background(), m); err == nil {
		t.Fatal("a message over the server's max payload was accepted")
	}
	out := t.TempDir()
	c := collectUntil(t, js, out, func(c *Collector) bool {
		n := int64(0)
		for _, v := range c.Dead() {
			n += v
		}
		return n >= 7
	})
	want := map[string]int64{"bad-gzip": 1, "bad-record": 1, "bad-header": 1, "oversized": 1, "unknown-type": 1, "bad-sensor": 1, "bad-count": 1}
	got := c.Dead()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("dead letters %s: %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if c.Records.Load() != 0 {
		t.Errorf("stored %d records from garbage", c.Records.Load())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("garbage made %d entries in the output folder", len(entries))
	}
	st, err := js.Stream(context.Background(), DeadStreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 7 {
		t.Errorf("%s holds %d messages, want 7", DeadStreamName, info.State.Msgs)
	}
	dm, err := st.GetLastMsgForSubject(context.Background(), DeadSubject)
	if err != nil || dm.Header.Get(HdrReason) == "" || dm.Header.Get(HdrSubject) == "" {
		t.Errorf("dead letter without reason or subject: %v %v", dm, err)
	}
	_ = nc
}

func TestValidSensor(t *testing.T) {
	for _, ok := range []string{"lab", "dmz-1", "a.b_c", strings.Repeat("x", 64)} {
		if err := ValidSensor(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../etc", "a/b", `a\b`, "a b", "a*", "a>", strings.Repeat("x", 65), "é"} {
		if ValidSensor(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := NewAgent(nil, AgentConfig{Sensor: "../x"}); err == nil {
		t.Error("an agent with sensor ../x was made")
	}
	for subj, reason := range map[string]string{"netcap.lab.Flow": "", "netcap.a.b.Flow": "", "netcap...Flow": "bad-sensor", "netcap.Flow": "bad-subject", "other.lab.Flow": "bad-subject"} {
		if _, _, r := ParseSubject(subj); r != reason {
			t.Errorf("ParseSubject(%q) = %q, want %q", subj, r, reason)
		}
	}
}

// TestSameShapeRefusal sends a good part, then parts with records of its
// length and shape, each damaged in one byte (a tag, a varint's
// continuation bit, a string byte that is not UTF-8; the former templates
// compared such records with a good one under a mask): the good part is
// stored, the others are dead-lettered.
func TestSameShapeRefusal(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	rec, err := proto.Marshal(&types.Flow{TimestampFirst: 1_700_000_000_000_000_000, SrcIP: "10.0.0.1", DstIP: "10.0.0.2", SrcPort: 5353, NumPackets: 3})
	if err != nil {
		t.Fatal(err)
	}
	send := func(r []byte) {
		m := nats.NewMsg("netcap.lab.Flow")
		m.Data = protowire.AppendBytes(nil, r)
		m.Header.Set(HdrEncoding, "none")
		m.Header.Set(HdrRecords, "1")
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	send(rec)
	ip := bytes.Index(rec, []byte("10.0.0.1"))
	bad := [][]byte{slices.Clone(rec), slices.Clone(rec), slices.Clone(rec)}
	bad[0][0] = 0x0f           // field 1 with wire type 7
	bad[1][len(rec)-1] |= 0x80 // the last varint runs past the end
	bad[2][ip] = 0xff          // not UTF-8
	for _, b := range bad {
		if unmarshals(t, types.Type_NC_Flow, b) {
			t.Fatalf("%x unmarshals", b)
		}
		send(b)
	}
	c := collectUntil(t, js, t.TempDir(), func(c *Collector) bool { return c.Records.Load() == 1 && c.Dead()["bad-record"] == 3 })
	if c.Batches.Load() != 1 {
		t.Errorf("stored %d parts, want 1", c.Batches.Load())
	}
}
