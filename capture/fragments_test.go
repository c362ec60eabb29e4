package capture

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// udpDatagram is an IP packet (v6 or not) holding a UDP datagram with a
// payload of n bytes.
func udpDatagram(t testing.TB, v6 bool, src, dst net.IP, sport, dport uint16, n int) []byte {
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i)
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
		udp.SetNetworkLayerForChecksum(ip)
		return mustSerialize(t, ip, udp, gopacket.Payload(payload))
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 77, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
	udp.SetNetworkLayerForChecksum(ip)
	return mustSerialize(t, ip, udp, gopacket.Payload(payload))
}

// fragment cuts an unfragmented IP packet into fragments whose payloads
// hold at most size bytes (a multiple of 8).
func fragment(pkt []byte, size int) [][]byte {
	var out [][]byte
	if pkt[0]>>4 == 4 {
		hl := int(pkt[0]&0x0f) * 4
		body := pkt[hl:]
		for off := 0; off < len(body); off += size {
			end := min(off+size, len(body))
			f := append(append([]byte(nil), pkt[:hl]...), body[off:end]...)
			flags := uint16(off / 8)
			if end < len(body) {
				flags |= 0x2000
			}
			binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
			binary.BigEndian.PutUint16(f[6:], flags)
			f[10], f[11] = 0, 0
			var sum uint32
			for i := 0; i < hl; i += 2 {
				sum += uint32(binary.BigEndian.Uint16(f[i:]))
			}
			for sum > 0xffff {
				sum = sum&0xffff + sum>>16
			}
			binary.BigEndian.PutUint16(f[10:], ^uint16(sum))
			out = append(out, f)
		}
		return out
	}
	next, body := pkt[6], pkt[40:]
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		f := append([]byte(nil), pkt[:40]...)
		f[6] = 44
		om := uint16(off)
		if end < len(body) {
			om |= 1
		}
		f = append(f, next, 0)
		f = binary.BigEndian.AppendUint16(f, om)
		f = binary.BigEndian.AppendUint32(f, 0x5eed)
		f = append(f, body[off:end]...)
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}

// TestFragmentedDatagramJoinsItsFlow: the reader cannot hash a later
// fragment on ports, so fragments go to every worker, and the reassembled
// datagram must be decoded by the worker of its flow, joining the
// connection of the flow's unfragmented packets. Ports are picked so that
// the fragments' own worker (IP pair and protocol) is not the flow's.
func TestFragmentedDatagramJoinsItsFlow(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		a, b := net.IP{192, 0, 2, 1}, net.IP{198, 51, 100, 2}
		if v6 {
			a, b = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
		}
		// A source port whose flow lands on another worker than its
		// fragments, for 2 and for 8 workers.
		sport := uint16(0)
		for p := uint16(40000); p < 41000 && sport == 0; p++ {
			whole := etherFrame(udpDatagram(t, v6, a, b, p, 7000, 8))
			frag := etherFrame(fragment(udpDatagram(t, v6, a, b, p, 7000, 64), 32)[1])
			hw, hf := FlowHash(whole, layers.LinkTypeEthernet), FlowHash(frag, layers.LinkTypeEthernet)
			if hw%2 != hf%2 && hw%8 != hf%8 {
				sport = p
			}
		}
		if sport == 0 {
			t.Fatal("no port puts the flow on another worker than its fragments")
		}
		var pkts [][]byte
		add := func(ps ...[]byte) {
			for _, p := range ps {
				pkts = append(pkts, etherFrame(p))
			}
		}
		add(udpDatagram(t, v6, a, b, sport, 7000, 20))                   // 1: request
		add(fragment(udpDatagram(t, v6, b, a, 7000, sport, 100), 48)...) // 2-4: reply in 3 fragments, in order
		add(udpDatagram(t, v6, a, b, sport, 7000, 30))                   // 5: request
		f := fragment(udpDatagram(t, v6, b, a, 7000, sport, 90), 40)     // reply, last fragment first
		add(f[2], f[1], f[0])                                            // 6-8: completed by the first fragment
		g := fragment(udpDatagram(t, v6, a, b, sport, 7000, 50), 32)     // request, first fragment first
		add(g[0], udpDatagram(t, v6, a, b, sport, 7000, 5), g[1])        // 9-11: another packet in between
		path := writeFile(t, t.TempDir(), "frags.pcap", pcapBytes(t, layers.LinkTypeEthernet, false, pkts))

		var want map[string][]proto.Message
		var wantFiles map[string][]byte
		for _, workers := range []int{1, 2, 8} {
			sum, out := runFile(t, path, workers, true)
			recs := readRecords(t, out)
			files := readDir(t, out)
			conns := recs["Connection"]
			if len(conns) != 1 {
				t.Fatalf("v6=%v workers=%d: %d connections, want 1: %v", v6, workers, len(conns), conns)
			}
			c := conns[0].(*types.Connection)
			// 1 + 1 + 1 + 1 + 1 + 1: each datagram is one packet, at the
			// fragment that completes it.
			if c.NumPackets != 6 || c.NumPacketsClientToServer != 4 || c.NumPacketsServerToClient != 2 {
				t.Errorf("v6=%v workers=%d: connection has %d packets (%d/%d), want 6 (4/2)", v6, workers, c.NumPackets,
					c.NumPacketsClientToServer, c.NumPacketsServerToClient)
			}
			if c.FrameFirst != 1 || c.FrameLast != 11 {
				t.Errorf("v6=%v workers=%d: frames %d..%d, want 1..11", v6, workers, c.FrameFirst, c.FrameLast)
			}
			if got := frames(recs["UDP"]); len(got) != 6 || got[1] != 4 || got[2] != 5 || got[3] != 8 || got[5] != 11 {
				t.Errorf("v6=%v workers=%d: UDP records at frames %v, want [1 4 5 8 10 11]", v6, workers, got)
			}
			for _, m := range recs["UDP"] {
				if u := m.(*types.UDP); u.FlowID != c.UID {
					t.Errorf("v6=%v workers=%d: UDP record of frame %d has FlowID %q, the connection %q", v6, workers, u.FrameNumber, u.FlowID, c.UID)
				}
			}
			if sum.Decoder.Defragmented != 3 {
				t.Errorf("v6=%v workers=%d: %d datagrams reassembled, want 3", v6, workers, sum.Decoder.Defragmented)
			}
			if want == nil {
				want, wantFiles = recs, files
				continue
			}
			sameRecords(t, filepath.Base(out), recs, want)
			if !sameFiles(t, wantFiles, files) {
				t.Errorf("v6=%v workers=%d: files differ from one worker's", v6, workers)
			}
		}
	}
}
