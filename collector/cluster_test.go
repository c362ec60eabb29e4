package collector

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/internal/testutil"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts three JetStream servers routed to each other on
// 127.0.0.1 and returns them with the client URLs of all three.
func startCluster(t *testing.T) ([]*Server, string) {
	t.Helper()
	routes := make([]int, 3)
	for i := range routes {
		routes[i] = freePort(t)
	}
	nodes := make([]*Server, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		var others []string
		for j, p := range routes {
			if j != i {
				others = append(others, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = StartServerConfig(ServerConfig{
				Name: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(),
				Cluster: "netcap", ClusterPort: routes[i], Routes: others,
			})
		}()
	}
	wg.Wait()
	var urls []string
	for i, s := range nodes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		urls = append(urls, s.ClientURL())
	}
	return nodes, strings.Join(urls, ",")
}

func clusterJS(t *testing.T, urls string) jetstream.JetStream {
	t.Helper()
	nc, err := Connect(urls, ConnOptions{FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestCluster runs two agents and a collector against a 3-node cluster
// with the stream on all three, and stops the node leading the stream in
// the middle: every record of both agents arrives, once.
func TestCluster(t *testing.T) {
	path := sharedCapture(t)
	want := local(t, path)
	nodes, urls := startCluster(t)
	admin := clusterJS(t, urls)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for ctx.Err() == nil { // until the cluster has elected its meta leader
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		err = EnsureStreams(actx, admin, StreamOptions{Replicas: 3})
		acancel()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := admin.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream not on three nodes: %+v", info.Cluster)
	}
	leader := info.Cluster.Leader

	agents := make(chan *Agent, 2)
	for _, sensor := range []string{"dmz-1", "dmz-2"} {
		js := clusterJS(t, urls)
		go func() { agents <- replay(t, js, path, sensor, 4<<10) }()
	}
	out := t.TempDir()
	c := NewCollector(clusterJS(t, urls), CollectorConfig{Out: out, Fetch: 8, Version: "test", AckWait: 2 * time.Second, OrderWait: 10 * time.Second})
	cctx, ccancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	defer func() {
		ccancel()
		<-done
	}()
	for c.Batches.Load() < 50 && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	for _, s := range nodes {
		if s.Name() == leader {
			s.Shutdown()
			s.WaitForShutdown()
			t.Logf("stopped %s, the stream's leader, after %d messages", leader, c.Batches.Load())
		}
	}
	a1, a2 := <-agents, <-agents
	sent := a1.Records.Load() + a2.Records.Load()
	for c.Records.Load() < sent && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything more would be a duplicate
	ccancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil
	// A part delivered by the stopped leader and lost on its way is
	// delivered again after the ack wait, behind later parts: the
	// collector puts those back until it is there, so the files are in
	// the agents' order.
	n := testutil.SameRecordFiles(t, want, filepath.Join(out, "dmz-1"))
	n += testutil.SameRecordFiles(t, want, filepath.Join(out, "dmz-2"))
	if c.Records.Load() != sent || int64(n) != sent {
		t.Fatalf("agents sent %d records, collector stored %d, files hold %d", sent, c.Records.Load(), n)
	}
	if c.OutOfOrder.Load() != 0 {
		t.Fatalf("%d parts written out of order", c.OutOfOrder.Load())
	}
	t.Logf("%d records from two agents, %d messages sent again, %d duplicates dropped by the cluster, %d delivered again and skipped by the collector, %d times a part was put back to keep the order",
		sent, a1.Retries.Load()+a2.Retries.Load(), a1.Dups.Load()+a2.Dups.Load(), c.Redelivered.Load(), c.Held.Load())
}
