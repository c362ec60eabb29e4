package flowhash

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func ipv4(proto uint8, flags uint16, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[6:], flags)
	copy(b[12:], []byte{192, 0, 2, 1, 198, 51, 100, 7})
	b = append(b, l4...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func ipv6(next uint8, ext, l4 []byte) []byte {
	b := make([]byte, 40, 40+len(ext)+len(l4))
	b[0], b[6], b[7] = 0x60, next, 64
	b[8], b[23], b[24], b[39] = 0x20, 1, 0x20, 2
	b = append(append(b, ext...), l4...)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	return b
}

func ports(sp, dp uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, sp), dp)
}

// TestPacketAgreesWithDatagram: the decoder hashes a reassembled datagram
// with Datagram; for an unfragmented packet of the same flow, the reader's
// Packet must give the same value, or the datagram would be decoded by
// another worker than the rest of its connection.
func TestPacketAgreesWithDatagram(t *testing.T) {
	src4, dst4 := []byte{192, 0, 2, 1}, []byte{198, 51, 100, 7}
	src6, dst6 := ipv6(59, nil, nil)[8:24], ipv6(59, nil, nil)[24:40]
	hbh := []byte{17, 0, 1, 4, 0, 0, 0, 0}
	atomic := []byte{17, 0, 0, 0, 0, 0, 0, 9}
	for _, c := range []struct {
		name     string
		pkt      []byte
		src, dst []byte
		proto    uint8
		l4       []byte
	}{
		{"ipv4 udp", ipv4(17, 0, ports(40000, 53)), src4, dst4, 17, ports(40000, 53)},
		{"ipv4 tcp df", ipv4(6, 0x4000, ports(443, 50000)), src4, dst4, 6, ports(443, 50000)},
		{"ipv4 vxlan", ipv4(17, 0, ports(51000, 4789)), src4, dst4, 17, ports(52000, 4789)},
		{"ipv4 gre", ipv4(47, 0, []byte{0, 0, 8, 0}), src4, dst4, 47, []byte{1, 2}},
		{"ipv6 udp", ipv6(17, nil, ports(1000, 2000)), src6, dst6, 17, ports(1000, 2000)},
		{"ipv6 hop-by-hop udp", ipv6(0, hbh, ports(1000, 2000)), src6, dst6, 17, ports(1000, 2000)},
		{"ipv6 atomic fragment udp", ipv6(44, atomic, ports(1000, 2000)), src6, dst6, 17, ports(1000, 2000)},
	} {
		h, frag := Packet(c.pkt, layers.LinkTypeRaw)
		if frag {
			t.Errorf("%s: taken for a fragment", c.name)
		}
		if d := Datagram(c.src, c.dst, c.proto, c.l4); d != h {
			t.Errorf("%s: Packet %x, Datagram %x", c.name, h, d)
		}
		if len(c.l4) < 4 {
			continue
		}
		back := append(append([]byte(nil), c.l4[2:4]...), c.l4[0:2]...)
		if d := Datagram(c.dst, c.src, c.proto, back); d != h {
			t.Errorf("%s: the other direction hashes apart: %x, %x", c.name, h, d)
		}
	}
}

// TestFragments: fragments are told and hash on the IP pair and protocol.
func TestFragments(t *testing.T) {
	frag6 := func(offMore uint16) []byte {
		return binary.BigEndian.AppendUint16([]byte{17, 0}, offMore)
	}
	for _, c := range []struct {
		name string
		pkt  []byte
		frag bool
	}{
		{"ipv4 first", ipv4(17, 0x2000, ports(1, 2)), true},
		{"ipv4 last", ipv4(17, 185, []byte{9, 9, 9, 9}), true},
		{"ipv4 df", ipv4(17, 0x4000, ports(1, 2)), false},
		{"ipv6 first", ipv6(44, append(frag6(1), 0, 0, 0, 5), ports(1, 2)), true},
		{"ipv6 last", ipv6(44, append(frag6(8<<3), 0, 0, 0, 5), []byte{9, 9, 9, 9}), true},
		{"ipv6 atomic", ipv6(44, append(frag6(0), 0, 0, 0, 5), ports(1, 2)), false},
	} {
		h, frag := Packet(c.pkt, layers.LinkTypeRaw)
		if frag != c.frag {
			t.Errorf("%s: fragment %v, want %v", c.name, frag, c.frag)
		}
		if !frag {
			continue
		}
		var src, dst []byte
		if c.pkt[0]>>4 == 4 {
			src, dst = c.pkt[12:16], c.pkt[16:20]
		} else {
			src, dst = c.pkt[8:24], c.pkt[24:40]
		}
		if want := Datagram(src, dst, 17, nil); h != want {
			t.Errorf("%s: hash %x, want the IP pair and protocol's %x", c.name, h, want)
		}
	}
}
