// Package label joins ground truth (Suricata alerts, attack timelines) to the
// audit records of a capture and writes every record once, with a label
// column, as <Type>_labeled.csv.gz.
package label

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Alert is one IDS alert, from an EVE JSON line or a fast.log line.
type Alert struct {
	Line        int    // line in the alert file, 1-based
	Time        int64  // Unix ns
	Frame       int64  // pcap_cnt (= FrameNumber), 0 when unknown
	Proto       string // upper case, as Suricata writes it: TCP, UDP, ICMP, IGMP, IPV6-ICMP, ...
	Src, Dst    netip.Addr
	SrcPort     int32
	DstPort     int32
	CommunityID string
	Signature   string
	Category    string
	Severity    int // 1 is the most severe
	SID         int64

	conn int32 // index of the matched connection, -1 when none
	why  string
}

// Label is the alert's label: its classification, or its signature with
// -description. An alert without classification (custom rules often have
// none) is labelled by its signature.
func (a *Alert) Label(description bool) string {
	if description || a.Category == "" {
		return a.Signature
	}
	return a.Category
}

func (a *Alert) String() string {
	return fmt.Sprintf("line %d: %s %s %s -> %s %q", a.Line,
		time.Unix(0, a.Time).UTC().Format("2006-01-02T15:04:05.000000Z"), a.Proto,
		endpoint(a.Src, a.SrcPort), endpoint(a.Dst, a.DstPort), a.Signature)
}

func endpoint(ip netip.Addr, port int32) string {
	if port == 0 {
		return ip.String()
	}
	return netip.AddrPortFrom(ip, uint16(port)).String()
}

// parseAddr reads an address as Suricata writes it; IPv6 may be fully
// expanded ("fe80:0000:...") and is normalised, IPv4-mapped IPv6 is unmapped.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap(), nil
}

// hasPorts tells whether a protocol's flows are keyed by ports. Others (ICMP,
// IGMP, ...) are matched by addresses and protocol only.
func hasPorts(proto string) bool {
	switch strings.ToUpper(proto) {
	case "TCP", "UDP", "SCTP":
		return true
	}
	return false
}

// protoClass maps Suricata's and netcap's protocol names to one key.
func protoClass(proto string) string {
	switch p := strings.ToUpper(proto); p {
	case "ICMP", "ICMPV4":
		return "ICMP"
	case "IPV6-ICMP", "ICMPV6", "ICMP6":
		return "ICMPV6"
	default:
		return p
	}
}

// Alerts is what an alert file held.
type Alerts struct {
	Format    string // "EVE JSON" or "fast.log"
	List      []*Alert
	Other     int   // EVE events that are not alerts (flow, dns, stats, ...)
	Malformed int   // lines that could not be read
	BadLines  []int // their line numbers, the first maxBadLines
	BadErrors []string
}

const (
	maxBadLines = 10
	// maxBadError is the longest reason kept for a malformed line: a
	// reason may quote the line's value (a timestamp, an address).
	maxBadError = 200
)

func (as *Alerts) bad(line int, err error) {
	as.Malformed++
	if len(as.BadLines) < maxBadLines {
		as.BadLines = append(as.BadLines, line)
		as.BadErrors = append(as.BadErrors, cut(err.Error(), maxBadError))
	}
}

// MaxLabel is the longest label written, in bytes: a signature, category or
// attack name over it is cut (ending in "…"), and so is a -collect join.
// Real signatures are under 200 bytes; a 10 MB one would be written into
// every labelled record of its flow.
const MaxLabel = 1024

// cut returns s cut to at most max bytes at a character boundary, ending in
// "…" when it was cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	end := max - len("…")
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}

// ErrRefused is in the error of an input refused before labelling starts (a
// device, a FIFO among the record files, an attack file over its bound):
// net label exits 2 for it, as for bad usage.
var ErrRefused = errors.New("input refused")

type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

// refuse returns a refusal error with a formatted message.
func refuse(format string, args ...any) error {
	return &refusal{fmt.Sprintf(format, args...)}
}
