// Package engineflags is the one set of engine flags that net capture, net
// agent and net export share: the input (-read, -iface, -bpf, -promisc,
// -snaplen, -buffer), the decoding (-workers, -payload, -entropy, the flow
// timeouts and bounds, -memcap) and the selection (-include, -exclude).
// Registering them in one place keeps their names, defaults, meaning and
// error messages the same in every command.
package engineflags

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/types"
)

// Limits of the input flags.
const (
	MinSnaplen  = 64
	MaxSnaplen  = 262144
	MaxBufferMB = 4096 // -buffer: more kernel buffer than this is a typo (MiB, not bytes)
)

// Setup is what differs between the commands that register the flags.
type Setup struct {
	ReadUsage string // the command's text for -read
	Entropy   bool   // the default of -entropy
}

// Flags holds the values of the shared flags after parsing.
type Flags struct {
	Read, Iface, BPF string
	Promisc          bool
	Snaplen          int
	BufferMB         int
	Workers          int
	Payload, Entropy bool
	ConnTimeout      time.Duration
	FlowTimeout      time.Duration
	CloseDelay       time.Duration
	ActivityTimeout  time.Duration
	StreamMemory     int64
	MaxConnections   int
	MemCap           string
	Include, Exclude string
	Files            string // -files: folder for the contents of File records
	MaxFileSize      string
}

// Register defines the shared flags on fs, with the original netcap's
// names as aliases (-r for -read).
func Register(fs *flag.FlagSet, s Setup) *Flags {
	d := decoder.DefaultOptions()
	f := &Flags{
		Promisc:         true,
		Snaplen:         1514,
		BufferMB:        16,
		Workers:         runtime.NumCPU(),
		Entropy:         s.Entropy,
		ConnTimeout:     d.ConnTimeout,
		FlowTimeout:     d.FlowTimeout,
		CloseDelay:      d.CloseDelay,
		ActivityTimeout: d.ActivityTimeout,
		StreamMemory:    d.StreamMemory,
		MaxConnections:  d.MaxConnections,
		MemCap:          cli.FormatSize(capture.DefaultMemCap()),
		MaxFileSize:     cli.FormatSize(decoder.DefaultMaxFileSize),
	}
	readUsage := s.ReadUsage
	if readUsage == "" {
		readUsage = "capture `file` to decode: pcap or pcapng, optionally gzip'd"
	}
	fs.StringVar(&f.Read, "read", "", readUsage)
	cli.Alias(fs, "r", "read", "the original netcap's name")
	fs.StringVar(&f.Iface, "iface", "", "capture live from network `interface` until Ctrl-C or SIGTERM")
	fs.StringVar(&f.BPF, "bpf", "", "tcpdump filter `expression` for -iface and -read, e.g. \"tcp port 443 or udp port 53\"")
	fs.BoolVar(&f.Promisc, "promisc", f.Promisc, "-iface: put the interface in promiscuous mode (-promisc=false: only its own traffic)")
	fs.IntVar(&f.Snaplen, "snaplen", f.Snaplen, "-iface: bytes kept of each packet, 64 to 262144; 262144 for jumbo frames and offloaded (GRO/TSO) traffic")
	fs.Var((*mebibytes)(&f.BufferMB), "buffer", "-iface: kernel capture buffer in `MiB`, 1 to 4096; more rides out longer bursts")
	fs.IntVar(&f.Workers, "workers", f.Workers, "decoding workers; packets of one flow always go to the same worker")
	fs.BoolVar(&f.Payload, "payload", false, "keep packet payloads in the Payload fields (TCP, UDP) and HTTP bodies in the HTTP records (their first 64 KiB)")
	fs.BoolVar(&f.Entropy, "entropy", f.Entropy, "compute PayloadEntropy (Shannon entropy, bits per byte) for every layer")
	fs.Var((*seconds)(&f.ConnTimeout), "conn-timeout", "end a TCP connection idle for `duration` in packet time (5m, or in seconds: 300); 0: never")
	fs.Var((*seconds)(&f.FlowTimeout), "flow-timeout", "end a UDP, ICMP or other flow idle for `duration` in packet time (1m, or in seconds: 60); 0: never")
	fs.Var((*seconds)(&f.CloseDelay), "close-delay", "keep a closed TCP connection for `duration` for its trailing packets (5s, or in seconds: 5)")
	fs.Var((*seconds)(&f.ActivityTimeout), "activity-timeout", "FlowFeatures: a gap of more than `duration` between two packets of a connection ends an active period and makes an idle one (5s, or in seconds: 5); 0: no idle periods")
	fs.Int64Var(&f.StreamMemory, "stream-memory", f.StreamMemory, "bytes all workers may hold for out-of-order TCP data, counted as allocated: the data and its bookkeeping; beyond, holes are given up and counted")
	fs.IntVar(&f.MaxConnections, "max-connections", f.MaxConnections, "connections tracked at most; beyond, the least recently active ends early")
	fs.StringVar(&f.MemCap, "memcap", f.MemCap, capture.MemCapUsage)
	fs.StringVar(&f.Include, "include", "", "comma-separated record `types` to keep, any case (default: all); TLS, OSPF and VRRP name their families")
	fs.StringVar(&f.Exclude, "exclude", "", "comma-separated record `types` to leave out, any case")
	fs.StringVar(&f.Files, "files", "", "write the content of every File record (HTTP bodies, mail messages and their parts, FTP transfers) to `folder`, named by its SHA-256")
	fs.StringVar(&f.MaxFileSize, "max-file-size", f.MaxFileSize, "content read of one file at most (`size`: 100MiB, 1GB); beyond, its record says so and it is not written")
	return f
}

