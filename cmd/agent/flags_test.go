package agent

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/internal/engineflags"
)

// TestRenamedFlags: -batch-size, the old name of -message-size, still sets
// the message size; the old -buffer (the message queue) is refused with a
// hint to -queue, now that -buffer is the kernel capture buffer.
func TestRenamedFlags(t *testing.T) {
	var part int
	engineflags.Inspect = func(_ string, cfg capture.Config, _ capture.LiveOptions) { part = cfg.Output.PartSize }
	defer func() { engineflags.Inspect = nil }()
	for _, tc := range []struct {
		args []string
		code int
		part int
		msg  string
	}{
		{[]string{"-message-size", "4KiB"}, 0, 4 << 10, ""},
		{[]string{"-batch-size", "4KiB"}, 0, 4 << 10, ""},
		{[]string{"-batch-size", "8MiB"}, 2, 0, "-message-size 8MiB: want 1KiB to 4MiB"},
		{[]string{"-queue", "64MB"}, 0, 512 << 10, ""},
		{[]string{"-buffer", "256MB"}, 2, 0, "net agent's message queue is -queue"},
		{[]string{"-buffer", "1048576"}, 2, 0, "kernel capture buffer in MiB, 1 to 4096"},
		{[]string{"-buffer", "4096"}, 0, 512 << 10, ""},
		{[]string{"-queue", "10"}, 2, 0, "-queue 10: want at least 1MB"},
	} {
		part = 0
		var stderr bytes.Buffer
		code := run(append([]string{"-read", "../../testdata/loopback.pcap", "-sensor", "lab"}, tc.args...), &stderr)
		if code != tc.code || part != tc.part || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%q: status %d, message size %d, %q; want %d, %d, %q", tc.args, code, part, stderr.String(), tc.code, tc.part, tc.msg)
		}
	}
	var stderr bytes.Buffer
	run([]string{"-h"}, &stderr)
	for _, want := range []string{"-batch-size string\n    \tsame as -message-size (its old name)", "-queue string", "the message queue that was -buffer is\n-queue"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("net agent -h does not say %q", want)
		}
	}
}
