// Package flowhash is the hash that picks the worker of a packet. The engine's
// reader (package capture) hashes every packet with Packet; the decoder
// (package decoder) hashes a reassembled IP datagram with Datagram, to find
// the worker that owns the datagram's flow. Both must agree, so they share
// this package.
package flowhash

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// Packet returns a hash of the packet's flow that is the same for both
// directions (A->B and B->A), and whether the first IP header is a fragment
// (IPv4 with more-fragments set or an offset; IPv6 with a fragment header
// that is not atomic). It reads the raw bytes with bounds checks only (it
// runs in the reader goroutine and must be cheap); what it cannot parse
// hashes to 0, which keeps such packets on one worker in capture order.
//
// The key is the IP pair and, for TCP, UDP and SCTP, the port pair, with
// the protocol. Whatever the decoder's connection table keys a packet by
// (decoder/conntrack.go), the hash must depend on no more than that, or one
// connection could be split over two workers:
//   - IPv6 is walked through a hop-by-hop header only, as the decoder does
//     (it has no decoder for routing or destination options headers yet, so
//     such packets are keyed without ports);
//   - UDP tunnel ports hash on the IP pair and protocol (see udpTunnel);
//   - a fragment hashes on the IP pair and the protocol it carries (the
//     next header of an IPv6 fragment header): later fragments have no
//     ports. The engine gives fragments to every worker, which all
//     reassemble them; the datagram, once whole, is decoded by the worker
//     Datagram names, the one its unfragmented packets reach.
func Packet(data []byte, link layers.LinkType) (h uint64, fragment bool) {
	off, ethType, ok := networkOffset(data, link)
	if !ok {
		return 0, false
	}
	switch ethType {
	case 0x0800:
		return hashIPv4(data[off:])
	case 0x86dd:
		return hashIPv6(data[off:])
	}
	return 0, false
}

// Datagram hashes a flow given its addresses (4 or 16 bytes each), the
// protocol and the bytes after the IP headers, as Packet hashes an
// unfragmented packet with those headers.
func Datagram(src, dst []byte, proto uint8, l4 []byte) uint64 {
	var sp, dp []byte
	if hasPorts(proto) && len(l4) >= 4 && !udpTunnel(proto, l4) {
		sp, dp = l4[0:2], l4[2:4]
	}
	return symmetric(src, dst, sp, dp, proto)
}

// networkOffset finds where the IP header starts for the link types the
// engine reads; ethType 0 means "tell by the version nibble".
func networkOffset(data []byte, link layers.LinkType) (int, uint16, bool) {
	switch link {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return 0, 0, false
		}
		off, et := 14, binary.BigEndian.Uint16(data[12:14])
		for i := 0; i < 4 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++ {
			if len(data) < off+4 {
				return 0, 0, false
			}
			et = binary.BigEndian.Uint16(data[off+2 : off+4])
			off += 4
		}
		return off, et, true
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return versionOffset(data, 0)
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return 0, 0, false
		}
		return 16, binary.BigEndian.Uint16(data[14:16]), true
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return 0, 0, false
		}
		return 20, binary.BigEndian.Uint16(data[0:2]), true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return versionOffset(data, 4)
	}
	return 0, 0, false
}

func versionOffset(data []byte, off int) (int, uint16, bool) {
	if len(data) <= off {
		return 0, 0, false
	}
	switch data[off] >> 4 {
	case 4:
		return off, 0x0800, true
	case 6:
		return off, 0x86dd, true
	}
	return 0, 0, false
}

func hashIPv4(ip []byte) (uint64, bool) {
	if len(ip) < 20 {
		return 0, false
	}
	ihl := int(ip[0]&0x0f) * 4
	proto := ip[9]
	if binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
		return symmetric(ip[12:16], ip[16:20], nil, nil, proto), true
	}
	var l4 []byte
	if ihl >= 20 && len(ip) >= ihl {
		l4 = ip[ihl:]
	}
	return Datagram(ip[12:16], ip[16:20], proto, l4), false
}

