package testutil

import (
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCPConn builds the Ethernet frames of one TCP connection between A (the
// client) and B, each side's sequence numbers following what it sent, so
// that tests can make traffic no capture holds (an attack, a rare order).
// The addresses are IPv4 or IPv6 as written.
type TCPConn struct {
	t      testing.TB
	a, b   net.IP
	pa, pb uint16
	seq    [2]uint32
}

// NewTCPConn starts a connection from a:pa to b:pb.
func NewTCPConn(t testing.TB, a, b string, pa, pb uint16) *TCPConn {
	c := &TCPConn{t: t, a: net.ParseIP(a), b: net.ParseIP(b), pa: pa, pb: pb, seq: [2]uint32{1000, 9000}}
	if v4 := c.a.To4(); v4 != nil {
		c.a, c.b = v4, c.b.To4()
	}
	return c
}

// Packet builds one segment from A (fromA) or B with the flags named by
// letters (S, A, F, R, P, U) and advances the sender's sequence number.
func (c *TCPConn) Packet(fromA bool, flags string, payload []byte) []byte {
	c.t.Helper()
	i := 1
	if fromA {
		i = 0
	}
	src, dst, sp, dp := c.a, c.b, c.pa, c.pb
	if !fromA {
		src, dst, sp, dp = dst, src, dp, sp
	}
	var ip gopacket.NetworkLayer = &layers.IPv4{Version: 4, TTL: 64, SrcIP: src, DstIP: dst, Protocol: layers.IPProtocolTCP}
	ethType := layers.EthernetTypeIPv4
	if len(src) == 16 {
		ip, ethType = &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src, DstIP: dst, NextHeader: layers.IPProtocolTCP}, layers.EthernetTypeIPv6
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: c.seq[i], Ack: c.seq[1-i], Window: 1000,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"),
		RST: strings.Contains(flags, "R"), PSH: strings.Contains(flags, "P"), URG: strings.Contains(flags, "U")}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		c.t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: ethType}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip.(gopacket.SerializableLayer), tcp, gopacket.Payload(payload)); err != nil {
		c.t.Fatal(err)
	}
	c.seq[i] += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		c.seq[i]++
	}
	return append([]byte(nil), buf.Bytes()...)
}

// Open is the three-way handshake A starts.
func (c *TCPConn) Open() [][]byte {
	return [][]byte{c.Packet(true, "S", nil), c.Packet(false, "SA", nil), c.Packet(true, "A", nil)}
}

// Send is one segment of data.
func (c *TCPConn) Send(fromA bool, data string) []byte { return c.Packet(fromA, "PA", []byte(data)) }

// Close: the side fromA sends its FIN first, the other answers with its
// own, the first acknowledges it.
func (c *TCPConn) Close(fromA bool) [][]byte {
	return [][]byte{c.Packet(fromA, "FA", nil), c.Packet(!fromA, "FA", nil), c.Packet(fromA, "A", nil)}
}
