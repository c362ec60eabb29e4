package maltego

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The shared capture with DNS, HTTP and TLS; NETCAP_TRANSFORM_PCAP overrides.
const sharedPCAP = "../../shared/labels/kareem-attack-scan/attack_scan.pcap"

// The shared capture with DHCP (host name option) and several vendors' MACs.
const dhcpPCAP = "../../shared/pcaps/suricata-verify/output-eve-ftp-data__input.pcap"

type fixture struct {
	pcap, dir string
	err       error
}

var (
	fixtures = map[string]*fixture{}
	fixRoot  string // temporary folder of all fixtures
)

// records captures the shared pcap once (through toAuditRecords) and returns
// the pcap path and its record folder; it skips when the capture is absent.
func records(t *testing.T) (string, string) {
	t.Helper()
	src := os.Getenv("NETCAP_TRANSFORM_PCAP")
	if src == "" {
		src = sharedPCAP
	}
	return recordsOf(t, src)
}

// recordsOf is records for the capture src: it is linked into a temporary
// folder (never copied) and captured there once per test binary.
func recordsOf(t *testing.T, src string) (string, string) {
	t.Helper()
	fx := fixtures[src]
	if fx == nil {
		fx = &fixture{}
		fixtures[src] = fx
		if _, err := os.Stat(src); err != nil {
			fx.err = fmt.Errorf("shared capture %s not present: %v", src, err)
		} else {
			if fixRoot == "" {
				tmp, err := os.MkdirTemp("", "maltego-test")
				if err != nil {
					t.Fatal(err)
				}
				fixRoot = tmp
			}
			abs, _ := filepath.Abs(src)
			fx.pcap = filepath.Join(fixRoot, fmt.Sprintf("c%d-%s", len(fixtures), filepath.Base(src)))
			if err := os.Symlink(abs, fx.pcap); err != nil {
				t.Fatal(err)
			}
			fx.dir = fx.pcap + ".net"
		}
	}
	if fx.err != nil {
		t.Skip(fx.err)
	}
	if _, err := os.Stat(fx.dir); err != nil {
		msg, out := runT(t, "toAuditRecords", Args{Value: fx.pcap, Props: map[string]string{"path": fx.pcap}}, 0)
		if len(msg.Response.Entities) == 0 {
			t.Fatalf("toAuditRecords returned nothing:\n%s", out)
		}
	}
	return fx.pcap, fx.dir
}

func TestMain(m *testing.M) {
	// No test may start Wireshark, whatever the options it passes.
	os.Setenv(OpenerEnv, "none")
	code := m.Run()
	if fixRoot != "" {
		os.RemoveAll(fixRoot)
	}
	os.Exit(code)
}

// runT runs a transform, checks that stdout is one valid MaltegoMessage
// (encoding/xml, and xmllint when installed) and returns it parsed.
func runT(t *testing.T, name string, a Args, limit int) (*Message, string) {
	t.Helper()
	var out, log bytes.Buffer
	code := Run(name, a, Options{Limit: limit, Opener: "none"}, &out, &log)
	if code != 0 && Find(name) != nil {
		t.Fatalf("%s: exit %d, log %s", name, code, log.String())
	}
	return parseXML(t, out.Bytes()), out.String()
}

func parseXML(t *testing.T, b []byte) *Message {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Fatalf("stdout does not start with the XML declaration: %.80q", b)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var m Message
	if err := d.Decode(&m); err != nil {
		t.Fatalf("stdout is not valid XML: %v\n%s", err, b)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if cd, ok := tok.(xml.CharData); err != nil || !ok || len(bytes.TrimSpace(cd)) != 0 {
			t.Fatalf("content after the MaltegoMessage: %v %v", tok, err)
		}
	}
	xmllint(t, b)
	return &m
}

func xmllint(t *testing.T, b []byte) {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		return // encoding/xml has checked it; .ci/run installs xmllint
	}
	cmd := exec.Command(p, "--noout", "-")
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v: %s", err, out)
	}
}

// Expected values are computed from the record files through protoreflect
// and field names, independently of the transforms' typed code.
type spec struct {
	typ    types.Type
	values func(m protoreflect.Message, ip string) []string
}

func field(m protoreflect.Message, name string) protoreflect.Value {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic("no field " + name)
	}
	return m.Get(fd)
}

func str(m protoreflect.Message, name string) string { return field(m, name).String() }

