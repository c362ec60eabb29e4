package agent

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/internal/natstest"
)

// TestJWTCreds runs net agent -creds against an embedded server in operator
// mode (operator, account and user JWTs made by the test, accounts
// preloaded in memory): the sensor's credentials deliver every record;
// the credentials of a user of an account the server does not know, or a
// user JWT with another user's seed, are refused with one line and status 2.
func TestJWTCreds(t *testing.T) {
	dir := t.TempDir()
	auth := natstest.NewAuth(t, dir)
	opts, err := server.ProcessConfigFile(auth.WriteConfig(t, dir, -1, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs, opts.NoLog = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	url := s.ClientURL()

	// The collector's user makes the streams and counts what arrives.
	nc, err := collector.Connect(url, collector.ConnOptions{Creds: auth.Collector, FailFast: true})
	if err != nil {
		t.Fatalf("the collector's credentials were refused: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := collector.EnsureStreams(ctx, js, collector.StreamOptions{}); err != nil {
		t.Fatal(err)
	}

	for name, creds := range map[string]string{"unknown account": auth.Stranger, "JWT with another seed": auth.Forged} {
		var stderr bytes.Buffer
		code := run([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab", "-nats", url, "-creds", creds}, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "net agent: refused by the server: ") {
			t.Errorf("%s: status %d, %q; want status 2 and one line saying it was refused", name, code, msg)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(msg))
	}

	var stderr bytes.Buffer
	code := run([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab", "-nats", url, "-creds", auth.Sensor, "-status", "0", "-wait", "10s"}, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "dropped records: none") {
		t.Fatalf("with the sensor's credentials: status %d, %q", code, stderr.String())
	}
	out := t.TempDir()
	c := collector.NewCollector(js, collector.CollectorConfig{Out: out, Fetch: 16, Version: "test"})
	cctx, ccancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	st, err := js.Stream(ctx, collector.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ccancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Records.Load() == 0 || !strings.Contains(stderr.String(), fmt.Sprintf(" %d records,", c.Records.Load())) {
		t.Fatalf("collector stored %d records; agent said %q", c.Records.Load(), stderr.String())
	}
	t.Logf("with the sensor's credentials: %d records in %d messages stored", c.Records.Load(), c.Batches.Load())
}