// Input checks that exactly one of -read and -iface was given.
func (f *Flags) Input() error {
	switch {
	case f.Read == "" && f.Iface == "":
		return fmt.Errorf("no input: give a capture file with -read or an interface with -iface (see -h)")
	case f.Read != "" && f.Iface != "":
		return fmt.Errorf("-read and -iface exclude each other: give one input")
	}
	return nil
}

// Config checks the values and builds the engine's configuration from them:
// the input and decoding groups of capture.Config (the output group and the
// hooks are each command's own), and the options of a live capture. The error is one line without the command's name.
func (f *Flags) Config() (capture.Config, capture.LiveOptions, error) {
	var none capture.Config
	if f.Snaplen < MinSnaplen || f.Snaplen > MaxSnaplen {
		return none, capture.LiveOptions{}, fmt.Errorf("-snaplen %d: must be between %d and %d", f.Snaplen, MinSnaplen, MaxSnaplen)
	}
	if f.Workers < 1 {
		return none, capture.LiveOptions{}, fmt.Errorf("-workers %d: must be at least 1", f.Workers)
	}
	if f.MaxConnections < 1 {
		return none, capture.LiveOptions{}, fmt.Errorf("-max-connections %d: must be at least 1", f.MaxConnections)
	}
	if f.StreamMemory < 0 {
		return none, capture.LiveOptions{}, fmt.Errorf("-stream-memory %d: must be at least 0", f.StreamMemory)
	}
	memcap, err := capture.ParseMemCap(f.MemCap)
	if err != nil {
		return none, capture.LiveOptions{}, err
	}
	enabled, err := Selection(f.Include, f.Exclude)
	if err != nil {
		return none, capture.LiveOptions{}, err
	}
	maxFile, err := cli.ParseSize(f.MaxFileSize)
	if err != nil || maxFile < 1 {
		return none, capture.LiveOptions{}, fmt.Errorf("-max-file-size %q: give a size of at least 1 byte, such as 100MiB", f.MaxFileSize)
	}
	if f.Files != "" {
		if err := os.MkdirAll(f.Files, 0o755); err != nil {
			return none, capture.LiveOptions{}, fmt.Errorf("-files: %v", err)
		}
	}
	d := decoder.DefaultOptions()
	d.Files = &decoder.FileStore{Dir: f.Files, MaxSize: maxFile}
	d.ConnTimeout = f.ConnTimeout
	d.FlowTimeout = f.FlowTimeout
	d.CloseDelay = f.CloseDelay
	d.ActivityTimeout = f.ActivityTimeout
	// The engine gives each worker its own decoder: the bounds of the
	// whole run are split between them.
	d.StreamMemory = f.StreamMemory / int64(f.Workers)
	d.MaxConnections = max(f.MaxConnections/f.Workers, 1)
	cfg := capture.Config{
		Input: capture.InputConfig{Live: f.Iface != ""},
		Decoding: capture.DecodeConfig{
			Workers:  f.Workers,
			Enabled:  enabled,
			Payloads: f.Payload,
			Entropy:  f.Entropy,
			Options:  d,
			MemCap:   memcap,
		},
	}
	live := capture.LiveOptions{Snaplen: f.Snaplen, Promisc: f.Promisc, BufferBytes: f.BufferMB << 20, BPF: f.BPF}
	return cfg, live, nil
}

