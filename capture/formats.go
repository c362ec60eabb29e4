package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Our own pcap and pcapng readers. gopacket's pcapgo readers cannot be
// bounded from outside: NgReader keeps every interface description block of
// a section (with up to five 64 KiB option strings each) and consumes any
// number of non-packet blocks inside one read call, with no way to stop it,
// so a small gzip'd file of interface blocks takes gigabytes. These readers
// keep 24 bytes per interface, skip what they do not use without buffering
// it, and stop at the limits below with an error that names the offset.

// Input limits: every count a capture file can inflate is bounded. Files
// that exceed one stop with an error wrapping ErrInputLimit; the frames read
// before it are kept.
const (
	// MaxFrameLength is the longest frame (capture length) accepted, as
	// libpcap's and Wireshark's MAXIMUM_SNAPLEN, whatever snap length the
	// file declares.
	MaxFrameLength = 262144
	// MaxBlockSize is the largest pcapng block accepted.
	MaxBlockSize = 16 << 20
	// MaxInterfaces is the number of interfaces one pcapng section may
	// describe.
	MaxInterfaces = 65536
	// MaxSections is the number of pcapng sections one file may hold.
	MaxSections = 65536
	// MaxOptions is the number of options read in one pcapng block (only
	// interface blocks' options are read; other blocks' are skipped whole).
	MaxOptions = 4096
	// MaxBlocksWithoutPacket is how many pcapng blocks may follow each
	// other without a packet block among them.
	MaxBlocksWithoutPacket = 1 << 20
)

// stopError is an error that ends reading early; it wraps
// ErrTruncatedCapture, so that the engine keeps the records of the frames
// before it and the command exits 1.
type stopError struct{ msg string }

func (e *stopError) Error() string { return e.msg }
func (e *stopError) Unwrap() error { return ErrTruncatedCapture }

// ErrInputLimit means the capture exceeds one of the input limits
// (MaxFrameLength and the others). It wraps ErrTruncatedCapture.
var ErrInputLimit error = &stopError{"capture file exceeds an input limit"}

// ErrDamagedGzip means a gzip'd capture failed its checksum or does not
// inflate: frames made from its bytes may be wrong. It wraps
// ErrTruncatedCapture.
var ErrDamagedGzip error = &stopError{"gzip'd capture is damaged"}

// formatError is a reader's complaint about the block or record at off.
type formatError struct {
	off   int64
	limit bool // an input limit, not a format violation
	msg   string
}

func (e *formatError) Error() string { return e.msg }

func corrupt(off int64, format string, a ...any) error {
	return &formatError{off: off, msg: fmt.Sprintf(format, a...)}
}

func overLimit(off int64, format string, a ...any) error {
	return &formatError{off: off, limit: true, msg: fmt.Sprintf(format, a...)}
}

// frameReader reads the frames of one capture format. The data returned is
// valid until the next call.
type frameReader interface {
	next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
}

// input is the (inflated) byte stream of a capture, with the offset of the
// next byte. Errors: io.EOF when no byte was left, io.ErrUnexpectedEOF when
// some of the bytes wanted were, and the gzip layer's errors.
type input struct {
	br  *bufio.Reader
	off int64
}

func (in *input) full(b []byte) error {
	n, err := io.ReadFull(in.br, b)
	in.off += int64(n)
	return err
}

