package decoder

import (
	"bytes"
	"encoding/hex"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// frag is one fragment a test sends: bytes [off, off+n) of the datagram's IP
// payload; fill, when not 0, replaces its bytes (overlaps with other data).
type frag struct {
	off, n int
	more   bool
	fill   byte
	id     uint32 // 0: the scenario's datagram
	at     time.Duration
}

var (
	fragSrc4, fragDst4 = net.IP{192, 0, 2, 1}, net.IP{198, 51, 100, 2}
	fragSrc6, fragDst6 = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	fragMACA           = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	fragMACB           = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

// fragDatagram is the IP payload of a datagram of n bytes: a UDP header
// (port 53), a DNS query, and bytes of a pattern up to n.
func fragDatagram(t testing.TB, v6 bool, n int) []byte {
	t.Helper()
	var nl gopacket.NetworkLayer = &layers.IPv4{Version: 4, SrcIP: fragSrc4, DstIP: fragDst4, Protocol: layers.IPProtocolUDP}
	if v6 {
		nl = &layers.IPv6{Version: 6, SrcIP: fragSrc6, DstIP: fragDst6, NextHeader: layers.IPProtocolUDP}
	}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(nl)
	dns := &layers.DNS{ID: 7, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	pad := make([]byte, n-8-29)
	for i := range pad {
		pad[i] = byte(i % 251)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, udp, dns, gopacket.Payload(pad)); err != nil {
		t.Fatal(err)
	}
	if len(buf.Bytes()) != n {
		t.Fatalf("datagram of %d bytes, want %d", len(buf.Bytes()), n)
	}
	return bytes.Clone(buf.Bytes())
}

// fragFrame is an Ethernet frame with one fragment of dg.
func fragFrame(t testing.TB, v6 bool, id uint32, dg []byte, f frag) []byte {
	t.Helper()
	data := make([]byte, f.n)
	for i := range data {
		if f.fill != 0 {
			data[i] = f.fill
		} else if f.off+i < len(dg) {
			data[i] = dg[f.off+i]
		}
	}
	eth := &layers.Ethernet{SrcMAC: fragMACA, DstMAC: fragMACB, EthernetType: layers.EthernetTypeIPv4}
	var ls []gopacket.SerializableLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ls = []gopacket.SerializableLayer{eth,
			&layers.IPv6{Version: 6, HopLimit: 64, SrcIP: fragSrc6, DstIP: fragDst6, NextHeader: layers.IPProtocolIPv6Fragment},
			&layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(f.off / 8), MoreFragments: f.more, Identification: id},
			gopacket.Payload(data)}
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: uint16(id), SrcIP: fragSrc4, DstIP: fragDst4, Protocol: layers.IPProtocolUDP, FragOffset: uint16(f.off / 8)}
		if f.more {
			ip.Flags = layers.IPv4MoreFragments
		}
		ls = []gopacket.SerializableLayer{eth, ip, gopacket.Payload(data)}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// frameRecs are the records of one frame, by type.
type frameRecs map[types.Type][]proto.Message

type fragRun struct {
	frames [][]byte
	times  []int64
	recs   []frameRecs // per frame
	stats  Stats
}

const fragT0 = int64(1_700_000_000) * int64(time.Second)

// runFrags decodes the frames with one decoder, as one worker does, ticking
// the clock at every frame, and flushes at the end.
func runFrags(t testing.TB, frames [][]byte, times []int64, opts Options) *fragRun {
	t.Helper()
	pd := NewPacketDecoder(func(types.Type) bool { return true }, opts)
	r := &fragRun{frames: frames, times: times}
	for i, fr := range frames {
		s := &typedSink{m: frameRecs{}}
		pd.Tick(times[i], s)
		meta := Packet{Frame: int64(i + 1), Timestamp: times[i], CaptureLength: len(fr), Length: len(fr), Payloads: true}
		pd.Decode(fr, layers.LinkTypeEthernet, &meta, s)
		r.recs = append(r.recs, s.m)
	}
	pd.Flush(&typedSink{m: frameRecs{}})
	r.stats = pd.Stats()
	return r
}

type typedSink struct{ m frameRecs }

func (s *typedSink) Emit(t types.Type, m proto.Message) { s.m[t] = append(s.m[t], proto.Clone(m)) }
func (s *typedSink) EmitOrdered(t types.Type, m proto.Message, _ int64) {
	s.Emit(t, m)
}

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// fragCase is a scenario: the fragments in the order sent, the frame (index)
// that completes the datagram (-1: none) and its payload there, described
// from the original datagram dg.
type fragCase struct {
	name     string
	size     int // the datagram's IP payload
	frags    []frag
	complete int
	want     func(dg []byte) []byte // nil: dg itself
	opts     func(*Options)
	stats    Stats // the counters checked (those not 0 here must match, and the rest be 0)
}

func fragCases() []fragCase {
	M := true
	return []fragCase{
		{name: "in order", size: 100, frags: []frag{{off: 0, n: 40, more: M}, {off: 40, n: 40, more: M}, {off: 80, n: 20}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "reversed", size: 100, frags: []frag{{off: 80, n: 20}, {off: 40, n: 40, more: M}, {off: 0, n: 40, more: M}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "last in the middle", size: 100, frags: []frag{{off: 40, n: 40, more: M}, {off: 80, n: 20}, {off: 0, n: 40, more: M}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "duplicate", size: 100, frags: []frag{{off: 0, n: 40, more: M}, {off: 0, n: 40, more: M}, {off: 40, n: 40, more: M}, {off: 80, n: 20}},
			complete: 3, stats: Stats{Defragmented: 1}},
		{name: "duplicate after completion starts a new datagram", size: 100,
			frags:    []frag{{off: 0, n: 48, more: M}, {off: 48, n: 52}, {off: 48, n: 52}},
			complete: 1, stats: Stats{Defragmented: 1, DefragTimedOut: 1}},
		{name: "overlap: the lower offset wins", size: 100,
			frags:    []frag{{off: 40, n: 60, fill: 'X'}, {off: 0, n: 48, more: M}},
			complete: 1, want: func(dg []byte) []byte { return cat(dg[:48], rep('X', 52)) }, stats: Stats{Defragmented: 1}},
		{name: "overlap: the lower offset wins, sent first", size: 100,
			frags:    []frag{{off: 0, n: 48, more: M}, {off: 40, n: 60, fill: 'X'}},
			complete: 1, want: func(dg []byte) []byte { return cat(dg[:48], rep('X', 52)) }, stats: Stats{Defragmented: 1}},
		{name: "overlap: equal offsets, the first wins", size: 100,
			frags:    []frag{{off: 32, n: 40, more: M, fill: 'X'}, {off: 32, n: 40, more: M, fill: 'Y'}, {off: 72, n: 28}, {off: 0, n: 32, more: M}},
			complete: 3, want: func(dg []byte) []byte { return cat(dg[:32], rep('X', 40), dg[72:]) }, stats: Stats{Defragmented: 1}},
		{name: "overlap: a longer fragment at the same offset adds its end", size: 100,
			frags:    []frag{{off: 32, n: 16, more: M, fill: 'X'}, {off: 32, n: 68, fill: 'Y'}, {off: 0, n: 32, more: M}},
			complete: 2, want: func(dg []byte) []byte { return cat(dg[:32], rep('X', 16), rep('Y', 52)) }, stats: Stats{Defragmented: 1}},
		{name: "overlap: a fragment inside another", size: 100,
			frags:    []frag{{off: 0, n: 64, more: M}, {off: 16, n: 16, more: M, fill: 'X'}, {off: 64, n: 36}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "two last fragments: the first one sets the length", size: 100,
			frags:    []frag{{off: 80, n: 20}, {off: 80, n: 16}, {off: 0, n: 80, more: M}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "bytes beyond the length are dropped", size: 100,
			frags:    []frag{{off: 0, n: 88, more: M}, {off: 96, n: 16, more: M, fill: 'X'}, {off: 80, n: 20}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "missing last fragment", size: 100, frags: []frag{{off: 0, n: 40, more: M}, {off: 40, n: 40, more: M}},
			complete: -1, stats: Stats{DefragTimedOut: 1}},
		{name: "gap", size: 100, frags: []frag{{off: 0, n: 40, more: M}, {off: 48, n: 52}},
			complete: -1, stats: Stats{DefragTimedOut: 1}},
		{name: "timeout", size: 100,
			frags:    []frag{{off: 0, n: 40, more: M}, {off: 40, n: 40, more: M, at: 10 * time.Second}, {off: 80, n: 20, at: 31 * time.Second}},
			complete: -1, stats: Stats{DefragTimedOut: 2}},
		{name: "within the timeout", size: 100,
			frags:    []frag{{off: 0, n: 40, more: M}, {off: 40, n: 40, more: M, at: 10 * time.Second}, {off: 80, n: 20, at: 29 * time.Second}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "no timeout", size: 100, opts: func(o *Options) { o.DefragTimeout = 0 },
			frags:    []frag{{off: 0, n: 40, more: M}, {off: 80, n: 20, at: time.Hour}, {off: 40, n: 40, more: M, at: 2 * time.Hour}},
			complete: 2, stats: Stats{Defragmented: 1}},
		{name: "oversize", size: 100,
			frags:    []frag{{off: 0, n: 40, more: M}, {off: 65528, n: 16}, {off: 40, n: 60}},
			complete: -1, stats: Stats{DefragOversize: 1, DefragTimedOut: 1}},
		{name: "largest datagram", size: 65535 - 20,
			frags:    []frag{{off: 0, n: 65000, more: M}, {off: 65000, n: 65535 - 20 - 65000}},
			complete: 1, stats: Stats{Defragmented: 1}},
		{name: "too many pending", size: 100, opts: func(o *Options) { o.DefragMaxDatagrams = 2 },
			frags:    []frag{{off: 0, n: 40, more: M}, {id: 2, off: 0, n: 8, more: M}, {id: 3, off: 0, n: 8, more: M}, {off: 40, n: 60}},
			complete: -1, stats: Stats{DefragEvicted: 2, DefragTimedOut: 2}},
		{name: "memory bound", size: 100, opts: func(o *Options) { o.DefragMemory = 100 },
			frags:    []frag{{id: 2, off: 0, n: 64, more: M}, {off: 0, n: 40, more: M}, {off: 40, n: 60}},
			complete: 2, stats: Stats{Defragmented: 1, DefragEvicted: 1}},
	}
}

// buildCase makes the frames of a case (the datagram has IP id base, the
// others base+frag.id).
func buildCase(t testing.TB, v6 bool, c fragCase, base uint32) (dg []byte, frames [][]byte, times []int64) {
	dg = fragDatagram(t, v6, c.size)
	for _, f := range c.frags {
		id := base + f.id
		frames = append(frames, fragFrame(t, v6, id, dg, f))
		times = append(times, fragT0+int64(f.at))
	}
	return dg, frames, times
}

func TestDefrag(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, c := range fragCases() {
			name := "IPv4/" + c.name
			if v6 {
				name = "IPv6/" + c.name
			}
			t.Run(name, func(t *testing.T) {
				opts := DefaultOptions()
				if c.opts != nil {
					c.opts(&opts)
				}
				dg, frames, times := buildCase(t, v6, c, 1)
				r := runFrags(t, frames, times, opts)
				ipType := types.Type_NC_IPv4
				if v6 {
					ipType = types.Type_NC_IPv6
				}
				want := dg
				if c.want != nil {
					want = c.want(dg)
				}
				for i, fr := range r.recs {
					if len(fr[types.Type_NC_Ethernet]) != 1 || len(fr[ipType]) != 1 {
						t.Errorf("frame %d: %d Ethernet and %d %v records, want one each", i+1, len(fr[types.Type_NC_Ethernet]), len(fr[ipType]), ipType)
					}
					udp := fr[types.Type_NC_UDP]
					if i != c.complete {
						if len(udp) != 0 || len(fr[types.Type_NC_DNS]) != 0 {
							t.Errorf("frame %d: %d UDP, %d DNS records before the datagram is complete", i+1, len(udp), len(fr[types.Type_NC_DNS]))
						}
						continue
					}
					if len(udp) != 1 {
						t.Fatalf("frame %d completes the datagram: %d UDP records", i+1, len(udp))
					}
					u := udp[0].(*types.UDP)
					got := cat(want[:0:0], binaryUDPHeader(u), u.Payload)
					if !bytes.Equal(got, want) {
						t.Errorf("frame %d: reassembled datagram\n%x\nwant\n%x", i+1, got, want)
					}
					if u.FrameNumber != int64(i+1) || u.Timestamp != times[i] {
						t.Errorf("UDP record of frame %d at %d, carries frame %d time %d", i+1, times[i], u.FrameNumber, u.Timestamp)
					}
					if c.want == nil && len(fr[types.Type_NC_DNS]) != 1 {
						t.Errorf("frame %d: %d DNS records, want 1", i+1, len(fr[types.Type_NC_DNS]))
					}
				}
				st := r.stats
				got := Stats{Defragmented: st.Defragmented, DefragTimedOut: st.DefragTimedOut, DefragEvicted: st.DefragEvicted, DefragOversize: st.DefragOversize}
				if got != c.stats {
					t.Errorf("counters %+v, want %+v", got, c.stats)
				}
			})
		}
	}
}

func binaryUDPHeader(u *types.UDP) []byte {
	return []byte{byte(u.SrcPort >> 8), byte(u.SrcPort), byte(u.DstPort >> 8), byte(u.DstPort),
		byte(u.Length >> 8), byte(u.Length), byte(u.Checksum >> 8), byte(u.Checksum)}
}

// TestDefragSameAsWhole: the records of a datagram's transport and
// application layers are those of the same datagram sent whole, and its
// connection counts one packet, as tshark's conversation table does.
func TestDefragSameAsWhole(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		dg := fragDatagram(t, v6, 1200)
		frames := [][]byte{
			fragFrame(t, v6, 9, dg, frag{off: 0, n: 504, more: true}),
			fragFrame(t, v6, 9, dg, frag{off: 504, n: 504, more: true}),
			fragFrame(t, v6, 9, dg, frag{off: 1008, n: 192}),
		}
		times := []int64{fragT0, fragT0 + 1000, fragT0 + 2000}
		r := runFrags(t, frames, times, DefaultOptions())
		// The whole datagram, decoded as the third frame.
		whole := wholeFrame(t, v6, dg)
		w := runFrags(t, [][]byte{frames[0], frames[1], whole}, times, func() Options { o := DefaultOptions(); o.NoDefrag = true; return o }())
		for _, typ := range []types.Type{types.Type_NC_UDP, types.Type_NC_DNS} {
			got, want := r.recs[2][typ], w.recs[2][typ]
			if len(got) != 1 || len(want) != 1 {
				t.Fatalf("v6 %v: %v records: %d reassembled, %d whole", v6, typ, len(got), len(want))
			}
			// The flow ids differ: without reassembly, the first
			// fragment opens the flow.
			g, wn := proto.Clone(got[0]), proto.Clone(want[0])
			clearFlowID(g)
			clearFlowID(wn)
			if !proto.Equal(g, wn) {
				t.Errorf("v6 %v: %v record of the reassembled datagram\n%v\nwhole:\n%v", v6, typ, g, wn)
			}
		}
		// Connections are emitted at Flush, which runFrags discards: count
		// through the decoder's stats instead.
		if r.stats.Connections != 1 {
			t.Errorf("v6 %v: %d connections, want 1", v6, r.stats.Connections)
		}
	}
}

func clearFlowID(m proto.Message) {
	fd := m.ProtoReflect().Descriptor().Fields().ByName("FlowID")
	if fd != nil {
		m.ProtoReflect().Clear(fd)
	}
}

func wholeFrame(t testing.TB, v6 bool, dg []byte) []byte {
	eth := &layers.Ethernet{SrcMAC: fragMACA, DstMAC: fragMACB, EthernetType: layers.EthernetTypeIPv4}
	var ip gopacket.SerializableLayer = &layers.IPv4{Version: 4, TTL: 64, Id: 9, SrcIP: fragSrc4, DstIP: fragDst4, Protocol: layers.IPProtocolUDP}
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip = &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: fragSrc6, DstIP: fragDst6, NextHeader: layers.IPProtocolUDP}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, gopacket.Payload(dg)); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// TestDefragTruncatedFirstFragment: a fragment not captured whole does not
// join reassembly; a first one is decoded as it is, as tshark does.
func TestDefragTruncatedFirstFragment(t *testing.T) {
	dg := fragDatagram(t, false, 100)
	first := fragFrame(t, false, 1, dg, frag{off: 0, n: 48, more: true})
	last := fragFrame(t, false, 1, dg, frag{off: 48, n: 52})
	r := runFrags(t, [][]byte{first[:len(first)-10], last}, []int64{fragT0, fragT0}, DefaultOptions())
	if n := len(r.recs[0][types.Type_NC_UDP]); n != 1 {
		t.Errorf("truncated first fragment: %d UDP records, want 1", n)
	}
	if n := len(r.recs[1][types.Type_NC_UDP]); n != 0 {
		t.Errorf("last fragment: %d UDP records, want 0", n)
	}
	if r.stats.DefragTimedOut != 1 || r.stats.Defragmented != 0 {
		t.Errorf("stats %+v", r.stats)
	}
}

// TestDefragAtomicIPv6Fragment: a fragment header with offset 0 and no more
// fragments is decoded through, at once.
func TestDefragAtomicIPv6Fragment(t *testing.T) {
	dg := fragDatagram(t, true, 100)
	r := runFrags(t, [][]byte{fragFrame(t, true, 1, dg, frag{off: 0, n: 100})}, []int64{fragT0}, DefaultOptions())
	if n := len(r.recs[0][types.Type_NC_DNS]); n != 1 {
		t.Errorf("atomic fragment: %d DNS records, want 1", n)
	}
	if r.stats.Defragmented != 0 {
		t.Errorf("stats %+v", r.stats)
	}
}

// TestDefragVLANKey: with private addresses, Wireshark keeps datagrams of
// different VLANs apart; with public ones it does not.
func TestDefragVLANKey(t *testing.T) {
	for _, private := range []bool{false, true} {
		dg := fragDatagram(t, false, 100)
		mk := func(vlan uint16, f frag) []byte {
			src, dst := fragSrc4, fragDst4
			if private {
				src, dst = net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
			}
			ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, SrcIP: src, DstIP: dst, Protocol: layers.IPProtocolUDP, FragOffset: uint16(f.off / 8)}
			if f.more {
				ip.Flags = layers.IPv4MoreFragments
			}
			buf := gopacket.NewSerializeBuffer()
			err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				&layers.Ethernet{SrcMAC: fragMACA, DstMAC: fragMACB, EthernetType: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeIPv4}, ip, gopacket.Payload(dg[f.off:f.off+f.n]))
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Clone(buf.Bytes())
		}
		frames := [][]byte{mk(5, frag{off: 0, n: 48, more: true}), mk(6, frag{off: 48, n: 52})}
		r := runFrags(t, frames, []int64{fragT0, fragT0}, DefaultOptions())
		if got, want := r.stats.Defragmented, map[bool]int64{false: 1, true: 0}[private]; got != want {
			t.Errorf("private %v: %d datagrams reassembled over two VLANs, want %d", private, got, want)
		}
	}
}

// TestDefragMatchesTshark writes every scenario to a capture and compares,
// frame by frame, the UDP payload tshark shows (reassembly on, its default)
// with ours: where a datagram is complete, and what overlapping fragments
// make of it.
func TestDefragMatchesTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	for _, v6 := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "frags.pcap")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := pcapgo.NewWriter(f)
		if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		var all [][]byte
		var times []int64
		base := fragT0
		for ci, c := range fragCases() {
			if c.opts != nil || c.name == "timeout" || c.name == "oversize" || c.name == "largest datagram" {
				continue // our limits; tshark has none
			}
			// One IP id per scenario, so they do not mix.
			_, frames, ts := buildCase(t, v6, c, uint32(100+10*ci))
			for i := range frames {
				all = append(all, frames[i])
				times = append(times, base+ts[i]-fragT0)
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, base+ts[i]-fragT0), CaptureLength: len(frames[i]), Length: len(frames[i])}
				if err := w.WritePacket(ci, frames[i]); err != nil {
					t.Fatal(err)
				}
			}
			base += int64(time.Minute)
		}
		f.Close()
		out, err := exec.Command(tshark, "-r", path, "-n", "-T", "fields", "-E", "occurrence=f", "-e", "udp.srcport", "-e", "udp.payload").Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) != len(all) {
			t.Fatalf("tshark printed %d lines for %d frames", len(lines), len(all))
		}
		r := runFrags(t, all, times, DefaultOptions())
		compared := 0
		for i, line := range lines {
			port, payload, _ := strings.Cut(line, "\t")
			ours := ""
			if u := r.recs[i][types.Type_NC_UDP]; len(u) > 0 {
				ours = strconv.Itoa(int(u[0].(*types.UDP).SrcPort)) + "\t" + hex.EncodeToString(u[0].(*types.UDP).Payload)
			}
			theirs := ""
			if port != "" {
				theirs = port + "\t" + strings.ReplaceAll(payload, ":", "")
				compared++
			}
			if ours != theirs {
				t.Errorf("v6 %v frame %d: ours %q, tshark %q", v6, i+1, ours, theirs)
			}
		}
		if compared == 0 {
			t.Errorf("v6 %v: tshark shows no UDP layer", v6)
		}
		t.Logf("v6 %v: %d frames, %d reassembled datagrams compared with tshark", v6, len(all), compared)
	}
}

