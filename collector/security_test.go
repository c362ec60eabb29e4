package collector

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
	file string // the CA certificate, PEM
}

var serial int64

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, dir: t.TempDir()}
	ca.file = ca.write(t, name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(t *testing.T, name, kind string, der []byte) string {
	t.Helper()
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue makes a certificate for name, a server's (for 127.0.0.1) or a
// client's, and returns the files of the certificate and its key.
func (ca *testCA) issue(t *testing.T, name string, isServer bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if isServer {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return ca.write(t, name+".pem", "CERTIFICATE", der), ca.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
}

func startSecure(t *testing.T, c ServerConfig) *Server {
	t.Helper()
	c.Host, c.Port, c.StoreDir = "127.0.0.1", -1, t.TempDir()
	s, err := StartServerConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// publishOne connects with o and has an agent publish one Flow part; it
// returns the connect error, if any, and fails the test if a connection
// that was accepted cannot publish.
func publishOne(t *testing.T, s *Server, o ConnOptions) error {
	t.Helper()
	localConn(t, s)
	o.FailFast, o.InboxPrefix = true, InboxPrefix("secure")
	nc, err := Connect(s.ClientURL(), o)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ag, err := NewAgent(js, AgentConfig{Sensor: "secure"})
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
	if err := pw.WritePart(rec, 1); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := ag.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if ag.Batches.Load() != 1 || len(ag.Drops()) != 0 {
		t.Fatalf("agent acked %d messages, dropped %v", ag.Batches.Load(), ag.Drops())
	}
	admin, err := s.ConnectLocal("collector")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ajs, _ := jetstream.New(admin)
	st, err := ajs.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, "netcap.secure.Flow"); err != nil {
		t.Fatalf("the part is not in the stream: %v", err)
	}
	return nil
}

// local checks that the collector's in-process connection gets past the
// server's TLS and users.
func localConn(t *testing.T, s *Server) {
	t.Helper()
	nc, err := s.ConnectLocal("collector")
	if err != nil {
		t.Fatalf("the collector's own connection was refused: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := EnsureStreams(ctx, js, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t, "netcap-test")
	other := newCA(t, "other")
	srvCert, srvKey := ca.issue(t, "server", true)
	s := startSecure(t, ServerConfig{TLSCert: srvCert, TLSKey: srvKey, TLSCA: ca.file})
	localConn(t, s)
	cert, key := ca.issue(t, "sensor", false)
	if err := publishOne(t, s, ConnOptions{TLSCert: cert, TLSKey: key, TLSCA: ca.file}); err != nil {
		t.Fatalf("a client with a valid certificate was refused: %v", err)
	}
	badCert, badKey := other.issue(t, "intruder", false)
	for name, o := range map[string]ConnOptions{
		"no certificate":            {TLSCA: ca.file},
		"certificate of other CA":   {TLSCert: badCert, TLSKey: badKey, TLSCA: ca.file},
		"no TLS, server CA unknown": {},
	} {
		err := publishOne(t, s, o)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); !Refused(err) || !strings.Contains(msg, "tls") && !strings.Contains(msg, "certificate") {
			t.Errorf("%s: refused, but the error does not say why: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := StartServerConfig(ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), TLSCert: srvCert}); err == nil {
		t.Error("a server with a certificate but no key and CA started")
	}
}

func TestCredentials(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	stranger, _ := nkeys.CreateUser()
	strangerSeed, _ := stranger.Seed()
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	seedFile := filepath.Join(dir, "sensor.nk")
	strangerFile := filepath.Join(dir, "stranger.nk")
	for p, b := range map[string][]byte{
		users:        []byte("# netcap users\nsensor s3cret-pass secure\n" + pub + " secure\n"),
		seedFile:     seed,
		strangerFile: strangerSeed,
	} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startSecure(t, ServerConfig{Users: users})
	localConn(t, s)
	for name, o := range map[string]ConnOptions{
		"password": {User: "sensor", Password: "s3cret-pass"},
		"nkey":     {NKey: seedFile},
	} {
		if err := publishOne(t, s, o); err != nil {
			t.Errorf("%s: a valid client was refused: %v", name, err)
		}
	}
	for name, o := range map[string]ConnOptions{
		"nothing":        {},
		"wrong password": {User: "sensor", Password: "guess"},
		"unknown user":   {User: "root", Password: "s3cret-pass"},
		"unknown nkey":   {NKey: strangerFile},
	} {
		err := publishOne(t, s, o)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, nats.ErrAuthorization) || !Refused(err) {
			t.Errorf("%s: refused, but not as an authorization violation: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := Connect("nats://127.0.0.1:1", ConnOptions{FailFast: true}); err == nil || Refused(err) {
		t.Errorf("a server that is not there counts as a refusal: %v", err)
	}
	bad := filepath.Join(dir, "bad-users")
	for _, text := range []string{"one two three four\n", pub + "\n", "lab pass bad/sensor\n", "lab pass\nlab other\n", "cert lab CN=lab\n", "cert lab CN=lab\nuser pass\n"} {
		os.WriteFile(bad, []byte(text), 0o600)
		if _, err := StartServerConfig(ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), Users: bad}); err == nil {
			t.Errorf("a server with the users file %q started", text)
		} else {
			t.Logf("users file %q: %v", text, err)
		}
	}
}
