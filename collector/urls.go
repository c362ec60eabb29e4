package collector

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DialProbe is how long Unreachable waits for a server's TCP port to answer.
const DialProbe = 2 * time.Second

// serverURL reads one NATS server URL as nats.Connect does: without a
// scheme it is nats://, without a port 4222.
func serverURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("empty")
	}
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, err
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return nil, fmt.Errorf("scheme %q is not nats, tls, ws or wss", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q: want 1 to 65535", p)
		}
	}
	return u, nil
}

// redactURLs hides the passwords of -nats for messages.
func redactURLs(urls string) string {
	var out []string
	for _, raw := range strings.Split(urls, ",") {
		if u, err := serverURL(raw); err == nil {
			out = append(out, u.Redacted())
		} else {
			out = append(out, redact(raw))
		}
	}
	return strings.Join(out, ",")
}

// redact hides the user and password of a URL that did not parse.
func redact(raw string) string {
	raw = strings.TrimSpace(raw)
	if at := strings.LastIndexByte(raw, '@'); at >= 0 {
		start := strings.Index(raw, "://") + len("://")
		if start < len("://") || start > at {
			start = 0
		}
		return raw[:start] + "xxxxx" + raw[at:]
	}
	return raw
}

// CheckURLs checks -nats: server URLs, comma-separated. The error names the
// URL (its password hidden) and what is wrong with it.
func CheckURLs(urls string) error {
	for _, raw := range strings.Split(urls, ",") {
		if _, err := serverURL(raw); err != nil {
			return fmt.Errorf("%q: %v", redact(raw), err)
		}
	}
	return nil
}

// Unreachable words, in one line, why Connect to urls failed with err when
// it is not the server refusing the client (see Refused): it dials each
// server's port (for up to DialProbe) to tell a host that does not resolve,
// a refused port and one that does not answer apart, as err alone does not
// ("no servers available for connection"). who is what should listen
// there, for the hint: "the collector", "the NATS server".
func Unreachable(urls string, err error, who string) string {
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // without Connect's "nats <urls>: "
	}
	var why []string
	hint := ""
	for _, raw := range strings.Split(urls, ",") {
		u, perr := serverURL(raw)
		if perr != nil {
			return fmt.Sprintf("malformed -nats URL %q: %v", redact(raw), perr)
		}
		port := u.Port()
		if port == "" {
			port = "4222"
		}
		c, derr := net.DialTimeout("tcp", net.JoinHostPort(u.Hostname(), port), DialProbe)
		var dns *net.DNSError
		switch {
		case derr == nil && isTimeout(err):
			c.Close()
			why = append(why, u.Redacted()+": the port is open, but no NATS server answered")
			hint = "is -nats the address " + who + " listens on?"
		case derr == nil:
			c.Close()
			why = append(why, fmt.Sprintf("%s: %v", u.Redacted(), err))
			hint = "is -nats the address " + who + " listens on?"
		case errors.As(derr, &dns):
			why = append(why, fmt.Sprintf("%s: unknown host %s", u.Redacted(), u.Hostname()))
			hint = "check the host name in -nats"
		case errors.Is(derr, syscall.ECONNREFUSED):
			why = append(why, u.Redacted()+": connection refused")
			hint = "is " + who + " running?"
		case errors.Is(derr, syscall.ENETUNREACH) || errors.Is(derr, syscall.EHOSTUNREACH):
			why = append(why, u.Redacted()+": no route to the host")
			hint = "check the address in -nats"
		case isTimeout(derr):
			why = append(why, fmt.Sprintf("%s: no answer within %v", u.Redacted(), DialProbe))
			hint = "is a firewall in the way?"
		default:
			why = append(why, fmt.Sprintf("%s: %v", u.Redacted(), derr))
		}
	}
	line := "cannot connect to " + strings.Join(why, "; ")
	if hint != "" {
		line += "; " + hint
	}
	return line
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
