package collector_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/internal/natstest"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// jsAPICalls is every JetStream API request a client can make of the
// NETCAP streams, the collector's consumer and the account.
var jsAPICalls = []string{
	"$JS.API.INFO",
	"$JS.API.STREAM.CREATE.EVIL",
	"$JS.API.STREAM.UPDATE.NETCAP",
	"$JS.API.STREAM.DELETE.NETCAP",
	"$JS.API.STREAM.DELETE.NETCAP_DEAD",
	"$JS.API.STREAM.PURGE.NETCAP",
	"$JS.API.STREAM.INFO.NETCAP",
	"$JS.API.STREAM.LIST",
	"$JS.API.STREAM.NAMES",
	"$JS.API.STREAM.MSG.GET.NETCAP",
	"$JS.API.STREAM.MSG.DELETE.NETCAP",
	"$JS.API.STREAM.SNAPSHOT.NETCAP",
	"$JS.API.STREAM.RESTORE.EVIL",
	"$JS.API.STREAM.PEER.REMOVE.NETCAP",
	"$JS.API.STREAM.LEADER.STEPDOWN.NETCAP",
	"$JS.API.DIRECT.GET.NETCAP",
	"$JS.API.DIRECT.GET.NETCAP.netcap.other.Flow",
	"$JS.API.CONSUMER.CREATE.NETCAP",
	"$JS.API.CONSUMER.CREATE.NETCAP.evil.netcap.>",
	"$JS.API.CONSUMER.DURABLE.CREATE.NETCAP.evil",
	"$JS.API.CONSUMER.DELETE.NETCAP.netcap-collect",
	"$JS.API.CONSUMER.INFO.NETCAP.netcap-collect",
	"$JS.API.CONSUMER.LIST.NETCAP",
	"$JS.API.CONSUMER.NAMES.NETCAP",
	"$JS.API.CONSUMER.MSG.NEXT.NETCAP.netcap-collect",
	"$JS.API.CONSUMER.PAUSE.NETCAP.netcap-collect",
	"$JS.API.CONSUMER.RESET.NETCAP.netcap-collect",
	"$JS.API.CONSUMER.LEADER.STEPDOWN.NETCAP.netcap-collect",
	"$JS.API.ACCOUNT.PURGE.X",
	"$JS.API.META.LEADER.STEPDOWN",
	"$JS.API.SERVER.REMOVE",
	"$JS.ACK.NETCAP.netcap-collect.1.1.1.0.0",
}

// foreignPublish are subjects of other sensors, the dead letters, and
// subjects of no sensor.
var foreignPublish = []string{"netcap.other.Flow", "netcap.lab.sub.Flow", "netcap.dead", "netcap.lab", "other"}

// foreignSubscribe: subscription and a subject the admin then publishes to.
var foreignSubscribe = [][2]string{
	{">", "anything"},
	{"netcap.>", "netcap.probe.Flow"},
	{"_INBOX.>", "_INBOX.abc.def"},
	{"_NETCAP_INBOX.>", "_NETCAP_INBOX.other.abc.def"},
	{"_NETCAP_INBOX.other.*.*", "_NETCAP_INBOX.other.abc.def"},
	{"_NETCAP_INBOX.lab.sub.*.*", "_NETCAP_INBOX.lab.sub.abc.def"},
	{"$JS.>", "$JS.EVENT.probe"},
}

// confinement is what one sensor connection may do.
type confinement struct {
	mu         sync.Mutex
	violations []string // the server's permission violation errors
}

// TestSensorConfined connects as sensor "lab" with each kind of credential
// (users file password, NKey, certificate mapped to a user, JWT) and tries
// every JetStream API call, publishing as other sensors and to the dead
// letters, and subscribing to other inboxes and the collector's subjects:
// each must be refused by the server (a permission violation, no answer).
// The same connection's agent still gets its records stored. A server
// without users is run the same way as the control: there the calls go
// through, so the test can tell.
func TestSensorConfined(t *testing.T) {
	for _, mode := range []string{"password", "nkey", "cert", "jwt", "control"} {
		t.Run(mode, func(t *testing.T) {
			url, sensor, admin := confinedServer(t, mode)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ajs, err := jetstream.New(admin)
			if err != nil {
				t.Fatal(err)
			}
			if err := collector.EnsureStreams(ctx, ajs, collector.StreamOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := ajs.CreateOrUpdateConsumer(ctx, collector.StreamName, jetstream.ConsumerConfig{Durable: "netcap-collect", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				t.Fatal(err)
			}
			sensor.InboxPrefix, sensor.FailFast = collector.InboxPrefix("lab"), true
			nc, err := collector.Connect(url, sensor)
			if err != nil {
				t.Fatalf("sensor refused: %v", err)
			}
			defer nc.Close()
			cf := &confinement{}
			nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				cf.mu.Lock()
				cf.violations = append(cf.violations, err.Error())
				cf.mu.Unlock()
			})

			// The sensor's own records arrive.
			publishAsLab(t, ctx, nc)
			st, err := ajs.Stream(ctx, collector.StreamName)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.GetLastMsgForSubject(ctx, "netcap.lab.Flow"); err != nil {
				t.Fatalf("the sensor's own part is not in the stream: %v", err)
			}

			allowed := cf.try(t, ctx, nc, admin, ajs)
			total := len(jsAPICalls) + len(foreignPublish) + len(foreignSubscribe)
			t.Logf("%s: %d of %d refused", mode, total-len(allowed), total)
			if mode == "control" {
				if len(allowed) < total/2 {
					t.Fatalf("control: only %d of %d allowed without users: the test cannot tell", len(allowed), total)
				}
				return
			}
			for _, a := range allowed {
				t.Errorf("%s: allowed: %s", mode, a)
			}
			if _, err := ajs.Stream(ctx, collector.StreamName); err != nil {
				t.Errorf("NETCAP gone after the sensor's tries: %v", err)
			}
		})
	}
}