func hashIPv6(ip []byte) (uint64, bool) {
	if len(ip) < 40 {
		return 0, false
	}
	next, off := ip[6], 40
	// Walk what the decoder walks, no more: a hop-by-hop header (gopacket
	// decodes it inside the IPv6 layer), then a fragment header.
	if next == 0 {
		if len(ip) < off+2 {
			return symmetric(ip[8:24], ip[24:40], nil, nil, next), false
		}
		next, off = ip[off], off+(int(ip[off+1])+1)*8
	}
	if next == 44 && len(ip) >= off+8 {
		if binary.BigEndian.Uint16(ip[off+2:off+4])&0xfff9 != 0 {
			// Offset or more-fragments set: a fragment. The decoder
			// keys it by the header it names.
			return symmetric(ip[8:24], ip[24:40], nil, nil, ip[off]), true
		}
		// An atomic fragment: the decoder walks on to the header it
		// names, and so does the hash.
		next, off = ip[off], off+8
	}
	var l4 []byte
	if len(ip) >= off {
		l4 = ip[off:]
	}
	return Datagram(ip[8:24], ip[24:40], next, l4), false
}

func hasPorts(proto uint8) bool { return proto == 6 || proto == 17 || proto == 132 }

// udpTunnel reports a UDP datagram to or from a tunnel port (VXLAN 4789,
// Geneve 6081, MPLS in UDP 6635). Such packets hash on the outer IP pair
// only: the decoder makes connections of the packets inside too, and the
// two directions of an inner connection travel with different outer source
// ports (each tunnel end picks its own), so only the IP pair keeps both
// directions, and so the inner connection, in one worker. GRE and IP in IP
// have no ports and hash on the IP pair anyway.
func udpTunnel(proto uint8, l4 []byte) bool {
	if proto != 17 {
		return false
	}
	for _, p := range [2]uint16{binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])} {
		if p == 4789 || p == 6081 || p == 6635 {
			return true
		}
	}
	return false
}

// symmetric hashes the two endpoints in a canonical order (the smaller
// address-and-port first), so both directions give the same value.
func symmetric(a, b, pa, pb []byte, proto uint8) uint64 {
	if c := compareEndpoint(a, pa, b, pb); c > 0 {
		a, b, pa, pb = b, a, pb, pa
	}
	h := uint64(14695981039346656037)
	h = fnv(h, a)
	h = fnv(h, pa)
	h = fnv(h, b)
	h = fnv(h, pb)
	h ^= uint64(proto)
	h *= 1099511628211
	// Mix the bits so that h % workers is balanced even for close addresses.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func compareEndpoint(a, pa, b, pb []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Segment is a TCP segment as Segment reads it from a packet's raw bytes:
// its slices point into the packet.
type Segment struct {
	Src, Dst         []byte // 4 or 16 bytes
	SrcPort, DstPort uint16
	Flags            uint8 // the TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10)
	Payload          []byte
}

// TCP reads the outermost IP header and, when it carries an unfragmented
// TCP segment, the segment. It walks what Packet walks, so a segment it
// reads is one whose ports Packet hashed. The engine's reader uses it to
// see the FTP commands that announce data connections (decoder/ftpdata.go).
func TCP(data []byte, link layers.LinkType) (s Segment, ok bool) {
	off, ethType, ok := networkOffset(data, link)
	if !ok {
		return s, false
	}
	ip := data[off:]
	var l4 []byte
	switch ethType {
	case 0x0800:
		if len(ip) < 20 || ip[9] != 6 || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return s, false
		}
		ihl := int(ip[0]&0x0f) * 4
		end := int(binary.BigEndian.Uint16(ip[2:4]))
		if ihl < 20 || end < ihl || len(ip) < ihl {
			return s, false
		}
		// Ethernet pads short frames: the IP length says where the
		// segment ends.
		l4 = ip[ihl:min(end, len(ip))]
		s.Src, s.Dst = ip[12:16], ip[16:20]
	case 0x86dd:
		if len(ip) < 40 {
			return s, false
		}
		next, off := ip[6], 40
		if next == 0 {
			if len(ip) < off+2 {
				return s, false
			}
			next, off = ip[off], off+(int(ip[off+1])+1)*8
		}
		end := 40 + int(binary.BigEndian.Uint16(ip[4:6]))
		if next != 6 || len(ip) < off || end < off {
			return s, false
		}
		l4 = ip[off:min(end, len(ip))]
		s.Src, s.Dst = ip[8:24], ip[24:40]
	default:
		return s, false
	}
	if len(l4) < 20 {
		return s, false
	}
	hl := int(l4[12]>>4) * 4
	if hl < 20 || len(l4) < hl {
		return s, false
	}
	s.SrcPort, s.DstPort = binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
	s.Flags, s.Payload = l4[13], l4[hl:]
	return s, true
}
