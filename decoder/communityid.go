package decoder

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
)

// CommunityID returns the Community ID v1 (seed 0) of a flow, the string
// Zeek, Suricata and Wireshark compute for the same flow, so netcap records
// join with their logs. src/dst are 4 or 16 byte addresses; for TCP, UDP and
// SCTP the ports are the transport ports, for ICMP and ICMPv6 they are the
// message type and code, mapped as the specification (taken from Zeek)
// asks; for other protocols they are ignored.
func CommunityID(src, dst []byte, proto uint8, sport, dport uint16) string {
	var buf [2 + 16 + 16 + 2 + 4]byte
	return communityID(buf[:0], src, dst, proto, sport, dport)
}

func communityID(b, src, dst []byte, proto uint8, sport, dport uint16) string {
	hasPorts := true
	oneWay := false
	switch proto {
	case 6, 17, 132:
	case 1:
		sport, dport, oneWay = icmpPorts(uint8(sport), uint8(dport), icmp4Pairs)
	case 58:
		sport, dport, oneWay = icmpPorts(uint8(sport), uint8(dport), icmp6Pairs)
	default:
		hasPorts = false
	}
	// Order the endpoints so the smaller address:port comes first; one-way
	// ICMP messages keep their direction.
	if !oneWay {
		c := bytes.Compare(src, dst)
		if c > 0 || c == 0 && hasPorts && sport > dport {
			src, dst, sport, dport = dst, src, dport, sport
		}
	}
	b = append(b, 0, 0) // seed 0
	b = append(b, src...)
	b = append(b, dst...)
	b = append(b, proto, 0)
	if hasPorts {
		b = binary.BigEndian.AppendUint16(b, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
	}
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// ICMP request/response pairs: a message of a paired type maps to (type,
// counterpart type) so that request and response share the flow; any other
// message maps to (type, code) and is one-way.
var (
	icmp4Pairs = map[uint8]uint8{8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
	icmp6Pairs = map[uint8]uint8{128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135,
		130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144}
)

func icmpPorts(typ, code uint8, pairs map[uint8]uint8) (uint16, uint16, bool) {
	if other, ok := pairs[typ]; ok {
		return uint16(typ), uint16(other), false
	}
	return uint16(typ), uint16(code), true
}
