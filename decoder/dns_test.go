package decoder

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("DNS", protocolTest{
		cases: dnsCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeDNS, rec: types.Type_NC_DNS, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(40000, 53), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.DNS{ID: 1, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}),
					serialize(&layers.DNS{ID: 2, QR: true, RD: true, RA: true,
						Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeMX, Class: layers.DNSClassIN}},
						Answers: []layers.DNSResourceRecord{
							{Name: []byte("example.org"), Type: layers.DNSTypeMX, Class: layers.DNSClassIN, TTL: 60, MX: layers.DNSMX{Preference: 10, Name: []byte("mx.example.org")}},
							{Name: []byte("example.org"), Type: layers.DNSTypeTXT, Class: layers.DNSClassIN, TTL: 60, TXTs: [][]byte{[]byte("v=spf1 -all")}},
						},
						Authorities: []layers.DNSResourceRecord{{Name: []byte("example.org"), Type: layers.DNSTypeSOA, Class: layers.DNSClassIN, TTL: 60,
							SOA: layers.DNSSOA{MName: []byte("ns.example.org"), RName: []byte("h\xffst.example.org"), Serial: 1}}},
						Additionals: []layers.DNSResourceRecord{{Name: []byte("_s._tcp.example.org"), Type: layers.DNSTypeSRV, Class: layers.DNSClassIN,
							SRV: layers.DNSSRV{Priority: 1, Weight: 2, Port: 3, Name: []byte("t.example.org")}}},
					}),
				}
			},
		},
		oracle: []tsRecord{
			{
				// mDNS and LLMNR are DNS messages that tshark names apart.
				typ: types.Type_NC_DNS, protos: []string{"dns", "mdns", "llmnr"},
				fields: append(append(append([]tsField{
					{ours: "ID", tshark: "dns.id", want: tsNum("dns.id")},
					{ours: "QR", tshark: "dns.flags.response", want: dnsFlag("dns.flags.response", 15, 1)},
					{ours: "OpCode", tshark: "dns.flags.opcode", want: dnsFlag("dns.flags.opcode", 11, 15)},
					{ours: "AA", tshark: "dns.flags.authoritative", want: dnsFlag("dns.flags.authoritative", 10, 1)},
					{ours: "TC", tshark: "dns.flags.truncated", want: dnsFlag("dns.flags.truncated", 9, 1)},
					{ours: "RD", tshark: "dns.flags.recdesired", want: dnsFlag("dns.flags.recdesired", 8, 1)},
					{ours: "RA", tshark: "dns.flags.recavail", want: dnsFlag("dns.flags.recavail", 7, 1)},
					{ours: "Z", tshark: "dns.flags.z<<2 | authenticated<<1 | checkdisable", want: dnsZ},
					{ours: "ResponseCode", tshark: "dns.flags.rcode", want: dnsFlag("dns.flags.rcode", 0, 15)},
					{ours: "QDCount", tshark: "dns.count.queries", want: tsNum("dns.count.queries")},
					{ours: "ANCount", tshark: "dns.count.answers", want: tsNum("dns.count.answers")},
					{ours: "NSCount", tshark: "dns.count.auth_rr", want: tsNum("dns.count.auth_rr")},
					{ours: "ARCount", tshark: "dns.count.add_rr", want: tsNum("dns.count.add_rr")},
					{ours: "Questions.Name", tshark: "dns.qry.name", want: dnsQuestions(rrText("dns.qry.name"))},
					{ours: "Questions.Type", tshark: "dns.qry.type", want: dnsQuestions(rrNum("dns.qry.type"))},
					{ours: "Questions.Class", tshark: "dns.qry.class (+unicast-response bit)", want: dnsQuestions(func(q *tsNode) string {
						return dnsClass(q, "dns.qry.class", "dns.qry.qu")
					})},
				}, dnsRRFields("Answers", "Answers")...), dnsRRFields("Authorities", "Authoritative nameservers")...),
					dnsRRFields("Additionals", "Additional records")...),
			},
		},
	})
}

func FuzzDNS(f *testing.F) { fuzzLayer(f, "DNS") }

// dnsFlag reads a DNS header flag from its named tshark field, or from the
// flags word when tshark does not name it (AA and RA are shown only in
// responses, the reply code only in responses).
func dnsFlag(name string, shift, mask uint64) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		if v, ok := p.field(name).num(); ok {
			return strconv.FormatInt(v, 10), true
		}
		w, ok := p.field("dns.flags").rawUint()
		return strconv.FormatUint(w>>shift&mask, 10), ok
	}
}

