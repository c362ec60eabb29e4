package decoder

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netcap/netcap/types"
)

// DNS over TCP against tshark: a capture generated here (messages cut
// inside the length, inside the header and between records; several
// messages per segment; a segment out of order; a retransmission; IPv4 and
// IPv6; a connection whose handshake was not captured) and the corpus
// captures that hold DNS over TCP go through the engine and through tshark
// with TCP reassembly on, and every DNS record is compared field by field
// with the message tshark shows in the same frame (compareTCPDNS).

// tcpGen writes the packets of one TCP connection to a pcap writer.
type tcpGen struct {
	w          *pcapgo.Writer
	at         *time.Time
	cli, srv   net.IP
	cport      uint16
	cmac, smac net.HardwareAddr
	next       [2]uint32 // next sequence number of the client, the server
	err        error
}

func (g *tcpGen) build(fromClient bool, flags string, seq, ack uint32, payload []byte) []byte {
	eth := &layers.Ethernet{SrcMAC: g.cmac, DstMAC: g.smac, EthernetType: layers.EthernetTypeIPv4}
	src, dst := g.cli, g.srv
	sp, dp := layers.TCPPort(g.cport), layers.TCPPort(53)
	if !fromClient {
		eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
		src, dst, sp, dp = dst, src, dp, sp
	}
	tcp := &layers.TCP{SrcPort: sp, DstPort: dp, Seq: seq, Ack: ack, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		}
	}
	var net gopacket.SerializableLayer
	if src.To4() != nil {
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.To4(), DstIP: dst.To4(), Protocol: layers.IPProtocolTCP}
		tcp.SetNetworkLayerForChecksum(ip)
		net = ip
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src, DstIP: dst, NextHeader: layers.IPProtocolTCP}
		tcp.SetNetworkLayerForChecksum(ip)
		net = ip
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, net, tcp, gopacket.Payload(payload))
	if err != nil && g.err == nil {
		g.err = err
	}
	return append([]byte(nil), buf.Bytes()...)
}

func (g *tcpGen) write(b []byte) {
	*g.at = g.at.Add(3 * time.Millisecond)
	if err := g.w.WritePacket(gopacket.CaptureInfo{Timestamp: *g.at, CaptureLength: len(b), Length: len(b)}, b); err != nil && g.err == nil {
		g.err = err
	}
}

func (g *tcpGen) handshake() {
	g.write(g.build(true, "S", g.next[0]-1, 0, nil))
	g.write(g.build(false, "SA", g.next[1]-1, g.next[0], nil))
	g.write(g.build(true, "A", g.next[0], g.next[1], nil))
}

// seg builds the next data segment of a side without writing it.
func (g *tcpGen) seg(fromClient bool, payload []byte) []byte {
	d := 1
	if fromClient {
		d = 0
	}
	b := g.build(fromClient, "PA", g.next[d], g.next[1-d], payload)
	g.next[d] += uint32(len(payload))
	return b
}

func (g *tcpGen) send(fromClient bool, payload []byte) { g.write(g.seg(fromClient, payload)) }

func (g *tcpGen) close() {
	g.write(g.build(true, "FA", g.next[0], g.next[1], nil))
	g.write(g.build(false, "FA", g.next[1], g.next[0]+1, nil))
	g.write(g.build(true, "A", g.next[0]+1, g.next[1]+1, nil))
}

