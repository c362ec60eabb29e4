package collector

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// ServerConfig describes an embedded NATS server with JetStream.
type ServerConfig struct {
	Name     string // server name; "netcap-collect" if empty (unique within a cluster)
	Host     string
	Port     int    // -1: any free port
	StoreDir string // JetStream file store

	// Mutual TLS: the server presents TLSCert/TLSKey and accepts only
	// clients whose certificate TLSCA signed.
	TLSCert, TLSKey, TLSCA string
	// Users is a file of accepted sensors, one a line: "name password
	// [sensor]" (sensor defaults to name), "U<NKey public key> sensor"
	// or "cert sensor <certificate identity>" (verify_and_map: the
	// certificate's e-mail, DNS name, URI or subject DN). Each may only
	// publish netcap.<sensor>.<Type> and receive its acks
	// (SensorPermissions). Empty lines and lines starting with # are
	// skipped. No file: anyone may connect and do anything.
	Users string

	// Cluster: a name shared by the nodes, this node's route port on Host
	// (-1: any free one) and the route URLs of the others.
	Cluster     string
	ClusterPort int
	Routes      []string

	// ConfigFile is a nats-server configuration file (operator mode with
	// JWT accounts, TLS, authorization, clustering: whatever nats-server
	// reads). It replaces the fields above but Name, Host, Port and
	// StoreDir, which apply where the file does not say; JetStream is on.
	// Local is how the collector in the same process signs in (-creds,
	// -nkey): the file's users are not known here.
	ConfigFile string
	Local      ConnOptions
}

// StartServer starts an embedded NATS server with JetStream, its file store
// in storeDir, listening on host:port (port -1: any free port). Stop it with
// Shutdown and WaitForShutdown.
func StartServer(host string, port int, storeDir string) (*Server, error) {
	return StartServerConfig(ServerConfig{Host: host, Port: port, StoreDir: storeDir})
}

// StartServerConfig starts the server c describes and waits until it takes
// connections (a cluster node: until it listens; JetStream comes once a
// quorum of nodes is up).
func StartServerConfig(c ServerConfig) (*Server, error) {
	if c.Name == "" {
		c.Name = "netcap-collect"
	}
	if c.ConfigFile != "" {
		return startFromFile(c)
	}
	o := &server.Options{
		ServerName: c.Name,
		Host:       c.Host,
		Port:       c.Port,
		JetStream:  true,
		StoreDir:   c.StoreDir,
		MaxPayload: MaxPayload,
		NoSigs:     true,
		NoLog:      true,
	}
	if c.TLSCert != "" || c.TLSKey != "" || c.TLSCA != "" {
		if c.TLSCert == "" || c.TLSKey == "" || c.TLSCA == "" {
			return nil, errors.New("nats server: mutual TLS needs a certificate, its key and the CA of the clients")
		}
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: c.TLSCert, KeyFile: c.TLSKey, CaFile: c.TLSCA, Verify: true})
		if err != nil {
			return nil, fmt.Errorf("nats server TLS: %w", err)
		}
		o.TLS, o.TLSVerify, o.TLSConfig, o.TLSTimeout = true, true, tc, 2
	}
	var local ConnOptions
	if c.Users != "" {
		users, nks, certs, err := readUsers(c.Users)
		if err != nil {
			return nil, err
		}
		if certs && !o.TLSVerify {
			return nil, fmt.Errorf("users %s: \"cert\" lines need mutual TLS (-tls-cert, -tls-key, -tls-ca)", c.Users)
		}
		// verify_and_map: a client with a certificate signs in as the
		// user its certificate names.
		o.TLSMap = certs
		// The collector in the same process signs in with an NKey of its
		// own, made here and kept only in memory; it is the only user
		// without limits. An NKey, as a certificate mapping (which it has
		// no certificate for) does not apply to NKey users.
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, err
		}
		pub, _ := kp.PublicKey()
		local = ConnOptions{signer: kp}
		o.Users, o.Nkeys = users, append(nks, &server.NkeyUser{Nkey: pub})
	}
	if c.Cluster != "" {
		o.Cluster.Name = c.Cluster
		o.Cluster.Host = c.Host
		o.Cluster.Port = c.ClusterPort
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("route %q: %w", r, err)
			}
			o.Routes = append(o.Routes, u)
		}
	}
	return start(o, local)
}

