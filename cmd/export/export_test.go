package export

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/metrics"
	"github.com/netcap/netcap/types"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-read", "x", "-iface", "y"}, {"-iface", "lo", "-replay"}, {"-read", "x", "-top", "0"}} {
		var o, e bytes.Buffer
		if code := run(context.Background(), args, &o, &e, nil); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	var o, e bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &o, &e, nil); code != 0 || !strings.Contains(e.String(), "Labels hold only low-cardinality values") {
		t.Errorf("-h: exit %d\n%s", code, e.String())
	}
	// The counters and gauges are named in full (histograms and top-N
	// lists are described).
	for _, name := range metrics.New(metrics.Options{}).MetricNames() {
		short := strings.TrimPrefix(name, "netcap_")
		if strings.HasPrefix(short, "top_") || strings.HasSuffix(short, "_seconds") || strings.HasSuffix(short, "_size_bytes") || short == "payload_entropy" {
			continue
		}
		if !strings.Contains(e.String(), short) {
			t.Errorf("-h does not name %s", name)
		}
	}
}

// TestServesCapture runs the command on loopback.pcap and scrapes it once
// the input is done.
func TestServesCapture(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var o, e bytes.Buffer
	var body []byte
	code := run(ctx, []string{"-read", filepath.Join("..", "..", "testdata", "loopback.pcap"), "-address", "127.0.0.1:0", "-workers", "1"}, &o, &e,
		func(addr string, _ *metrics.Exporter, done <-chan struct{}) {
			go func() {
				<-done
				resp, err := http.Get("http://" + addr + "/metrics")
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				cancel()
			}()
		})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	if !bytes.Contains(body, []byte("\nnetcap_packets_total 177\n")) {
		t.Errorf("scrape lacks netcap_packets_total 177:\n%.2000s", body)
	}
	if !strings.Contains(o.String(), "decoded 177 packets") {
		t.Errorf("stdout: %s", o.String())
	}
}

// runUntilDone runs the command with args and stops it once its input is
// done, as Ctrl-C would.
func runUntilDone(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var o, e bytes.Buffer
	code := run(ctx, append(args, "-address", "127.0.0.1:0", "-workers", "1"), &o, &e,
		func(_ string, _ *metrics.Exporter, done <-chan struct{}) {
			go func() { <-done; cancel() }()
		})
	return code, o.String(), e.String()
}

// TestCutCapture: a cut capture is served, told with its name, and the
// exit is 1 (as net capture's).
func TestCutCapture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "loopback.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runUntilDone(t, "-read", path)
	if code != 1 || !strings.Contains(stderr, path) || !strings.Contains(stderr, "truncated") {
		t.Errorf("cut capture: exit %d, stderr %q; want 1 and the file named as truncated", code, stderr)
	}
	if !strings.Contains(stdout, "decoded ") {
		t.Errorf("cut capture: stdout %q, want the packets decoded before the cut", stdout)
	}
}

// TestDamagedReplay: a cut record file in a -replay folder is named.
func TestDamagedReplay(t *testing.T) {
	dir := t.TempDir()
	w, err := ncio.Create(filepath.Join(dir, "TCP.ncap"), &types.Header{Type: types.Type_NC_TCP}, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		w.Write(&types.TCP{Timestamp: int64(i), SrcPort: 1})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := w.Path()
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runUntilDone(t, "-read", dir, "-replay", "-speed", "0")
	if code != 1 || !strings.Contains(stderr, path) || !strings.Contains(stderr, "truncated") {
		t.Errorf("cut record file: exit %d, stderr %q; want 1 and the file named", code, stderr)
	}
}
