package stream

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// StartServer starts an embedded NATS server with JetStream, its file store
// in storeDir, listening on host:port (port -1: any free port). Stop it with
// Shutdown and WaitForShutdown.
func StartServer(host string, port int, storeDir string) (*server.Server, error) {
	s, err := server.NewServer(&server.Options{
		ServerName: "netcap-collect",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		MaxPayload: MaxPayload,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server on %s:%d: not ready after 10 s", host, port)
	}
	return s, nil
}

// ConnOptions are the client side of mutual TLS and NATS credentials.
type ConnOptions struct {
	Name                   string
	TLSCert, TLSKey, TLSCA string
	Creds                  string
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
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", url, err)
	}
	return nc, nil
}
