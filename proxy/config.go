package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Config is the content of a proxies.yml file, in the original netcap's
// shape:
//
//	proxies:
//	  web:
//	    local: 127.0.0.1:8080
//	    remote: http://127.0.0.1:9000
//	    tls: false            # true: the listening side speaks TLS (and HTTP/2)
//	certFile: proxy.crt       # needed when a proxy has tls: true
//	keyFile: proxy.key
//
// Unknown keys are errors, so that a misspelt key is not silently ignored.
type Config struct {
	Proxies  map[string]Entry `yaml:"proxies"`
	CertFile string           `yaml:"certFile"`
	KeyFile  string           `yaml:"keyFile"`
}

// Entry is one proxy: its listening address, its backend URL and whether
// the listening side speaks TLS.
type Entry struct {
	Local  string `yaml:"local"`
	Remote string `yaml:"remote"`
	TLS    bool   `yaml:"tls"`
}

// LoadConfig reads and checks a proxies.yml file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(b, path)
}

// ParseConfig parses and checks the YAML of a proxies file; name is used in
// error messages.
func ParseConfig(b []byte, name string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: empty file", name)
		}
		return nil, fmt.Errorf("config %s: %s", name, oneLine(err.Error()))
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &c, nil
}

// Names returns the proxy names, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Proxies))
	for n := range c.Proxies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check verifies every entry: a name, a host:port to listen on, an http or
// https URL with a host, and a certificate and key when TLS is asked for.
// Two proxies cannot share a listening address.
func (c *Config) Check() error {
	if len(c.Proxies) == 0 {
		return errors.New("no proxies")
	}
	needTLS := false
	seen := map[string]string{}
	for _, name := range c.Names() {
		e := c.Proxies[name]
		if name == "" {
			return errors.New("a proxy has an empty name")
		}
		if _, _, err := net.SplitHostPort(e.Local); err != nil {
			return fmt.Errorf("proxy %s: local %q is not host:port", name, e.Local)
		}
		if other, ok := seen[e.Local]; ok {
			return fmt.Errorf("proxy %s: local %s is already used by proxy %s", name, e.Local, other)
		}
		seen[e.Local] = name
		if _, err := ParseRemote(e.Remote); err != nil {
			return fmt.Errorf("proxy %s: %w", name, err)
		}
		needTLS = needTLS || e.TLS
	}
	if needTLS && (c.CertFile == "" || c.KeyFile == "") {
		return errors.New("a proxy has tls: true but certFile or keyFile is missing")
	}
	return nil
}

// ParseRemote parses a backend URL: scheme http or https, a host, and no
// query or fragment. Its path, if any, prefixes every request's path.
func ParseRemote(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("remote URL is missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("remote %q: %s", s, oneLine(err.Error()))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("remote %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("remote %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("remote %q: a query or fragment is not allowed", s)
	}
	return u, nil
}

// oneLine joins the lines of a multi-line error (yaml.v3 lists every
// error of a document on its own line).
func oneLine(s string) string {
	return string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
}