// BenchmarkDefrag measures a UDP datagram of 4000 bytes in three fragments
// (a 1500-byte MTU), decoded from Ethernet up to DNS. Reassembly allocates
// nothing once its buffers are grown; the allocations left are the DNS
// record's.
func BenchmarkDefrag(b *testing.B) {
	dg := fragDatagram(b, false, 4000)
	var frames [][]byte
	for off := 0; off < len(dg); off += 1480 {
		n := min(1480, len(dg)-off)
		frames = append(frames, fragFrame(b, false, 1, dg, frag{off: off, n: n, more: off+n < len(dg)}))
	}
	pd := NewPacketDecoder(func(t types.Type) bool { return t != types.Type_NC_Connection && t != types.Type_NC_Flow })
	var s discard
	var meta Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(dg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, fr := range frames {
			meta = Packet{Frame: int64(i*len(frames) + j + 1), Timestamp: fragT0, CaptureLength: len(fr), Length: len(fr)}
			pd.Decode(fr, layers.LinkTypeEthernet, &meta, &s)
		}
	}
	if st := pd.Stats(); st.Defragmented != int64(b.N) {
		b.Fatalf("%d datagrams reassembled, want %d", st.Defragmented, b.N)
	}
}

// TestDefragReverseLinear: the 8,176 eight-byte fragments of one datagram
// cost about the same in any order, and four times as many fragments cost
// about four times as much (a sorted list and a scan of the pieces per
// fragment made them quadratic). Every order gives the datagram.
func TestDefragReverseLinear(t *testing.T) {
	const most = 8176
	payload := make([]byte, most*8)
	for i := range payload {
		payload[i] = byte(i%251) + 1
	}
	rng := rand.New(rand.NewSource(4))
	shuffled := map[int][]int{most / 4: rng.Perm(most / 4), most: rng.Perm(most)}
	orders := []struct {
		name  string
		order func(i, n int) int
	}{
		{"in order", func(i, n int) int { return i }},
		{"reversed", func(i, n int) int { return n - 1 - i }},
		{"shuffled", func(i, n int) int { return shuffled[n][i] }},
	}
	// run sends the n fragments of a datagram of n*8 bytes, best of a few
	// runs: the machine may be busy.
	run := func(n int, order func(i, n int) int, name string) time.Duration {
		var best time.Duration
		for try := range 5 {
			f := newDefragmenter(DefaultOptions())
			k := fragKey{id: 7, proto: 17}
			var got []byte
			begin := time.Now()
			for i := range n {
				j := order(i, n)
				out, _, done := f.add(&k, j*8, j < n-1, payload[j*8:j*8+8], 17, maxDatagramPayload-20, 0, 0)
				if done != (i == n-1) {
					t.Fatalf("%s, %d fragments: fragment %d (offset %d) completes: %v", name, n, i, j*8, done)
				}
				got = out
			}
			d := time.Since(begin)
			if !bytes.Equal(got, payload[:n*8]) {
				t.Fatalf("%s, %d fragments: the datagram differs", name, n)
			}
			if try == 0 || d < best {
				best = d
			}
		}
		return best
	}
	took := map[string]time.Duration{}
	for _, o := range orders {
		quarter, all := run(most/4, o.order, o.name), run(most, o.order, o.name)
		took[o.name] = all
		t.Logf("%s: %d fragments %v, %d fragments %v", o.name, most/4, quarter, most, all)
		if all > 8*quarter+2*time.Millisecond {
			t.Errorf("%s: %d fragments took %v, %d took %v: more than 8 times (+2 ms)", o.name, most, all, most/4, quarter)
		}
	}
	if took["reversed"] > 5*took["in order"]+2*time.Millisecond {
		t.Errorf("reversed took %v, in order %v: more than 5 times (+2 ms)", took["reversed"], took["in order"])
	}
}

