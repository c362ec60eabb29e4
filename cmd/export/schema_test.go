package export

import (
	"bytes"
	"context"
	"testing"

	"github.com/netcap/netcap/internal/original"
)

// TestOtherSchema checks that net export -replay refuses a folder holding
// record files of the original netcap (written with protoc's code for its
// own .proto) with one line naming the version, exit 2, before it serves.
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
		var o, e bytes.Buffer
		code := run(context.Background(), []string{"-read", dir, "-replay", "-speed", "0", "-address", "127.0.0.1:0"}, &o, &e, nil)
		want := "net export: " + path + ": written by the original netcap " + tc.version + ", whose record layout differs from this build's; convert it with: net util -upgrade -read " + path + " -out FOLDER\n"
		if code != 2 || o.String() != "" || e.String() != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q\nwant %q", tc.version, code, o.String(), e.String(), want)
		}
	}
}
