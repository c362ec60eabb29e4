//go:build linux

package capture

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netcap/netcap/internal/testutil"
)

// inNetns runs f on a thread of its own that has joined network namespace
// ns (one "ip netns add" made): sockets f opens belong to ns, wherever they
// are used later. The thread is left locked, so it ends with f's goroutine
// instead of going back to the pool in another namespace.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// nsClient is an HTTP client whose connections are opened in namespace ns.
func nsClient(ns string) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNetns(ns, func() error {
			var err error
			c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// scrapeValue reads one series (name and labels, as exported) of a scrape;
// ok is false when it is absent.
func scrapeValue(body, series string) (float64, bool) {
	for _, l := range strings.Split(body, "\n") {
		if v, found := strings.CutPrefix(l, series+" "); found {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestLiveExport runs net export -iface on a's end of a veth pair, sends
// pings and UDP datagrams (from Go, in namespace b) to a, and scrapes
// /metrics (from Go, in namespace a): the packet counter covers what was
// sent and the ICMPv4 and UDP record counters equal it exactly (IPv6 is off
// in both namespaces, so nothing else is IP).
func TestLiveExport(t *testing.T) {
	needNetns(t, "ping")
	p := newNetnsPair(t)
	bin := buildNet(t)
	const pings, datagrams, addr = 5, 20, "127.0.0.1:7777"

	var stderr testutil.SyncBuffer
	ne := start(t, p.a, &stderr, bin, "export", "-iface", p.ifA, "-address", addr, "-workers", "2", "-interval", "1s")
	waitFor(t, "net export to capture ("+stderr.String()+")", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "capturing on "+p.ifA) })
	client := nsClient(p.a)
	scrape := func() string {
		t.Helper()
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatalf("scraping net export in %s: %v\n%s", p.a, err, stderr.String())
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape: %v %s", err, resp.Status)
		}
		return string(b)
	}
	if body := scrape(); !strings.Contains(body, "\nnetcap_packets_total 0\n") {
		t.Fatalf("before any traffic the scrape does not say 0 packets:\n%.2000s", body)
	}

	// A UDP listener in a, a sender in b.
	var ln *net.UDPConn
	if err := inNetns(p.a, func() error {
		var err error
		ln, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(p.ipA), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		n, buf := 0, make([]byte, 2048)
		ln.SetReadDeadline(time.Now().Add(15 * time.Second))
		for n < datagrams {
			if _, _, err := ln.ReadFromUDP(buf); err != nil {
				break
			}
			n++
		}
		got <- n
	}()
	if out, err := exec.Command("ip", "netns", "exec", p.b, "ping", "-c", strconv.Itoa(pings), "-i", "0.2", p.ipA).CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if err := inNetns(p.b, func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(p.ipA), Port: 9999})
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < datagrams; i++ {
			if _, err := fmt.Fprintf(c, "netcap export test datagram %d", i); err != nil {
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != datagrams {
		t.Fatalf("the listener in %s got %d of %d datagrams", p.a, n, datagrams)
	}

	// An echo request and a reply per ping; records reach the exporter once
	// the live source has been idle for its read timeout (100 ms).
	want := map[string]float64{`netcap_records_total{type="ICMPv4"}`: 2 * pings, `netcap_records_total{type="UDP"}`: datagrams}
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		body = scrape()
		done := true
		for series, n := range want {
			if v, _ := scrapeValue(body, series); v < n {
				done = false
			}
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for series, n := range want {
		if v, ok := scrapeValue(body, series); !ok || v != n {
			t.Errorf("%s = %v (present: %v), want %v", series, v, ok, n)
		}
	}
	sent := float64(2*pings + datagrams)
	if v, ok := scrapeValue(body, "netcap_packets_total"); !ok || v < sent {
		t.Errorf("netcap_packets_total = %v, want at least the %v packets sent", v, sent)
	}
	for _, series := range []string{`netcap_dropped_packets_total{reason="kernel"}`, `netcap_dropped_packets_total{reason="behind"}`} {
		if v, ok := scrapeValue(body, series); !ok || v != 0 {
			t.Errorf("%s = %v (present: %v), want 0", series, v, ok)
		}
	}
	for _, series := range []string{`netcap_worker_queue_depth{worker="1"}`, `netcap_writer_queue_depth`, `netcap_reassembly_buffered_bytes{kind="tcp_stream"}`} {
		if _, ok := scrapeValue(body, series); !ok {
			t.Errorf("the scrape of a live run lacks %s", series)
		}
	}
	// The ICMP and UDP flows are open until their timeout.
	if v, _ := scrapeValue(body, "netcap_open_connections"); v < 2 {
		t.Errorf("netcap_open_connections = %v, want at least the ping and UDP flows", v)
	}
	packets, _ := scrapeValue(body, "netcap_packets_total")
	t.Logf("live export on %s: %v packets, %v ICMPv4 and %v UDP records", p.ifA, packets, want[`netcap_records_total{type="ICMPv4"}`], want[`netcap_records_total{type="UDP"}`])

	if err := stopWith(t, ne, syscall.SIGTERM); err != nil {
		t.Errorf("net export after SIGTERM: %v (want exit 0)\n%s", err, stderr.String())
	}
}
