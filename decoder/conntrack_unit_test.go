package decoder

import (
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// recordSink keeps copies of the records it gets, ordered or not.
type recordSink struct{ recs []proto.Message }

func (s *recordSink) Emit(_ types.Type, m proto.Message) { s.recs = append(s.recs, proto.Clone(m)) }

func (s *recordSink) EmitOrdered(t types.Type, m proto.Message, _ int64) {
	s.Emit(t, m)
}

func (s *recordSink) connections() []*types.Connection {
	var out []*types.Connection
	for _, m := range s.recs {
		if c, ok := m.(*types.Connection); ok {
			out = append(out, c)
		}
	}
	return out
}

// pkt is one packet of a scripted exchange between client 10.0.0.1:40000
// and server 10.0.0.2:80 (or UDP 53).
type pkt struct {
	at       time.Duration
	toServer bool
	flags    string // TCP flags: S, A, F, R, P; "" for UDP
	seq, ack uint32
	payload  int
}

func buildScript(t *testing.T, p pkt, udp bool) []byte {
	t.Helper()
	cli, srv := net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: cli, DstIP: srv, Protocol: layers.IPProtocolTCP}
	if !p.toServer {
		ip.SrcIP, ip.DstIP = srv, cli
		eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
	}
	payload := gopacket.Payload(make([]byte, p.payload))
	if udp {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: 40000, DstPort: 9999}
		if !p.toServer {
			u.SrcPort, u.DstPort = u.DstPort, u.SrcPort
		}
		u.SetNetworkLayerForChecksum(ip)
		return buildPacket(t, eth, ip, u, payload)
	}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: p.seq, Ack: p.ack, Window: 1000}
	if !p.toServer {
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	setTCPFlags(tcp, p.flags)
	tcp.SetNetworkLayerForChecksum(ip)
	return buildPacket(t, eth, ip, tcp, payload)
}

// setTCPFlags sets the flags named in flags: S, A, F, R, P, U, E, C.
func setTCPFlags(tcp *layers.TCP, flags string) {
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		case 'P':
			tcp.PSH = true
		case 'U':
			tcp.URG = true
		case 'E':
			tcp.ECE = true
		case 'C':
			tcp.CWR = true
		}
	}
}

// run decodes the script as a capture would: Tick for every packet, then
// Decode, then Flush at the end. The capture starts an hour ago: only packet
// time may matter.
func run(t *testing.T, script []pkt, udp bool, opts Options) []*types.Connection {
	t.Helper()
	d := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_Connection }, opts)
	s := &recordSink{}
	base := time.Now().Add(-time.Hour).UnixNano()
	for i, p := range script {
		data := buildScript(t, p, udp)
		ts := base + int64(p.at)
		d.Tick(ts, s)
		meta := Packet{Frame: int64(i + 1), Timestamp: ts, CaptureLength: len(data), Length: len(data)}
		if st, reason := d.Decode(data, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("packet %d: %v %s", i+1, st, reason)
		}
		if meta.FlowID == "" {
			t.Fatalf("packet %d has no FlowID", i+1)
		}
	}
	d.Flush(s)
	return s.connections()
}

var handshake = []pkt{
	{0, true, "S", 100, 0, 0},
	{time.Millisecond, false, "SA", 500, 101, 0},
	{2 * time.Millisecond, true, "A", 101, 501, 0},
	{3 * time.Millisecond, true, "PA", 101, 501, 10},
	{4 * time.Millisecond, false, "A", 501, 111, 0},
}

func TestConnectionLifecycle(t *testing.T) {
	opts := DefaultOptions()
	ms := time.Millisecond
	tests := []struct {
		name    string
		script  []pkt
		udp     bool
		opts    Options
		packets []int64 // packets of each connection, in order
		states  []string
	}{
		{
			name: "FIN both ways, acknowledged, final ACK stays in the connection",
			script: append(append([]pkt{}, handshake...),
				pkt{5 * ms, true, "FA", 111, 501, 0},
				pkt{6 * ms, false, "FA", 501, 112, 0},
				pkt{7 * ms, true, "A", 112, 502, 0}, // the final ACK
			),
			opts: opts, packets: []int64{8}, states: []string{"SF"},
		},
		{
			name: "RST ends it; a retransmitted RST stays with it",
			script: append(append([]pkt{}, handshake...),
				pkt{5 * ms, false, "R", 501, 0, 0},
				pkt{6 * ms, false, "R", 501, 0, 0},
			),
			opts: opts, packets: []int64{7}, states: []string{"RSTR"},
		},
		{
			name: "a new SYN after the close starts a second connection",
			script: append(append([]pkt{}, handshake...),
				pkt{5 * ms, true, "FA", 111, 501, 0},
				pkt{6 * ms, false, "FA", 501, 112, 0},
				pkt{7 * ms, true, "A", 112, 502, 0},
				pkt{8 * ms, true, "S", 9000, 0, 0},
				pkt{9 * ms, false, "SA", 7000, 9001, 0},
			),
			opts: opts, packets: []int64{8, 2}, states: []string{"SF", "S1"},
		},
		{
			name: "idle longer than -conn-timeout: two connections",
			script: append(append([]pkt{}, handshake...),
				pkt{6 * time.Minute, true, "PA", 111, 501, 10},
			),
			opts: opts, packets: []int64{5, 1}, states: []string{"S1", "OTH"},
		},
		{
			name: "spans the timeout but never idle that long: one connection",
			script: append(append([]pkt{}, handshake...),
				pkt{4 * time.Minute, true, "PA", 111, 501, 10},
				pkt{8 * time.Minute, true, "PA", 121, 501, 10},
				pkt{12 * time.Minute, false, "A", 501, 131, 0},
			),
			opts: opts, packets: []int64{8}, states: []string{"S1"},
		},
		{
			name:   "UDP: -flow-timeout splits, end of input flushes",
			script: []pkt{{0, true, "", 0, 0, 20}, {30 * time.Second, false, "", 0, 0, 20}, {200 * time.Second, true, "", 0, 0, 20}},
			udp:    true, opts: opts, packets: []int64{2, 1}, states: []string{"SF", "S0"},
		},
		{
			name:   "UDP with timeouts off: one flow",
			script: []pkt{{0, true, "", 0, 0, 20}, {30 * time.Second, false, "", 0, 0, 20}, {200 * time.Second, true, "", 0, 0, 20}},
			udp:    true, opts: Options{CloseDelay: 5 * time.Second}, packets: []int64{3}, states: []string{"SF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns := run(t, tt.script, tt.udp, tt.opts)
			if len(conns) != len(tt.packets) {
				for _, c := range conns {
					t.Logf("%d packets, %s, frames %d-%d", c.NumPackets, c.State, c.FrameFirst, c.FrameLast)
				}
				t.Fatalf("%d connections, want %d", len(conns), len(tt.packets))
			}
			for i, c := range conns {
				if c.NumPackets != tt.packets[i] || c.State != tt.states[i] {
					t.Errorf("connection %d: %d packets state %s history %s, want %d packets state %s", i, c.NumPackets, c.State, c.History, tt.packets[i], tt.states[i])
				}
				if c.SrcIP != "10.0.0.1" || c.SrcPort != 40000 {
					t.Errorf("connection %d: client %s:%d, want 10.0.0.1:40000", i, c.SrcIP, c.SrcPort)
				}
				if c.Duration != c.TimestampLast-c.TimestampFirst {
					t.Errorf("connection %d: duration %d != last-first", i, c.Duration)
				}
			}
		})
	}
}