// Inspect, when set (by tests), is handed the configuration each command
// built, right before the command would open its input; the command then
// ends with status 0. It lets one test compare the commands' configurations.
var Inspect func(cmd string, cfg capture.Config, live capture.LiveOptions)

// Inspected calls Inspect if it is set and reports whether it did.
func Inspected(cmd string, cfg capture.Config, live capture.LiveOptions) bool {
	if Inspect == nil {
		return false
	}
	Inspect(cmd, cfg, live)
	return true
}

// families are the original netcap's encoder names that stand for several
// record types.
var families = map[string][]types.Type{
	"tls":  {types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
	"ospf": {types.Type_NC_OSPFv2, types.Type_NC_OSPFv3},
	"vrrp": {types.Type_NC_VRRPv2},
}

// Selection turns -include and -exclude into a predicate. Names are record
// types in any case, or a family (TLS, OSPF, VRRP); other names are refused.
func Selection(include, exclude string) (func(types.Type) bool, error) {
	inc, err := parseTypes(include)
	if err != nil {
		return nil, err
	}
	exc, err := parseTypes(exclude)
	if err != nil {
		return nil, err
	}
	return func(t types.Type) bool {
		if inc != nil && !inc[t] {
			return false
		}
		return !exc[t]
	}, nil
}

// parseTypes reads a comma-separated list; nil means the list was empty.
func parseTypes(list string) (map[types.Type]bool, error) {
	var m map[types.Type]bool
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if m == nil {
			m = map[types.Type]bool{}
		}
		if fam, ok := families[strings.ToLower(name)]; ok {
			for _, t := range fam {
				m[t] = true
			}
			continue
		}
		t, ok := decoder.ParseRecordType(name)
		if !ok || t == types.Type_NC_Header || t == types.Type_NC_Batch {
			return nil, fmt.Errorf("unknown record type %q; net capture -decoders lists them", name)
		}
		m[t] = true
	}
	return m, nil
}

// seconds is a duration flag that also takes plain seconds, as the
// original netcap's -flow-timeout 30 did.
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }

func (s *seconds) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseFloat(v, 64)
		if nerr != nil || math.IsNaN(n) || math.Abs(n) > math.MaxInt64/1e9 {
			return fmt.Errorf("want a duration such as 30s or 5m, or seconds such as 30")
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < 0 {
		return fmt.Errorf("want 0 or more")
	}
	*s = seconds(d)
	return nil
}

// mebibytes is -buffer: a whole number of MiB. Its own type makes a value
// such as 256MB, net agent's old -buffer (now -queue), fail with a hint.
type mebibytes int

func (m *mebibytes) String() string { return strconv.Itoa(int(*m)) }

func (m *mebibytes) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxBufferMB {
		return fmt.Errorf("want the kernel capture buffer in MiB, 1 to %d (net agent's message queue is -queue)", MaxBufferMB)
	}
	*m = mebibytes(n)
	return nil
}
