package decoder

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// BenchmarkStreamEngine runs whole TCP connections through the packet
// decoder with the stream records on (connection table, reassembler,
// detection, parser): one connection per iteration, the same one each time
// (its SYN ends the previous one, closed by FINs). Allocations per op divided
// by packets per op is what a segment costs.
func BenchmarkStreamEngine(b *testing.B) {
	body := strings.Repeat("x", 4096)
	for _, c := range []struct {
		name string
		port uint16
		segs func() [][2][]byte // {client bytes, server bytes} per exchange
	}{
		{"HTTP", 80, func() (out [][2][]byte) {
			for i := range 50 {
				req := fmt.Appendf(nil, "GET /item/%d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n", i)
				res := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				out = append(out, [2][]byte{req, res})
			}
			return out
		}},
		{"DNS", 53, func() (out [][2][]byte) {
			for i := range 50 {
				q := benchDNS(b, uint16(i), false)
				r := benchDNS(b, uint16(i), true)
				out = append(out, [2][]byte{q, r})
			}
			return out
		}},
		{"SMTP", 25, func() (out [][2][]byte) {
			out = append(out, [2][]byte{[]byte("EHLO bench.example\r\n"), []byte("250-mx\r\n250 PIPELINING\r\n")})
			msg := "From: a@example.com\r\nTo: b@example.com\r\nSubject: bench\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n" +
				"--z\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat(strings.Repeat("y", 76)+"\r\n", 50) + "--z--\r\n"
			for range 50 {
				out = append(out, [2][]byte{[]byte("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"), []byte("250 ok\r\n250 ok\r\n354 go\r\n")},
					[2][]byte{[]byte(msg + ".\r\n"), []byte("250 queued\r\n")})
			}
			return out
		}},
		{"unknown", 9999, func() (out [][2][]byte) {
			for range 50 {
				out = append(out, [2][]byte{[]byte(strings.Repeat("\x00\x01", 50)), []byte(strings.Repeat("\x02", 4000))})
			}
			return out
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			pkts, size := benchConn(b, c.port, c.segs())
			// Every stream protocol on: "unknown" pays what all detectors cost.
			d := NewPacketDecoder(func(tt types.Type) bool {
				for _, sp := range StreamProtocols() {
					if slices.Contains(sp.Records, tt) {
						return true
					}
				}
				return false
			})
			var s benchSink
			var meta Packet
			b.SetBytes(int64(size))
			b.ReportAllocs()
			frame := int64(0)
			for b.Loop() {
				for _, p := range pkts {
					frame++
					meta = Packet{Frame: frame, Timestamp: frame * 1000, CaptureLength: len(p), Length: len(p)}
					d.Tick(meta.Timestamp, &s)
					d.Decode(p, layers.LinkTypeEthernet, &meta, &s)
				}
			}
			d.Flush(&s)
			b.ReportMetric(float64(len(pkts)), "packets/op")
			b.ReportMetric(float64(s.n)/float64(b.N), "records/op")
			if s.n == 0 && c.name != "unknown" {
				b.Fatal("no records")
			}
		})
	}
}

type benchSink struct{ n int }

func (s *benchSink) Emit(types.Type, proto.Message) { s.n++ }

func benchDNS(b *testing.B, id uint16, response bool) []byte {
	m := &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("bench.example.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	if response {
		m.QR = true
		for i := range 4 {
			m.Answers = append(m.Answers, layers.DNSResourceRecord{Name: []byte("bench.example.org"), Type: layers.DNSTypeA,
				Class: layers.DNSClassIN, TTL: 60, IP: net.IPv4(192, 0, 2, byte(i)).To4()})
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := m.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		b.Fatal(err)
	}
	msg := buf.Bytes()
	return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// benchConn builds a connection: handshake, the exchanges (server bytes in
// segments of at most 1460), FINs.
func benchConn(b *testing.B, port uint16, ex [][2][]byte) ([][]byte, int) {
	mk := func(client bool, flags string, seq, ack uint32, payload []byte) []byte {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}, Protocol: layers.IPProtocolTCP}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(port), Seq: seq, Ack: ack, Window: 1000,
			SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"), PSH: len(payload) > 0}
		if !client {
			eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
			ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
			tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
		}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			b.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	seq := [2]uint32{1001, 5001}
	pkts := [][]byte{mk(true, "S", 1000, 0, nil), mk(false, "SA", 5000, 1001, nil), mk(true, "A", 1001, 5001, nil)}
	size := 0
	for _, e := range ex {
		for i, data := range e {
			client := i == 0
			for off := 0; off < len(data); off += 1460 {
				seg := data[off:min(off+1460, len(data))]
				pkts = append(pkts, mk(client, "A", seq[i], seq[1-i], seg))
				seq[i] += uint32(len(seg))
			}
			size += len(data)
		}
	}
	pkts = append(pkts, mk(true, "FA", seq[0], seq[1], nil), mk(false, "FA", seq[1], seq[0]+1, nil), mk(true, "A", seq[0]+1, seq[1]+1, nil))
	return pkts, size
}