// startFromFile starts the server of c.ConfigFile.
func startFromFile(c ServerConfig) (*Server, error) {
	if c.TLSCert != "" || c.TLSKey != "" || c.TLSCA != "" || c.Users != "" || c.Cluster != "" {
		return nil, errors.New("nats server: a config file says who may connect (TLS, users, accounts) and the cluster; give those there")
	}
	o, err := server.ProcessConfigFile(c.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("nats server config: %w", err)
	}
	if o.ServerName == "" {
		o.ServerName = c.Name
	}
	if o.Host == "" && o.Port == 0 {
		o.Host, o.Port = c.Host, c.Port
	}
	if o.StoreDir == "" {
		o.StoreDir = c.StoreDir
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = MaxPayload
	}
	o.JetStream, o.NoSigs, o.NoLog = true, true, true
	return start(o, c.Local)
}

// start runs the server o describes and waits until it takes connections.
func start(o *server.Options, local ConnOptions) (*Server, error) {
	s, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server on %s:%d: not ready after 10 s", o.Host, o.Port)
	}
	return &Server{Server: s, local: local}, nil
}

// Server is an embedded NATS server.
type Server struct {
	*server.Server
	local ConnOptions
}

// ConnectLocal connects to s in process, past its TLS and with a user of
// its own, for the collector that started it.
func (s *Server) ConnectLocal(name string) (*nats.Conn, error) {
	o := s.local
	o.Name, o.FailFast, o.inProcess = name, true, s.Server
	nc, err := Connect("", o)
	if err != nil && (errors.Is(err, io.ErrClosedPipe) || strings.Contains(err.Error(), io.ErrClosedPipe.Error())) {
		// A server that refuses an in-process client closes the pipe
		// before saying why.
		return nil, fmt.Errorf("%w: the embedded server closed the collector's connection: its -creds or -nkey are not accepted", nats.ErrAuthorization)
	}
	return nc, err
}

// SensorPermissions confine a sensor's connection to publishing its own
// records (netcap.<sensor>.<Type>: one token for the type, so sensor "a"
// cannot publish as "a.b") and to receiving the acks on its own inbox
// (InboxPrefix: two more tokens, as nats.go's JetStream publish makes
// them). Nothing else: no JetStream API call, no other subject.
func SensorPermissions(sensor string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{SensorPublish(sensor)}},
		Subscribe: &server.SubjectPermission{Allow: []string{SensorSubscribe(sensor)}},
	}
}

// SensorPublish is the subject a sensor may publish to.
func SensorPublish(sensor string) string { return "netcap." + sensor + ".*" }

// SensorSubscribe is the subject a sensor may subscribe to: its acks.
func SensorSubscribe(sensor string) string { return InboxPrefix(sensor) + ".*.*" }

// InboxPrefix is the inbox prefix of a sensor's connection (nats.go's
// CustomInboxPrefix): the JetStream acks of its publishes come there.
func InboxPrefix(sensor string) string { return "_NETCAP_INBOX." + sensor }

// usersForm says what a users file line may be.
const usersForm = `want "name password [sensor]", "U<NKey public key> sensor" or "cert sensor <certificate identity>"`

