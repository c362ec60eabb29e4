package maltego

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The project's own capture with SSH, SMTP (AUTH, an attachment), POP3,
// IMAP, FTP and HTTP: present in every clone, unlike the shared captures.
const servicesPCAP = "../testdata/services.pcap"

// entry is one value a record gives a transform, with the properties
// (name, value) it notes for it.
type entry struct {
	value string
	notes [][2]string
}

// rspec is the expectation of a transform over one or more record types,
// computed through protoreflect and field names like spec, with the
// properties every value must carry.
type rspec struct {
	types   []types.Type
	entries func(m protoreflect.Message, ip string) []entry
	// loose: the transform has properties the spec does not compute (the
	// older transforms' details); they are not checked.
	loose bool
}

func one(value string, notes ...string) []entry {
	if value == "" {
		return nil
	}
	e := entry{value: value}
	for i := 0; i+1 < len(notes); i += 2 {
		e.notes = append(e.notes, [2]string{notes[i], notes[i+1]})
	}
	return []entry{e}
}

func strList(m protoreflect.Message, name string) []string {
	l := field(m, name).List()
	out := make([]string, l.Len())
	for i := range out {
		out[i] = l.Get(i).String()
	}
	return out
}

func hostPortOf(ip string, port int64) string {
	return net.JoinHostPort(ip, strconv.FormatInt(port, 10))
}

// mailUnit is a mail transaction (SMTP) or message (POP3, IMAP) of a record.
type mailUnit struct {
	proto         string
	envFrom       string
	rcpt          []string
	from, subject string
	to            []string
	haveMessage   bool
}

func mailUnits(m protoreflect.Message, ip string) []mailUnit {
	if !either(m, ip) {
		return nil
	}
	fromMsg := func(u mailUnit, msg protoreflect.Message) mailUnit {
		u.haveMessage = true
		u.from, u.subject = str(msg, "From"), str(msg, "Subject")
		u.to = append(strList(msg, "To"), strList(msg, "Cc")...)
		return u
	}
	name := string(m.Descriptor().Name())
	switch name {
	case "SMTP":
		u := mailUnit{proto: name, envFrom: str(m, "MailFrom"), rcpt: strList(m, "RcptTo")}
		fd := m.Descriptor().Fields().ByName("Message")
		if m.Has(fd) {
			u = fromMsg(u, m.Get(fd).Message())
		}
		return []mailUnit{u}
	default:
		var us []mailUnit
		l := field(m, "Messages").List()
		for i := 0; i < l.Len(); i++ {
			us = append(us, fromMsg(mailUnit{proto: name}, l.Get(i).Message()))
		}
		return us
	}
}

// senderAddrs parses a From field on its own terms: net/mail's address
// list, the trimmed field when it is not one.
func senderAddrs(from string) []string {
	from = strings.TrimSpace(from)
	if from == "" {
		return nil
	}
	list, err := mail.ParseAddressList(from)
	if err != nil {
		return []string{from}
	}
	var out []string
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

func uniq(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func mailSpec(values func(u mailUnit) []entry) rspec {
	return rspec{types: []types.Type{types.Type_NC_SMTP, types.Type_NC_POP3, types.Type_NC_IMAP}, entries: func(m protoreflect.Message, ip string) []entry {
		var es []entry
		for _, u := range mailUnits(m, ip) {
			es = append(es, values(u)...)
		}
		return es
	}}
}

func sshSpec(client bool, hash string) rspec {
	return rspec{types: []types.Type{types.Type_NC_SSH}, entries: func(m protoreflect.Message, ip string) []entry {
		if field(m, "IsClient").Bool() != client || !either(m, ip) {
			return nil
		}
		return one(str(m, "Ident"), hash, str(m, "HASSH"), "hosts", str(m, "SrcIP"))
	}}
}

func cookiesOf(m protoreflect.Message, ip string) []entry {
	if !either(m, ip) {
		return nil
	}
	var es []entry
	for _, f := range []string{"RequestCookies", "ResponseCookies"} {
		l := field(m, f).List()
		for i := 0; i < l.Len(); i++ {
			c := l.Get(i).Message()
			es = append(es, one(str(c, "Name"), "values", str(c, "Value"))...)
		}
	}
	return es
}

func parametersOf(m protoreflect.Message, ip string) []entry {
	if !either(m, ip) {
		return nil
	}
	var es []entry
	field(m, "Parameters").Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		es = append(es, one(k.String(), "values", v.String())...)
		return true
	})
	return es
}

