package dump

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/netcap/netcap/internal/original"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
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

// TestNewerSchema checks that a file of a newer schema of ours is refused
// with one line naming its version and schema, exit 2.
func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "UDP.ncap.gz")
	writeRecords(t, path, &types.Header{Type: types.Type_NC_UDP, Version: "v9.0.0", Schema: ncio.Schema + 1}, nil, true)
	stdout, stderr, code := dumpArgs("-read", path)
	want := "net dump: " + path + ": written by netcap v9.0.0 with record schema 2, newer than the schema 1 this build reads; read it with that version of net or a newer one\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant %q", code, stdout, stderr, want)
	}
}