// dnsZ: gopacket's Z is the three bits Z, AD and CD together.
func dnsZ(_ *tsPacket, p *tsNode) (string, bool) {
	w, ok := p.field("dns.flags").rawUint()
	if !ok {
		return "", false
	}
	z, ok1 := p.field("dns.flags.z").num()
	ad, ok2 := p.field("dns.flags.authenticated").num()
	cd, ok3 := p.field("dns.flags.checkdisable").num()
	v := int64(w >> 4 & 7)
	if ok1 {
		v = v&^4 | z<<2
	}
	if ok2 {
		v = v&^2 | ad<<1
	}
	if ok3 {
		v = v&^1 | cd
	}
	return strconv.FormatInt(v, 10), true
}

func dnsQuestions(val func(q *tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		var qs []*tsNode
		for _, k := range p.kids {
			if !k.proto && k.name == "" && k.show == "Queries" {
				qs = k.holders("dns.qry.type")
			}
		}
		parts := make([]string, len(qs))
		for i, q := range qs {
			parts[i] = val(q)
		}
		return strings.Join(parts, ","), true
	}
}

// dnsRRFields are the compared fields of one DNS section.
func dnsRRFields(ours, section string) []tsField {
	f := func(name, tshark string, val func(*tsNode) string) tsField {
		return tsField{ours: ours + "." + name, tshark: tshark, want: dnsSection(section, val)}
	}
	return []tsField{
		f("Name", "dns.resp.name (SRV: dns.srv.service.proto.name)", rrName),
		f("Type", "dns.resp.type", rrNum("dns.resp.type")),
		f("Class", "dns.resp.class (+cache flush bit; OPT: dns.rr.udp_payload_size)", func(rr *tsNode) string {
			return dnsClass(rr, "dns.resp.class", "dns.resp.cache_flush")
		}),
		f("TTL", "dns.resp.ttl (OPT: ext_rcode<<24|edns0_version<<16|z)", dnsTTL),
		f("DataLength", "dns.resp.len", rrNum("dns.resp.len")),
		f("Data", "last dns.resp.len bytes of the record", rrData),
		f("IP", "dns.a / dns.aaaa", rrText("dns.a", "dns.aaaa")),
		f("NS", "dns.ns", rrText("dns.ns")),
		f("CNAME", "dns.cname", rrText("dns.cname")),
		f("PTR", "dns.ptr.domain_name", rrText("dns.ptr.domain_name")),
		f("SOA.MName", "dns.soa.mname", rrSub(6, "dns.soa.mname", true)),
		f("SOA.RName", "dns.soa.rname", rrSub(6, "dns.soa.rname", true)),
		f("SOA.Serial", "dns.soa.serial_number", rrSub(6, "dns.soa.serial_number", false)),
		f("SOA.Refresh", "dns.soa.refresh_interval", rrSub(6, "dns.soa.refresh_interval", false)),
		f("SOA.Retry", "dns.soa.retry_interval", rrSub(6, "dns.soa.retry_interval", false)),
		f("SOA.Expire", "dns.soa.expire_limit", rrSub(6, "dns.soa.expire_limit", false)),
		f("SOA.Minimum", "dns.soa.minimum_ttl", rrSub(6, "dns.soa.minimum_ttl", false)),
		f("SRV.Priority", "dns.srv.priority", rrSub(33, "dns.srv.priority", false)),
		f("SRV.Weight", "dns.srv.weight", rrSub(33, "dns.srv.weight", false)),
		f("SRV.Port", "dns.srv.port", rrSub(33, "dns.srv.port", false)),
		f("SRV.Name", "dns.srv.target", rrSub(33, "dns.srv.target", true)),
		f("MX.Preference", "dns.mx.preference", rrSub(15, "dns.mx.preference", false)),
		f("MX.Name", "dns.mx.mail_exchange", rrSub(15, "dns.mx.mail_exchange", true)),
		f("TXTs", "dns.txt (bytes)", rrTXTs),
	}
}

func dnsSection(section string, val func(rr *tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		rrs := dnsRRs(p, section)
		parts := make([]string, len(rrs))
		for i, rr := range rrs {
			parts[i] = val(rr)
		}
		return strings.Join(parts, ","), true
	}
}

// dnsRRs returns the resource records of one section of a DNS message.
func dnsRRs(p *tsNode, section string) []*tsNode {
	for _, k := range p.kids {
		if !k.proto && k.name == "" && k.show == section {
			return k.holders("dns.resp.type")
		}
	}
	return nil
}

// dnsClass: for OPT records the class is the UDP payload size; mDNS puts
// the unicast-response / cache-flush bit beside a 15-bit class.
func dnsClass(rr *tsNode, class, top string) string {
	if rrIsOPT(rr) {
		v, ok := rr.child("dns.rr.udp_payload_size").num()
		if !ok {
			return "?"
		}
		return strconv.FormatInt(v, 10)
	}
	v, ok := rr.child(class).num()
	if !ok {
		return "?"
	}
	if b, ok := rr.child(top).num(); ok && b != 0 {
		v |= 0x8000
	}
	return strconv.FormatInt(v, 10)
}