// oracleDNSMessage serializes a message with records of many types.
func oracleDNSMessage(t *testing.T, id uint16, name string, response bool, n int) []byte {
	t.Helper()
	q := layers.DNSQuestion{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	m := &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{q}}
	if response {
		m.QR, m.RA, m.AA = true, true, true
		rr := func(typ layers.DNSType) layers.DNSResourceRecord {
			return layers.DNSResourceRecord{Name: []byte(name), Type: typ, Class: layers.DNSClassIN, TTL: 3600}
		}
		for i := range n {
			a := rr(layers.DNSTypeA)
			a.IP = net.IPv4(198, 51, 100, byte(i)).To4()
			aaaa := rr(layers.DNSTypeAAAA)
			aaaa.IP = net.ParseIP("2001:db8::1")
			aaaa.IP[15] = byte(i)
			txt := rr(layers.DNSTypeTXT)
			txt.TXTs = [][]byte{[]byte(strings.Repeat("t", 20+i*7)), []byte("v=spf1 -all")}
			mx := rr(layers.DNSTypeMX)
			mx.MX = layers.DNSMX{Preference: uint16(10 * i), Name: []byte("mx.example.org")}
			m.Answers = append(m.Answers, a, aaaa, txt, mx)
		}
		cname := rr(layers.DNSTypeCNAME)
		cname.CNAME = []byte("alias.example.org")
		srv := rr(layers.DNSTypeSRV)
		srv.SRV = layers.DNSSRV{Priority: 1, Weight: 2, Port: 5060, Name: []byte("sip.example.org")}
		m.Answers = append(m.Answers, cname, srv)
		ns := rr(layers.DNSTypeNS)
		ns.NS = []byte("ns1.example.org")
		soa := rr(layers.DNSTypeSOA)
		soa.SOA = layers.DNSSOA{MName: []byte("ns1.example.org"), RName: []byte("hostmaster.example.org"),
			Serial: 2024010101, Refresh: 7200, Retry: 900, Expire: 1209600, Minimum: 300}
		m.Authorities = append(m.Authorities, ns, soa)
		ptr := rr(layers.DNSTypePTR)
		ptr.PTR = []byte("host.example.org")
		m.Additionals = append(m.Additionals, ptr)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := m.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// writeDNSTCPCapture writes the generated capture and returns the number of
// DNS messages in it.
func writeDNSTCPCapture(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	mac := func(b byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, b} }
	gen := func(cli, srv string, port uint16, isn0, isn1 uint32) *tcpGen {
		return &tcpGen{w: w, at: &at, cli: net.ParseIP(cli), srv: net.ParseIP(srv), cport: port,
			cmac: mac(1), smac: mac(2), next: [2]uint32{isn0 + 1, isn1 + 1}}
	}
	msgs := 0
	var gens []*tcpGen

	// 1: one query; the response cut after one byte of its length, then
	// inside the header.
	g := gen("10.0.0.1", "10.0.0.53", 40001, 1000, 5000)
	gens = append(gens, g)
	g.handshake()
	g.send(true, oracleDNSMessage(t, 1, "one.example.org", false, 0))
	r := oracleDNSMessage(t, 1, "one.example.org", true, 2)
	g.send(false, r[:1])
	g.send(false, r[1:9])
	g.send(false, r[9:])
	g.close()
	msgs += 2

	// 2: three pipelined queries in one segment; the responses cut so that
	// segments hold the end of one and the start of the next, the second
	// segment captured before the first; one segment retransmitted.
	g = gen("10.0.0.2", "10.0.0.53", 40002, 0xfffffff0, 77) // the client's sequence numbers wrap
	gens = append(gens, g)
	g.handshake()
	var qs []byte
	for i, n := range []string{"a.example.org", "b.example.org", "c.example.org"} {
		qs = append(qs, oracleDNSMessage(t, uint16(10+i), n, false, 0)...)
	}
	g.send(true, qs)
	var rs []byte
	for i, n := range []string{"a.example.org", "b.example.org", "c.example.org"} {
		rs = append(rs, oracleDNSMessage(t, uint16(10+i), n, true, i+1)...)
	}
	third := len(rs) / 3
	s1, s2 := g.seg(false, rs[:third]), g.seg(false, rs[third:2*third])
	s3 := g.seg(false, rs[2*third:])
	g.write(s2)
	g.write(s1)
	g.write(s3)
	g.write(s3)
	g.close()
	msgs += 6

	// 3: IPv6, a long response (several segments) and a second message
	// whose length is cut between two segments.
	g = gen("2001:db8::1", "2001:db8::53", 40003, 42, 4242)
	gens = append(gens, g)
	g.handshake()
	g.send(true, append(oracleDNSMessage(t, 20, "big.example.org", false, 0), oracleDNSMessage(t, 21, "next.example.org", false, 0)...))
	big := append(oracleDNSMessage(t, 20, "big.example.org", true, 12), oracleDNSMessage(t, 21, "next.example.org", true, 1)...)
	cut := len(big) - len(oracleDNSMessage(t, 21, "next.example.org", true, 1)) + 1
	for off := 0; off < cut; off += 1200 {
		g.send(false, big[off:min(off+1200, cut)])
	}
	g.send(false, big[cut:])
	g.close()
	msgs += 4

	// 4: the handshake was not captured; the capture starts at a message.
	g = gen("10.0.0.4", "10.0.0.53", 40004, 9000, 9900)
	gens = append(gens, g)
	g.send(true, oracleDNSMessage(t, 30, "mid.example.org", false, 0))
	g.send(false, oracleDNSMessage(t, 30, "mid.example.org", true, 1))
	g.close()
	msgs += 2

	for _, g := range gens {
		if g.err != nil {
			t.Fatal(g.err)
		}
	}
	return msgs
}

func TestDNSOverTCPMatchesTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark; skipped with -short")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	gen := filepath.Join(t.TempDir(), "dns-tcp-generated.pcap")
	want := writeDNSTCPCapture(t, gen)
	// testdata/loopback.pcap holds dig +tcp against dnsmasq (frames 25-34).
	paths, names := []string{gen, filepath.Join("..", "testdata", "loopback.pcap")}, []string{"generated", "testdata/loopback.pcap"}
	// The corpus captures with DNS over TCP (tshark -Y "tcp.port==53 &&
	// dns" over the corpus finds these).
	for _, f := range []string{"../../shared/pcaps/tcpdump/dns_tcp.pcap", "../../shared/labels/kareem-attack-scan/attack_scan.pcap"} {
		if _, err := os.Stat(f); err == nil {
			paths, names = append(paths, f), append(names, strings.TrimPrefix(f, "../../shared/"))
		} else {
			t.Logf("%s not found: compared without it", f)
		}
	}
	var table []tsRecord
	for _, rt := range oracleRecords {
		switch rt.typ {
		case types.Type_NC_IPv4, types.Type_NC_IPv6, types.Type_NC_TCP, types.Type_NC_UDP, types.Type_NC_DNS:
			table = append(table, rt)
		}
	}
	total := newOracleResult()
	for i := range paths {
		res, err := compareFile(context.Background(), tshark, paths[i], names[i], table)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && res.tcpDNS != want {
			t.Errorf("generated capture: %d DNS messages over TCP compared with tshark, want %d", res.tcpDNS, want)
		}
		total.merge(res)
	}
	dnsFields, mismatches := 0, 0
	for k, s := range total.stats {
		if strings.HasPrefix(k, "DNS.") {
			dnsFields += s.compared
			mismatches += s.mismatched
		}
		if s.mismatched > 0 {
			t.Errorf("%s: %d of %d differ, e.g. %s", k, s.mismatched, s.compared, s.example)
		}
	}
	for _, m := range []struct {
		c    map[string]*countStat
		key  string
		what string
	}{
		{total.extra, "DNS", "records where tshark shows no DNS message"},
		{total.lost, "DNS", "records of frames tshark does not list"},
		// tshark also reads DNS over UDP on ports netcap does not (a query
		// to port 9 in testdata): only the TCP pass must find nothing.
		{total.missing, "DNS over TCP", "messages tshark reassembles from TCP that we have no record of"},
	} {
		if c := m.c[m.key]; c != nil {
			t.Errorf("%d %s, e.g. %s", c.n, m.what, c.example)
		}
	}
	t.Logf("%d files: %d DNS messages over TCP (%d generated) and %d in all compared with tshark, %d DNS fields, %d mismatches",
		len(paths), total.tcpDNS, want, total.stats["DNS.ID"].compared, dnsFields, mismatches)
}
