package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// Live capture reads packets from a network interface through libpcap. On
// Linux libpcap already uses a memory-mapped AF_PACKET ring (TPACKET_V3), so
// the ring's size (-buffer) matters much more than the API in front of it.

// ErrIdle is returned by a live source's ReadPacket when no packet arrived
// within its read timeout. It is not an error: the engine hands on the
// packets it holds, checks whether it should stop, and reads again.
var ErrIdle = errors.New("capture: no packet within the read timeout")

// ErrPermission means the process may not open the interface for capture.
var ErrPermission = errors.New("permission denied")

// LiveOptions configure a live capture.
type LiveOptions struct {
	Snaplen     int           // bytes kept of each packet; 0 means 1514
	Promisc     bool          // put the interface in promiscuous mode
	BufferBytes int           // kernel capture buffer; 0 means 16 MiB
	Timeout     time.Duration // longest wait in ReadPacket; 0 means 100ms
	BPF         string        // tcpdump filter expression, "" for none
}

// LiveSource captures packets from a network interface. It implements
// Source; ReadPacket returns ErrIdle when nothing arrived for a while, and
// io.EOF once Close has been called.
type LiveSource struct {
	iface  string
	handle *pcap.Handle
	link   layers.LinkType

	mu        sync.Mutex // held while the handle is used: reads, statistics, close
	bytes     atomic.Int64
	kernel    atomic.Int64 // dropped by the kernel or the interface
	received  atomic.Int64 // seen by the kernel's filter
	lastStats time.Time
	closed    bool
}

// OpenLive opens iface for capture. Errors name the interface and the
// problem: an unknown interface, a filter that does not compile, or a
// missing permission (wrapping ErrPermission).
func OpenLive(iface string, o LiveOptions) (*LiveSource, error) {
	if o.Snaplen <= 0 {
		o.Snaplen = 1514
	}
	if o.BufferBytes <= 0 {
		o.BufferBytes = 16 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 100 * time.Millisecond
	}
	// Asked first, so that an unknown name is told as such even to a user
	// who may not capture (libpcap would answer "permission denied").
	if devs, err := pcap.FindAllDevs(); err == nil && iface != "any" {
		found := false
		for _, d := range devs {
			found = found || d.Name == iface
		}
		if !found {
			return nil, fmt.Errorf("-iface %s: no such interface; net capture -interfaces lists them", iface)
		}
	}
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, liveError(iface, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(o.Snaplen) },
		func() error { return in.SetPromisc(o.Promisc) },
		func() error { return in.SetTimeout(o.Timeout) },
		func() error { return in.SetBufferSize(o.BufferBytes) },
	} {
		if err := set(); err != nil {
			return nil, liveError(iface, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, liveError(iface, err)
	}
	if o.BPF != "" {
		if err := h.SetBPFFilter(o.BPF); err != nil {
			h.Close()
			return nil, fmt.Errorf("-bpf %q does not compile: %s", o.BPF, bpfReason(err))
		}
	}
	return &LiveSource{iface: iface, handle: h, link: h.LinkType(), lastStats: time.Now()}, nil
}

// liveError turns libpcap's words into one line that says what to do.
func liveError(iface string, err error) error {
	msg := err.Error()
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "permission") || strings.Contains(low, "not permitted"):
		return fmt.Errorf("-iface %s: %w: run as root or grant the binary CAP_NET_RAW and CAP_NET_ADMIN (sudo setcap cap_net_raw,cap_net_admin=eip $(which net))", iface, ErrPermission)
	case strings.Contains(low, "no such device"):
		return fmt.Errorf("-iface %s: no such interface; net capture -interfaces lists them", iface)
	case strings.Contains(low, "not up"):
		return fmt.Errorf("-iface %s: the interface is down; bring it up (ip link set %s up)", iface, iface)
	}
	return fmt.Errorf("-iface %s: %s", iface, strings.TrimSpace(msg))
}

func bpfReason(err error) string {
	return strings.TrimSpace(strings.TrimPrefix(err.Error(), "Error: "))
}

// ReadPacket implements Source.
func (s *LiveSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, gopacket.CaptureInfo{}, s.link, io.EOF
	}
	data, ci, err := s.handle.ZeroCopyReadPacketData()
	if time.Since(s.lastStats) >= 250*time.Millisecond {
		s.refreshLocked()
	}
	if err != nil {
		if errors.Is(err, pcap.NextErrorTimeoutExpired) {
			return nil, ci, s.link, ErrIdle
		}
		if errors.Is(err, io.EOF) {
			return nil, ci, s.link, io.EOF
		}
		if msg := strings.TrimSpace(s.handle.Error().Error()); msg != "" {
			return nil, ci, s.link, fmt.Errorf("-iface %s: reading packets: %v: %s", s.iface, err, msg)
		}
		return nil, ci, s.link, fmt.Errorf("-iface %s: reading packets: %v", s.iface, err)
	}
	s.bytes.Add(int64(ci.CaptureLength))
	return data, ci, s.link, nil
}

func (s *LiveSource) refreshLocked() {
	s.lastStats = time.Now()
	st, err := s.handle.Stats()
	if err != nil {
		return
	}
	s.kernel.Store(int64(st.PacketsDropped) + int64(st.PacketsIfDropped))
	s.received.Store(int64(st.PacketsReceived))
}

// KernelDrops is the number of packets the kernel (its capture buffer was
// full) or the interface dropped. It may be called while another goroutine
// reads; it is exact when no read is under way and otherwise at most a
// quarter of a second old.
func (s *LiveSource) KernelDrops() int64 {
	if s.mu.TryLock() {
		if !s.closed {
			s.refreshLocked()
		}
		s.mu.Unlock()
	}
	return s.kernel.Load()
}

// LinkType is the interface's link type.
func (s *LiveSource) LinkType() layers.LinkType { return s.link }

// Name implements Source.
func (s *LiveSource) Name() string { return s.iface }

// Progress implements Source: bytes captured so far; the total is unknown.
func (s *LiveSource) Progress() (int64, int64) { return s.bytes.Load(), 0 }

// Close implements Source.
func (s *LiveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.refreshLocked()
		s.closed = true
		s.handle.Close()
	}
	return nil
}

// Interface is a network interface as net capture -interfaces lists it.
type Interface struct {
	Name        string
	Description string
	Addresses   []string // CIDR notation
	Up          bool
	Running     bool
	Loopback    bool
}

// Interfaces lists the interfaces libpcap can capture on.
func Interfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %v", err)
	}
	const (
		ifLoopback = 0x1 // PCAP_IF_LOOPBACK
		ifUp       = 0x2 // PCAP_IF_UP
		ifRunning  = 0x4 // PCAP_IF_RUNNING
	)
	var out []Interface
	for _, d := range devs {
		it := Interface{Name: d.Name, Description: d.Description, Up: d.Flags&ifUp != 0, Running: d.Flags&ifRunning != 0, Loopback: d.Flags&ifLoopback != 0}
		for _, a := range d.Addresses {
			if a.IP == nil {
				continue
			}
			if ones, bits := net.IPMask(a.Netmask).Size(); bits > 0 && len(a.Netmask) == len(a.IP) {
				it.Addresses = append(it.Addresses, fmt.Sprintf("%s/%d", a.IP, ones))
			} else {
				it.Addresses = append(it.Addresses, a.IP.String())
			}
		}
		out = append(out, it)
	}
	return out, nil
}