// readUsers reads a users file (see ServerConfig.Users): each user may
// publish only as its sensor. certs reports "cert" lines (verify_and_map).
func readUsers(path string) (users []*server.User, nks []*server.NkeyUser, certs bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false, fmt.Errorf("users: %w", err)
	}
	defer f.Close()
	seen := map[string]bool{}
	passwords := false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		fields := strings.Fields(text)
		bad := func(why string) error { return fmt.Errorf("users %s:%d: %s", path, line, why) }
		var name, sensor string
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
			continue
		case fields[0] == "cert" && len(fields) >= 3:
			// The identity is the rest of the line: a DN may hold spaces.
			sensor = fields[1]
			name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(text, "cert")), sensor))
			users = append(users, &server.User{Username: name, Permissions: SensorPermissions(sensor)})
			certs = true
		case nkeys.IsValidPublicUserKey(fields[0]):
			if len(fields) != 2 {
				return nil, nil, false, bad("an NKey needs the sensor it may publish as: U<NKey public key> sensor")
			}
			name, sensor = fields[0], fields[1]
			nks = append(nks, &server.NkeyUser{Nkey: name, Permissions: SensorPermissions(sensor)})
		case len(fields) == 2 || len(fields) == 3:
			name, sensor = fields[0], fields[len(fields)-1]
			if len(fields) == 2 {
				sensor = name
			}
			users = append(users, &server.User{Username: name, Password: fields[1], Permissions: SensorPermissions(sensor)})
			passwords = true
		default:
			return nil, nil, false, bad(usersForm)
		}
		if err := ValidSensor(sensor); err != nil {
			return nil, nil, false, bad(err.Error())
		}
		if seen[name] {
			return nil, nil, false, bad(fmt.Sprintf("%q is listed twice", name))
		}
		seen[name] = true
	}
	if err := sc.Err(); err != nil {
		return nil, nil, false, fmt.Errorf("users: %w", err)
	}
	if certs && passwords {
		return nil, nil, false, fmt.Errorf("users %s: \"cert\" lines and password lines do not mix: with certificates mapped to users, the server takes the user from the certificate (NKey lines may stay)", path)
	}
	if len(users)+len(nks) == 0 {
		return nil, nil, false, fmt.Errorf("users %s: no user", path)
	}
	return users, nks, certs, nil
}

// ConnOptions are the client side of mutual TLS and NATS credentials.
type ConnOptions struct {
	Name                   string
	TLSCert, TLSKey, TLSCA string
	Creds                  string // JWT and NKey seed (decentralized auth)
	NKey                   string // file holding an NKey seed (SU...)
	User, Password         string
	InboxPrefix            string // replies (JetStream acks) come to <prefix>.>; an agent: InboxPrefix(sensor)
	signer                 nkeys.KeyPair
	inProcess              nats.InProcessConnProvider
	FailFast               bool // return an error when the first connect fails, instead of retrying in the background
}

// Connect dials url (comma-separated for a cluster) and keeps reconnecting
// for ever. Publishes are not buffered by the client while disconnected:
// the agent keeps its own bounded buffer.
func Connect(url string, o ConnOptions) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.RetryOnFailedConnect(!o.FailFast),
	}
	if o.TLSCert != "" || o.TLSKey != "" {
		opts = append(opts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	if o.TLSCA != "" {
		opts = append(opts, nats.RootCAs(o.TLSCA))
	}
	if o.Creds != "" {
		opts = append(opts, nats.UserCredentials(o.Creds))
	}
	if o.NKey != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKey)
		if err != nil {
			return nil, fmt.Errorf("nkey %s: %w", o.NKey, err)
		}
		opts = append(opts, opt)
	}
	if o.signer != nil {
		pub, _ := o.signer.PublicKey()
		opts = append(opts, nats.Nkey(pub, o.signer.Sign))
	}
	if o.User != "" {
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	}
	if o.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(o.InboxPrefix))
	}
	if o.inProcess != nil {
		opts = append(opts, nats.InProcessServer(o.inProcess))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", redactURLs(url), err)
	}
	return nc, nil
}

// Refused reports whether a Connect error is the server refusing this
// client (TLS or credentials), which trying again does not mend.
func Refused(err error) bool {
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") || strings.Contains(msg, "tls error")
}
