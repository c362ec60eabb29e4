package engineflags

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/netcap/netcap/types"
)

// TestOriginalNames parses the values the original netcap's users wrote:
// timeouts in plain seconds and encoder families in -include.
func TestOriginalNames(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flow time.Duration
		conn time.Duration
	}{
		{[]string{"-flow-timeout", "30"}, 30 * time.Second, 5 * time.Minute},
		{[]string{"-flow-timeout", "30s", "-conn-timeout", "60"}, 30 * time.Second, time.Minute},
		{[]string{"-conn-timeout", "0.5"}, time.Minute, 500 * time.Millisecond},
		{[]string{"-conn-timeout", "0"}, time.Minute, 0},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		f := Register(fs, Setup{})
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if f.FlowTimeout != tc.flow || f.ConnTimeout != tc.conn {
			t.Errorf("%q: flow %v, conn %v; want %v, %v", tc.args, f.FlowTimeout, f.ConnTimeout, tc.flow, tc.conn)
		}
	}
	for _, bad := range []string{"1e300", "Inf", "-1", "soon"} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		Register(fs, Setup{})
		if err := fs.Parse([]string{"-flow-timeout", bad}); err == nil {
			t.Errorf("-flow-timeout %s accepted", bad)
		}
	}

	for _, tc := range []struct {
		include, exclude string
		in, out          []types.Type
	}{
		{"TLS", "", []types.Type{types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello}, []types.Type{types.Type_NC_TCP}},
		{"ospf,vrrp", "", []types.Type{types.Type_NC_OSPFv2, types.Type_NC_OSPFv3, types.Type_NC_VRRPv2}, []types.Type{types.Type_NC_UDP}},
		{"tcp, Udp", "tls", []types.Type{types.Type_NC_TCP, types.Type_NC_UDP}, []types.Type{types.Type_NC_TLSClientHello, types.Type_NC_DNS}},
		{"", "OSPF", []types.Type{types.Type_NC_TCP}, []types.Type{types.Type_NC_OSPFv2, types.Type_NC_OSPFv3}},
	} {
		enabled, err := Selection(tc.include, tc.exclude)
		if err != nil {
			t.Fatalf("-include %q -exclude %q: %v", tc.include, tc.exclude, err)
		}
		for _, typ := range tc.in {
			if !enabled(typ) {
				t.Errorf("-include %q -exclude %q leaves out %v", tc.include, tc.exclude, typ)
			}
		}
		for _, typ := range tc.out {
			if enabled(typ) {
				t.Errorf("-include %q -exclude %q keeps %v", tc.include, tc.exclude, typ)
			}
		}
	}
}
