package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pipelineLinks are the link types FuzzPipeline writes its packet as: those
// the engine reads, and one it does not (USER0), which must make the packet
// unknown without failing.
var pipelineLinks = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6,
	layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeLoop,
	12, // raw IP as OpenBSD numbers it
	147,
}

const unknownLink = layers.LinkType(147)

// fuzzPacketMax caps fuzz packets at the largest IP packet: bigger ones do
// not reach new code and slow every execution down.
const fuzzPacketMax = 65535 + 64

// linkHeader is a valid link header of each link type in front of an IP
// packet, for seeds.
func linkHeader(link layers.LinkType, ip []byte) []byte {
	v6 := len(ip) > 0 && ip[0]>>4 == 6
	etype := uint16(0x0800)
	if v6 {
		etype = 0x86dd
	}
	switch link {
	case layers.LinkTypeEthernet:
		return etherFrame(ip)
	case layers.LinkTypeLinuxSLL:
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], testMACA)
		binary.BigEndian.PutUint16(h[14:], etype)
		return append(h, ip...)
	case layers.LinkTypeLinuxSLL2:
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, etype)
		binary.BigEndian.PutUint32(h[4:], 2)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[11] = 6
		copy(h[12:], testMACA)
		return append(h, ip...)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		h := make([]byte, 4)
		family := uint32(2) // AF_INET
		if v6 {
			family = 24 // AF_INET6 of the BSDs
		}
		if link == layers.LinkTypeLoop {
			binary.BigEndian.PutUint32(h, family)
		} else {
			binary.LittleEndian.PutUint32(h, family)
		}
		return append(h, ip...)
	}
	return ip
}

var (
	captureSeedsOnce sync.Once
	captureSeeds     map[layers.LinkType][][]byte
)

// corpusPackets returns up to 8 packets per link type from the shared
// captures (one per capture), or nothing when they are absent.
func corpusPackets() map[layers.LinkType][][]byte {
	captureSeedsOnce.Do(func() {
		captureSeeds = map[layers.LinkType][][]byte{}
		for _, path := range corpusFiles() {
			src, err := OpenFile(path)
			if err != nil {
				continue
			}
			for i := 0; i < 50; i++ {
				data, _, link, err := src.ReadPacket()
				if err != nil {
					break
				}
				if len(captureSeeds[link]) < 8 && len(data) <= 4096 {
					captureSeeds[link] = append(captureSeeds[link], bytes.Clone(data))
					break
				}
			}
			src.Close()
		}
	})
	return captureSeeds
}

// FuzzPipeline writes the fuzz bytes as the one packet of a pcap file of one
// of pipelineLinks (picked by the first argument) and runs the whole engine
// on it: the run must end without error or truncation, count one packet,
// keep its counters consistent, write readable record files that count what
// the summary says, all of frame 1 at the packet's time, and keep the packet
// byte for byte in unknown.pcap or errors.pcap when it goes there.
func FuzzPipeline(f *testing.F) {
	ips := [][]byte{ipv4UDP(f, 7), ipv6TCP(f, 40001)}
	for i, link := range pipelineLinks {
		for _, ip := range ips {
			f.Add(uint8(i), linkHeader(link, ip))
		}
	}
	f.Add(uint8(0), []byte{})
	for _, fr := range testFrames(f) {
		f.Add(uint8(0), fr)
	}
	byLink := corpusPackets()
	for i, link := range pipelineLinks {
		for _, p := range byLink[link] {
			f.Add(uint8(i), p)
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		if len(data) > fuzzPacketMax {
			return
		}
		link := pipelineLinks[int(sel)%len(pipelineLinks)]
		checkPipeline(t, link, data)
	})
}

