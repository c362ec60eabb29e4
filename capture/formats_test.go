package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Tests of the input limits, empty frames and damaged gzip'd captures: each
// builds the hostile file.

// ngBlock is a little-endian pcapng block of type typ around body (padded
// to 4 bytes).
func ngBlock(typ uint32, body []byte) []byte {
	pad := (4 - len(body)%4) % 4
	n := uint32(12 + len(body) + pad)
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	b = append(b, make([]byte, pad)...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func ngSHB() []byte {
	body := binary.LittleEndian.AppendUint32(nil, 0x1a2b3c4d)
	body = binary.LittleEndian.AppendUint16(body, 1)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0))
	return ngBlock(0x0a0d0d0a, body)
}

// ngIDB is an Ethernet interface block with the given options (already
// encoded).
func ngIDB(opts []byte) []byte {
	body := []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0}
	return ngBlock(1, append(body, opts...))
}

// ngEPB is an enhanced packet block of interface id holding frame.
func ngEPB(id uint32, capLen uint32, frame []byte) []byte {
	body := binary.LittleEndian.AppendUint32(nil, id)
	body = binary.LittleEndian.AppendUint64(body, 0)
	body = binary.LittleEndian.AppendUint32(body, capLen)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame)))
	return ngBlock(6, append(body, frame...))
}

// readAll reads a source to its end and returns the packets and the error
// that ended it.
func readAll(t *testing.T, path string) (int, error) {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer src.Close()
	n := 0
	for {
		if _, _, _, err := src.ReadPacket(); err != nil {
			if err == io.EOF {
				err = nil
			}
			return n, err
		}
		n++
	}
}

