package flowhash

import (
	"bytes"
	"encoding/binary"
	"net"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// frame builds an Ethernet frame with gopacket's serializers: the oracle
// for TCP is gopacket's decoder reading the same bytes.
func frame(t testing.TB, v6 bool, hbh bool, tcp *layers.TCP, payload []byte, pad int) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	var ls []gopacket.SerializableLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		if hbh {
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			ip.HopByHop = &layers.IPv6HopByHop{}
			ip.HopByHop.NextHeader = layers.IPProtocolTCP
			ip.HopByHop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
		}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, eth, ip)
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{198, 51, 100, 7}}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, eth, ip)
	}
	ls = append(ls, tcp, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), make([]byte, pad)...)
}

// TestTCPSegment: what TCP reads equals what gopacket decodes from the same
// frame, and it refuses what is no whole TCP segment.
func TestTCPSegment(t *testing.T) {
	payload := []byte("227 Entering Passive Mode (192,0,2,1,195,80).\r\n")
	for _, c := range []struct {
		name     string
		v6, hbh  bool
		pad      int
		syn, fin bool
		payload  []byte
	}{
		{name: "ipv4", payload: payload},
		{name: "ipv4 padded", pad: 12, payload: []byte("PASV\r\n")},
		{name: "ipv4 syn", syn: true},
		{name: "ipv6", v6: true, payload: payload, fin: true},
		{name: "ipv6 hop-by-hop", v6: true, hbh: true, payload: payload},
	} {
		t.Run(c.name, func(t *testing.T) {
			tcp := &layers.TCP{SrcPort: 21, DstPort: 40000, Seq: 7, Window: 512, SYN: c.syn, FIN: c.fin, ACK: !c.syn}
			data := frame(t, c.v6, c.hbh, tcp, c.payload, c.pad)
			s, ok := TCP(data, layers.LinkTypeEthernet)
			if !ok {
				t.Fatal("no segment read")
			}
			pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
			want, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if want == nil {
				t.Fatal("gopacket finds no TCP layer")
			}
			net := pkt.NetworkLayer().NetworkFlow()
			if !bytes.Equal(s.Src, net.Src().Raw()) || !bytes.Equal(s.Dst, net.Dst().Raw()) {
				t.Errorf("addresses %x %x, gopacket %x %x", s.Src, s.Dst, net.Src().Raw(), net.Dst().Raw())
			}
			if s.SrcPort != uint16(want.SrcPort) || s.DstPort != uint16(want.DstPort) {
				t.Errorf("ports %d %d, gopacket %d %d", s.SrcPort, s.DstPort, want.SrcPort, want.DstPort)
			}
			if s.Flags&0x02 != 0 != want.SYN || s.Flags&0x01 != 0 != want.FIN || s.Flags&0x10 != 0 != want.ACK {
				t.Errorf("flags %08b, gopacket SYN %v FIN %v ACK %v", s.Flags, want.SYN, want.FIN, want.ACK)
			}
			if !bytes.Equal(s.Payload, want.Payload) {
				t.Errorf("payload %q, gopacket %q", s.Payload, want.Payload)
			}
		})
	}
	good := frame(t, false, false, &layers.TCP{SrcPort: 21, DstPort: 40000, ACK: true}, payload, 0)
	frag := append([]byte(nil), good...)
	frag[14+6] |= 0x20 // more fragments
	udp := append([]byte(nil), good...)
	udp[14+9] = 17
	for name, data := range map[string][]byte{
		"fragment":       frag,
		"udp":            udp,
		"cut in tcp":     good[:14+20+10],
		"cut in ip":      good[:14+12],
		"not ip":         good[:12],
		"bad tcp offset": append(append([]byte(nil), good[:14+20+12]...), 0x30, 0x10, 0, 0, 0, 0, 0, 0),
	} {
		if _, ok := TCP(data, layers.LinkTypeEthernet); ok {
			t.Errorf("%s: read as a TCP segment", name)
		}
	}
}

// FuzzTCP: whatever the bytes, a segment TCP reads is the TCP layer
// gopacket decodes right under the first IP header, with its ports, flags
// and payload.
func FuzzTCP(f *testing.F) {
	f.Add(frame(f, false, false, &layers.TCP{SrcPort: 21, DstPort: 40000, ACK: true}, []byte("PORT 192,0,2,1,4,1\r\n"), 0))
	f.Add(frame(f, true, true, &layers.TCP{SrcPort: 40000, DstPort: 21, ACK: true, PSH: true}, []byte("EPSV\r\n"), 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, ok := TCP(data, layers.LinkTypeEthernet)
		if !ok {
			return
		}
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
		ls := pkt.Layers()
		if len(ls) < 3 || pkt.ErrorLayer() != nil {
			return // gopacket refused what TCP read: its checks are stricter (options, lengths)
		}
		// The first IP header follows the Ethernet header and the VLAN
		// tags TCP skips: gopacket decodes 802.1Q and 802.1ad tags as
		// Dot1Q layers, but not 0x9100 ones, under which it finds no IP.
		ip := slices.IndexFunc(ls, func(l gopacket.Layer) bool {
			return l.LayerType() == layers.LayerTypeIPv4 || l.LayerType() == layers.LayerTypeIPv6
		})
		if ip < 0 && tag9100(data) {
			return
		}
		var tcp *layers.TCP
		if ip >= 0 && ip+1 < len(ls) {
			tcp, _ = ls[ip+1].(*layers.TCP)
			if ls[ip+1].LayerType() == layers.LayerTypeIPv6HopByHop && ip+2 < len(ls) {
				tcp, _ = ls[ip+2].(*layers.TCP)
			}
		}
		if tcp == nil {
			t.Fatalf("read a TCP segment where gopacket decodes %v", ls)
		}
		if s.SrcPort != uint16(tcp.SrcPort) || s.DstPort != uint16(tcp.DstPort) || !bytes.Equal(s.Payload, tcp.Payload) {
			t.Fatalf("segment %d>%d %q, gopacket %d>%d %q", s.SrcPort, s.DstPort, s.Payload, tcp.SrcPort, tcp.DstPort, tcp.Payload)
		}
	})
}

// tag9100 reports whether the VLAN tags after the Ethernet addresses, as
// TCP skips them, include one of type 0x9100.
func tag9100(data []byte) bool {
	for off := 12; off+2 <= len(data); off += 4 {
		switch binary.BigEndian.Uint16(data[off:]) {
		case 0x9100:
			return true
		case 0x8100, 0x88a8:
		default:
			return false
		}
	}
	return false
}