var recordSpecs = map[string]rspec{
	"toSoftwareProducts": {types: []types.Type{types.Type_NC_Software}, entries: func(m protoreflect.Message, ip string) []entry {
		if str(m, "Product") == "" || (ip != "" && str(m, "Host") != ip) {
			return nil
		}
		return one(strings.TrimSpace(str(m, "Product")+" "+str(m, "Version")),
			"sources", str(m, "Source"), "role", str(m, "Role"), "os", str(m, "OS"), "hosts", str(m, "Host"))
	}},
	"toServices": {types: []types.Type{types.Type_NC_Service}, entries: func(m protoreflect.Message, ip string) []entry {
		clients := strList(m, "Clients")
		if str(m, "IP") == "" {
			return nil
		}
		if ip != "" && str(m, "IP") != ip && !contains(clients, ip) {
			return nil
		}
		es := one(hostPortOf(str(m, "IP"), field(m, "Port").Int())+"/"+strings.ToLower(str(m, "Transport")),
			"protocol", str(m, "Protocol"), "banner", str(m, "Banner"), "product", strings.TrimSpace(str(m, "Product")+" "+str(m, "Version")))
		for _, c := range clients {
			es[0].notes = append(es[0].notes, [2]string{"clients", c})
		}
		return es
	}},
	"toCredentialsByService": {types: []types.Type{types.Type_NC_Credentials}, entries: func(m protoreflect.Message, ip string) []entry {
		if !either(m, ip) {
			return nil
		}
		user := str(m, "User")
		if user == "" {
			user = "(no user)"
		}
		return one(user+"@"+str(m, "Service"), "protocol", str(m, "Protocol"), "mechanism", str(m, "Mechanism"),
			"result", str(m, "Result"), "password", str(m, "Password"), "material", str(m, "Material"))
	}},
	"toFiles": {types: []types.Type{types.Type_NC_File}, entries: func(m protoreflect.Message, ip string) []entry {
		if !either(m, ip) {
			return nil
		}
		v := str(m, "Name")
		if v == "" {
			v = str(m, "SHA256")
		}
		return one(v, "sha256", str(m, "SHA256"), "protocol", str(m, "Source"), "type", str(m, "ContentType"),
			"type", str(m, "ContentTypeDetected"), "location", str(m, "Location"))
	}},
	"toMailFrom": mailSpec(func(u mailUnit) []entry {
		var es []entry
		for _, a := range uniq(append(senderAddrs(u.from), u.envFrom)) {
			es = append(es, one(a, "protocol", u.proto)...)
		}
		return es
	}),
	"toMailTo": mailSpec(func(u mailUnit) []entry {
		var es []entry
		for _, a := range uniq(append(append([]string(nil), u.rcpt...), u.to...)) {
			es = append(es, one(a, "protocol", u.proto)...)
		}
		return es
	}),
	"toMailSubjects": mailSpec(func(u mailUnit) []entry {
		return one(u.subject, "protocol", u.proto, "from", u.from)
	}),
	"toSSHClients":     sshSpec(true, "hassh"),
	"toSSHServers":     sshSpec(false, "hasshServer"),
	"toHTTPCookies":    {types: []types.Type{types.Type_NC_HTTP}, entries: cookiesOf},
	"toHTTPParameters": {types: []types.Type{types.Type_NC_HTTP}, entries: parametersOf},
	"toFTPUsers": {types: []types.Type{types.Type_NC_FTP}, entries: func(m protoreflect.Message, ip string) []entry {
		if !either(m, ip) {
			return nil
		}
		return one(str(m, "User"), "servers", hostPortOf(str(m, "DstIP"), field(m, "DstPort").Int()))
	}},
	"toFTPFiles": {types: []types.Type{types.Type_NC_FTP}, entries: func(m protoreflect.Message, ip string) []entry {
		if !either(m, ip) {
			return nil
		}
		var es []entry
		l := field(m, "Transfers").List()
		for i := 0; i < l.Len(); i++ {
			t := l.Get(i).Message()
			es = append(es, one(str(t, "Name"), "command", str(t, "Command"), "servers", hostPortOf(str(m, "DstIP"), field(m, "DstPort").Int()))...)
		}
		return es
	}},
}