// TestInputLimits builds a file past each input limit: reading stops with
// an error wrapping ErrInputLimit (and so ErrTruncatedCapture) that names
// the file and the offset, with bounded memory; the command exits 1. A file
// at each limit reads.
func TestInputLimits(t *testing.T) {
	dir := t.TempDir()
	frame := testFrames(t)[0]
	idb := ngIDB(nil)
	epb := ngEPB(0, uint32(len(frame)), frame)
	manyIDBs := func(n int) []byte {
		b := ngSHB()
		for range n {
			b = append(b, idb...)
		}
		return b
	}
	options := func(n int) []byte {
		var o []byte
		for range n {
			o = append(o, 1, 0, 0, 0) // an empty comment
		}
		return append(o, 0, 0, 0, 0)
	}
	bigBlock := append(ngSHB(), idb...)
	bigBlock = binary.LittleEndian.AppendUint32(bigBlock, 0xbad)
	bigBlock = binary.LittleEndian.AppendUint32(bigBlock, MaxBlockSize+4)
	bigBlock = append(bigBlock, make([]byte, 1<<20)...)
	sections := bytes.Repeat(ngSHB(), MaxSections+1)
	quiet := append(ngSHB(), idb...)
	quiet = append(quiet, bytes.Repeat(ngBlock(0xbad, nil), MaxBlocksWithoutPacket)...)
	longPcap := pcapBytes(t, layers.LinkTypeEthernet, false, [][]byte{frame, make([]byte, MaxFrameLength+1)})

	cases := []struct {
		name   string
		data   []byte
		gz     bool
		text   string
		before int   // packets read before the limit
		heap   int64 // most bytes the read may allocate
	}{
		// 2 million interface blocks, 40 MB, 97 KB gzip'd.
		{"2M interfaces", append(manyIDBs(2_000_000), epb...), true, fmt.Sprintf("more than %d interfaces in section 1", MaxInterfaces), 0, 16 << 20},
		{"block over 16 MiB", bigBlock, true, fmt.Sprintf("block of %d bytes", MaxBlockSize+4), 0, 8 << 20},
		{"too many options", append(append(ngSHB(), ngIDB(options(MaxOptions+1))...), epb...), false, fmt.Sprintf("more than %d options", MaxOptions), 0, 8 << 20},
		{"too many sections", sections, true, fmt.Sprintf("more than %d sections", MaxSections), 0, 8 << 20},
		{"blocks without packet", append(append(bytes.Clone(quiet), ngBlock(0xbad, nil)...), epb...), true, fmt.Sprintf("more than %d blocks in a row without a packet", MaxBlocksWithoutPacket), 0, 8 << 20},
		{"pcapng frame too long", append(append(append(ngSHB(), idb...), epb...), ngEPB(0, MaxFrameLength+1, make([]byte, MaxFrameLength+4))...), false, fmt.Sprintf("frame of %d bytes", MaxFrameLength+1), 1, 8 << 20},
		{"pcap frame too long", longPcap, true, fmt.Sprintf("frame of %d bytes", MaxFrameLength+1), 1, 8 << 20},
	}
	bin := buildNet(t)
	for i, c := range cases {
		data := c.data
		if c.gz {
			data = gzipBytes(t, data)
		}
		path := writeFile(t, dir, fmt.Sprintf("attack%d.pcapng", i), data)
		var (
			n   int
			err error
		)
		heap := allocated(func() { n, err = readAll(t, path) })
		if !errors.Is(err, ErrInputLimit) || !errors.Is(err, ErrTruncatedCapture) {
			t.Errorf("%s: reading ended with %v, want ErrInputLimit", c.name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.text) || !strings.Contains(msg, path) || !strings.Contains(msg, "offset ") {
			t.Errorf("%s: %q does not name the file, the offset and %q", c.name, msg, c.text)
		}
		if n != c.before {
			t.Errorf("%s: %d packets before the limit, want %d", c.name, n, c.before)
		}
		if heap > uint64(c.heap) {
			t.Errorf("%s: reading allocated %d bytes, want at most %d", c.name, heap, c.heap)
		}
		code, stderr := runNet(bin, path, filepath.Join(dir, fmt.Sprintf("out%d", i)), 30*time.Second)
		if code != 1 || !strings.Contains(stderr, "exceeds an input limit") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: net capture exit %d, stderr %q; want 1 and one line naming the limit", c.name, code, stderr)
		}
	}

	// At the limits: a section of MaxInterfaces interfaces, a block of
	// MaxOptions options, a frame of MaxFrameLength bytes.
	last := ngEPB(MaxInterfaces-1, uint32(len(frame)), frame)
	atLimits := append(manyIDBs(MaxInterfaces), last...)
	atLimits = append(append(atLimits, ngSHB()...), ngIDB(options(MaxOptions))...)
	atLimits = append(atLimits, ngEPB(0, MaxFrameLength, make([]byte, MaxFrameLength))...)
	atLimits = append(atLimits, pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, []int{0}, [][]byte{frame})...)
	if n, err := readAll(t, writeFile(t, dir, "limits.pcapng", gzipBytes(t, atLimits))); n != 3 || err != nil {
		t.Errorf("a file at the limits: %d packets, %v; want 3 and no error", n, err)
	}
}

// gzipMembersOf gzips each part as its own member and concatenates them.
func gzipMembersOf(t *testing.T, parts ...[]byte) ([]byte, []int) {
	var out []byte
	var ends []int
	for _, p := range parts {
		out = append(out, gzipBytes(t, p)...)
		ends = append(ends, len(out))
	}
	return out, ends
}