// TestDefragAccounting: the memory the defragmenter counts is what its
// pending datagrams take on the heap, bookkeeping included.
func TestDefragAccounting(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	src := make([]byte, 1480)
	o := DefaultOptions()
	o.DefragMaxDatagrams, o.DefragMemory = 0, 0
	f := newDefragmenter(o)
	before := heapInUse()
	for id := range 5000 {
		k := fragKey{id: uint32(id), proto: 17}
		// Fragments after the first, never the last: nothing completes.
		for range 1 + rng.Intn(40) {
			n := 8 * (1 + rng.Intn(185))
			off := 8 * (1 + rng.Intn(1000))
			f.add(&k, off, true, src[:n], 17, maxDatagramPayload-20, 0, 0)
		}
	}
	used := heapInUse() - before
	counted := f.memory()
	t.Logf("%d datagrams: counted %d bytes, the heap grew by %d", len(f.m), counted, used)
	if diff := float64(counted-used) / float64(used); diff < -0.03 || diff > 0.03 {
		t.Errorf("counted %d bytes, the heap grew by %d: %.1f%% apart, more than 3%%", counted, used, 100*diff)
	}
	f.flush()
	if f.memory() != 0 {
		t.Errorf("%d bytes counted after the flush", f.memory())
	}
}

// TestDefragFloodBounded builds the attack of first fragments of datagrams
// that never complete, every other one empty: what the defragmenter holds,
// measured on the heap, stays near DefragMemory however many come.
func TestDefragFloodBounded(t *testing.T) {
	const budget = 1 << 20
	o := DefaultOptions()
	o.DefragMemory = budget
	f := newDefragmenter(o)
	data := make([]byte, 8)
	before := heapInUse()
	var peak int64
	for id := range 200000 {
		k := fragKey{id: uint32(id), proto: 17}
		k.src[0] = byte(id >> 16)
		f.add(&k, 0, true, data[:8*(id%2)], 17, maxDatagramPayload-20, 0, 0)
		if f.memory() > budget {
			t.Fatalf("datagram %d: %d bytes held, budget %d", id, f.memory(), budget)
		}
		if id%20000 == 0 {
			peak = max(peak, heapInUse()-before)
		}
	}
	t.Logf("200000 incomplete datagrams, DefragMemory %d: %d pending, the heap grew by at most %d bytes, %d counted", budget, len(f.m), peak, f.memory())
	// The map keeps some room beyond its entries, and a few dropped
	// datagrams wait for reuse: some slack.
	if peak > budget+budget/4 {
		t.Errorf("the heap grew by %d bytes, budget %d", peak, budget)
	}
	if f.stats.evicted == 0 {
		t.Error("nothing was evicted: the bound was never enforced")
	}
	runtime.KeepAlive(f)
}
