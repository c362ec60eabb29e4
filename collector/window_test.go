package collector

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/capture"
)

// delayProxy forwards TCP connections on 127.0.0.1 to target, holding back
// every chunk for delay in each direction: a link with a round trip of
// twice delay. It returns its address.
func delayProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	type chunk struct {
		due  time.Time
		data []byte
	}
	pipe := func(dst, src net.Conn) {
		q := make(chan chunk, 1<<14)
		go func() {
			defer close(q)
			for {
				b := make([]byte, 32<<10)
				n, err := src.Read(b)
				if n > 0 {
					q <- chunk{time.Now().Add(delay), b[:n]}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer dst.Close()
			for c := range q {
				time.Sleep(time.Until(c.due))
				if _, err := dst.Write(c.data); err != nil {
					io.Copy(io.Discard, src)
					return
				}
			}
		}()
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); s.Close() })
			pipe(s, c)
			pipe(c, s)
		}
	}()
	return l.Addr().String()
}

// TestWindowRoundTrip replays attack_scan.pcap (4 KiB parts, 943 messages)
// to a server behind a link with a 20 ms round trip: with one part of a
// type on its way at a time, each type's parts take a round trip each;
// with a window of 8 the replay must take at most half as long.
func TestWindowRoundTrip(t *testing.T) {
	path := sharedCapture(t)
	srv, _, _ := startJS(t, t.TempDir())
	addr := delayProxy(t, strings.TrimPrefix(srv.ClientURL(), "nats://"), 10*time.Millisecond)
	replayed := func(window int) time.Duration {
		nc, err := Connect("nats://"+addr, ConnOptions{FailFast: true})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ag, err := NewAgent(js, AgentConfig{Sensor: "far", Compressed: true, Window: window})
		if err != nil {
			t.Fatal(err)
		}
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		began := time.Now()
		sum, err := capture.Run(context.Background(), src, capture.Config{
			Decoding: capture.DecodeConfig{Workers: 2},
			Output: capture.OutputConfig{
				Compress: true,
				Parts:    ag.Output(),
				PartSize: 4 << 10,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var written int64
		for _, n := range sum.Records {
			written += n
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := ag.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		took := time.Since(began)
		if ag.Records.Load() != written || ag.Retries.Load() != 0 {
			t.Fatalf("window %d: %d records acked of %d written, %d parts sent again", window, ag.Records.Load(), written, ag.Retries.Load())
		}
		t.Logf("window %d: %d messages acked in %.2f s over a 20 ms round trip", window, ag.Batches.Load(), took.Seconds())
		return took
	}
	one, eight := replayed(1), replayed(8)
	if eight > one/2 {
		t.Fatalf("window 8 took %v, window 1 %v: want at most half", eight, one)
	}
}