func checkPipeline(t *testing.T, link layers.LinkType, data []byte) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.pcap", pcapBytes(t, link, true, [][]byte{data}))
	src, err := OpenFile(in)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer src.Close()
	out := filepath.Join(dir, "out")
	sum, err := Run(context.Background(), src, Config{
		Decoding: DecodeConfig{
			Workers:  2,
			Payloads: true,
			Entropy:  true,
		},
		Output: OutputConfig{
			Dir:      out,
			Compress: false,
			Created:  testTime,
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Truncated != nil {
		t.Fatalf("Run: truncated: %v", sum.Truncated)
	}
	if sum.Packets != 1 {
		t.Fatalf("%d packets, want 1", sum.Packets)
	}
	if sum.Unknown+sum.Errors > 1 || sum.Unknown < 0 || sum.Errors < 0 {
		t.Fatalf("%d unknown and %d errors of one packet", sum.Unknown, sum.Errors)
	}
	for what, c := range map[string]struct {
		n       int64
		reasons map[string]int64
	}{"unknown": {sum.Unknown, sum.UnknownLayers}, "errors": {sum.Errors, sum.ErrorReasons}} {
		var total int64
		for reason, k := range c.reasons {
			if reason == "" {
				t.Fatalf("%s without a reason", what)
			}
			total += k
		}
		if total != c.n {
			t.Fatalf("%d %s packets but reasons count %d: %v", c.n, what, total, c.reasons)
		}
		kept := readPcap(t, filepath.Join(out, what+".pcap"))
		if int64(len(kept)) != c.n {
			t.Fatalf("%d %s packets, %s.pcap holds %d", c.n, what, what, len(kept))
		}
		if len(kept) == 1 && (!bytes.Equal(kept[0].data, data) || kept[0].link != link || !kept[0].ts.Equal(testTime)) {
			t.Fatalf("%s.pcap does not keep the packet as it was", what)
		}
	}
	if link == unknownLink && len(data) > 0 && (sum.Unknown != 1 || !hasPrefixKey(sum.UnknownLayers, "link type 147")) {
		t.Fatalf("a packet of link type 147: unknown %d %v, want it unknown as \"link type 147\"", sum.Unknown, sum.UnknownLayers)
	}
	recs := readRecords(t, out)
	for name, n := range sum.Records {
		if int64(len(recs[name])) != n {
			t.Fatalf("summary counts %d %s records, the file holds %d", n, name, len(recs[name]))
		}
	}
	for name, rs := range recs {
		if _, ok := sum.Records[name]; !ok {
			t.Fatalf("%s records written but not in the summary", name)
		}
		for _, m := range rs {
			if f, ok := int64Field(m, "FrameNumber"); ok && f != 1 {
				t.Fatalf("%s record of frame %d in a capture of one packet", name, f)
			}
			if ts, ok := recordTime(m); ok && ts != testTime.UnixNano() {
				t.Fatalf("%s record at %d, the packet is at %d", name, ts, testTime.UnixNano())
			}
		}
	}
}

func hasPrefixKey(m map[string]int64, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

type keptPacket struct {
	data []byte
	link layers.LinkType
	ts   time.Time
}

// readPcap reads a pcap the engine wrote; a missing file has no packets.
func readPcap(t *testing.T, path string) []keptPacket {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []keptPacket
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, keptPacket{data, r.LinkType(), ci.Timestamp})
	}
}

// flowLinks are the link types FlowHash reads.
var flowLinks = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6,
	layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeLoop, 12, 14, // 12 and 14: DLT_RAW of BSDs and OpenBSD
}

