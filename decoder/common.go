package decoder

import (
	"encoding/hex"
	"math"
	"net"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Entropy returns the Shannon entropy of b in bits per byte (0 to 8, 0 for
// empty input), in one counting pass.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	var h float64
	for _, c := range counts {
		if c != 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// entropy computes the payload entropy only when the user asked for it: it
// costs a pass over every payload of every layer.
func entropy(p *Packet, b []byte) float64 {
	if !p.Entropy {
		return 0
	}
	return Entropy(b)
}

// payload returns b only when payloads are to be kept (-payload).
func payload(p *Packet, b []byte) []byte {
	if !p.Payloads {
		return nil
	}
	return b
}

// Text turns wire bytes into a string that protobuf accepts (valid UTF-8):
// invalid sequences become U+FFFD. Valid input is converted as is.
func Text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// ipText renders an IP address; addresses of odd length (malformed packets)
// are rendered as hex so that nothing is lost. A 16-byte address stays an
// IPv6 address even when it maps an IPv4 one (::ffff:1.2.3.4, as tshark
// writes it): net.IP would print it as 1.2.3.4, hiding the IPv6 header.
func ipText(ip net.IP) string {
	switch len(ip) {
	case 0:
		return ""
	case net.IPv4len:
		return ip.String()
	case net.IPv6len:
		return netip.AddrFrom16([16]byte(ip)).String()
	}
	return hex.EncodeToString(ip)
}

// macText renders a hardware address like tshark (aa:bb:cc:dd:ee:ff).
func macText(mac net.HardwareAddr) string {
	if len(mac) == 0 {
		return ""
	}
	return mac.String()
}

// resettable is a generated record message.
type resettable[T any] interface {
	*T
	Reset()
}

// reuse returns n reset sub-messages from pool, growing it when needed, so
// that records with repeated sub-messages do not allocate per packet.
func reuse[T any, P resettable[T]](pool *[]P, n int) []P {
	for len(*pool) < n {
		*pool = append(*pool, P(new(T)))
	}
	s := (*pool)[:n]
	for _, m := range s {
		m.Reset()
	}
	return s
}
