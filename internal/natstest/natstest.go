// Package natstest helps the tests of net agent and net collect: it runs
// Debian's nats-server as a process, and makes the operator, account and
// user JWTs of NATS decentralized auth with their credentials files.
package natstest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/netcap/netcap/collector"
	"github.com/netcap/netcap/internal/testutil"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Binary returns the path of nats-server, or skips the test.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server not found in PATH: install Debian's package nats-server (.ci/run does) to run this test")
	}
	return p
}

// Server is a nats-server process.
type Server struct {
	t    testing.TB
	bin  string
	args []string
	Port int
	URL  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	log  testutil.SyncBuffer
	done chan struct{}
}

// Start runs nats-server with args, which must make it listen on
// 127.0.0.1:port, and waits until it takes connections. The process is
// killed when the test ends.
func Start(t testing.TB, port int, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), args: args, Port: port, URL: "nats://127.0.0.1:" + strconv.Itoa(port)}
	s.start()
	t.Cleanup(func() {
		s.mu.Lock()
		cmd, done := s.cmd, s.done
		s.mu.Unlock()
		if cmd != nil {
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("nats-server %v printed:\n%s", s.args, s.Log())
		}
	})
	return s
}

func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			s.t.Fatalf("nats-server %v exited: %s", s.args, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server %v: port %d not open after 15 s: %s", s.args, s.Port, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends sig and waits until the process has exited.
func (s *Server) Stop(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		s.t.Fatalf("nats-server did not stop within 30 s of %v", sig)
	}
}

// Restart starts the server again with the same arguments.
func (s *Server) Restart() {
	s.t.Helper()
	s.start()
}

// Log returns what the server printed.
func (s *Server) Log() string { return s.log.String() }

// Auth is a decentralized-auth setup: an operator, its system account, the
// account NETCAP (JetStream enabled) and users of it, each with a
// credentials file (the user JWT and its NKey seed).
type Auth struct {
	// Config is the part of a server config that trusts the operator and
	// holds the account JWTs in memory (resolver MEMORY, preloaded).
	Config string
	// Sensor and Collector are users of NETCAP: Sensor may only publish
	// as sensor SensorName and receive its acks (collector.SensorPermissions),
	// Collector may do anything.
	Sensor, Collector string
	SensorName        string
	// Stranger is a user of an account the server does not know;
	// Forged holds the sensor's JWT with another user's seed.
	Stranger, Forged string
}

// NewAuth makes the keys, JWTs and credentials files in dir.
func NewAuth(t testing.TB, dir string) *Auth {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	op, err := nkeys.CreateOperator()
	must(err)
	opPub, _ := op.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "netcap-test"
	opJWT, err := oc.Encode(op)
	must(err)

	account := func(name string, signer nkeys.KeyPair, js bool) (nkeys.KeyPair, string, string) {
		kp, err := nkeys.CreateAccount()
		must(err)
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		tok, err := ac.Encode(signer)
		must(err)
		return kp, pub, tok
	}
	_, sysPub, sysJWT := account("SYS", op, false)
	acc, accPub, accJWT := account("NETCAP", op, true)
	// The stranger's account is signed by another operator and not
	// preloaded: the server cannot resolve it.
	otherOp, err := nkeys.CreateOperator()
	must(err)
	other, _, _ := account("OTHER", otherOp, true)

	// user makes a user of the account signer and its creds file; with
	// swap, the file holds swap's JWT in place of the user's own.
	user := func(name string, signer nkeys.KeyPair, swap string, sensor string) (path, token string) {
		kp, err := nkeys.CreateUser()
		must(err)
		pub, _ := kp.PublicKey()
		uc := jwt.NewUserClaims(pub)
		uc.Name = name
		if sensor != "" {
			SensorClaims(uc, sensor)
		}
		tok, err := uc.Encode(signer)
		must(err)
		seed, err := kp.Seed()
		must(err)
		creds, err := jwt.FormatUserConfig(tok, seed)
		must(err)
		if swap != "" {
			creds = bytes.Replace(creds, []byte(tok), []byte(swap), 1)
		}
		p := filepath.Join(dir, name+".creds")
		must(os.WriteFile(p, creds, 0o600))
		return p, tok
	}
	a := &Auth{SensorName: "lab"}
	var sensorJWT string
	a.Sensor, sensorJWT = user("sensor", acc, "", a.SensorName)
	a.Collector, _ = user("collector", acc, "", "")
	a.Stranger, _ = user("stranger", other, "", a.SensorName)
	a.Forged, _ = user("forged", acc, sensorJWT, a.SensorName)
	a.Config = fmt.Sprintf("operator: %q\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %q\n  %s: %q\n}\n",
		opJWT, sysPub, sysPub, sysJWT, accPub, accJWT)
	return a
}

// LoadAccount connects to the server at url as the collector's user and
// returns the connection, closed when the test ends. A server with
// resolver MEMORY loads an account, and enables its JetStream, on the
// first connection of one of its users. Debian's nats-server 2.9.10 does
// that for every connection that arrives before the account is loaded:
// when net collect and an agent make the first two at once, each gets its
// own JetStream state on the same store directory, and the second one's
// start deletes or reopens the stream files the first one's client is
// making (the collector then fails with "error creating store for
// stream" or the server reads missing message blocks). A test connects
// here, alone, before it starts processes of the account, so the account
// is loaded once; the server answers the connect only after it has loaded
// it. Later servers (the embedded one) reuse the account's state.
func (a *Auth) LoadAccount(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := collector.Connect(url, collector.ConnOptions{Creds: a.Collector, FailFast: true})
	if err != nil {
		t.Fatalf("the collector's credentials were refused: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// SensorClaims gives a user JWT the permissions of a sensor: publish
// netcap.<sensor>.<Type>, subscribe to its acks, nothing else (what
// "nsc add user --allow-pub ... --allow-sub ..." writes).
func SensorClaims(uc *jwt.UserClaims, sensor string) {
	uc.Pub.Allow.Add(collector.SensorPublish(sensor))
	uc.Sub.Allow.Add(collector.SensorSubscribe(sensor))
}

// WriteConfig writes a whole server config to dir/server.conf: listen on
// 127.0.0.1:port (-1: any free port), JetStream stored in store, 8 MB
// messages, and the decentralized auth of a. It returns the file's path.
func (a *Auth) WriteConfig(t testing.TB, dir string, port int, store string) string {
	t.Helper()
	conf := fmt.Sprintf("listen: \"127.0.0.1:%d\"\nmax_payload: 8MB\njetstream {\n  store_dir: %q\n}\n%s", port, store, a.Config)
	p := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Embedded starts netcap's embedded NATS server with JetStream on a free
// port of 127.0.0.1 and connects to it; both end with the test. The
// streams are not made: that is what net collect and net agent do.
func Embedded(t testing.TB) (url string, js jetstream.JetStream) {
	t.Helper()
	srv, err := collector.StartServer("127.0.0.1", -1, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	url = srv.ClientURL()
	nc, err := collector.Connect(url, collector.ConnOptions{FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	return url, js
}