func either(m protoreflect.Message, ip string) bool {
	return ip == "" || str(m, "SrcIP") == ip || str(m, "DstIP") == ip
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func httpSpec(fields ...string) spec {
	return spec{types.Type_NC_HTTP, func(m protoreflect.Message, ip string) []string {
		if !either(m, ip) {
			return nil
		}
		var vs []string
		for _, f := range fields {
			v := field(m, f)
			if f == "StatusCode" {
				if v.Int() != 0 {
					vs = append(vs, strconv.FormatInt(v.Int(), 10))
				}
				continue
			}
			vs = append(vs, nonEmpty(v.String())...)
		}
		return vs
	}}
}

func simple(typ types.Type, f func(m protoreflect.Message) string) spec {
	return spec{typ, func(m protoreflect.Message, ip string) []string {
		if !either(m, ip) {
			return nil
		}
		return nonEmpty(f(m))
	}}
}

var specs = map[string]spec{
	"toSourceIPs": {types.Type_NC_Connection, func(m protoreflect.Message, ip string) []string {
		if ip != "" && str(m, "DstIP") != ip {
			return nil
		}
		return nonEmpty(str(m, "SrcIP"))
	}},
	"toDestinationIPs": {types.Type_NC_Connection, func(m protoreflect.Message, ip string) []string {
		if ip != "" && str(m, "SrcIP") != ip {
			return nil
		}
		return nonEmpty(str(m, "DstIP"))
	}},
	"toContactedPorts": {types.Type_NC_Connection, func(m protoreflect.Message, ip string) []string {
		if ip != "" && str(m, "SrcIP") != ip {
			return nil
		}
		return []string{fmt.Sprint(field(m, "DstPort").Int()) + "/" + strings.ToLower(str(m, "TransportProto"))}
	}},
	"toConnectionsForHost": {types.Type_NC_Connection, func(m protoreflect.Message, ip string) []string {
		if !either(m, ip) {
			return nil
		}
		return []string{fmt.Sprintf("%s %s:%d -> %s:%d", str(m, "TransportProto"), str(m, "SrcIP"), field(m, "SrcPort").Int(), str(m, "DstIP"), field(m, "DstPort").Int())}
	}},
	"toDNSQuestions": {types.Type_NC_DNS, func(m protoreflect.Message, ip string) []string {
		if field(m, "QR").Bool() || !either(m, ip) {
			return nil
		}
		var vs []string
		l := field(m, "Questions").List()
		for i := 0; i < l.Len(); i++ {
			vs = append(vs, nonEmpty(str(l.Get(i).Message(), "Name"))...)
		}
		return vs
	}},
	"toDNSResponseCodes": {types.Type_NC_DNS, func(m protoreflect.Message, ip string) []string {
		if !field(m, "QR").Bool() || !either(m, ip) {
			return nil
		}
		return []string{RcodeName(int32(field(m, "ResponseCode").Int()))}
	}},
	"toHTTPHosts":                   httpSpec("Host"),
	"toHTTPUserAgents":              httpSpec("UserAgent"),
	"toHTTPServerNames":             httpSpec("ServerName"),
	"toHTTPStatusCodes":             httpSpec("StatusCode"),
	"toHTTPContentTypes":            httpSpec("ContentType", "ResContentType"),
	"toHTTPUniformResourceLocators": httpSpec("URL"),
	"toJA3Hashes":                   simple(types.Type_NC_TLSClientHello, func(m protoreflect.Message) string { return str(m, "Ja3") }),
	"toJA3SHashes":                  simple(types.Type_NC_TLSServerHello, func(m protoreflect.Message) string { return str(m, "Ja3s") }),
	"toServerNameIndicators":        simple(types.Type_NC_TLSClientHello, func(m protoreflect.Message) string { return str(m, "SNI") }),
	"toTCPFlagCombinations": simple(types.Type_NC_TCP, func(m protoreflect.Message) string {
		var f []string
		for _, n := range []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"} {
			if field(m, n).Bool() {
				f = append(f, n)
			}
		}
		if len(f) == 0 {
			return "none"
		}
		return strings.Join(f, ",")
	}),
	"toEthernetTypes": simple(types.Type_NC_Ethernet, func(m protoreflect.Message) string {
		return EtherTypeName(int32(field(m, "EthernetType").Int()))
	}),
	"toIPV4Protocols": simple(types.Type_NC_IPv4, func(m protoreflect.Message) string {
		return IPProtocolName(int32(field(m, "Protocol").Int()))
	}),
	"toICMPV4ControlMessages": simple(types.Type_NC_ICMPv4, func(m protoreflect.Message) string {
		return ICMPName(icmp4Names, int32(field(m, "TypeCode").Int()))
	}),
	"toICMPV6ControlMessages": simple(types.Type_NC_ICMPv6, func(m protoreflect.Message) string {
		return ICMPName(icmp6Names, int32(field(m, "TypeCode").Int()))
	}),
	"toDHCPClients": {types.Type_NC_DHCPv4, func(m protoreflect.Message, ip string) []string {
		if field(m, "Operation").Int() != 1 || !either(m, ip) {
			return nil
		}
		return nonEmpty(str(m, "ClientHWAddr"))
	}},
	"toDevices": {types.Type_NC_Ethernet, func(m protoreflect.Message, ip string) []string {
		if ip != "" && str(m, "SrcIP") != ip {
			return nil
		}
		return nonEmpty(str(m, "SrcMAC"))
	}},
}

