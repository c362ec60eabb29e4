package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestSLIP decodes SLIP frames (link type 8) built here: a 16-byte header
// (the direction, then the bytes of a compressed TCP/IP header, zero when
// the packet is not compressed) before the IP packet. tshark has no SLIP
// dissector and shows the frames as data, so it checks none of them.
func TestSLIP(t *testing.T) {
	runFrameCases(t, layers.LinkTypeSLIP, []frameCase{
		{"IPv6 ICMPv6", cat(slipHdr(slipSent), icmp6Echo(7, 1)), Decoded, "", "2001:db8::1", types.Type_NC_IPv6, ""},
		{"IPv4 UDP", cat(slipHdr(slipReceived), udp4(40000, 40001, []byte("netcap"))), Decoded, "", "192.0.2.1", types.Type_NC_UDP, ""},
		// the version nibble 14 where an IP header should start
		{"version 14", cat(slipHdr(slipReceived), []byte{0xe7, 0, 0, 0}), Unknown, "SLIP packet of IP version 14", "", 0, ""},
		{"header cut", slipHdr(slipReceived)[:5], Failed, "SLIP header shorter than 16 bytes", "", 0, ""},
	})
}

// SLIP directions, the first byte of the header.
const (
	slipReceived = 0
	slipSent     = 1
)

// slipHdr is the 16-byte SLIP header of an uncompressed packet.
func slipHdr(dir byte) []byte {
	b := make([]byte, 16)
	b[0] = dir
	return b
}

// icmp6Echo is an IPv6 ICMPv6 echo request from ip6A to ip6B with 8
// bytes of data.
func icmp6Echo(id, seq uint16) []byte {
	m := []byte{128, 0, 0, 0, 0, 0, 0, 0, 'n', 'e', 't', 'c', 'a', 'p', '6', '!'}
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	// the checksum covers a pseudo-header: addresses, length, next header
	pseudo := cat(ip6A.To16(), ip6B.To16(), binary.BigEndian.AppendUint32(nil, uint32(len(m))), []byte{0, 0, 0, 58}, m)
	binary.BigEndian.PutUint16(m[2:], inetSum(pseudo))
	return cat(ipv6Header(58, len(m)), m)
}
