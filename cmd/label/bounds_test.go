package label

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// loopbackRecords decodes testdata/loopback.pcap and returns the folder and
// its Connections.
func loopbackRecords(t *testing.T) (string, []*types.Connection) {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "..", "testdata", "loopback.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "records")
	if _, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 1},
		Output: capture.OutputConfig{
			Dir:           out,
			Compress:      true,
			IgnoreUnknown: true,
			Created:       time.Unix(1700000000, 0),
		},
	}); err != nil {
		t.Fatal(err)
	}
	r, err := ncio.Open(filepath.Join(out, "Connection.ncap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var conns []*types.Connection
	for {
		c := &types.Connection{}
		if err := r.Next(c); err != nil {
			return out, conns
		}
		conns = append(conns, c)
	}
}

func alertLine(c *types.Connection, sig string) string {
	ts := time.Unix(0, c.TimestampFirst).UTC().Format("2006-01-02T15:04:05.000000-0700")
	return fmt.Sprintf(`{"timestamp":%q,"event_type":"alert","pcap_cnt":%d,"community_id":%q,"src_ip":%q,"src_port":%d,"dest_ip":%q,"dest_port":%d,"proto":%q,"alert":{"signature_id":1,"signature":%q,"category":"c","severity":1}}`+"\n",
		ts, c.FrameFirst, c.CommunityID, c.SrcIP, c.SrcPort, c.DstIP, c.DstPort, strings.ToUpper(c.TransportProto), sig)
}

func label(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// TestSummaryBounded: a 10 MB signature with -description made tabwriter pad
// every summary row to 10 MB (262 MB on stderr, 27 s); now labels are cut to
// 1,024 bytes and summary cells to 60 characters. 100 distinct labels on one
// flows (one per Connection of loopback.pcap, 25) list the 20 most frequent
// labels of a type and count the rest.
func TestSummaryBounded(t *testing.T) {
	recs, conns := loopbackRecords(t)
	c := conns[0]
	if len(conns) <= showLabels {
		t.Fatalf("loopback.pcap has %d connections; the test needs more than %d", len(conns), showLabels)
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, []byte(alertLine(c, strings.Repeat("S", 10<<20))), 0o644)
	var many strings.Builder
	for i, c := range conns {
		many.WriteString(alertLine(c, fmt.Sprintf("signature %03d", i)))
	}
	manyPath := filepath.Join(dir, "many.json")
	os.WriteFile(manyPath, []byte(many.String()), 0o644)

	_, stderr, code := label(t, "-read", recs, "-alerts", big, "-description", "-out", filepath.Join(dir, "out1"))
	if code != 0 {
		t.Fatalf("exit %d: %.500s", code, stderr)
	}
	if len(stderr) > 8<<10 {
		t.Fatalf("%d bytes of summary, want at most 8 KB", len(stderr))
	}
	if !strings.Contains(stderr, strings.Repeat("S", maxCell-1)+"…") {
		t.Errorf("the long label is not shown cut to %d characters:\n%s", maxCell, stderr)
	}
	for _, line := range strings.Split(stderr, "\n") {
		if len(line) > 200 {
			t.Errorf("a summary line of %d bytes", len(line))
		}
	}

	_, stderr, code = label(t, "-read", recs, "-alerts", manyPath, "-description", "-out", filepath.Join(dir, "out2"))
	if code != 0 {
		t.Fatalf("exit %d: %.500s", code, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("... %d more labels", len(conns)-showLabels)) {
		t.Errorf("the labels beyond %d are not counted on one line:\n%s", showLabels, stderr)
	}
	if len(stderr) > 16<<10 {
		t.Errorf("%d bytes of summary", len(stderr))
	}
}

// TestLongLineSkipped: an EVE line over 64 MiB between two events no longer
// ends the run ("token too long", exit 1): it is listed as malformed, exit 0.
func TestLongLineSkipped(t *testing.T) {
	recs, conns := loopbackRecords(t)
	c := conns[0]
	eve := filepath.Join(t.TempDir(), "eve.json")
	f, err := os.Create(eve)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(alertLine(c, "before"))
	f.WriteString(`{"event_type":"flow","x":"`)
	f.Write(bytes.Repeat([]byte("a"), 65<<20))
	f.WriteString("\"}\n")
	f.WriteString(alertLine(c, "after"))
	f.Close()
	_, stderr, code := label(t, "-read", recs, "-alerts", eve, "-out", filepath.Join(t.TempDir(), "out"))
	if code != 0 {
		t.Fatalf("exit %d: %.500s", code, stderr)
	}
	if !strings.Contains(stderr, "2 alerts read") || !strings.Contains(stderr, "1 malformed lines") || !strings.Contains(stderr, "malformed line 2: longer than 64 MiB, skipped") {
		t.Errorf("summary does not report the skipped line:\n%s", stderr)
	}
}

// TestDamagedRecordExit: a cut record file stops net label with one line
// naming it, exit 1, and no -out folder.
func TestDamagedRecordExit(t *testing.T) {
	recs, conns := loopbackRecords(t)
	c := conns[0]
	tcp := filepath.Join(recs, "TCP.ncap.gz")
	b, _ := os.ReadFile(tcp)
	os.WriteFile(tcp, b[:len(b)/2], 0o644)
	eve := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(eve, []byte(alertLine(c, "x")), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	_, stderr, code := label(t, "-read", recs, "-alerts", eve, "-out", out)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tcp) {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming %s", code, stderr, tcp)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("-out was written")
	}
}

// TestFIFOInFolder: a FIFO named as a record file in -read is refused at
// once, naming it; before, net label waited for a writer forever.
func TestFIFOInFolder(t *testing.T) {
	recs, conns := loopbackRecords(t)
	fifo := filepath.Join(recs, "Extra.ncap.gz")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	eve := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(eve, []byte(alertLine(conns[0], "x")), 0o644)
	type result struct {
		stderr string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, code := label(t, "-read", recs, "-alerts", eve, "-out", filepath.Join(t.TempDir(), "out"))
		done <- result{stderr, code}
	}()
	select {
	case r := <-done:
		if r.code != 2 || !strings.Contains(r.stderr, fifo) || !strings.Contains(r.stderr, "not a regular file") {
			t.Errorf("exit %d, stderr %q; want 2 and %s named", r.code, r.stderr, fifo)
		}
	case <-time.After(10 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("net label blocks on a FIFO in -read")
	}
}

// TestAttackFileRefused: an attack file over 16 MiB is refused with one line
// naming it and the limit, exit 2.
func TestAttackFileRefused(t *testing.T) {
	recs, _ := loopbackRecords(t)
	p := filepath.Join(t.TempDir(), "attacks.yml")
	f, _ := os.Create(p)
	f.WriteString("timezone: UTC\n")
	f.Truncate(16<<20 + 1)
	f.Close()
	_, stderr, code := label(t, "-read", recs, "-attacks", p, "-out", filepath.Join(t.TempDir(), "out"))
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, p) || !strings.Contains(stderr, "larger than 16 MiB") {
		t.Errorf("exit %d, stderr %q; want 2 and one line naming the file and the limit", code, stderr)
	}
}