// try makes every call and returns those that were not refused.
func (cf *confinement) try(t *testing.T, ctx context.Context, nc, admin *nats.Conn, ajs jetstream.JetStream) (allowed []string) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, subj := range jsAPICalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(`{}`)
			if strings.Contains(subj, "MSG.GET") || strings.Contains(subj, "MSG.DELETE") {
				body = []byte(`{"seq":1}`)
			}
			if strings.Contains(subj, ".CREATE.") {
				body = []byte(`{"stream_name":"NETCAP","config":{"durable_name":"evil","ack_policy":"explicit"},"name":"EVIL","subjects":["evil.>"]}`)
			}
			if _, err := nc.Request(subj, body, time.Second); err == nil {
				mu.Lock()
				allowed = append(allowed, "request "+subj+" answered")
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, subj := range foreignPublish {
		if err := nc.Publish(subj, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	subs := map[string]*nats.Subscription{}
	for _, s := range foreignSubscribe {
		sub, err := nc.SubscribeSync(s[0])
		if err != nil {
			t.Fatal(err)
		}
		subs[s[0]] = sub
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server's permission errors
	for _, s := range foreignSubscribe {
		if err := admin.Publish(s[1], []byte("probe")); err != nil {
			t.Fatal(err)
		}
	}
	admin.Flush()
	st, err := ajs.Stream(ctx, collector.StreamName)
	if err != nil {
		return append(allowed, "NETCAP is gone: "+err.Error())
	}
	for _, subj := range foreignPublish {
		if _, err := st.GetLastMsgForSubject(ctx, subj); err == nil {
			allowed = append(allowed, "publish "+subj+" stored")
		}
		if !cf.violated("Publish to \"" + subj + "\"") {
			allowed = append(allowed, "publish "+subj+" without a permission violation")
		}
	}
	for _, s := range foreignSubscribe {
		if _, err := subs[s[0]].NextMsg(300 * time.Millisecond); err == nil {
			allowed = append(allowed, "subscription "+s[0]+" received "+s[1])
		}
		if !cf.violated("Subscription to \"" + s[0] + "\"") {
			allowed = append(allowed, "subscription "+s[0]+" without a permission violation")
		}
	}
	for _, subj := range jsAPICalls {
		if !cf.violated("Publish to \"" + subj + "\"") {
			allowed = append(allowed, "request "+subj+" without a permission violation")
		}
	}
	return allowed
}

func (cf *confinement) violated(what string) bool {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	for _, v := range cf.violations {
		if strings.Contains(v, "ermissions") && strings.Contains(v, what) {
			return true
		}
	}
	return false
}

// publishAsLab has an agent on nc publish one Flow part as sensor lab.
func publishAsLab(t *testing.T, ctx context.Context, nc *nats.Conn) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ag, err := collector.NewAgent(js, collector.AgentConfig{Sensor: "lab", AckTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := ag.Output()(types.Type_NC_Flow, &types.Header{InputSource: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ncio.AppendDelimited(nil, &types.Flow{SrcIP: "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pw.WritePart(rec, 1)
	pw.Close()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ag.Wait(wctx); err != nil {
		t.Fatalf("the sensor's own part: %v (retries %d)", err, ag.Retries.Load())
	}
}

// confinedServer starts an embedded server whose sensor "lab" signs in by
// mode, and returns its URL, the sensor's options and a connection with
// every right (the collector's).
func confinedServer(t *testing.T, mode string) (string, collector.ConnOptions, *nats.Conn) {
	t.Helper()
	dir := t.TempDir()
	c := collector.ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()}
	var sensor collector.ConnOptions
	users := filepath.Join(dir, "users")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	switch mode {
	case "password":
		write(users, "# name password sensor\nlab-user s3cret lab\nother other-pass\n")
		c.Users, sensor = users, collector.ConnOptions{User: "lab-user", Password: "s3cret"}
	case "nkey":
		kp, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		write(filepath.Join(dir, "lab.nk"), string(seed))
		write(users, pub+" lab\nother other-pass\n")
		c.Users, sensor = users, collector.ConnOptions{NKey: filepath.Join(dir, "lab.nk")}
	case "cert":
		ca := natstest.NewCA(t, "netcap-test")
		c.TLSCert, c.TLSKey = ca.Issue(t, "server", true)
		c.TLSCA = ca.File
		cert, key := ca.Issue(t, "lab", false)
		write(users, "cert lab CN=lab\ncert other CN=other\n")
		c.Users, sensor = users, collector.ConnOptions{TLSCert: cert, TLSKey: key, TLSCA: ca.File}
	case "jwt":
		auth := natstest.NewAuth(t, dir)
		c.ConfigFile = auth.WriteConfig(t, dir, -1, t.TempDir())
		c.Local = collector.ConnOptions{Creds: auth.Collector}
		if auth.SensorName != "lab" {
			t.Fatalf("natstest's sensor is %q", auth.SensorName)
		}
		sensor = collector.ConnOptions{Creds: auth.Sensor}
	case "control":
	default:
		panic(fmt.Sprint("mode ", mode))
	}
	s, err := collector.StartServerConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	admin, err := s.ConnectLocal("collector")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	return s.ClientURL(), sensor, admin
}