// flowPacket builds an IP packet from fuzz values. For IPv6, ext adds that
// many hop-by-hop/destination options headers before the transport header;
// for IPv4 it sets the options length. It returns the packet and the offset of
// the transport header.
func flowPacket(v6 bool, addrs []byte, proto uint8, ext uint8, sport, dport uint16, payload []byte) ([]byte, int) {
	if v6 {
		var a [32]byte
		copy(a[:], addrs)
		hdrs := int(ext % 4)
		b := make([]byte, 40, 40+8*hdrs+4+len(payload))
		b[0] = 0x60
		copy(b[8:], a[:])
		next := 6 // where the next header's number goes
		for i := 0; i < hdrs; i++ {
			b[next] = []uint8{0, 60}[i%2] // hop-by-hop, destination options
			next = len(b)
			b = append(b, 0, 0, 1, 4, 0, 0, 0, 0) // a PadN option fills the header
		}
		b[next] = proto
		off := len(b)
		b = binary.BigEndian.AppendUint16(b, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
		b = append(b, payload...)
		binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
		return b, off
	}
	var a [8]byte
	copy(a[:], addrs)
	ihl := 5 + int(ext%4)
	b := make([]byte, ihl*4, ihl*4+4+len(payload))
	b[0] = 0x40 | byte(ihl)
	b[8] = 64
	b[9] = proto
	if ext&0x40 != 0 {
		b[6] = 0x20 // more fragments: ports are not hashed
	}
	for i := 20; i < ihl*4; i++ {
		b[i] = 1 // NOP options
	}
	copy(b[12:], a[:])
	off := len(b)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b, off
}

// reversed returns the packet of the other direction: addresses swapped, and
// ports when the protocol has them (off is where they are).
func reversed(pkt []byte, v6 bool, off int, ports bool) []byte {
	r := bytes.Clone(pkt)
	if v6 {
		copy(r[8:24], pkt[24:40])
		copy(r[24:40], pkt[8:24])
	} else {
		copy(r[12:16], pkt[16:20])
		copy(r[16:20], pkt[12:16])
	}
	if ports {
		copy(r[off:off+2], pkt[off+2:off+4])
		copy(r[off+2:off+4], pkt[off:off+2])
	}
	return r
}

// FuzzFlowHash checks that FlowHash gives both directions of a flow the
// same value whatever the link header around the packet, and that it reads
// any bytes as any link type without panicking.
func FuzzFlowHash(f *testing.F) {
	f.Add(false, []byte{10, 0, 0, 1, 10, 0, 0, 2}, uint8(6), uint8(0), uint16(40000), uint16(80), []byte("x"), []byte{})
	f.Add(true, []byte(append(bytes.Clone(testIP6A), testIP6B...)), uint8(17), uint8(2), uint16(53), uint16(5353), []byte{}, ipv6TCP(f, 1))
	f.Add(false, []byte{1, 1, 1, 1, 1, 1, 1, 1}, uint8(17), uint8(0x41), uint16(1), uint16(1), []byte{}, ipv4UDP(f, 1))
	f.Add(true, []byte{}, uint8(44), uint8(1), uint16(0), uint16(0), []byte{1, 2, 3, 4, 5, 6, 7, 8}, etherFrame(ipv4UDP(f, 2)))
	for _, pkts := range corpusPackets() {
		for _, p := range pkts {
			f.Add(false, []byte{}, uint8(0), uint8(0), uint16(0), uint16(0), []byte{}, p)
		}
	}
	f.Fuzz(func(t *testing.T, v6 bool, addrs []byte, proto uint8, ext uint8, sport, dport uint16, payload, raw []byte) {
		if len(raw) > fuzzPacketMax || len(payload) > fuzzPacketMax {
			return
		}
		// Any bytes, any link type: no panic.
		for _, link := range flowLinks {
			FlowHash(raw, link)
		}
		FlowHash(raw, layers.LinkType(len(raw)))

		// The transport protocol: TCP, UDP or SCTP (ports hashed) half of
		// the time, else any number that does not name an IPv6 extension
		// header (the bytes after the headers are then payload, the same in
		// both directions).
		ports := proto&1 == 0
		if ports {
			proto = []uint8{6, 17, 132}[int(proto>>1)%3]
		} else if proto == 6 || proto == 17 || proto == 132 || (v6 && (proto == 0 || proto == 43 || proto == 44 || proto == 60)) {
			proto = 59 // IPv6 "no next header"
		}
		pkt, off := flowPacket(v6, addrs, proto, ext, sport, dport, payload)
		back := reversed(pkt, v6, off, ports)
		want := FlowHash(pkt, layers.LinkTypeRaw)
		if got := FlowHash(back, layers.LinkTypeRaw); got != want {
			t.Fatalf("the two directions hash apart: %x and %x\n% x\n% x", want, got, pkt, back)
		}
		for _, link := range flowLinks {
			if (link == layers.LinkTypeIPv4 && v6) || (link == layers.LinkTypeIPv6 && !v6) {
				continue
			}
			for _, p := range [][]byte{pkt, back} {
				if got := FlowHash(linkHeader(link, p), link); got != want {
					t.Fatalf("link type %v: hash %x, raw IP gives %x", link, got, want)
				}
			}
		}
		// A QinQ stack of two VLAN tags does not change the flow.
		etype := uint16(0x0800)
		if v6 {
			etype = 0x86dd
		}
		tagged := etherFrame(nil)
		binary.BigEndian.PutUint16(tagged[12:], 0x88a8)
		tagged = binary.BigEndian.AppendUint16(tagged, 5)
		tagged = binary.BigEndian.AppendUint16(tagged, 0x8100)
		tagged = binary.BigEndian.AppendUint16(tagged, 100)
		tagged = binary.BigEndian.AppendUint16(tagged, etype)
		if got := FlowHash(append(tagged, back...), layers.LinkTypeEthernet); got != want {
			t.Fatalf("VLAN-tagged frame: hash %x, raw IP gives %x", got, want)
		}
	})
}

// FuzzSource writes a valid pcap or pcapng header (or none), then the fuzz
// bytes, optionally gzip'd, and reads the file with OpenFile and ReadPacket.
// Opening fails with a one-line "capture: " error, or reading ends with
// io.EOF or ErrTruncatedCapture; no packet is longer than the input, there
// are no more packets than the input can hold, and memory allocated stays
// in proportion to the input, not to the lengths it claims. The input is
// the capture as OpenFile reads it: a body that is itself gzip'd (the last
// header kind writes no header of ours) counts with its inflated size.
func FuzzSource(f *testing.F) {
	for k := uint8(0); k < sourceHeaders; k++ {
		f.Add(k, []byte{})
		f.Add(k|0x80, []byte{})
	}
	frames3 := testFrames(f)
	pc := pcapBytes(f, layers.LinkTypeEthernet, false, frames3)
	f.Add(uint8(0), pc[24:])
	f.Add(uint8(0x80), pc[24:len(pc)-5])
	ng := pcapngBytes(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, []int{0, 1, 0}, [][]byte{frames3[0], ipv4UDP(f, 3), frames3[2]})
	f.Add(uint8(sourceHeaders-1), ng)
	shb := binary.LittleEndian.Uint32(ng[4:8])
	f.Add(uint8(3), ng[shb:])
	// Whole small captures from the shared corpus, given with no header of
	// ours: 64 of them, spread over the corpus, keep the seed run short.
	var small []string
	for _, path := range corpusFiles() {
		if st, err := os.Stat(path); err == nil && st.Size() <= 2048 {
			small = append(small, path)
		}
	}
	for i := 0; i < 64 && i < len(small); i++ {
		if b, err := os.ReadFile(small[i*len(small)/min(64, len(small))]); err == nil {
			f.Add(uint8(sourceHeaders-1), b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		if len(body) > 64<<10 {
			return // long enough for any block structure; longer only slows down
		}
		file := append(sourceHeader(kind%sourceHeaders), body...)
		// A gzip'd body is inflated by OpenFile, so its packets are bounded
		// by the inflated size: 51 bytes of gzip hold a pcap with a
		// 600-byte packet (testdata/fuzz/FuzzSource/gzip-body-*).
		plainSize := max(len(file), inflatedSize(file))
		if kind&0x80 != 0 {
			file = gzipBytes(t, file)
		}
		path := filepath.Join(dir, "in")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		var (
			packets int
			end     error
		)
		n := allocated(func() {
			src, err := OpenFile(path)
			if err != nil {
				if src != nil {
					t.Fatalf("OpenFile returned a source and %v", err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "capture: ") || strings.Contains(msg, "\n") {
					t.Fatalf("OpenFile: %q is not a one-line capture error", msg)
				}
				return
			}
			defer src.Close()
			for {
				data, ci, _, err := src.ReadPacket()
				if err != nil {
					end = err
					break
				}
				packets++
				if len(data) > plainSize || ci.CaptureLength != len(data) {
					t.Fatalf("packet %d: %d bytes (capture length %d) from a %d byte file", packets, len(data), ci.CaptureLength, plainSize)
				}
				// Every pcap record has a 16-byte header, every pcapng packet
				// block at least 16 bytes.
				if packets > plainSize/16+1 {
					t.Fatalf("%d packets from %d bytes", packets, plainSize)
				}
			}
			done, total := src.Progress()
			if done < 0 || done > total || total != int64(len(file)) {
				t.Fatalf("Progress() = %d, %d for a %d byte file", done, total, len(file))
			}
		})
		if end != nil && end != io.EOF && !errors.Is(end, ErrTruncatedCapture) {
			t.Fatalf("reading ended with %v, want io.EOF or ErrTruncatedCapture", end)
		}
		// OpenFile's buffers (1 MiB, twice with gzip), a packet buffer of up
		// to 256 KiB and the gzip state come to a few MiB whatever the input.
		if limit := uint64(8<<20 + 16*plainSize); n > limit {
			t.Fatalf("allocated %d bytes reading a %d byte capture (%d packets)", n, plainSize, packets)
		}
	})
}

const sourceHeaders = 6

// sourceHeader returns a file header: pcap little-endian µs, pcap
// big-endian ns, pcap with snap length 0, pcapng section header with an
// Ethernet interface, a pcapng section header alone, or nothing.
// inflatedSize is the number of bytes a gzip stream at the start of b
// inflates to, member after member up to the first damage, as OpenFile
// reads it; 0 when b does not start as gzip.
func inflatedSize(b []byte) int {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return 0
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	n, _ := io.Copy(io.Discard, zr)
	return int(n)
}

func sourceHeader(k uint8) []byte {
	pcapHeader := func(order binary.ByteOrder, magic, snap uint32) []byte {
		b := make([]byte, 24)
		order.PutUint32(b, magic)
		order.PutUint16(b[4:], 2)
		order.PutUint16(b[6:], 4)
		order.PutUint32(b[16:], snap)
		order.PutUint32(b[20:], 1)
		return b
	}
	shb := func() []byte {
		b := make([]byte, 28)
		binary.LittleEndian.PutUint32(b, 0x0a0d0d0a)
		binary.LittleEndian.PutUint32(b[4:], 28)
		binary.LittleEndian.PutUint32(b[8:], 0x1a2b3c4d)
		binary.LittleEndian.PutUint16(b[12:], 1)
		binary.LittleEndian.PutUint64(b[16:], ^uint64(0))
		binary.LittleEndian.PutUint32(b[24:], 28)
		return b
	}
	switch k {
	case 0:
		return pcapHeader(binary.LittleEndian, magicPcapMicro, 65535)
	case 1:
		return pcapHeader(binary.BigEndian, magicPcapNano, 262144)
	case 2:
		return pcapHeader(binary.LittleEndian, magicPcapMicro, 0)
	case 3:
		idb := make([]byte, 20)
		binary.LittleEndian.PutUint32(idb, 1)
		binary.LittleEndian.PutUint32(idb[4:], 20)
		binary.LittleEndian.PutUint16(idb[8:], 1)
		binary.LittleEndian.PutUint32(idb[12:], 65535)
		binary.LittleEndian.PutUint32(idb[16:], 20)
		return append(shb(), idb...)
	case 4:
		return shb()
	}
	return nil
}

// allocated runs fn and returns the bytes it allocated on the heap. It
// reads runtime/metrics, which unlike runtime.ReadMemStats does not stop the
// world; large allocations, the ones that matter here, are counted exactly.
func allocated(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	fn()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}
