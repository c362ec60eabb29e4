package engineflags_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/cmd/agent"
	capturecmd "github.com/netcap/netcap/cmd/capture"
	"github.com/netcap/netcap/cmd/export"
	"github.com/netcap/netcap/internal/engineflags"
	"github.com/netcap/netcap/types"
)

// command is one of the commands that share the engine flags, with the
// arguments of its own it needs to get as far as the engine.
type command struct {
	name string
	run  func(args []string) int
	own  []string
}

func commands(t *testing.T) []command {
	return []command{
		{"net capture", capturecmd.Run, []string{"-out", filepath.Join(t.TempDir(), "out")}},
		{"net agent", agent.Run, []string{"-sensor", "lab"}},
		// -entropy is the one default that differs: export's metrics want it.
		{"net export", export.Run, []string{"-address", "127.0.0.1:0", "-entropy=false"}},
	}
}

// built is the part of the configuration the shared flags set: the input and
// decoding groups whole, so that a field added to them is compared too.
type built struct {
	Input    capture.InputConfig
	Decoding capture.DecodeConfig // Enabled left nil (a func does not compare): Disabled tells it
	LiveOpts capture.LiveOptions
	Disabled []string // the record types the selection leaves out
}

func summarize(cfg capture.Config, live capture.LiveOptions) built {
	b := built{Input: cfg.Input, Decoding: cfg.Decoding, LiveOpts: live}
	b.Decoding.Enabled = nil
	b.Input.BatchSize = 0 // net capture's own -batch
	for v := range types.Type_name {
		if !cfg.Decoding.Enabled(types.Type(v)) {
			b.Disabled = append(b.Disabled, types.Name(types.Type(v)))
		}
	}
	sort.Strings(b.Disabled)
	return b
}

// runCommand runs c with args, its stderr going to a file, and returns the
// exit status, stderr and the configuration it built (nil if it did not get
// that far).
func runCommand(t *testing.T, c command, args []string) (int, string, *built) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stderr
	os.Stderr = f
	var got *built
	engineflags.Inspect = func(cmd string, cfg capture.Config, live capture.LiveOptions) {
		if cmd != c.name {
			t.Errorf("%s reports itself as %s", c.name, cmd)
		}
		b := summarize(cfg, live)
		got = &b
	}
	code := c.run(args)
	os.Stderr = saved
	engineflags.Inspect = nil
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return code, string(out), got
}

var loopback = filepath.Join("..", "..", "testdata", "loopback.pcap")

