package decoder

import (
	"net"
)

// addrCacheSize bounds the cache; when full it starts over, so memory stays
// constant however many hosts a capture holds.
const addrCacheSize = 4096

type addrKey struct {
	n   uint8
	mac bool
	b   [16]byte
}

// AddrStrings caches the text form of IP and MAC addresses. Rendering them
// allocated a string per address per record, the largest share of the
// engine's allocations; the same hosts recur packet after packet, so a small
// per-worker cache removes nearly all of it. Not safe for concurrent use.
type AddrStrings struct {
	m map[addrKey]string
}

// IP returns ip as text (ipText's rules), cached.
func (c *AddrStrings) IP(ip net.IP) string {
	if c == nil || (len(ip) != net.IPv4len && len(ip) != net.IPv6len) {
		return ipText(ip)
	}
	return c.get(ip, false)
}

// MAC returns mac as text (macText's rules), cached.
func (c *AddrStrings) MAC(mac net.HardwareAddr) string {
	if c == nil || len(mac) == 0 || len(mac) > 16 {
		return macText(mac)
	}
	return c.get(mac, true)
}

func (c *AddrStrings) get(b []byte, mac bool) string {
	k := addrKey{n: uint8(len(b)), mac: mac}
	copy(k.b[:], b)
	if s, ok := c.m[k]; ok {
		return s
	}
	if c.m == nil || len(c.m) >= addrCacheSize {
		c.m = make(map[addrKey]string, addrCacheSize)
	}
	var s string
	if mac {
		s = macText(b)
	} else {
		s = ipText(b)
	}
	c.m[k] = s
	return s
}
