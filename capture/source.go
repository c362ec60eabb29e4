package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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

// ErrTruncatedCapture means the capture file ends inside a packet record.
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
	pcap    *pcapgo.Reader
	ng      *pcapgo.NgReader
	link    layers.LinkType
	n       int64       // packets read from the file, filtered out ones too
	filter  *fileFilter // set by SetFilter
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
	var r io.Reader = br
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("capture: %s: bad gzip stream: %v", s.path, err)
		}
		gbr := bufio.NewReaderSize(gz, 1<<20)
		head, _ = gbr.Peek(16)
		r = gbr
	}
	if len(head) < 4 {
		if len(head) == 0 {
			return fmt.Errorf("capture: %s: %w (the file is empty)", s.path, ErrNotCapture)
		}
		return fmt.Errorf("capture: %s: %w (only %d bytes)", s.path, ErrNotCapture, len(head))
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapMicro || be == magicPcapMicro || le == magicPcapNano || be == magicPcapNano:
		pr, err := pcapgo.NewReader(r)
		if err != nil {
			return fmt.Errorf("capture: %s: bad pcap header: %v", s.path, err)
		}
		// tcpdump and Wireshark accept records up to 256 KiB whatever snap
		// length the header declares; so do we.
		if pr.Snaplen() < 262144 {
			pr.SetSnaplen(262144)
		}
		s.pcap, s.link = pr, pr.LinkType()
	case le == magicPcapngBlock:
		nr, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				// A section without interfaces and packets.
				return fmt.Errorf("capture: %s: pcapng file has no interface: %v", s.path, err)
			}
			return fmt.Errorf("capture: %s: bad pcapng section header: %v", s.path, err)
		}
		s.ng, s.link = nr, nr.LinkType()
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
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
		link = s.link
	)
	if s.pcap != nil {
		data, ci, err = s.pcap.ZeroCopyReadPacketData()
	} else {
		data, ci, err = s.ng.ZeroCopyReadPacketData()
		if err == nil && len(ci.AncillaryData) > 0 {
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				link = lt
			}
		}
	}
	if err != nil {
		if err == io.EOF {
			return nil, ci, link, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ci, link, fmt.Errorf("%w: %s ends inside packet %d", ErrTruncatedCapture, s.path, s.n+1)
		}
		return nil, ci, link, fmt.Errorf("%w: %s: packet %d is corrupt: %v", ErrTruncatedCapture, s.path, s.n+1, err)
	}
	s.n++
	return data, ci, link, nil
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
