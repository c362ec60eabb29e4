package decoder

import (
	"slices"
	"sort"
	"testing"
)

// Every registered protocol has its tests in its own test file,
// decoder/<proto>_test.go, which hands them to the shared machinery in an
// init function:
//
//	func init() {
//		addProtocolTest("GRE", protocolTest{fuzz: &fuzzTarget{...}, oracle: []tsRecord{...}, cases: greCases})
//	}
//	func FuzzGRE(f *testing.F) { fuzzLayer(f, "GRE") }
//
// The fuzz harness (fuzz_test.go), the corpus-wide tshark oracle
// (tshark_test.go) and the case runner (cases_test.go) read only these
// entries, and TestEveryProtocolTested walks the registry, so a new
// protocol is fuzzed, compared with tshark and checked for coverage
// without being named anywhere else.

// protocolTest is what a protocol's test file supplies.
type protocolTest struct {
	// fuzz says how fuzz bytes become a frame of the protocol; nil when
	// fuzzedBy names the protocol whose target reaches this one's layer
	// (the ICMPv6 message bodies are reached through ICMPv6).
	fuzz     *fuzzTarget
	fuzzedBy string
	// oracle maps the fields of the protocol's records to tshark's, for
	// the shared-corpus comparison; empty only when the Protocol
	// declaration's Oracle says why tshark cannot check them there.
	oracle []tsRecord
	// cases are real packets of the protocol with the records expected.
	cases []packetCase
}

// protocolTests are the entries of the test files, by protocol name.
var protocolTests = map[string]*protocolTest{}

// addProtocolTest adds a protocol's entry: its fuzz target joins
// fuzzTargets and its oracle records join the corpus-wide table.
func addProtocolTest(name string, pt protocolTest) {
	if _, dup := protocolTests[name]; dup {
		panic("decoder tests: protocol " + name + " has two test entries")
	}
	protocolTests[name] = &pt
	if pt.fuzz != nil {
		fuzzTargets[name] = pt.fuzz
	}
	oracleRecords = append(oracleRecords, pt.oracle...)
}

// TestEveryProtocolTested fails for a registered protocol whose test file
// lacks a fuzz target, packet cases, or oracle entries for its records
// (unless its declaration's Oracle says why tshark cannot check them), and
// for a test entry of a protocol that is not registered.
func TestEveryProtocolTested(t *testing.T) {
	registered := map[string]bool{}
	for _, p := range Protocols() {
		registered[p.Name] = true
		pt := protocolTests[p.Name]
		if pt == nil {
			t.Errorf("%s: no test entry: its test file must call addProtocolTest (see docs/adding-a-protocol.md)", p.Name)
			continue
		}
		tg := pt.fuzz
		if tg == nil && pt.fuzzedBy != "" && protocolTests[pt.fuzzedBy] != nil {
			tg = protocolTests[pt.fuzzedBy].fuzz
		}
		switch {
		case tg == nil:
			t.Errorf("%s: no fuzz target", p.Name)
		case pt.fuzz != nil && tg.layer != p.Layer && !slices.Contains(p.Also, tg.layer):
			t.Errorf("%s: the fuzz target reads layer %v, the protocol %v", p.Name, tg.layer, p.Layer)
		}
		if len(pt.cases) == 0 {
			t.Errorf("%s: no packet cases", p.Name)
		}
		for _, c := range pt.cases {
			if len(c.want) == 0 {
				t.Errorf("%s: case %q expects no field", p.Name, c.name)
			}
		}
		if p.Oracle != "" {
			continue
		}
		for _, r := range p.Records {
			if !slices.ContainsFunc(pt.oracle, func(rt tsRecord) bool { return rt.typ == r }) {
				t.Errorf("%s: record %v has no oracle entry, and the declaration's Oracle does not say why", p.Name, r)
			}
		}
	}
	var stale []string
	for name := range protocolTests {
		if !registered[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		t.Errorf("%s: test entry of a protocol that is not registered", name)
	}
}