func (in *input) skip(n int64) error {
	for n > 0 {
		d, err := in.br.Discard(int(min(n, 1<<30)))
		in.off += int64(d)
		n -= int64(d)
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// frameBuf returns buf with length n, growing it at most to MaxFrameLength.
func frameBuf(buf []byte, n int) []byte {
	if cap(buf) < n {
		buf = make([]byte, max(n, 64<<10))
	}
	return buf[:n]
}

// pcapReader reads the classic libpcap format: a 24 byte file header, then
// per frame a 16 byte record header and the frame.
type pcapReader struct {
	in     *input
	order  binary.ByteOrder
	factor uint32 // ns per unit of the fraction field: 1000 or 1
	link   layers.LinkType
	hdr    [24]byte
	buf    []byte
}

func newPcapReader(in *input) (*pcapReader, error) {
	r := &pcapReader{in: in}
	if err := in.full(r.hdr[:24]); err != nil {
		return nil, fmt.Errorf("the file header is cut (%v)", err)
	}
	switch magic := binary.LittleEndian.Uint32(r.hdr[:]); {
	case magic == magicPcapMicro || magic == magicPcapNano:
		r.order = binary.LittleEndian
	default:
		r.order = binary.BigEndian
	}
	r.factor = 1000
	if r.order.Uint32(r.hdr[:]) == magicPcapNano {
		r.factor = 1
	}
	if major, minor := r.order.Uint16(r.hdr[4:]), r.order.Uint16(r.hdr[6:]); major != 2 || minor != 4 {
		return nil, fmt.Errorf("version %d.%d, not 2.4", major, minor)
	}
	r.link = layers.LinkType(r.order.Uint32(r.hdr[20:]))
	return r, nil
}

func (r *pcapReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	var ci gopacket.CaptureInfo
	off := r.in.off
	h := r.hdr[:16]
	if err := r.in.full(h); err != nil {
		return nil, ci, r.link, err
	}
	capLen, length := r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	if capLen > MaxFrameLength {
		return nil, ci, r.link, overLimit(off, "frame of %d bytes; at most %d are read", capLen, MaxFrameLength)
	}
	// A capture length above the frame's length is a damaged record header,
	// but its bytes are there: like tshark, the frame is read with both
	// lengths as written (pcapng frames are read the same way).
	r.buf = frameBuf(r.buf, int(capLen))
	if err := r.in.full(r.buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ci, r.link, err
	}
	// The fraction is scaled in 32 bits, as libpcap and Wireshark do: an
	// invalid microsecond count of 4.3 million or more wraps as in tshark.
	ci.Timestamp = time.Unix(int64(r.order.Uint32(h)), int64(r.order.Uint32(h[4:])*r.factor)).UTC()
	ci.CaptureLength, ci.Length = int(capLen), int(length)
	return r.buf, ci, r.link, nil
}

// pcapng block types read; all others are skipped.
const (
	ngSectionHeader = 0x0a0d0d0a
	ngInterface     = 1
	ngPacketOld     = 2 // obsolete Packet Block
	ngSimplePacket  = 3
	ngEnhanced      = 6
	ngByteOrder     = uint32(0x1a2b3c4d)
)

// ngIface is what a frame needs of its interface.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	units   uint64 // timestamp units per second (if_tsresol)
	offset  int64  // seconds added to timestamps (if_tsoffset)
}

// ngReader reads pcapng: sections, each a section header block, interface
// description blocks and packet blocks.
type ngReader struct {
	in       *input
	order    binary.ByteOrder
	ifaces   []ngIface // of the current section
	sections int
	quiet    int  // blocks since the last packet block
	skipping bool // the current section has a version this reader does not know
	pending  error
	hdr      [28]byte
	buf      []byte
}

// newNgReader reads the first section header, then the blocks up to the
// first interface, so that the link type is known; an error after the
// section header is kept for the first next.
func newNgReader(in *input) (*ngReader, error) {
	r := &ngReader{in: in, order: binary.LittleEndian}
	if _, err := r.block(); err != nil {
		var fe *formatError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("the section header block is cut (%v)", err)
	}
	for len(r.ifaces) == 0 {
		head, err := in.br.Peek(4)
		if err != nil || isPacketBlock(r.order.Uint32(head)) {
			break
		}
		if _, err := r.block(); err != nil {
			r.pending = err
			break
		}
	}
	return r, nil
}

func isPacketBlock(t uint32) bool {
	return t == ngEnhanced || t == ngSimplePacket || t == ngPacketOld
}

// linkType is the first interface's link type, 0 before one is read.
func (r *ngReader) linkType() layers.LinkType {
	if len(r.ifaces) == 0 {
		return 0
	}
	return r.ifaces[0].link
}

func (r *ngReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if err := r.pending; err != nil {
		r.pending = nil
		return nil, gopacket.CaptureInfo{}, 0, err
	}
	for {
		ci, err := r.block()
		if err != nil {
			return nil, ci, 0, err
		}
		if ci.CaptureLength >= 0 {
			return r.buf, ci, r.ifaces[ci.InterfaceIndex].link, nil
		}
	}
}

// block reads one block. For a packet block it fills r.buf and returns the
// frame's capture info, and sets quiet to 0; for any other block the
// capture info's CaptureLength is -1.
func (r *ngReader) block() (gopacket.CaptureInfo, error) {
	ci := gopacket.CaptureInfo{CaptureLength: -1}
	off := r.in.off
	h := r.hdr[:8]
	if err := r.in.full(h); err != nil {
		return ci, err
	}
	typ := r.order.Uint32(h)
	if typ == ngSectionHeader {
		if err := r.in.full(r.hdr[8:12]); err != nil {
			return ci, unexpected(err)
		}
		switch ngByteOrder {
		case binary.LittleEndian.Uint32(r.hdr[8:]):
			r.order = binary.LittleEndian
		case binary.BigEndian.Uint32(r.hdr[8:]):
			r.order = binary.BigEndian
		default:
			return ci, corrupt(off, "section header block with a bad byte-order magic % x", r.hdr[8:12])
		}
	}
	length := r.order.Uint32(h[4:])
	if length > MaxBlockSize {
		return ci, overLimit(off, "block of %d bytes; at most %d are read", length, MaxBlockSize)
	}
	if length < 12 || length%4 != 0 {
		return ci, corrupt(off, "block length %d is not a multiple of 4 of at least 12", length)
	}
	body := int64(length) - 12 // between the length and the trailing length
	r.quiet++
	if r.quiet > MaxBlocksWithoutPacket {
		return ci, overLimit(off, "more than %d blocks in a row without a packet", MaxBlocksWithoutPacket)
	}
	var err error
	switch {
	case typ == ngSectionHeader:
		body, err = r.sectionHeader(off, body)
	case r.skipping:
	case typ == ngInterface:
		body, err = r.interfaceBlock(off, body)
	case isPacketBlock(typ):
		ci, body, err = r.packet(off, typ, body)
	}
	if err != nil {
		return ci, unexpected(err)
	}
	if err := r.in.skip(body); err != nil {
		return ci, err
	}
	if err := r.in.full(r.hdr[:4]); err != nil {
		return ci, unexpected(err)
	}
	if trail := r.order.Uint32(r.hdr[:]); trail != length {
		return ci, corrupt(off, "block length %d but trailing length %d", length, trail)
	}
	return ci, nil
}

// unexpected turns io.EOF inside a block into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// sectionHeader reads the rest of a section header block (after the
// byte-order magic) and returns how many bytes of its body are left.
func (r *ngReader) sectionHeader(off, body int64) (int64, error) {
	if body < 16 {
		return 0, corrupt(off, "section header block of %d bytes", body+12)
	}
	r.sections++
	if r.sections > MaxSections {
		return 0, overLimit(off, "more than %d sections", MaxSections)
	}
	v := r.hdr[12:16]
	if err := r.in.full(v); err != nil {
		return 0, err
	}
	// Sections of another version are skipped, as the format asks.
	r.skipping = r.order.Uint16(v) != 1 || r.order.Uint16(v[2:]) != 0
	r.ifaces = r.ifaces[:0]
	return body - 8, nil
}

// interfaceBlock reads an interface description block: link type, snap
// length and the two options that change timestamps.
func (r *ngReader) interfaceBlock(off, body int64) (int64, error) {
	if len(r.ifaces) >= MaxInterfaces {
		return 0, overLimit(off, "more than %d interfaces in section %d", MaxInterfaces, r.sections)
	}
	if body < 8 {
		return 0, corrupt(off, "interface block of %d bytes", body+12)
	}
	b := r.hdr[:8]
	if err := r.in.full(b); err != nil {
		return 0, err
	}
	body -= 8
	iface := ngIface{link: layers.LinkType(r.order.Uint16(b)), snaplen: r.order.Uint32(b[4:]), units: 1e6}
	for n := 1; body >= 4; n++ {
		if err := r.in.full(b[:4]); err != nil {
			return 0, err
		}
		code, size := r.order.Uint16(b), int64(r.order.Uint16(b[2:]))
		body -= 4
		if code == 0 { // end of options
			break
		}
		if n > MaxOptions {
			return 0, overLimit(off, "more than %d options in one block", MaxOptions)
		}
		padded := (size + 3) &^ 3
		if padded > body {
			return 0, corrupt(off, "option %d of %d bytes runs past the end of its block", code, size)
		}
		body -= padded
		switch {
		case code == 9 && size >= 1: // if_tsresol
			if err := r.in.full(b[:1]); err != nil {
				return 0, err
			}
			padded--
			exp := b[0] & 0x7f
			switch {
			case b[0]&0x80 != 0 && exp <= 63:
				iface.units = 1 << exp
			case b[0]&0x80 == 0 && exp <= 19:
				iface.units = 1
				for range exp {
					iface.units *= 10
				}
			default:
				return 0, corrupt(off, "timestamp resolution %#x does not fit 64 bits", b[0])
			}
		case code == 14 && size >= 8: // if_tsoffset
			if err := r.in.full(b[:8]); err != nil {
				return 0, err
			}
			padded -= 8
			iface.offset = int64(r.order.Uint64(b))
		}
		if err := r.in.skip(padded); err != nil {
			return 0, err
		}
	}
	r.ifaces = append(r.ifaces, iface)
	return body, nil
}

// packet reads the frame of an enhanced, simple or obsolete packet block
// into r.buf.
func (r *ngReader) packet(off int64, typ uint32, body int64) (gopacket.CaptureInfo, int64, error) {
	ci := gopacket.CaptureInfo{CaptureLength: -1}
	fixed := int64(20)
	if typ == ngSimplePacket {
		fixed = 4
	}
	if body < fixed {
		return ci, 0, corrupt(off, "packet block of %d bytes", body+12)
	}
	b := r.hdr[:fixed]
	if err := r.in.full(b); err != nil {
		return ci, 0, err
	}
	body -= fixed
	var id, capLen, length uint32
	if typ == ngSimplePacket {
		length = r.order.Uint32(b)
		capLen = uint32(min(int64(length), body))
		if len(r.ifaces) > 0 && r.ifaces[0].snaplen != 0 {
			capLen = min(capLen, r.ifaces[0].snaplen)
		}
	} else {
		id = r.order.Uint32(b)
		if typ == ngPacketOld {
			id = uint32(r.order.Uint16(b))
		}
		capLen, length = r.order.Uint32(b[12:]), r.order.Uint32(b[16:])
	}
	if int(id) >= len(r.ifaces) {
		return ci, 0, corrupt(off, "packet of interface %d, but section %d describes %d", id, r.sections, len(r.ifaces))
	}
	if capLen > MaxFrameLength {
		return ci, 0, overLimit(off, "frame of %d bytes; at most %d are read", capLen, MaxFrameLength)
	}
	if int64(capLen) > body {
		return ci, 0, corrupt(off, "capture length %d runs past the end of its block", capLen)
	}
	r.buf = frameBuf(r.buf, int(capLen))
	if err := r.in.full(r.buf); err != nil {
		return ci, 0, err
	}
	ci.CaptureLength, ci.Length, ci.InterfaceIndex = int(capLen), int(length), int(id)
	if typ != ngSimplePacket {
		ci.Timestamp = r.ifaces[id].time(uint64(r.order.Uint32(b[4:]))<<32 | uint64(r.order.Uint32(b[8:])))
	}
	r.quiet = 0
	return ci, body - int64(capLen), nil
}

// time converts a timestamp in the interface's units.
func (f *ngIface) time(ts uint64) time.Time {
	hi, lo := bits.Mul64(ts%f.units, 1e9)
	ns, _ := bits.Div64(hi, lo, f.units) // hi < units: the quotient fits
	return time.Unix(int64(ts/f.units)+f.offset, int64(ns)).UTC()
}

// gzipMembers inflates a gzip stream one member at a time, so that a
// damaged member is told by its number and the inflated offset where it
// begins: the frames made from its bytes were handed on before its checksum
// could be checked.
type gzipMembers struct {
	src   *bufio.Reader
	zr    *gzip.Reader
	n     int   // members begun, from 1
	start int64 // inflated offset where member n begins
	out   int64 // inflated bytes returned
	ended bool  // member n ended with a good checksum
	err   error
}

func newGzipMembers(src *bufio.Reader) (*gzipMembers, error) {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return &gzipMembers{src: src, zr: zr, n: 1}, nil
}

// gzipError is a damaged member, or bytes after a member that are not one.
type gzipError struct {
	member int
	start  int64
	after  bool // the bytes after member are not a gzip member
	err    error
}

func (e *gzipError) Error() string {
	if e.after {
		return fmt.Sprintf("the bytes after gzip member %d are not a gzip member (%v)", e.member, e.err)
	}
	return fmt.Sprintf("gzip member %d (inflated bytes from offset %d) is damaged (%v)", e.member, e.start, e.err)
}

func (m *gzipMembers) Read(p []byte) (int, error) {
	for m.err == nil {
		if m.ended {
			m.ended = false
			if err := m.zr.Reset(m.src); err != nil {
				if err == io.EOF {
					m.err = io.EOF
				} else {
					m.err = &gzipError{member: m.n, start: m.start, after: true, err: err}
				}
				break
			}
			m.zr.Multistream(false)
			m.n++
			m.start = m.out
		}
		k, err := m.zr.Read(p)
		m.out += int64(k)
		switch {
		case err == io.EOF:
			m.ended = true
		case err == io.ErrUnexpectedEOF:
			m.err = err // the file is cut: a truncated capture
		case err != nil:
			m.err = &gzipError{member: m.n, start: m.start, err: err}
		}
		if k > 0 {
			return k, nil
		}
	}
	return 0, m.err
}