// dnsTTL: for OPT records the TTL holds extended rcode, version and flags.
func dnsTTL(rr *tsNode) string {
	if rrIsOPT(rr) {
		rc, ok1 := rr.child("dns.resp.ext_rcode").rawUint()
		ver, ok2 := rr.child("dns.resp.edns0_version").rawUint()
		z, ok3 := rr.child("dns.resp.z").rawUint()
		if !ok1 || !ok2 || !ok3 {
			return "?"
		}
		return strconv.FormatUint(rc<<24|ver<<16|z, 10)
	}
	v, ok := rr.child("dns.resp.ttl").num()
	if !ok {
		return "?"
	}
	return strconv.FormatInt(v, 10)
}

func rrIsOPT(rr *tsNode) bool {
	v, _ := rr.child("dns.resp.type").num()
	return v == 41
}

// rrData is the record's data: the last dns.resp.len bytes of the record.
func rrData(rr *tsNode) string {
	l, ok := rr.child("dns.resp.len").num()
	b, ok2 := rr.rawBytes()
	if !ok || !ok2 || int(l) > len(b) {
		return "?"
	}
	return hex.EncodeToString(b[len(b)-int(l):])
}

// rrText returns the first of names that the record shows, else "".
func rrText(names ...string) func(*tsNode) string {
	return func(rr *tsNode) string {
		for _, n := range names {
			if f := rr.child(n); f != nil {
				return dnsName(f.show)
			}
		}
		return ""
	}
}

// rrName is the owner name of a record. For SRV records tshark splits it
// into service, protocol and name (_sip._tcp.example.com); they are joined
// back.
func rrName(rr *tsNode) string {
	if f := rr.child("dns.resp.name"); f != nil {
		return dnsName(f.show)
	}
	var parts []string
	for _, n := range []string{"dns.srv.service", "dns.srv.proto", "dns.srv.name"} {
		if f := rr.child(n); f != nil && f.show != "" && f.show != "<Root>" {
			parts = append(parts, f.show)
		}
	}
	if parts == nil {
		return "?"
	}
	return strings.Join(parts, ".")
}

// rrSub renders a field of a typed sub-record (SOA, SRV, MX): "-" when the
// record is of another type, as our unset sub-message renders.
func rrSub(rrType int64, name string, text bool) func(*tsNode) string {
	return func(rr *tsNode) string {
		if t, _ := rr.child("dns.resp.type").num(); t != rrType {
			return "-"
		}
		f := rr.child(name)
		if f == nil {
			return "?"
		}
		if text {
			return dnsName(f.show)
		}
		v, ok := f.num()
		if !ok {
			return "?"
		}
		return strconv.FormatInt(v, 10)
	}
}

// dnsName maps tshark's rendering of the root name to ours.
func dnsName(s string) string {
	if s == "<Root>" {
		return ""
	}
	return s
}

func rrTXTs(rr *tsNode) string {
	var parts []string
	for _, k := range rr.kids {
		if k.name == "dns.txt" {
			parts = append(parts, strings.ToLower(k.value))
		}
	}
	return strings.Join(parts, ";")
}

func rrNum(name string) func(*tsNode) string {
	return func(rr *tsNode) string {
		v, ok := rr.child(name).num()
		if !ok {
			return "?"
		}
		return strconv.FormatInt(v, 10)
	}
}

// dnsCases are packets of DNS built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var dnsCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 DNS 71 Standard query 0x0001 A example.org
	{name: "Standard query 0x0001 A example.org", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00391234000040117c44c0000201c633 64079c40003500250000000101000001 000000000000076578616d706c65036f 72670000010001",
		want: map[string]string{"AA": "0", "ID": "1", "OpCode": "0", "QR": "0", "TC": "0"}},
	// tshark: 192.0.2.1 → 198.51.100.7 DNS 276 Standard query response 0x0002 MX example.org MX 10 mx.example.org TXT SOA ns.example.org SRV 1 2 3 t.example.org
	{name: "Standard query response 0x0002 MX example.org MX 10 mx.ex...", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 01061234000040117b77c0000201c633 64079c40003500f20000000281800001 000200010001076578616d706c65036f 726700000f0001076578616d706c6503 6f726700000f00010000003c0012000a 026d78076578616d706c65036f726700 076578616d706c65036f726700001000 010000003c000c0b763d73706631202d 616c6c076578616d706c65036f726700 000600010000003c0036026e73076578 616d706c65036f7267000468ff737407 6578616d706c65036f72670000000001 00000000000000000000000000000000 025f73045f746370076578616d706c65 036f7267000021000100000000001500 01000200030174076578616d706c6503 6f726700",
		want: map[string]string{"AA": "0", "ID": "2", "OpCode": "0", "QR": "1", "TC": "0"}},
}