// TestCommandsShareFlags runs every shared flag through net capture, net
// agent and net export: each lists it in -h, builds the same configuration
// from a good value, and refuses a bad value with status 2 and the same
// message.
func TestCommandsShareFlags(t *testing.T) {
	for _, tc := range []struct {
		flag string
		good []string // a run that builds a configuration
		bad  []string // a run refused with status 2 (nil: no value is bad before the input is opened)
		msg  string   // in the refusal's first line
	}{
		{"read", []string{"-read", loopback}, []string{"-read", loopback, "-iface", "lo"}, "-read and -iface exclude each other"},
		{"r", []string{"-r", loopback}, []string{"-r", loopback, "-iface", "lo"}, "-read and -iface exclude each other"},
		{"iface", []string{"-iface", "lo"}, []string{"-iface", ""}, "no input: give a capture file with -read or an interface with -iface"},
		{"bpf", []string{"-read", loopback, "-bpf", "tcp port 80"}, nil, ""},
		{"promisc", []string{"-iface", "lo", "-promisc=false"}, []string{"-read", loopback, "-promisc=maybe"}, `invalid boolean value "maybe" for -promisc`},
		{"snaplen", []string{"-iface", "lo", "-snaplen", "262144"}, []string{"-read", loopback, "-snaplen", "10"}, "-snaplen 10: must be between 64 and 262144"},
		{"buffer", []string{"-iface", "lo", "-buffer", "64"}, []string{"-read", loopback, "-buffer", "256MB"}, "want the kernel capture buffer in MiB, 1 to 4096 (net agent's message queue is -queue)"},
		{"workers", []string{"-read", loopback, "-workers", "3"}, []string{"-read", loopback, "-workers", "0"}, "-workers 0: must be at least 1"},
		{"payload", []string{"-read", loopback, "-payload"}, []string{"-read", loopback, "-payload=often"}, `invalid boolean value "often" for -payload`},
		{"entropy", []string{"-read", loopback, "-entropy"}, []string{"-read", loopback, "-entropy=x"}, `invalid boolean value "x" for -entropy`},
		{"conn-timeout", []string{"-read", loopback, "-conn-timeout", "30"}, []string{"-read", loopback, "-conn-timeout", "soon"}, "want a duration such as 30s or 5m, or seconds such as 30"},
		{"flow-timeout", []string{"-read", loopback, "-flow-timeout", "2m"}, []string{"-read", loopback, "-flow-timeout", "-5"}, "want 0 or more"},
		{"close-delay", []string{"-read", loopback, "-close-delay", "1.5"}, []string{"-read", loopback, "-close-delay", "NaN"}, "want a duration such as 30s or 5m"},
		{"activity-timeout", []string{"-read", loopback, "-activity-timeout", "2.5"}, []string{"-read", loopback, "-activity-timeout", "later"}, "want a duration such as 30s or 5m"},
		{"stream-memory", []string{"-read", loopback, "-stream-memory", "1000000"}, []string{"-read", loopback, "-stream-memory", "-1"}, "-stream-memory -1: must be at least 0"},
		{"max-connections", []string{"-read", loopback, "-max-connections", "100"}, []string{"-read", loopback, "-max-connections", "0"}, "-max-connections 0: must be at least 1"},
		{"memcap", []string{"-read", loopback, "-memcap", "64MiB"}, []string{"-read", loopback, "-memcap", "lots"}, "-memcap lots: want a size such as 512MiB"},
		{"include", []string{"-read", loopback, "-include", "tcp,TLS,ospf"}, []string{"-read", loopback, "-include", "TCP,Foo"}, `unknown record type "Foo"; net capture -decoders lists them`},
		{"exclude", []string{"-read", loopback, "-exclude", "udp,VRRP"}, []string{"-read", loopback, "-exclude", "Bar"}, `unknown record type "Bar"`},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			var first *built
			var firstMsg string
			for _, c := range commands(t) {
				code, help, _ := runCommand(t, c, []string{"-h"})
				if code != 0 || !(strings.Contains(help, "\n  -"+tc.flag+" ") || strings.Contains(help, "\n  -"+tc.flag+"\n")) {
					t.Errorf("%s -h: status %d, -%s not listed", c.name, code, tc.flag)
				}

				code, stderr, got := runCommand(t, c, append(append([]string{}, c.own...), tc.good...))
				if code != 0 || got == nil {
					t.Fatalf("%s %q: status %d, no configuration built: %s", c.name, tc.good, code, stderr)
				}
				if first == nil {
					first = got
				} else if !reflect.DeepEqual(*got, *first) {
					t.Errorf("%s %q builds\n%+v\nnet capture builds\n%+v", c.name, tc.good, *got, *first)
				}

				if tc.bad == nil {
					continue
				}
				code, stderr, got = runCommand(t, c, append(append([]string{}, c.own...), tc.bad...))
				line, _, _ := strings.Cut(stderr, "\n")
				line = strings.TrimPrefix(line, c.name+": ")
				if code != 2 || got != nil || !strings.Contains(line, tc.msg) {
					t.Errorf("%s %q: status %d, ran %v, first line %q; want status 2 and %q", c.name, tc.bad, code, got != nil, line, tc.msg)
				}
				if firstMsg == "" {
					firstMsg = line
				} else if line != firstMsg {
					t.Errorf("%s says %q, net capture %q", c.name, line, firstMsg)
				}
			}
		})
	}
}
