package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Source delivers packets in capture order. The data returned by ReadPacket is
// only valid until the next call; the engine copies it into its batches.
type Source interface {
	// ReadPacket returns the next packet and its link type. It returns io.EOF
	// at the clean end and an error wrapping ErrTruncatedCapture when the
	// capture is cut inside a packet.
	ReadPacket() (data []byte, ci gopacket.CaptureInfo, link layers.LinkType, err error)
	// Name is what the records' headers give as input source.
	Name() string
	// Progress reports how many bytes of the input have been consumed, and
	// the input's size (0 when unknown, as for live capture).
	Progress() (done, total int64)
	Close() error
}

// A Source may offer more than Source asks for. The engine looks for these
// optional contracts with a type assertion, each in one place, and works
// without them.

// FrameNumberer is a Source that knows each packet's frame number in its
// input, counted from 1. The engine numbers the records' frames with it, so
// that they match Wireshark's frame.number even when a filter skips packets
// (FileSource with SetFilter). Without it, the engine counts the packets
// it reads.
type FrameNumberer interface {
	// Frame is the frame number of the packet ReadPacket returned last.
	Frame() int64
}

// DropCounter is a Source that can lose packets before the engine reads
// them, as a live capture does when the kernel's buffer is full. The engine
// reports the count in Stats.Kernel and Summary.KernelDrops; without it,
// both are 0.
type DropCounter interface {
	// KernelDrops is the number of packets lost so far. It may be called
	// from another goroutine while ReadPacket runs.
	KernelDrops() int64
}

// The sources of this package that offer the contracts; a renamed method
// would otherwise silently lose the feature.
var (
	_ FrameNumberer = (*FileSource)(nil)
	_ DropCounter   = (*LiveSource)(nil)
)

// ErrTruncatedCapture means reading stopped before the end of the capture:
// the file ends inside a packet record, a block is corrupt, a gzip'd file is
// damaged (ErrDamagedGzip) or the file exceeds an input limit
// (ErrInputLimit). The packets before were delivered.
var ErrTruncatedCapture = errors.New("capture file is truncated")

// ErrNotCapture means the input is not a pcap or pcapng file.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapNano    = 0xa1b23c4d
	magicPcapngBlock = 0x0a0d0d0a
)

// FileSource reads a pcap or pcapng file, optionally gzip-compressed.
type FileSource struct {
	path    string
	f       *os.File
	counter *countingReader
	size    int64
	in      *input       // the (inflated) capture bytes
	gz      *gzipMembers // nil for a plain file
	frames  frameReader
	link    layers.LinkType
	n       int64       // packets read from the file, filtered out ones too
	filter  *fileFilter // set by SetFilter
	// member is the gzip member of which frame memberFirst was the first
	// frame read with bytes from it: the first frame a damaged member
	// may have spoilt.
	member      int
	memberFirst int64
}

// OpenFile opens a capture file. The format is told by the content (magic
// numbers), never by the file name.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("capture: %s is a directory, not a capture file", path)
	}
	s := &FileSource{path: path, f: f, size: st.Size()}
	if err := s.open(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *FileSource) open() error {
	s.counter = &countingReader{r: s.f}
	br := bufio.NewReaderSize(s.counter, 1<<20)
	head, _ := br.Peek(16)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := newGzipMembers(br)
		if err != nil {
			return fmt.Errorf("capture: %s: bad gzip stream: %v", s.path, err)
		}
		s.gz = gz
		br = bufio.NewReaderSize(gz, 1<<20)
		head, _ = br.Peek(16)
	}
	s.in = &input{br: br}
	if len(head) < 4 {
		if len(head) == 0 {
			return fmt.Errorf("capture: %s: %w (the file is empty)", s.path, ErrNotCapture)
		}
		return fmt.Errorf("capture: %s: %w (only %d bytes)", s.path, ErrNotCapture, len(head))
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapMicro || be == magicPcapMicro || le == magicPcapNano || be == magicPcapNano:
		r, err := newPcapReader(s.in)
		if err != nil {
			return fmt.Errorf("capture: %s: bad pcap header: %v", s.path, err)
		}
		s.frames, s.link = r, r.link
	case le == magicPcapngBlock:
		r, err := newNgReader(s.in)
		if err != nil {
			return fmt.Errorf("capture: %s: bad pcapng section header: %v", s.path, err)
		}
		s.frames, s.link = r, r.linkType()
	case head[0] < 0x80 && head[1] == 0x08:
		// A length prefix, then field 1 (Header.Created) as a varint: the
		// start of a netcap record file.
		return fmt.Errorf("capture: %s: %w: it is a netcap record file; read it with net dump -read %s", s.path, ErrNotCapture, s.path)
	default:
		return fmt.Errorf("capture: %s: %w (first bytes % x)", s.path, ErrNotCapture, head[:4])
	}
	return nil
}

