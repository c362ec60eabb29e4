package decoder

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// Stream detection when the first segments carry only a few bytes: the
// whole engine path (connection table, reassembler, detection, parser)
// runs on packets built here. A stream cut after 1, 2 or 3 bytes must give
// the records the same stream gives in one segment (frames and times
// aside), and the unsplit stream must give the records its bytes say.

type streamSeg struct {
	client bool
	data   []byte
}

// streamPacket builds client 10.0.0.1:40000 <-> server 10.0.0.2:port.
func streamPacket(t *testing.T, client bool, flags string, seq, ack uint32, port uint16, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}, Protocol: layers.IPProtocolTCP}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(port), Seq: seq, Ack: ack, Window: 1000}
	if !client {
		eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	setTCPFlags(tcp, flags)
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// streamRun sends the segments on one connection (after a handshake when
// handshake is set), closes it, and returns the stream records and the
// Connection record.
func streamRun(t *testing.T, port uint16, handshake bool, segs []streamSeg) ([]proto.Message, *types.Connection) {
	t.Helper()
	d := NewPacketDecoder(func(tt types.Type) bool {
		if tt == types.Type_NC_Connection {
			return true
		}
		for _, sp := range StreamProtocols() {
			if slices.Contains(sp.Records, tt) {
				return true
			}
		}
		return false
	})
	s := &recordSink{}
	seq := [2]uint32{1000, 5000}
	var pkts [][]byte
	if handshake {
		pkts = append(pkts,
			streamPacket(t, true, "S", seq[0]-1, 0, port, nil),
			streamPacket(t, false, "SA", seq[1]-1, seq[0], port, nil),
			streamPacket(t, true, "A", seq[0], seq[1], port, nil))
	}
	for _, sg := range segs {
		i := 1
		if sg.client {
			i = 0
		}
		pkts = append(pkts, streamPacket(t, sg.client, "PA", seq[i], seq[1-i], port, sg.data))
		seq[i] += uint32(len(sg.data))
	}
	pkts = append(pkts, streamPacket(t, true, "FA", seq[0], seq[1], port, nil),
		streamPacket(t, false, "FA", seq[1], seq[0]+1, port, nil),
		streamPacket(t, true, "A", seq[0]+1, seq[1]+1, port, nil))
	decodeFrames(t, d, pkts, s)
	var recs []proto.Message
	var conn *types.Connection
	for _, m := range s.recs {
		if c, ok := m.(*types.Connection); ok {
			conn = c
			continue
		}
		recs = append(recs, m)
	}
	return recs, conn
}

// decodeFrames decodes Ethernet frames a millisecond apart, each of which
// must decode, and flushes the decoder.
func decodeFrames(t *testing.T, d *PacketDecoder, pkts [][]byte, s Sink) {
	t.Helper()
	base := time.Unix(1700000000, 0).UnixNano()
	for i, b := range pkts {
		ts := base + int64(i)*int64(time.Millisecond)
		d.Tick(ts, s)
		meta := Packet{Frame: int64(i + 1), Timestamp: ts, CaptureLength: len(b), Length: len(b)}
		if st, reason := d.Decode(b, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("packet %d: %v %s", i+1, st, reason)
		}
	}
	d.Flush(s)
}

// streamStrip clears the fields that depend on how the bytes were cut.
func streamStrip(m proto.Message) proto.Message {
	m = proto.Clone(m)
	switch r := m.(type) {
	case *types.HTTP:
		r.Timestamp, r.FrameNumber, r.ResponseTimestamp = 0, 0, 0
	case *types.TLSClientHello:
		r.Timestamp, r.FrameNumber = 0, 0
	case *types.TLSServerHello:
		r.Timestamp, r.FrameNumber = 0, 0
	case *types.DNS:
		r.Timestamp, r.FrameNumber = 0, 0
	case *types.SSH:
		r.Timestamp, r.FrameNumber, r.KexFrame = 0, 0, 0
	case *types.SMTP:
		r.Timestamp, r.FrameNumber = 0, 0
	case *types.POP3:
		r.Timestamp, r.FrameNumber = 0, 0
	case *types.IMAP:
		r.Timestamp, r.FrameNumber = 0, 0
	case *types.Credentials:
		r.Timestamp, r.FrameNumber = 0, 0
	}
	return m
}

// streamSplit cuts the first segment of each side after the given number of
// bytes (0: not cut).
func streamSplit(segs []streamSeg, cli, srv int) []streamSeg {
	var out []streamSeg
	done := [2]bool{}
	for _, sg := range segs {
		i, n := 1, srv
		if sg.client {
			i, n = 0, cli
		}
		if !done[i] && n > 0 && n < len(sg.data) {
			out = append(out, streamSeg{sg.client, sg.data[:n]}, streamSeg{sg.client, sg.data[n:]})
		} else {
			out = append(out, sg)
		}
		done[i] = true
	}
	return out
}

func TestStreamDetectShortFirstSegments(t *testing.T) {
	req := []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n")
	res := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
	hello := tlsTestRecord(22, 0x0301, tlsChromeLike().message())
	query := dnsFrame(dnsTestMessage(t, 0x1234, "short.example", 0, 0))
	answer := dnsFrame(dnsTestMessage(t, 0x1234, "short.example", 2, 0))
	for _, c := range []struct {
		name      string
		port      uint16
		handshake bool
		segs      []streamSeg
		app       string
		check     func(recs []proto.Message) error // on the unsplit stream
	}{
		{"HTTP", 8080, true, []streamSeg{{true, req}, {false, res}}, "HTTP", func(recs []proto.Message) error {
			if len(recs) != 1 {
				return fmt.Errorf("%d records", len(recs))
			}
			r := recs[0].(*types.HTTP)
			if r.Method != "GET" || r.URL != "/index.html" || r.Host != "example.com" || r.StatusCode != 200 {
				return fmt.Errorf("record %v", r)
			}
			return nil
		}},
		{"HTTP without handshake", 8080, false, []streamSeg{{true, req}, {false, res}}, "HTTP", func(recs []proto.Message) error {
			if len(recs) != 1 || recs[0].(*types.HTTP).URL != "/index.html" {
				return fmt.Errorf("records %v", recs)
			}
			return nil
		}},
		{"TLS", 443, true, []streamSeg{{true, hello}}, "TLS", func(recs []proto.Message) error {
			if len(recs) != 1 {
				return fmt.Errorf("%d records", len(recs))
			}
			if r := recs[0].(*types.TLSClientHello); r.SNI != "example.com" || r.Ja3 == "" {
				return fmt.Errorf("record %v", r)
			}
			return nil
		}},
		{"DNS", 53, true, []streamSeg{{true, query}, {false, answer}}, "DNS", func(recs []proto.Message) error {
			if len(recs) != 2 {
				return fmt.Errorf("%d records", len(recs))
			}
			q, a := recs[0].(*types.DNS), recs[1].(*types.DNS)
			if q.ID != 0x1234 || q.QR || a.ID != 0x1234 || !a.QR || len(a.Answers) != 2 || a.SrcPort != 53 {
				return fmt.Errorf("records %v, %v", q, a)
			}
			return nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			whole, conn := streamRun(t, c.port, c.handshake, c.segs)
			if err := c.check(whole); err != nil {
				t.Fatalf("unsplit: %v", err)
			}
			if conn == nil || conn.ApplicationProto != c.app {
				t.Fatalf("unsplit: connection %v, want application %s", conn, c.app)
			}
			for _, cut := range [][2]int{{1, 0}, {2, 0}, {3, 0}, {0, 1}, {1, 1}, {3, 2}, {5, 3}} {
				recs, conn := streamRun(t, c.port, c.handshake, streamSplit(c.segs, cut[0], cut[1]))
				if len(recs) != len(whole) {
					t.Fatalf("first segments of %v bytes: %d records, want %d", cut, len(recs), len(whole))
				}
				for i := range recs {
					if a, b := streamStrip(recs[i]), streamStrip(whole[i]); !proto.Equal(a, b) {
						t.Fatalf("first segments of %v bytes: record %d\n got %v\nwant %v", cut, i, a, b)
					}
				}
				if conn.ApplicationProto != c.app {
					t.Fatalf("first segments of %v bytes: application %q", cut, conn.ApplicationProto)
				}
			}
		})
	}
}

// TestStreamDetectGivesUp: bytes that no detector takes, however they are
// cut, make no record and leave the application unknown.
func TestStreamDetectGivesUp(t *testing.T) {
	for _, segs := range [][]streamSeg{
		{{true, []byte{0}}, {true, []byte("GET / HTTP/1.1\r\n\r\n")}},
		{{true, []byte("G")}, {true, []byte("ARBAGE\r\n")}},
		{{true, []byte("RFB 003.008\n")}, {false, []byte("RFB 003.008\n")}}, // VNC
		{{true, []byte{22}}, {true, []byte{3, 1, 0, 5, 2, 0, 0, 1, 0}}},     // a handshake record, not a ClientHello
	} {
		recs, conn := streamRun(t, 8443, true, segs)
		if len(recs) != 0 || conn.ApplicationProto != "" {
			t.Errorf("%v: %d records, application %q", segs, len(recs), conn.ApplicationProto)
		}
	}
}

// TestStreamHandshakeSeen: ConnInfo.Handshake reaches the detectors. DNS
// over TCP checks the QR bit against the direction only when the handshake
// was not captured (the bytes may start inside a message): a message
// flagged as a response sent toward port 53 is read after a handshake and
// refused without one.
func TestStreamHandshakeSeen(t *testing.T) {
	odd := dnsFrame(dnsTestMessage(t, 0x4321, "odd.example", 1, 0)) // QR set
	query := dnsFrame(dnsTestMessage(t, 0x4322, "q.example", 0, 0))
	for _, c := range []struct {
		handshake bool
		segs      []streamSeg
		records   int
		app       string
	}{
		{true, []streamSeg{{true, odd}}, 1, "DNS"},
		{false, []streamSeg{{true, odd}}, 0, ""},
		{false, []streamSeg{{true, query}}, 1, "DNS"},
		{false, []streamSeg{{true, query[:1]}, {true, query[1:]}}, 1, "DNS"},
	} {
		recs, conn := streamRun(t, 53, c.handshake, c.segs)
		if len(recs) != c.records || conn.ApplicationProto != c.app {
			t.Errorf("handshake %v, %d segments: %d records, application %q; want %d, %q",
				c.handshake, len(c.segs), len(recs), conn.ApplicationProto, c.records, c.app)
		}
	}
}

// checkSplitEverywhere runs the segments on a connection to port whole and
// cut into one-byte segments, and checks that the records are the same but
// for the fields streamStrip clears.
func checkSplitEverywhere(t *testing.T, port uint16, segs []streamSeg) {
	t.Helper()
	whole, _ := streamRun(t, port, true, segs)
	var bytewise []streamSeg
	for _, sg := range segs {
		for i := range sg.data {
			bytewise = append(bytewise, streamSeg{sg.client, sg.data[i : i+1]})
		}
	}
	split, _ := streamRun(t, port, true, bytewise)
	if len(split) != len(whole) {
		t.Fatalf("%d records byte by byte, %d whole", len(split), len(whole))
	}
	for i := range split {
		if !proto.Equal(streamStrip(split[i]), streamStrip(whole[i])) {
			t.Errorf("record %d differs byte by byte:\n%v\n%v", i, split[i], whole[i])
		}
	}
}