// expected is what a transform should answer: the count of every value and
// the distinct values of each of its properties.
type expected struct {
	count map[string]int64
	notes map[string]map[string]map[string]bool
}

// expectR reads the record files of s in dir (missing ones add nothing);
// values and properties pass through what the answer does to characters
// XML cannot carry.
func expectR(t *testing.T, dir string, s rspec, ip string) expected {
	t.Helper()
	want := expected{count: map[string]int64{}, notes: map[string]map[string]map[string]bool{}}
	for _, typ := range s.types {
		path := recordFile(dir, typ)
		if path == "" {
			continue
		}
		r, err := ncio.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m := r.New()
		for {
			if err := r.Next(m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			for _, e := range s.entries(m.ProtoReflect(), ip) {
				v := sanitize(e.value)
				want.count[v]++
				if want.notes[v] == nil {
					want.notes[v] = map[string]map[string]bool{}
				}
				for _, n := range e.notes {
					if n[1] == "" {
						continue
					}
					if want.notes[v][n[0]] == nil {
						want.notes[v][n[0]] = map[string]bool{}
					}
					want.notes[v][n[0]][sanitize(n[1])] = true
				}
			}
		}
		r.Close()
	}
	return want
}

// standardFields are the properties every answer has; the others of a
// record transform's entity are its notes.
var standardFields = map[string]bool{"count": true, "first": true, "last": true, "path": true, "ip": true}

// checkRecordSpec runs the transform on dir (host filter ip) and compares
// with the spec; it returns how many values the answer has.
func checkRecordSpec(t *testing.T, dir, name string, s rspec, ip string) int {
	t.Helper()
	tr := Find(name)
	props := map[string]string{"path": dir}
	if ip != "" {
		props["ip"] = ip
	}
	msg, out := runT(t, name, Args{Value: "x", Props: props}, 0)
	got := checkAnswer(t, msg, tr.Output)
	want := expectR(t, dir, s, ip)
	if len(got) != len(want.count) {
		t.Errorf("%s: %d values, want %d\n%.3000s", name, len(got), len(want.count), out)
	}
	for v, c := range want.count {
		e := got[v]
		if e == nil {
			t.Errorf("%s: no entity %q", name, v)
			continue
		}
		if e.Weight != c {
			t.Errorf("%s: %q: count %d, want %d", name, v, e.Weight, c)
		}
		if e.Field("path") != dir {
			t.Errorf("%s: %q: path %q", name, v, e.Field("path"))
		}
		if ip != "" && tr.Output != IPAddr && e.Field("ip") != ip {
			t.Errorf("%s: %q: ip %q, want %q", name, v, e.Field("ip"), ip)
		}
		for _, f := range e.Fields {
			if !s.loose && !standardFields[f.Name] && want.notes[v][f.Name] == nil {
				t.Errorf("%s: %q: property %s=%q, the records give none", name, v, f.Name, f.Value)
			}
		}
		for k, set := range want.notes[v] {
			vals := make([]string, 0, len(set))
			for x := range set {
				vals = append(vals, x)
			}
			sort.Strings(vals)
			g := e.Field(k)
			if len(vals) > maxNotes {
				// Capped: the first maxNotes in order, then "...".
				if w := strings.Join(vals[:maxNotes], ", ") + ", ..."; g != w {
					t.Errorf("%s: %q: capped %s = %.200q, want %.200q", name, v, k, g, w)
				}
				continue
			}
			if w := strings.Join(vals, ", "); g != w {
				t.Errorf("%s: %q: %s = %q, want %q", name, v, k, g, w)
			}
		}
	}
	return len(got)
}

// TestRecordTransformsOnServices checks every record transform on the
// project's own capture, without and with the host filter, and requires an
// answer from each whose records the capture has (it has no cookies and no
// query parameters: TestRecordTransformsHostile has those).
func TestRecordTransformsOnServices(t *testing.T) {
	_, dir := recordsOf(t, servicesPCAP)
	noData := map[string]bool{"toHTTPCookies": true, "toHTTPParameters": true}
	for _, tr := range recordTransforms {
		s, ok := recordSpecs[tr.Name]
		if !ok {
			t.Errorf("%s has no record spec", tr.Name)
			continue
		}
		for _, ip := range []string{"", "127.0.0.1", "192.0.2.99"} {
			n := checkRecordSpec(t, dir, tr.Name, s, ip)
			switch {
			case ip == "192.0.2.99" && n != 0:
				t.Errorf("%s: %d values for a host the capture does not have", tr.Name, n)
			case ip != "192.0.2.99" && !noData[tr.Name] && n == 0:
				t.Errorf("%s (ip %q): no values from services.pcap", tr.Name, ip)
			}
		}
	}
}

// The older transforms' specs on the project's capture too, so that a
// fresh clone checks them without the shared captures.
func TestTransformsOnServices(t *testing.T) {
	_, dir := recordsOf(t, servicesPCAP)
	// The capture has no DNS, ICMP or DHCP; every other transform answers.
	absent := map[string]bool{"toDNSQuestions": true, "toDNSResponseCodes": true, "toICMPV4ControlMessages": true,
		"toICMPV6ControlMessages": true, "toDHCPClients": true}
	for name, s := range specs {
		for _, ip := range []string{"", "127.0.0.1"} {
			if n := checkRecordSpec(t, dir, name, asRSpec(s), ip); n == 0 && !absent[name] {
				t.Errorf("%s (ip %q): no values from services.pcap", name, ip)
			}
		}
	}
}

// asRSpec is a spec as an rspec without properties.
func asRSpec(s spec) rspec {
	return rspec{types: []types.Type{s.typ}, entries: func(m protoreflect.Message, ip string) []entry {
		var es []entry
		for _, v := range s.values(m, ip) {
			es = append(es, entry{value: v})
		}
		return es
	}, loose: true}
}

// hostile holds what XML cannot carry or must escape.
const hostile = "a\x00<b>&amp;]]>\"'\x1b\uFFFE\r\n\tz"

// writeRecords writes a record file of the messages' type into dir.
func writeRecords(t *testing.T, dir string, typ types.Type, ms ...proto.Message) string {
	t.Helper()
	path := filepath.Join(dir, TypeName(typ)+".ncap.gz")
	w, err := ncio.Create(path, &types.Header{Type: typ, Version: "test"}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostileRecords writes records with every kind of value the transforms
// treat specially: hostile text, IPv6, empty user and name, unparsable
// From, many values of one cookie.
func hostileRecords(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "hostile")
	os.Mkdir(dir, 0o755)
	const v6, v4 = "2001:db8::1", "192.0.2.7"
	var many []*types.HTTPCookie
	for i := 0; i < maxNotes+8; i++ {
		many = append(many, &types.HTTPCookie{Name: "session", Value: fmt.Sprintf("v%02d", i)})
	}
	writeRecords(t, dir, types.Type_NC_HTTP,
		&types.HTTP{Timestamp: 1, SrcIP: v4, DstIP: v6, URL: "/?" + hostile,
			RequestCookies:  append([]*types.HTTPCookie{{Name: hostile, Value: hostile}, {Name: "", Value: "nameless"}, {Name: "empty"}}, many...),
			ResponseCookies: []*types.HTTPCookie{{Name: "id", Value: "1"}},
			Parameters:      map[string]string{hostile: hostile, "q": "a, b", "flag": ""}},
		&types.HTTP{Timestamp: 2, SrcIP: "198.51.100.1", DstIP: v6, Parameters: map[string]string{"q": "c"}})
	writeRecords(t, dir, types.Type_NC_Software,
		&types.Software{Timestamp: 1, TimestampLast: 5, Product: hostile, Version: "1.0", Source: "HTTP User-Agent", Host: v4, Role: "client", OS: hostile},
		&types.Software{Timestamp: 2, TimestampLast: 3, Product: "srv", Source: "SSH", Host: v6, Role: "server"},
		&types.Software{Timestamp: 2, Product: "", Version: "9", Host: v4})
	writeRecords(t, dir, types.Type_NC_Service,
		&types.Service{Timestamp: 1, TimestampLast: 2, IP: v6, Port: 443, Transport: "TCP", Protocol: "TLS", Banner: hostile, Clients: []string{v4, "198.51.100.1"}},
		&types.Service{Timestamp: 1, TimestampLast: 2, IP: v4, Port: 53, Transport: "UDP", Product: "dnsmasq", Version: "2.89"},
		&types.Service{Timestamp: 1, Port: 1})
	writeRecords(t, dir, types.Type_NC_Credentials,
		&types.Credentials{Timestamp: 1, SrcIP: v4, DstIP: v6, Service: "[" + v6 + "]:110", Protocol: "POP3", Mechanism: "APOP", User: hostile, Material: "0123abcd", Result: "rejected"},
		&types.Credentials{Timestamp: 2, SrcIP: v4, DstIP: v6, Service: "[" + v6 + "]:25", Protocol: "SMTP", Mechanism: "AUTH PLAIN", Password: hostile, Result: ""},
		&types.Credentials{Timestamp: 3, SrcIP: v4, DstIP: v6, Service: "[" + v6 + "]:25", Protocol: "SMTP", Mechanism: "AUTH LOGIN", Password: "second", Result: "accepted"})
	writeRecords(t, dir, types.Type_NC_File,
		&types.File{Timestamp: 1, SrcIP: v6, DstIP: v4, Name: "", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Source: "HTTP"},
		&types.File{Timestamp: 2, SrcIP: v6, DstIP: v4, Name: hostile, SHA256: "aa", Source: "SMTP", ContentType: hostile, Location: "aa"},
		&types.File{Timestamp: 3, SrcIP: v6, DstIP: v4})
	writeRecords(t, dir, types.Type_NC_SSH,
		&types.SSH{Timestamp: 1, IsClient: true, Ident: "SSH-2.0-" + hostile, HASSH: "h1", SrcIP: v4, DstIP: v6},
		&types.SSH{Timestamp: 2, IsClient: true, Ident: "SSH-2.0-" + hostile, HASSH: "h2", SrcIP: "198.51.100.1", DstIP: v6},
		&types.SSH{Timestamp: 3, IsClient: false, Ident: "SSH-2.0-srv", SrcIP: v6, DstIP: v4},
		&types.SSH{Timestamp: 4, IsClient: false})
	writeRecords(t, dir, types.Type_NC_FTP,
		&types.FTP{Timestamp: 1, SrcIP: v4, DstIP: v6, DstPort: 21, User: hostile,
			Transfers: []*types.FTPTransfer{{Command: "RETR", Name: hostile}, {Command: "LIST"}, {Command: "STOR", Name: "up"}}},
		&types.FTP{Timestamp: 2, SrcIP: v4, DstIP: v4, DstPort: 2121})
	msg := &types.MailMessage{From: `"Eve <&>" <eve@example.test>, bob@example.test`, To: []string{"x@example.test", hostile}, Cc: []string{"x@example.test"}, Subject: hostile}
	writeRecords(t, dir, types.Type_NC_SMTP,
		&types.SMTP{Timestamp: 1, SrcIP: v4, DstIP: v6, MailFrom: "eve@example.test", RcptTo: []string{"x@example.test", "y@example.test"}, Message: msg},
		&types.SMTP{Timestamp: 2, SrcIP: v4, DstIP: v6, MailFrom: "bounce@example.test", RcptTo: []string{"z@example.test"}},
		&types.SMTP{Timestamp: 3, SrcIP: v4, DstIP: v6, Message: &types.MailMessage{From: "not an address <" + hostile}})
	writeRecords(t, dir, types.Type_NC_POP3,
		&types.POP3{Timestamp: 4, SrcIP: "198.51.100.1", DstIP: v6, Messages: []*types.MailMessage{msg, {From: "eve@example.test", Subject: "second"}}})
	// IMAP: only a header, no records.
	writeRecords(t, dir, types.Type_NC_IMAP)
	return dir
}

// TestRecordTransformsHostile runs every record transform on records with
// hostile text, IPv6 addresses and corner cases; each answers, with the
// spec's values and properties, in valid XML (runT checks it).
func TestRecordTransformsHostile(t *testing.T) {
	dir := hostileRecords(t)
	for _, tr := range recordTransforms {
		for _, ip := range []string{"", "192.0.2.7", "2001:db8::1"} {
			if n := checkRecordSpec(t, dir, tr.Name, recordSpecs[tr.Name], ip); n == 0 && ip == "" {
				t.Errorf("%s: no values from the hostile records", tr.Name)
			}
		}
	}
	// The cap of a property: 40 values of one cookie.
	msg, _ := runT(t, "toHTTPCookies", Args{Props: map[string]string{"path": dir}}, 0)
	for _, e := range msg.Response.Entities {
		if e.Value == "session" && !strings.HasSuffix(e.Field("values"), ", ...") {
			t.Errorf("session values not capped: %q", e.Field("values"))
		}
	}
}

// TestRecordTransformsDamaged runs every record transform on empty,
// garbage and truncated record files: a valid answer with a PartialError;
// on an empty folder an Inform and no entities.
func TestRecordTransformsDamaged(t *testing.T) {
	_, good := recordsOf(t, servicesPCAP)
	for _, tr := range recordTransforms {
		for _, typ := range tr.Reads {
			real, err := os.ReadFile(recordFile(good, typ))
			if err != nil {
				t.Fatal(err)
			}
			for kind, b := range map[string][]byte{
				"empty":     nil,
				"garbage":   []byte("<&>\x00 not a record file ]]>"),
				"truncated": real[:len(real)/2],
				"headless":  real[:10],
			} {
				dir := filepath.Join(t.TempDir(), kind)
				os.Mkdir(dir, 0o755)
				os.WriteFile(filepath.Join(dir, TypeName(typ)+".ncap.gz"), b, 0o644)
				var out, log bytes.Buffer
				if code := Run(tr.Name, Args{Value: "10.0.0.1", Props: map[string]string{"path": dir}}, Options{Opener: "none"}, &out, &log); code != 0 {
					t.Errorf("%s on a %s %s file: exit %d", tr.Name, kind, TypeName(typ), code)
				}
				m := parseXML(t, out.Bytes())
				if !hasUI(m, PartialError) {
					t.Errorf("%s on a %s %s file: no PartialError: %s", tr.Name, kind, TypeName(typ), out.String())
				}
			}
		}
		m, _ := runT(t, tr.Name, Args{Props: map[string]string{"path": t.TempDir()}}, 0)
		if len(m.Response.Entities) != 0 || !hasUI(m, Inform) {
			t.Errorf("%s on an empty folder: %d entities, messages %+v", tr.Name, len(m.Response.Entities), m.Response.UIMessages)
		}
	}
}

// TestRecordTransformsShared checks the record transforms on shared
// captures of real traffic: cookies and query parameters of a browser
// (which services.pcap lacks), and a POP3, IMAP, SMTP and FTP capture. It
// skips a capture that is absent.
func TestRecordTransformsShared(t *testing.T) {
	const sv = "../../shared/pcaps/suricata-verify/"
	for pcap, mustAnswer := range map[string][]string{
		sv + "http-brotli-ce__input.pcap":                      {"toHTTPCookies", "toHTTPParameters", "toFiles", "toSoftwareProducts", "toServices"},
		sv + "pop3__input.pcap":                                {"toMailFrom", "toMailTo", "toMailSubjects", "toFiles", "toCredentialsByService"},
		sv + "imap-detection__input.pcap":                      {"toCredentialsByService", "toServices"},
		sv + "smtp-bug-5989__input.pcap":                       {"toMailFrom", "toMailTo", "toCredentialsByService"},
		sv + "filestore-ftp-active-mode__ftp-active-mode.pcap": {"toFTPUsers", "toFTPFiles", "toCredentialsByService"},
	} {
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			_, dir := recordsOf(t, pcap)
			for _, tr := range recordTransforms {
				if n := checkRecordSpec(t, dir, tr.Name, recordSpecs[tr.Name], ""); n == 0 && contains(mustAnswer, tr.Name) {
					t.Errorf("%s: no values", tr.Name)
				}
			}
		})
	}
}
