package decoder

import (
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// TestTunnelContext checks that records of a packet inside a tunnel carry
// the inner packet's addresses, ports and flow, the tunnel's own records the
// outer ones, and that both packets make connections of their own.
func TestTunnelContext(t *testing.T) {
	outerA, outerB := net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
	innerA, innerB := net.IP{192, 168, 1, 1}, net.IP{192, 168, 1, 2}
	innerTCP := func() []gopacket.SerializableLayer {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: innerA, DstIP: innerB}
		tcp := &layers.TCP{SrcPort: 1234, DstPort: 80, SYN: true, Window: 1024}
		return []gopacket.SerializableLayer{ip, tcp}
	}
	outer := func(proto layers.IPProtocol) []gopacket.SerializableLayer {
		return []gopacket.SerializableLayer{
			&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: outerA, DstIP: outerB},
		}
	}
	innerEth := &layers.Ethernet{SrcMAC: macB, DstMAC: macA, EthernetType: layers.EthernetTypeIPv4}
	tests := []struct {
		name        string
		stack       []gopacket.SerializableLayer
		tunnel      types.Type
		outerSports [2]int32 // the tunnel record's ports
	}{
		{"IP in IP", append(outer(layers.IPProtocolIPv4), innerTCP()...), types.Type_NC_IPv4, [2]int32{0, 0}},
		{"GRE", append(append(outer(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}), innerTCP()...), types.Type_NC_GRE, [2]int32{0, 0}},
		{"VXLAN", append(append(outer(layers.IPProtocolUDP), &layers.UDP{SrcPort: 50000, DstPort: 4789},
			&layers.VXLAN{ValidIDFlag: true, VNI: 42}, innerEth), innerTCP()...), types.Type_NC_VXLAN, [2]int32{50000, 4789}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pd := NewPacketDecoder(func(types.Type) bool { return true })
			var s recordSink
			meta := Packet{Frame: 1, Timestamp: 1e9}
			frame := serialize(tt.stack...)
			if st, reason := pd.Decode(frame, layers.LinkTypeEthernet, &meta, &s); st != Decoded {
				t.Fatalf("status %d: %s", st, reason)
			}
			type ctx struct {
				src, dst     string
				sport, dport int32
				flow         string
			}
			of := func(m proto.Message) ctx {
				r := m.ProtoReflect()
				get := func(n string) any { return r.Get(r.Descriptor().Fields().ByName(protoreflect.Name(n))).Interface() }
				return ctx{get("SrcIP").(string), get("DstIP").(string), get("SrcPort").(int32), get("DstPort").(int32), get("FlowID").(string)}
			}
			var tcp, tunnel *ctx
			ipv4 := 0
			for _, m := range s.recs {
				c := of(m)
				switch r := m.(type) {
				case *types.TCP:
					tcp = &c
				case *types.IPv4:
					ipv4++
					if ipv4 == 1 && tt.tunnel == types.Type_NC_IPv4 {
						tunnel = &c
					}
					if ipv4 == 2 && r.SrcIP != innerA.String() {
						t.Errorf("inner IPv4 record: SrcIP %s", r.SrcIP)
					}
				case *types.GRE, *types.VXLAN:
					tunnel = &c
				}
			}
			if tcp == nil || tunnel == nil {
				t.Fatalf("records: %v", s.recs)
			}
			if want := (ctx{innerA.String(), innerB.String(), 1234, 80, tcp.flow}); *tcp != want || tcp.flow == "" {
				t.Errorf("inner TCP record context %+v, want %+v with a flow", *tcp, want)
			}
			if tunnel.src != outerA.String() || tunnel.dst != outerB.String() || tunnel.sport != tt.outerSports[0] || tunnel.dport != tt.outerSports[1] {
				t.Errorf("tunnel record context %+v, want the outer packet's", *tunnel)
			}
			if tunnel.flow == "" || tunnel.flow == tcp.flow {
				t.Errorf("tunnel flow %q, inner flow %q: want two different flows", tunnel.flow, tcp.flow)
			}
			s.recs = nil
			pd.Flush(&s)
			var conns []string
			for _, m := range s.recs {
				if c, ok := m.(*types.Connection); ok {
					conns = append(conns, c.SrcIP+">"+c.DstIP)
				}
			}
			if len(conns) != 2 {
				t.Errorf("connections %v, want the outer and the inner one", conns)
			}
		})
	}
}

// TestTunnelDepth: the same addresses and ports inside a tunnel and outside
// it are two connections (Suricata's recursion level), so a connection never
// mixes packets that the engine may give to two workers.
func TestTunnelDepth(t *testing.T) {
	inner := []gopacket.SerializableLayer{
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{192, 168, 1, 1}, DstIP: net.IP{192, 168, 1, 2}},
		&layers.UDP{SrcPort: 1234, DstPort: 53}, gopacket.Payload("x"),
	}
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	plain := serialize(append([]gopacket.SerializableLayer{eth}, inner...)...)
	tunnelled := serialize(append([]gopacket.SerializableLayer{eth,
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolIPv4, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}}, inner...)...)
	pd := NewPacketDecoder(func(t types.Type) bool { return t == types.Type_NC_Connection })
	var s recordSink
	for i, f := range [][]byte{plain, tunnelled, plain, tunnelled} {
		meta := Packet{Frame: int64(i + 1), Timestamp: int64(i+1) * 1e9}
		pd.Decode(f, layers.LinkTypeEthernet, &meta, &s)
	}
	pd.Flush(&s)
	var got []string
	for _, c := range s.connections() {
		got = append(got, c.SrcIP+">"+c.DstIP+" "+c.TransportProto+" packets "+strconv.Itoa(int(c.NumPackets)))
	}
	slices.Sort(got)
	want := []string{"10.0.0.1>10.0.0.2 IPv4 packets 2", "192.168.1.1>192.168.1.2 UDP packets 2", "192.168.1.1>192.168.1.2 UDP packets 2"}
	if !slices.Equal(got, want) {
		t.Errorf("connections\n%q\nwant\n%q", got, want)
	}
}