// expect counts the values of a spec over the record file.
func expect(t *testing.T, dir string, s spec, ip string) map[string]int64 {
	t.Helper()
	want := map[string]int64{}
	path := filepath.Join(dir, TypeName(s.typ)+".ncap.gz")
	if _, err := os.Stat(path); err != nil {
		return want
	}
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.New()
	for {
		if err := r.Next(m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, v := range s.values(m.ProtoReflect(), ip) {
			want[v]++
		}
	}
	return want
}

// busiestIP is the source IP with the most connections: the host filter
// is tested with it.
func busiestIP(t *testing.T, dir string) string {
	got := expect(t, dir, specs["toSourceIPs"], "")
	best, n := "", int64(0)
	for ip, c := range got {
		if c > n || (c == n && ip < best) {
			best, n = ip, c
		}
	}
	return best
}

func TestEverySpecIsATransform(t *testing.T) {
	for _, tr := range Transforms {
		// toAuditRecords and the Wireshark transforms have tests of their own.
		_, ok := specs[tr.Name]
		_, rok := recordSpecs[tr.Name]
		if ok && rok {
			t.Errorf("transform %s has two specs", tr.Name)
		}
		if !ok && !rok && tr.Name != "toAuditRecords" && tr.Output != PCAP {
			t.Errorf("transform %s has no test spec", tr.Name)
		}
	}
	for name := range specs {
		if Find(name) == nil {
			t.Errorf("spec for unknown transform %s", name)
		}
	}
	for name := range recordSpecs {
		if Find(name) == nil {
			t.Errorf("record spec for unknown transform %s", name)
		}
	}
}

func TestTransforms(t *testing.T) {
	_, dir := records(t)
	ip := busiestIP(t, dir)
	nonEmptyResults := 0
	for _, tr := range Transforms {
		s, ok := specs[tr.Name]
		if !ok {
			continue
		}
		for _, host := range []string{"", ip} {
			t.Run(tr.Name+"/"+host, func(t *testing.T) {
				props := map[string]string{"path": dir}
				if host != "" {
					props["ip"] = host
				}
				msg, out := runT(t, tr.Name, Args{Value: "x", Props: props}, 0)
				want := expect(t, dir, s, host)
				got := map[string]int64{}
				var prev int64 = -1
				for _, e := range msg.Response.Entities {
					if e.Type != tr.Output {
						t.Errorf("entity type %s, want %s", e.Type, tr.Output)
					}
					if _, dup := got[e.Value]; dup {
						t.Errorf("value %q twice", e.Value)
					}
					got[e.Value] = e.Weight
					if c := e.Field("count"); c != strconv.FormatInt(e.Weight, 10) {
						t.Errorf("%q: count %s, weight %d", e.Value, c, e.Weight)
					}
					if prev >= 0 && e.Weight > prev {
						t.Errorf("not sorted by count: %d after %d", e.Weight, prev)
					}
					prev = e.Weight
					if e.Field("path") != dir {
						t.Errorf("%q: path %q", e.Value, e.Field("path"))
					}
				}
				if len(got) != len(want) {
					t.Errorf("%d values, want %d\n%.2000s", len(got), len(want), out)
				}
				for v, c := range want {
					if got[v] != c {
						t.Errorf("%q: count %d, want %d", v, got[v], c)
					}
				}
				if len(got) > 0 {
					nonEmptyResults++
				}
			})
		}
	}
	if nonEmptyResults < 15 {
		t.Errorf("only %d transform runs returned entities; the capture should exercise most", nonEmptyResults)
	}
}

func TestCap(t *testing.T) {
	_, dir := recordsOf(t, servicesPCAP)
	props := map[string]string{"path": dir}
	full, _ := runT(t, "toTCPFlagCombinations", Args{Props: props}, 0)
	n := len(full.Response.Entities)
	if n < 3 {
		t.Fatalf("need at least 3 values to test the cap, have %d", n)
	}
	capped, _ := runT(t, "toTCPFlagCombinations", Args{Props: props}, 2)
	if len(capped.Response.Entities) != 2 {
		t.Fatalf("limit 2 gave %d entities", len(capped.Response.Entities))
	}
	for i, e := range capped.Response.Entities {
		if e.Value != full.Response.Entities[i].Value || e.Weight != full.Response.Entities[i].Weight {
			t.Errorf("capped entity %d is %q/%d, want the top %q/%d", i, e.Value, e.Weight, full.Response.Entities[i].Value, full.Response.Entities[i].Weight)
		}
	}
	wantMsg := fmt.Sprintf("%d left out", n-2)
	found := false
	for _, u := range capped.Response.UIMessages {
		if u.Type == Inform && strings.Contains(u.Text, wantMsg) {
			found = true
		}
	}
	if !found {
		t.Errorf("no Inform message saying %q: %+v", wantMsg, capped.Response.UIMessages)
	}
	for _, u := range full.Response.UIMessages {
		if strings.Contains(u.Text, "left out") {
			t.Errorf("uncapped answer says %q", u.Text)
		}
	}
}

func TestAuditRecords(t *testing.T) {
	pcap, dir := records(t)
	msg, _ := runT(t, "toAuditRecords", Args{Value: pcap, Props: map[string]string{"path": pcap}}, 0)
	files, _ := filepath.Glob(filepath.Join(dir, "*.ncap.gz"))
	want := map[string]int64{}
	for _, f := range files {
		r, err := ncio.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for {
			if _, err := r.NextRaw(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			n++
		}
		r.Close()
		want[strings.TrimSuffix(filepath.Base(f), ".ncap.gz")] = n
	}
	if len(msg.Response.Entities) != len(want) {
		t.Errorf("%d entities for %d record files", len(msg.Response.Entities), len(want))
	}
	for _, e := range msg.Response.Entities {
		if e.Type != "netcap."+e.Value+"AuditRecords" {
			t.Errorf("entity type %s for %s", e.Type, e.Value)
		}
		if want[e.Value] != e.Weight {
			t.Errorf("%s: %d records, file has %d", e.Value, e.Weight, want[e.Value])
		}
		if e.Field("first") == "" || e.Field("last") < e.Field("first") {
			t.Errorf("%s: first %q last %q", e.Value, e.Field("first"), e.Field("last"))
		}
	}
	for _, typ := range []string{"DNS", "HTTP", "TLSClientHello", "Connection"} {
		if want[typ] == 0 {
			t.Errorf("the shared capture gave no %s records", typ)
		}
	}
}

func hasUI(m *Message, typ string) bool {
	for _, u := range m.Response.UIMessages {
		if u.Type == typ {
			return true
		}
	}
	return false
}

func TestErrorPaths(t *testing.T) {
	tmp := t.TempDir()
	check := func(name string, a Args, wantType string, wantCode int) *Message {
		t.Helper()
		var out, log bytes.Buffer
		code := Run(name, a, Options{Limit: DefaultLimit, Opener: "none"}, &out, &log)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d", name, code, wantCode)
		}
		m := parseXML(t, out.Bytes())
		if !hasUI(m, wantType) {
			t.Errorf("%s %v: no %s message: %s", name, a.Props, wantType, out.String())
		}
		return m
	}
	check("toDNSQuestions", Args{Value: "10.0.0.1", Props: map[string]string{"path": filepath.Join(tmp, "missing")}}, PartialError, 0)
	check("toDNSQuestions", Args{Value: "10.0.0.1", Props: map[string]string{}}, PartialError, 0)
	check("toAuditRecords", Args{Value: filepath.Join(tmp, "none.pcap"), Props: map[string]string{"path": filepath.Join(tmp, "none.pcap")}}, PartialError, 0)
	notPcap := filepath.Join(tmp, "junk.pcap")
	os.WriteFile(notPcap, []byte("this is not a capture <&>"), 0o644)
	check("toAuditRecords", Args{Props: map[string]string{"path": notPcap}}, PartialError, 0)
	check("noSuchTransform", Args{}, FatalError, 2)

	// A damaged record file: a truncated copy of a real one.
	_, dir := recordsOf(t, servicesPCAP)
	b, err := os.ReadFile(filepath.Join(dir, "TCP.ncap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(tmp, "bad")
	os.Mkdir(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "TCP.ncap.gz"), b[:len(b)/2], 0o644)
	m := check("toTCPFlagCombinations", Args{Props: map[string]string{"path": bad}}, PartialError, 0)
	if len(m.Response.Entities) == 0 {
		t.Errorf("no entities from the records before the damage")
	}
	os.WriteFile(filepath.Join(bad, "DNS.ncap.gz"), []byte("garbage"), 0o644)
	check("toDNSQuestions", Args{Props: map[string]string{"path": bad}}, PartialError, 0)
}

func TestParseArgs(t *testing.T) {
	a := ParseArgs([]string{"10.0.0.5", `path=/a/b\#c#ip=10.0.0.5#note=x\=y\\z#empty=#flag`})
	want := map[string]string{"path": "/a/b#c", "ip": "10.0.0.5", "note": `x=y\z`, "empty": "", "flag": ""}
	if a.Value != "10.0.0.5" {
		t.Errorf("value %q", a.Value)
	}
	for k, v := range want {
		if got, ok := a.Props[k]; !ok || got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(a.Props) != len(want) {
		t.Errorf("props %v", a.Props)
	}
	if b := ParseArgs(nil); b.Value != "" || len(b.Props) != 0 {
		t.Errorf("no args: %+v", b)
	}
}

func TestMessageEscaping(t *testing.T) {
	var m Message
	m.Response.Entities = []Entity{{Type: "netcap.URL", Value: "/a?b=<c>&d=\x00\x01\"'", Weight: 1}}
	m.Warn("bad <thing> & \x02")
	var b bytes.Buffer
	m.WriteTo(&b)
	got := parseXML(t, b.Bytes())
	if v := got.Response.Entities[0].Value; v != "/a?b=<c>&d=\uFFFD\uFFFD\"'" {
		t.Errorf("value came back as %q", v)
	}
}

func TestConfig(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteConfig(&buf, "net"); err != nil {
		t.Fatal(err)
	}
	names, err := ConfigTransformNames(buf.Bytes(), func(name string, b []byte) error {
		d := xml.NewDecoder(bytes.NewReader(b))
		d.Strict = true
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
		}
		xmllint(t, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tr := range Transforms {
		want = append(want, tr.Name)
	}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("config transforms %v\nwant %v", names, want)
	}
}

// checkAnswer checks what every answer promises: entities of type typ ("":
// any), each
// with its record count as weight and "count" property, first <= last when
// both are given, sorted by count; it returns the entities by value.
func checkAnswer(t *testing.T, m *Message, typ string) map[string]*Entity {
	t.Helper()
	byValue := map[string]*Entity{}
	var prev int64 = -1
	for i := range m.Response.Entities {
		e := &m.Response.Entities[i]
		if typ != "" && e.Type != typ {
			t.Errorf("%q: entity type %s, want %s", e.Value, e.Type, typ)
		}
		if byValue[e.Value] != nil {
			t.Errorf("value %q twice", e.Value)
		}
		byValue[e.Value] = e
		if c := e.Field("count"); c != strconv.FormatInt(e.Weight, 10) || e.Weight <= 0 {
			t.Errorf("%q: count %q, weight %d", e.Value, c, e.Weight)
		}
		first, last := e.Field("first"), e.Field("last")
		f, ferr := time.Parse(time.RFC3339Nano, first)
		l, lerr := time.Parse(time.RFC3339Nano, last)
		// As times: RFC 3339 text with trailing zeros dropped does not sort.
		if ferr != nil || lerr != nil || l.Before(f) {
			t.Errorf("%q: first %q, last %q", e.Value, first, last)
		}
		if prev >= 0 && e.Weight > prev {
			t.Errorf("not sorted by count: %d after %d", e.Weight, prev)
		}
		prev = e.Weight
	}
	return byValue
}

// tshark runs tshark and returns its output lines; it skips the test when
// tshark is not installed.
func tshark(t *testing.T, args ...string) []string {
	t.Helper()
	p, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: nothing to compare with")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(p, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	s := strings.TrimRight(string(out), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// hasUIText reports whether a UI message of type typ contains text.
func hasUIText(m *Message, typ, text string) bool {
	for _, u := range m.Response.UIMessages {
		if u.Type == typ && strings.Contains(u.Text, text) {
			return true
		}
	}
	return false
}
