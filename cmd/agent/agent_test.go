package agent

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/collector"
)

// TestRefused runs net agent against a server that wants a user and
// password: without them it stops at once with status 2 and says why; with
// them it sends the file.
func TestRefused(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("lab pw-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := collector.StartServerConfig(collector.ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	addr := strings.TrimPrefix(s.ClientURL(), "nats://")
	var stderr bytes.Buffer
	code := run([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab", "-nats", "nats://" + addr, "-quiet"}, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "refused by the server") || !strings.Contains(stderr.String(), "Authorization Violation") {
		t.Fatalf("without credentials: status %d, %q", code, stderr.String())
	}
	t.Log(strings.TrimSpace(stderr.String()))

	// The streams are the collector's to make.
	nc, err := s.ConnectLocal("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := collector.EnsureStreams(context.Background(), js, collector.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code = run([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab", "-nats", "nats://lab:pw-123@" + addr, "-status", "0", "-wait", "10s"}, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "dropped records: none") {
		t.Fatalf("with credentials: status %d, %q", code, stderr.String())
	}
}

// TestUnreachable runs net agent where no server can be reached: each time
// it must say in one line what failed and exit with status 2 within a
// couple of seconds, not decode its input into a buffer and give up after
// -wait with "context deadline exceeded".
func TestUnreachable(t *testing.T) {
	// A port that refuses: one that was free a moment ago.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	// A port that takes the connection and says nothing (not NATS).
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct {
		name, url string
		want      []string
		within    time.Duration
	}{
		{"refused port", "nats://" + refused, []string{"cannot connect to nats://" + refused + ": connection refused; is the collector running?"}, 2 * time.Second},
		{"password hidden", "nats://lab:pw-123@" + refused, []string{"nats://lab:xxxxx@" + refused + ": connection refused"}, 2 * time.Second},
		{"malformed port", "nats://127.0.0.1:abc", []string{`malformed -nats URL "nats://127.0.0.1:abc"`, "invalid port"}, 2 * time.Second},
		{"malformed host", "nats://lab:pw-123@[::1", []string{`malformed -nats URL "nats://xxxxx@[::1"`, "missing ']'"}, 2 * time.Second},
		{"other scheme", "http://127.0.0.1:4222", []string{`malformed -nats URL "http://127.0.0.1:4222": scheme "http" is not nats`}, 2 * time.Second},
		{"unknown host", "nats://netcap-collector.invalid:4222", []string{"cannot connect to nats://netcap-collector.invalid:4222: unknown host netcap-collector.invalid"}, 2 * time.Second},
		{"second of two refused", "nats://" + refused + ",netcap-collector.invalid", []string{"connection refused; nats://netcap-collector.invalid: unknown host"}, 2 * time.Second},
		// The client waits 2 s for the server's INFO.
		{"not a NATS server", "nats://lab:pw-123@" + silent.Addr().String(), []string{"cannot connect to nats://lab:xxxxx@" + silent.Addr().String() + ": the port is open, but no NATS server answered"}, 4 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			start := time.Now()
			code := run([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab", "-nats", tc.url, "-status", "0"}, &stderr)
			took := time.Since(start)
			msg := stderr.String()
			t.Logf("status %d after %v: %s", code, took.Round(time.Millisecond), strings.TrimSpace(msg))
			if code != 2 {
				t.Errorf("status %d, want 2", code)
			}
			if strings.Count(msg, "\n") != 1 || strings.Contains(msg, "pw-123") {
				t.Errorf("want one line without the password: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("no %q in %q", w, msg)
				}
			}
			if took > tc.within {
				t.Errorf("took %v to exit, want at most %v", took, tc.within)
			}
		})
	}
}
