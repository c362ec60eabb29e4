package export

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netcap/netcap/metrics"
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
