package capture

import (
	"bytes"
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// FlowHash returns a hash of the packet's flow that is the same for both
// directions (A->B and B->A), so that the engine can send every packet of a
// flow to the same worker and stateful decoders need no lock. It reads the raw
// bytes with bounds checks only (it runs in the single reader goroutine and
// must be cheap); what it cannot parse hashes to 0, which keeps such packets
// on one worker in capture order.
//
// The key is the IP pair of the first IP header, nothing more. Whatever the
// decoder's connection table keys a packet by (decoder/conntrack.go: that
// pair, the protocol, the ports), this hash must depend on no more than that,
// or one connection could be split over two workers. Ports are not enough to
// go by: the fragments of a datagram after the first carry none, and the
// decoder reassembles them (decoder/defrag.go) in the worker they reach,
// then accounts the datagram to its connection; the fragments and the
// flow's other packets must reach the same worker. Nor is the protocol of the
// first IP header: the table keys a tunnelled TCP packet (IP in IP, GRE) by
// the inner TCP ports and protocol, and an IPv6 datagram by the header its
// fragment header or hop-by-hop header names. The IP pair is in every key.
// The price: all connections between two hosts share a worker, so a capture
// of one busy host pair does not spread over workers.
func FlowHash(data []byte, link layers.LinkType) uint64 {
	off, ethType, ok := networkOffset(data, link)
	if !ok {
		return 0
	}
	switch ethType {
	case 0x0800:
		return hashIPv4(data[off:])
	case 0x86dd:
		return hashIPv6(data[off:])
	}
	return 0
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

func hashIPv4(ip []byte) uint64 {
	if len(ip) < 20 {
		return 0
	}
	return symmetric(ip[12:16], ip[16:20])
}

func hashIPv6(ip []byte) uint64 {
	if len(ip) < 40 {
		return 0
	}
	return symmetric(ip[8:24], ip[24:40])
}

// symmetric hashes the two addresses in a canonical order (the smaller
// first), so both directions give the same value.
func symmetric(a, b []byte) uint64 {
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	h := uint64(14695981039346656037)
	h = fnv(h, a)
	h = fnv(h, b)
	// Mix the bits so that h % workers is balanced even for close addresses.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
