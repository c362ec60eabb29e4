package capture

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// fileFilter is a tcpdump filter applied to the packets of a capture file.
// pcapng files may mix link types, so the expression is compiled once per
// link type, when the first packet of that type comes.
type fileFilter struct {
	expr  string
	progs map[layers.LinkType]*pcap.BPF
}

// filterSnaplen is what the filter assumes of packet lengths; any packet a
// file may hold (readers accept up to 256 KiB) is looked at whole.
const filterSnaplen = 262144

func newFileFilter(expr string, link layers.LinkType) (*fileFilter, error) {
	f := &fileFilter{expr: expr, progs: map[layers.LinkType]*pcap.BPF{}}
	if _, err := f.prog(link); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fileFilter) prog(link layers.LinkType) (*pcap.BPF, error) {
	if p, ok := f.progs[link]; ok {
		return p, nil
	}
	p, err := pcap.NewBPF(link, filterSnaplen, f.expr)
	if err != nil {
		return nil, fmt.Errorf("-bpf %q does not compile for link type %v: %s", f.expr, link, bpfReason(err))
	}
	f.progs[link] = p
	return p, nil
}

// matches tells whether the filter keeps the packet. A link type the filter
// cannot be compiled for (the expression names a layer it does not have)
// keeps no packet, as with tcpdump.
func (f *fileFilter) matches(data []byte, ci gopacket.CaptureInfo, link layers.LinkType) bool {
	p, err := f.prog(link)
	if err != nil {
		f.progs[link] = nil
		return false
	}
	if p == nil {
		return false
	}
	ci.CaptureLength = len(data)
	return p.Matches(ci, data)
}

// SetFilter makes ReadPacket return only the packets that match expr, a
// tcpdump filter expression. Frame numbers stay those of the file (see
// Frame), so records still match Wireshark's frame.number. An expression that
// does not compile is an error that names it.
func (s *FileSource) SetFilter(expr string) error {
	if expr == "" {
		s.filter = nil
		return nil
	}
	f, err := newFileFilter(expr, s.link)
	if err != nil {
		return err
	}
	s.filter = f
	return nil
}

// Frame is the number, counted from 1 in the file, of the packet ReadPacket
// returned last. It differs from the count of packets returned when a filter
// skips some.
func (s *FileSource) Frame() int64 { return s.n }
