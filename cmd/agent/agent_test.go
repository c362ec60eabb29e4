package agent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/stream"
)

// TestRefused runs net agent against a server that wants a user and
// password: without them it stops at once with status 2 and says why; with
// them it sends the file.
func TestRefused(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("lab pw-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := stream.StartServerConfig(stream.ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), Users: users})
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
	if err := stream.EnsureStreams(context.Background(), js, stream.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code = run([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab", "-nats", "nats://lab:pw-123@" + addr, "-status", "0", "-wait", "10s"}, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "dropped records: none") {
		t.Fatalf("with credentials: status %d, %q", code, stderr.String())
	}
}