// LinkType is the link type of the file (of the first interface for pcapng).
func (s *FileSource) LinkType() layers.LinkType { return s.link }

// ReadPacket implements Source.
func (s *FileSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	for {
		data, ci, link, err := s.readPacket()
		if err != nil || s.filter == nil || s.filter.matches(data, ci, link) {
			return data, ci, link, err
		}
	}
}

func (s *FileSource) readPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, link, err := s.frames.next()
	if err != nil {
		return nil, ci, link, s.explain(err)
	}
	s.n++
	if g := s.gz; g != nil && g.n != s.member && s.in.off > g.start {
		s.member, s.memberFirst = g.n, s.n
	}
	return data, ci, link, nil
}

// explain turns a reader's error into one that names the file, the frame
// and, for a bad block, its offset.
func (s *FileSource) explain(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	var (
		fe *formatError
		ge *gzipError
	)
	if errors.As(err, &fe) && s.gz != nil {
		// A bad block in a gzip'd file may be made of a damaged
		// member's bytes: the checksum at the member's end tells.
		if d := s.damage(); d != nil {
			err = d
		}
	}
	switch {
	case errors.As(err, &ge):
		if ge.after {
			return fmt.Errorf("%w: %s: %v; the %d frames before are whole", ErrDamagedGzip, s.path, ge, s.n)
		}
		first := s.n + 1
		if s.member == ge.member {
			first = s.memberFirst
		}
		if first > s.n {
			return fmt.Errorf("%w: %s: %v; no frame was read from it", ErrDamagedGzip, s.path, ge)
		}
		return fmt.Errorf("%w: %s: %v: frames %d-%d may be wrong", ErrDamagedGzip, s.path, ge, first, s.n)
	case errors.As(err, &fe):
		where := fmt.Sprintf("offset %d", fe.off)
		if s.gz != nil {
			where += " of the inflated data"
		}
		if fe.limit {
			return fmt.Errorf("%w: %s: %s: %s", ErrInputLimit, s.path, where, fe.msg)
		}
		return fmt.Errorf("%w: %s: %s: packet %d is corrupt: %s", ErrTruncatedCapture, s.path, where, s.n+1, fe.msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s ends inside packet %d", ErrTruncatedCapture, s.path, s.n+1)
	}
	return fmt.Errorf("%w: %s: packet %d is corrupt: %v", ErrTruncatedCapture, s.path, s.n+1, err)
}

// damage reads on to the end of the gzip member being inflated and returns
// its damage, nil when it inflates with a good checksum.
func (s *FileSource) damage() error {
	g := s.gz
	member := g.n
	for g.n == member && !g.ended && g.err == nil {
		if _, err := s.in.br.Discard(64 << 10); err != nil {
			break
		}
	}
	if ge, ok := g.err.(*gzipError); ok && ge.member == member && !ge.after {
		return ge
	}
	return nil
}

// Name implements Source.
func (s *FileSource) Name() string { return s.path }

// Progress implements Source.
func (s *FileSource) Progress() (int64, int64) { return s.counter.n.Load(), s.size }

// Close implements Source.
func (s *FileSource) Close() error { return s.f.Close() }

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
