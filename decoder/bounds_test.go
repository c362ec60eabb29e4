package decoder

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

var (
	ipA, ipB = net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
)

// withUDP ends a layer stack with an IPv4/UDP packet.
func withUDP(t *testing.T, ls []gopacket.SerializableLayer) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: ipA, DstIP: ipB, Protocol: layers.IPProtocolUDP}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 40001}
	udp.SetNetworkLayerForChecksum(ip)
	return buildPacket(t, append(ls, ip, udp, gopacket.Payload("x"))...)
}

// tunnels builds units copies of Ethernet / 802.1Q / IPv4 / GRE (bridged
// Ethernet), each carrying the next, then Ethernet / IPv4 / UDP: four
// layer types per unit.
func tunnels(t *testing.T, units int) []byte {
	var ls []gopacket.SerializableLayer
	for range units {
		ls = append(ls,
			&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, TTL: 64, SrcIP: ipA, DstIP: ipB, Protocol: layers.IPProtocolGRE},
			&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging})
	}
	return withUDP(t, append(ls, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}))
}

// ipInIP builds Ethernet and n IPv4 headers each carrying the next, then
// IPv4 / UDP.
func ipInIP(t *testing.T, n int) []byte {
	ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}}
	for range n {
		ls = append(ls, &layers.IPv4{Version: 4, TTL: 64, SrcIP: ipA, DstIP: ipB, Protocol: layers.IPProtocolIPv4})
	}
	return withUDP(t, ls)
}

// TestLayerBounds: a frame of nested tunnels is decoded up to maxLayers
// layers and maxRepeat layers of one type; beyond, it is an error or
// unknown packet with its reason, never a longer chain or more layer
// instances.
func TestLayerBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  func(*testing.T) []byte
		status Status
		reason string
	}{
		{"7 tunnels: 31 layers", func(t *testing.T) []byte { return tunnels(t, 7) }, Decoded, ""},
		{"8 tunnels: 35 layers", func(t *testing.T) []byte { return tunnels(t, 8) }, Failed, "more than 32 layers"},
		{"8 IPv4 headers", func(t *testing.T) []byte { return ipInIP(t, 7) }, Decoded, ""},
		{"9 IPv4 headers", func(t *testing.T) []byte { return ipInIP(t, 8) }, Unknown, "IPv4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			data := tc.frame(t)
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, layers.LinkTypeEthernet, &meta, &recordSink{})
			if st != tc.status || !strings.Contains(reason, tc.reason) {
				t.Fatalf("status %v %q, want %v %q", st, reason, tc.status, tc.reason)
			}
			if len(d.chain) > maxLayers {
				t.Fatalf("chain of %d layers", len(d.chain))
			}
			for typ, sl := range d.layers.rest {
				if len(sl.instances) > maxRepeat {
					t.Errorf("%v: %d instances", typ, len(sl.instances))
				}
			}
		})
	}
}

// TestDetectHoldBounded: while detectors keep answering "more", a direction
// holds at most StreamDetectMax bytes; then detection gives up on it and the
// bytes are counted as not parsed, never held without end.
func TestDetectHoldBounded(t *testing.T) {
	saved := streamProtocols
	defer func() { streamProtocols = saved }()
	longest := 0
	streamProtocols = []StreamProtocol{{Name: "undecided", Records: []types.Type{types.Type_NC_Connection},
		Detect: func(first []byte, _ bool, _ *ConnInfo) Detection {
			longest = max(longest, len(first))
			return DetectMore
		},
		New: func() StreamParser { t.Fatal("no parser may be made"); return nil }}}
	d := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_Connection }, DefaultOptions())
	s := &recordSink{}
	script := append([]pkt(nil), handshake[:3]...)
	for i := range 1000 {
		script = append(script, pkt{time.Duration(3+i) * time.Millisecond, true, "PA", 101 + uint32(i), 501, 1})
	}
	held := 0
	for i, p := range script {
		data := buildScript(t, p, false)
		meta := Packet{Frame: int64(i + 1), Timestamp: int64(p.at), CaptureLength: len(data), Length: len(data)}
		d.Decode(data, layers.LinkTypeEthernet, &meta, s)
		for _, c := range d.conns.m {
			if c.st != nil {
				held = max(held, len(c.st.dir[0].head), cap(c.st.dir[0].head))
			}
		}
	}
	if held > StreamDetectMax || longest > StreamDetectMax {
		t.Fatalf("held %d bytes, detector shown %d; bound %d", held, longest, StreamDetectMax)
	}
	if longest < StreamDetectMax-1 {
		t.Fatalf("detector shown at most %d bytes: the test did not reach the bound", longest)
	}
}