// TestGzipDamage: a gzip'd capture whose member fails its checksum, or
// does not inflate, was read before the damage could be seen: the error
// names the member and the frames made from its bytes; the command exits 1.
func TestGzipDamage(t *testing.T) {
	dir := t.TempDir()
	fr := testFrames(t)
	plain := pcapBytes(t, layers.LinkTypeEthernet, false, [][]byte{fr[0], fr[1], fr[2], fr[0]})
	// Member 1: the file header, frame 1 and half of frame 2; member 2 the
	// rest (frames 2 to 4).
	cut := 24 + 16 + len(fr[0]) + 20
	gz, ends := gzipMembersOf(t, plain[:cut], plain[cut:])
	crc := func(member int) []byte { // flips a bit of the member's CRC
		b := bytes.Clone(gz)
		b[ends[member]-8] ^= 1
		return b
	}
	inflate := bytes.Clone(gz)
	inflate[ends[0]+14] ^= 0xff // inside member 2's deflate data
	cases := []struct {
		name string
		data []byte
		text string
		n    int
	}{
		{"checksum of member 1", crc(0), "gzip member 1 (inflated bytes from offset 0) is damaged (gzip: invalid checksum): frames 1-1 may be wrong", 1},
		{"checksum of member 2", crc(1), fmt.Sprintf("gzip member 2 (inflated bytes from offset %d) is damaged (gzip: invalid checksum): frames 2-4 may be wrong", cut), 4},
		{"deflate data of member 2", inflate, "gzip member 2", -1},
		{"garbage after the last member", append(bytes.Clone(gz), "junk after"...), "the bytes after gzip member 2 are not a gzip member", 4},
	}
	bin := buildNet(t)
	for i, c := range cases {
		path := writeFile(t, dir, fmt.Sprintf("damaged%d.pcap.gz", i), c.data)
		n, err := readAll(t, path)
		if !errors.Is(err, ErrDamagedGzip) || !errors.Is(err, ErrTruncatedCapture) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: reading ended with %v; want ErrDamagedGzip naming the file and saying %q", c.name, err, c.text)
		}
		if c.n >= 0 && n != c.n {
			t.Errorf("%s: %d packets, want %d", c.name, n, c.n)
		}
		code, stderr := runNet(bin, path, filepath.Join(dir, fmt.Sprintf("out%d", i)), 20*time.Second)
		if code != 1 || !strings.Contains(stderr, "damaged") {
			t.Errorf("%s: net capture exit %d, stderr %q; want 1 and the damage told", c.name, code, stderr)
		}
	}
	// Intact members read whole; a cut one is a truncated capture.
	if n, err := readAll(t, writeFile(t, dir, "members.pcap.gz", gz)); n != 4 || err != nil {
		t.Errorf("two intact members: %d packets, %v", n, err)
	}
	n, err := readAll(t, writeFile(t, dir, "cut.pcap.gz", gz[:ends[1]-30]))
	if !errors.Is(err, ErrTruncatedCapture) || errors.Is(err, ErrDamagedGzip) || !strings.Contains(err.Error(), "ends inside packet") {
		t.Errorf("cut gzip: %d packets, %v; want a truncated capture", n, err)
	}
}

// TestGzipMembersAllocation: many empty gzip members cost no memory.
func TestGzipMembersAllocation(t *testing.T) {
	var empty bytes.Buffer
	zw := gzip.NewWriter(&empty)
	zw.Close()
	head := gzipBytes(t, pcapBytes(t, layers.LinkTypeEthernet, false, testFrames(t)))
	data := append(head, bytes.Repeat(empty.Bytes(), 100_000)...)
	path := writeFile(t, t.TempDir(), "members.pcap.gz", data)
	var n int
	var err error
	heap := allocated(func() { n, err = readAll(t, path) })
	if n != 3 || err != nil || heap > 8<<20 {
		t.Errorf("100,000 empty members: %d packets, %v, %d bytes allocated", n, err, heap)
	}
}

// TestFatInterfaceOptions: interface blocks with five 64 KB option strings
// each (name, comment, description, filter, OS) are read without keeping
// them (gopacket's reader kept every one).
func TestFatInterfaceOptions(t *testing.T) {
	var opts []byte
	for _, code := range []uint16{2, 1, 3, 11, 12} {
		opts = binary.LittleEndian.AppendUint16(opts, code)
		opts = binary.LittleEndian.AppendUint16(opts, 65532)
		opts = append(opts, bytes.Repeat([]byte{'a'}, 65532)...)
	}
	opts = append(opts, 0, 0, 0, 0)
	frame := testFrames(t)[0]
	data := append(ngSHB(), bytes.Repeat(ngIDB(opts), 300)...)
	data = append(data, ngEPB(299, uint32(len(frame)), frame)...)
	path := writeFile(t, t.TempDir(), "fat.pcapng.gz", gzipBytes(t, data))
	var (
		n   int
		err error
	)
	heap := allocated(func() { n, err = readAll(t, path) })
	if n != 1 || err != nil || heap > 8<<20 {
		t.Errorf("300 interfaces with 320 KB of options each (%d MB): %d packets, %v, %d bytes allocated; want 1 packet within 8 MiB", len(data)>>20, n, err, heap)
	}
}
