package capture

import (
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/netcap/netcap/types"
)

// TestUnencodableCounted: a record that marshalling refuses (a string that
// is not UTF-8) is counted and leaves no partial bytes behind.
func TestUnencodableCounted(t *testing.T) {
	e := &engine{}
	e.enabled[types.Type_NC_HTTP] = true
	out := &workerOut{}
	s := &sink{e: e, out: out}
	s.Emit(types.Type_NC_HTTP, &types.HTTP{Host: "ok"})
	good := len(out.arena)
	s.Emit(types.Type_NC_HTTP, wrapperspb.String("\xff\xfe not UTF-8"))
	if n := e.unencodable.Load(); n != 1 {
		t.Fatalf("unencodable %d, want 1", n)
	}
	if len(out.arena) != good || len(out.recs) != 1 {
		t.Fatalf("arena %d bytes (want %d), %d records (want 1)", len(out.arena), good, len(out.recs))
	}
}
