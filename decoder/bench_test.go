package decoder

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// countSink counts records without serializing them, so the benchmarks
// measure decoding and record filling only.
type countSink struct{ n int }

func (c *countSink) Emit(types.Type, proto.Message) { c.n++ }

// buildPacket serializes layers into an Ethernet frame with lengths and
// checksums filled in.
func buildPacket(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func benchPackets(tb testing.TB) map[string][]byte {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{6, 7, 8, 9, 10, 11}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1, Ack: 2, ACK: true, PSH: true, Window: 512,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	ip.Protocol = layers.IPProtocolTCP
	tcp.SetNetworkLayerForChecksum(ip)
	tcpPkt := buildPacket(tb, eth, ip, tcp, gopacket.Payload(make([]byte, 200)))

	ip2 := *ip
	ip2.Protocol = layers.IPProtocolUDP
	udp := &layers.UDP{SrcPort: 5000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(&ip2)
	dns := &layers.DNS{ID: 7, QR: true, RD: true, RA: true, QDCount: 1, ANCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte("www.example.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}},
		Answers:   []layers.DNSResourceRecord{{Name: []byte("www.example.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: net.IP{192, 0, 2, 1}}}}
	dnsPkt := buildPacket(tb, eth, &ip2, udp, dns)
	return map[string][]byte{"TCP": tcpPkt, "DNS": dnsPkt}
}

// BenchmarkDecode measures one packet through the layer loop and every
// decoder of its layers, records filled but not serialized.
func BenchmarkDecode(b *testing.B) {
	for name, pkt := range benchPackets(b) {
		b.Run(name, func(b *testing.B) {
			d := NewPacketDecoder(func(types.Type) bool { return true })
			var s countSink
			var p Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for i := 0; i < b.N; i++ {
				p = Packet{Frame: int64(i + 1)}
				if st, reason := d.Decode(pkt, layers.LinkTypeEthernet, &p, &s); st != Decoded {
					b.Fatalf("status %d: %s", st, reason)
				}
			}
		})
	}
}
