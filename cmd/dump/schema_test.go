package dump

import (
	"strings"
	"testing"

	"github.com/netcap/netcap/internal/original"
)

// TestOtherSchema checks that net dump refuses record files written by the
// original netcap (made with protoc's code for its own .proto) with one
// line naming the version and the upgrade command, exit 2, in every mode.
// Before, it printed their records with values in the wrong columns
// (ports 0) and exited 0.
func TestOtherSchema(t *testing.T) {
	for _, tc := range []struct {
		version string
		write   func(string) (string, error)
	}{{"v0.4.7", original.TCPv047}, {"v0.6.11", original.TCPv06}} {
		path, err := tc.write(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		want := "net dump: " + path + ": written by the original netcap " + tc.version + ", whose record layout differs from this build's; convert it with: net util -upgrade -read " + path + " -out FOLDER\n"
		for _, mode := range [][]string{nil, {"-json"}, {"-table"}, {"-struct"}, {"-header"}, {"-fields"}} {
			stdout, stderr, code := dumpArgs(append([]string{"-read", path}, mode...)...)
			if code != 2 || stdout != "" || stderr != want {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q\nwant %q", tc.version, mode, code, stdout, stderr, want)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("%s %q: not one line: %q", tc.version, mode, stderr)
			}
		}
	}
}
