package capture

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/netcap/netcap/types"
)

// TestUnencodableCounted: a record that marshalling refuses (a string that
// is not UTF-8) is counted, leaves no partial bytes behind and does not
// reach the OnRecord hook.
func TestUnencodableCounted(t *testing.T) {
	var hooked []int
	e := &engine{cfg: Config{
		Hooks: Hooks{OnRecord: func(_ int, _ types.Type, _ proto.Message, size int) { hooked = append(hooked, size) }},
	}}
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
	if len(hooked) != 1 || hooked[0] != good {
		t.Errorf("hook called with sizes %v, want the good record's %d only", hooked, good)
	}
}

// TestUnencodableInWriter: a record that the Writer makes itself (the
// layer-flow models) and that marshalling refuses is counted as the
// workers' are, and neither written, passed to the hook nor a failure of the
// run.
func TestUnencodableInWriter(t *testing.T) {
	hooked := 0
	e := &engine{cfg: Config{Hooks: Hooks{OnRecord: func(int, types.Type, proto.Message, int) { hooked++ }}}}
	w := &writer{e: e, byType: map[types.Type]*typeFile{}}
	w.emit(types.Type_NC_LinkFlow, wrapperspb.String("\xff\xfe not UTF-8"))
	if n := e.unencodable.Load(); n != 1 {
		t.Errorf("unencodable %d, want 1", n)
	}
	if hooked != 0 || len(w.byType) != 0 || w.err != nil {
		t.Errorf("refused record: hook called %d times, %d files opened, run error %v; want none", hooked, len(w.byType), w.err)
	}
}
