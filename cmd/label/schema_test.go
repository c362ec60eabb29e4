package label

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/netcap/netcap/internal/original"
)

// TestOtherSchema checks that net label refuses a folder holding record
// files of the original netcap (written with protoc's code for its own
// .proto) with one line naming the version, exit 2, and writes nothing.
func TestOtherSchema(t *testing.T) {
	for _, tc := range []struct {
		version string
		write   func(string) (string, error)
	}{{"v0.4.7", original.TCPv047}, {"v0.6.11", original.TCPv06}} {
		dir := t.TempDir()
		path, err := tc.write(dir)
		if err != nil {
			t.Fatal(err)
		}
		alerts := filepath.Join(t.TempDir(), "eve.json")
		if err := os.WriteFile(alerts, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "labeled")
		var o, e bytes.Buffer
		code := run([]string{"-read", dir, "-alerts", alerts, "-out", out}, &o, &e)
		want := "net label: " + path + ": written by the original netcap " + tc.version + ", whose record layout differs from this build's; convert it with: net util -upgrade -read " + path + " -out FOLDER\n"
		if code != 2 || o.String() != "" || e.String() != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q\nwant %q", tc.version, code, o.String(), e.String(), want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s was written", tc.version, out)
		}
	}
}
