package label

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A fast.log line:
//
//	12/17/2024-19:17:54.565494  [**] [1:2200073:2] SURICATA IPv4 invalid checksum [**] [Classification: Generic Protocol Command Decode] [Priority: 3] {UDP} 192.168.37.130:55551 -> 192.168.37.1:53
//
// Classification is "(null)" when the rule has none. IPv6 addresses are
// written as addr:port with no brackets, so the port follows the last colon.
var fastRe = regexp.MustCompile(`^(\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d(?:\.\d+)?)\s+\[\*\*\]\s+\[(\d+):(\d+):(\d+)\]\s+(.*?)\s+\[\*\*\](?:\s+\[Classification:\s*(.*?)\])?(?:\s+\[Priority:\s*(\d+)\])?\s+\{([^}]*)\}\s+(\S+)\s+->\s+(\S+)\s*$`)

const fastTime = "01/02/2006-15:04:05.999999"

// ParseZone reads a -tz value: an IANA name (UTC, Europe/Berlin) or a fixed
// offset (+02:00, -0500).
func ParseZone(s string) (*time.Location, error) {
	if s == "" {
		return nil, errors.New("empty time zone")
	}
	if s[0] == '+' || s[0] == '-' {
		for _, layout := range []string{"-07:00", "-0700", "-07"} {
			if t, err := time.Parse(layout, s); err == nil {
				_, off := t.Zone()
				return time.FixedZone(s, off), nil
			}
		}
		return nil, fmt.Errorf("time zone offset %q: write it as +02:00 or -0500", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %v (give an IANA name such as UTC or America/New_York, or an offset such as -05:00)", s, err)
	}
	return loc, nil
}

func readFastLog(r io.Reader, loc *time.Location) (*Alerts, error) {
	as := &Alerts{Format: "fast.log"}
	lr := NewLineReader(r, MaxLine)
	for {
		raw, long, err := lr.Next()
		if err == io.EOF {
			return as, nil
		}
		if err != nil {
			return nil, fmt.Errorf("alerts: line %d: %v", lr.Line()+1, err)
		}
		n := lr.Line()
		if long {
			as.bad(n, errLong)
			continue
		}
		line := strings.TrimSpace(string(raw))
		if line == "" {
			continue
		}
		a, err := parseFastLine(line, n, loc)
		if err != nil {
			as.bad(n, err)
			continue
		}
		as.List = append(as.List, a)
	}
}

func parseFastLine(line string, n int, loc *time.Location) (*Alert, error) {
	m := fastRe.FindStringSubmatch(line)
	if m == nil {
		return nil, errors.New("not a fast.log alert line")
	}
	t, err := time.ParseInLocation(fastTime, m[1], loc)
	if err != nil {
		return nil, fmt.Errorf("timestamp %q: %v", m[1], err)
	}
	sid, _ := strconv.ParseInt(m[3], 10, 64)
	class := m[6]
	if class == "(null)" {
		class = ""
	}
	sev := 3
	if m[7] != "" {
		sev, _ = strconv.Atoi(m[7])
	}
	src, sport, err := splitHostPort(m[9])
	if err != nil {
		return nil, err
	}
	dst, dport, err := splitHostPort(m[10])
	if err != nil {
		return nil, err
	}
	return &Alert{
		Line: n, Time: t.UnixNano(), Proto: m[8], Src: src, Dst: dst, SrcPort: sport, DstPort: dport,
		Signature: cut(m[5], MaxLabel), Category: cut(class, MaxLabel), Severity: sev, SID: sid, conn: -1,
	}, nil
}

// splitHostPort splits "addr:port" at the last colon: Suricata writes
// IPv6 fully expanded with no brackets, so the port is always after the last
// colon. A bare address (no port) is accepted as port 0.
func splitHostPort(s string) (netip.Addr, int32, error) {
	s = strings.TrimPrefix(s, "[")
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		if p, err := strconv.ParseUint(s[i+1:], 10, 16); err == nil {
			if ip, err := parseAddr(strings.TrimSuffix(s[:i], "]")); err == nil {
				return ip, int32(p), nil
			}
		}
	}
	ip, err := parseAddr(strings.TrimSuffix(s, "]"))
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("address %q: want addr:port", s)
	}
	return ip, 0, nil
}
