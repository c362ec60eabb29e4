package maltego

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap"
	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// Entity types used as input.
const (
	PCAP   = "netcap.PCAP"
	IPAddr = "netcap.IPAddr"
)

// AuditRecords is the entity type of a record file of type t.
func AuditRecords(t types.Type) string { return "netcap." + TypeName(t) + "AuditRecords" }

// Transforms are all transforms, in the order -list prints them.
var Transforms = []Transform{
	{Name: "toAuditRecords", Input: PCAP, Output: "netcap.<Type>AuditRecords",
		About: "capture the PCAP into <pcap>.net/ (unless present), one entity per record file with its record count", run: toAuditRecords},

	{Name: "toSourceIPs", Input: AuditRecords(types.Type_NC_Connection), Output: IPAddr, Reads: conn,
		About: "source IPs of the connections (of an ip property: the hosts that contacted it)",
		run: func(q *query) error {
			return q.eachConn(func(c *rawConn) {
				if len(c.src) > 0 && (q.ip == "" || string(c.dst) == q.ip) {
					q.addKey(c.src, c.first, c.last)
				}
			})
		}},
	{Name: "toDestinationIPs", Input: AuditRecords(types.Type_NC_Connection), Output: IPAddr, Reads: conn,
		About: "destination IPs of the connections (of an ip property: the hosts it contacted)",
		run: func(q *query) error {
			return q.eachConn(func(c *rawConn) {
				if len(c.dst) > 0 && (q.ip == "" || string(c.src) == q.ip) {
					q.addKey(c.dst, c.first, c.last)
				}
			})
		}},
	{Name: "toContactedPorts", Input: IPAddr, Output: "netcap.ContactedPort", Reads: conn,
		About: "destination ports (port/transport) of the connections the host opened",
		run: func(q *query) error {
			return q.eachConn(func(c *rawConn) {
				if q.ip == "" || string(c.src) == q.ip {
					q.key = appendPort(q.key[:0], c.dport, c.proto)
					q.addKey(q.key, c.first, c.last)
				}
			})
		}},
	{Name: "toConnectionsForHost", Input: IPAddr, Output: "netcap.Connection", Reads: conn, Detail: "state",
		About: "the connections the host took part in, as 'proto src:port -> dst:port'",
		run: func(q *query) error {
			return q.eachConn(func(c *rawConn) {
				if q.hostRaw(c.src, c.dst) {
					q.key = appendConnOf(q.key[:0], c.proto, c.src, c.sport, c.dst, c.dport)
					it := q.addKey(q.key, c.first, c.last)
					if it.count == 1 {
						it.detail = string(c.state)
					}
				}
			})
		}},

	{Name: "toDNSQuestions", Input: IPAddr, Output: "netcap.DNSName", Reads: dns,
		About: "names asked in DNS queries (QR=0) the host sent or received",
		run: func(q *query) error {
			return q.each(types.Type_NC_DNS, func(m proto.Message) {
				d := m.(*types.DNS)
				if !d.QR && q.host(d.SrcIP, d.DstIP) {
					for _, qu := range d.Questions {
						if qu.Name != "" {
							q.add(qu.Name, d.Timestamp)
						}
					}
				}
			})
		}},
	{Name: "toDNSResponseCodes", Input: IPAddr, Output: "netcap.DNSResponseCode", Reads: dns,
		About: "response codes of the DNS responses (QR=1) the host sent or received",
		run: func(q *query) error {
			return q.each(types.Type_NC_DNS, func(m proto.Message) {
				d := m.(*types.DNS)
				if d.QR && q.host(d.SrcIP, d.DstIP) {
					q.add(RcodeName(d.ResponseCode), d.Timestamp)
				}
			})
		}},

	httpTransform("toHTTPHosts", "netcap.Website", "Host headers of the HTTP requests", func(h *types.HTTP) []string { return []string{h.Host} }),
	httpTransform("toHTTPUserAgents", "netcap.UserAgent", "User-Agent headers of the HTTP requests", func(h *types.HTTP) []string { return []string{h.UserAgent} }),
	httpTransform("toHTTPServerNames", "netcap.ServerName", "Server headers of the HTTP responses", func(h *types.HTTP) []string { return []string{h.ServerName} }),
	httpTransform("toHTTPStatusCodes", "netcap.HTTPStatusCode", "status codes of the HTTP responses", func(h *types.HTTP) []string {
		if h.StatusCode == 0 {
			return nil
		}
		return []string{strconv.Itoa(int(h.StatusCode))}
	}),
	httpTransform("toHTTPContentTypes", "netcap.ContentType", "Content-Type headers of HTTP requests and responses (each counted)", func(h *types.HTTP) []string {
		return []string{h.ContentType, h.ResContentType}
	}),
	httpTransform("toHTTPUniformResourceLocators", "netcap.URL", "request URLs of the HTTP requests", func(h *types.HTTP) []string { return []string{h.URL} }),

	{Name: "toJA3Hashes", Input: IPAddr, Output: "netcap.TLSClientHello", Reads: []types.Type{types.Type_NC_TLSClientHello}, Detail: "ja3",
		About: "JA3 hashes of the TLS client hellos the host sent or received",
		run: func(q *query) error {
			return q.each(types.Type_NC_TLSClientHello, func(m proto.Message) {
				h := m.(*types.TLSClientHello)
				if h.Ja3 != "" && q.host(h.SrcIP, h.DstIP) {
					it := q.add(h.Ja3, h.Timestamp)
					if it.count == 1 {
						it.detail = h.Ja3Full
					}
				}
			})
		}},
	{Name: "toJA3SHashes", Input: IPAddr, Output: "netcap.TLSServerHello", Reads: []types.Type{types.Type_NC_TLSServerHello}, Detail: "ja3s",
		About: "JA3S hashes of the TLS server hellos the host sent or received",
		run: func(q *query) error {
			return q.each(types.Type_NC_TLSServerHello, func(m proto.Message) {
				h := m.(*types.TLSServerHello)
				if h.Ja3S != "" && q.host(h.SrcIP, h.DstIP) {
					it := q.add(h.Ja3S, h.Timestamp)
					if it.count == 1 {
						it.detail = h.Ja3SFull
					}
				}
			})
		}},
	{Name: "toServerNameIndicators", Input: IPAddr, Output: "netcap.Domain", Reads: []types.Type{types.Type_NC_TLSClientHello},
		About: "server names (SNI) of the TLS client hellos the host sent or received",
		run: func(q *query) error {
			return q.each(types.Type_NC_TLSClientHello, func(m proto.Message) {
				h := m.(*types.TLSClientHello)
				if h.SNI != "" && q.host(h.SrcIP, h.DstIP) {
					q.add(h.SNI, h.Timestamp)
				}
			})
		}},

	{Name: "toTCPFlagCombinations", Input: IPAddr, Output: "netcap.TCPFlags", Reads: []types.Type{types.Type_NC_TCP},
		About: "combinations of TCP flags in the segments the host sent or received",
		run: func(q *query) error {
			name := memo(flagsName)
			fields := append([]string{"Timestamp", "SrcIP", "DstIP"}, tcpFlagNames...)
			return q.scan(types.Type_NC_TCP, fields, func(v []rawValue) {
				if q.hostRaw(v[1].b, v[2].b) {
					var mask int32
					for i, f := range v[3:] {
						if f.n != 0 {
							mask |= 1 << i
						}
					}
					q.add(name(mask), int64(v[0].n))
				}
			})
		}},
	{Name: "toEthernetTypes", Input: AuditRecords(types.Type_NC_Ethernet), Output: "netcap.EthernetType", Reads: []types.Type{types.Type_NC_Ethernet},
		About: "EtherTypes of the Ethernet frames (of an ip property: of its frames)",
		run: func(q *query) error {
			name := memo(EtherTypeName)
			return q.scan(types.Type_NC_Ethernet, []string{"Timestamp", "SrcIP", "DstIP", "EthernetType"}, func(v []rawValue) {
				if q.hostRaw(v[1].b, v[2].b) {
					q.add(name(int32(v[3].n)), int64(v[0].n))
				}
			})
		}},
	{Name: "toIPV4Protocols", Input: AuditRecords(types.Type_NC_IPv4), Output: "netcap.IPProtocol", Reads: []types.Type{types.Type_NC_IPv4},
		About: "protocols carried in IPv4 packets (of an ip property: of its packets)",
		run: func(q *query) error {
			name := memo(IPProtocolName)
			return q.scan(types.Type_NC_IPv4, []string{"Timestamp", "SrcIP", "DstIP", "Protocol"}, func(v []rawValue) {
				if q.hostRaw(v[1].b, v[2].b) {
					q.add(name(int32(v[3].n)), int64(v[0].n))
				}
			})
		}},
	{Name: "toICMPV4ControlMessages", Input: AuditRecords(types.Type_NC_ICMPv4), Output: "netcap.ICMPv4ControlMessage", Reads: []types.Type{types.Type_NC_ICMPv4},
		About: "ICMPv4 type/code of the messages (of an ip property: of its messages)",
		run: func(q *query) error {
			name := memo(func(tc int32) string { return ICMPName(icmp4Names, tc) })
			return q.each(types.Type_NC_ICMPv4, func(m proto.Message) {
				p := m.(*types.ICMPv4)
				if q.host(p.SrcIP, p.DstIP) {
					q.add(name(p.TypeCode), p.Timestamp)
				}
			})
		}},
	{Name: "toICMPV6ControlMessages", Input: AuditRecords(types.Type_NC_ICMPv6), Output: "netcap.ICMPv6ControlMessage", Reads: []types.Type{types.Type_NC_ICMPv6},
		About: "ICMPv6 type/code of the messages (of an ip property: of its messages)",
		run: func(q *query) error {
			name := memo(func(tc int32) string { return ICMPName(icmp6Names, tc) })
			return q.each(types.Type_NC_ICMPv6, func(m proto.Message) {
				p := m.(*types.ICMPv6)
				if q.host(p.SrcIP, p.DstIP) {
					q.add(name(p.TypeCode), p.Timestamp)
				}
			})
		}},
	{Name: "toDHCPClients", Input: AuditRecords(types.Type_NC_DHCPv4), Output: "netcap.DHCPClient", Reads: []types.Type{types.Type_NC_DHCPv4},
		About: "client hardware addresses of DHCPv4 requests, with the hostname option (12) when sent",
		run: func(q *query) error {
			return q.each(types.Type_NC_DHCPv4, func(m proto.Message) {
				d := m.(*types.DHCPv4)
				if d.Operation == 1 && d.ClientHWAddr != "" && q.host(d.SrcIP, d.DstIP) {
					it := q.add(d.ClientHWAddr, d.Timestamp)
					if h := dhcpHostname(d); h != "" {
						if it.extra == nil {
							it.extra = map[string]string{}
						}
						it.extra["hostname"] = h
					}
				}
			})
		}},
	{Name: "toDevices", Input: AuditRecords(types.Type_NC_Ethernet), Output: "netcap.Device", Reads: []types.Type{types.Type_NC_Ethernet, types.Type_NC_DHCPv4},
		About: "source MACs of the Ethernet frames with their vendor (OUI list) and DHCP host names (of an ip property: the MACs sending from it)",
		run:   toDevices},
	{Name: openTrafficName, Input: IPAddr, Output: PCAP, Reads: []types.Type{types.Type_NC_IPv4, types.Type_NC_IPv6, types.Type_NC_ICMPv4, types.Type_NC_ICMPv6},
		About: "write the host's frames (IP headers from or to it, and ICMP errors quoting them: Wireshark's ip.addr==) from the original capture to a pcapng and open it in Wireshark",
		run:   openTraffic},
	{Name: openConnectionName, Input: "netcap.Connection", Output: PCAP, Reads: []types.Type{types.Type_NC_Connection, types.Type_NC_IPv4, types.Type_NC_IPv6},
		About: "write the connection's frames (by the FlowID of its Connection records) from the original capture to a pcapng and open it in Wireshark",
		run:   openTraffic},
}

func init() {
	// The transforms over the application records are listed in
	// records.go, next to their code; -list prints them last.
	Transforms = append(Transforms, recordTransforms...)
}

var (
	conn = []types.Type{types.Type_NC_Connection}
	dns  = []types.Type{types.Type_NC_DNS}
)

func httpTransform(name, out, about string, values func(*types.HTTP) []string) Transform {
	return Transform{Name: name, Input: IPAddr, Output: out, Reads: []types.Type{types.Type_NC_HTTP},
		About: about + " the host sent or received",
		run: func(q *query) error {
			return q.each(types.Type_NC_HTTP, func(m proto.Message) {
				h := m.(*types.HTTP)
				if !q.host(h.SrcIP, h.DstIP) {
					return
				}
				for _, v := range values(h) {
					if v != "" {
						q.add(v, h.Timestamp)
					}
				}
			})
		}}
}

// appendPort appends a destination port as "port/transport" (lower case).
func appendPort(b []byte, port int64, transport []byte) []byte {
	b = strconv.AppendInt(b, port, 10)
	b = append(b, '/')
	for _, ch := range transport {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	return b
}

// rawConn holds the fields of a Connection record the transforms use, as
// read from the wire (see query.scan).
type rawConn struct {
	first, last  int64
	proto        []byte
	src, dst     []byte
	sport, dport int64
	state        []byte
}

var connFields = []string{"TimestampFirst", "TimestampLast", "TransportProto", "SrcIP", "DstIP", "SrcPort", "DstPort", "State"}

// eachConn calls fn for every Connection record; c is valid until fn
// returns.
func (q *query) eachConn(fn func(c *rawConn)) error {
	var c rawConn
	return q.scan(types.Type_NC_Connection, connFields, func(v []rawValue) {
		c = rawConn{first: int64(v[0].n), last: int64(v[1].n), proto: v[2].b, src: v[3].b, dst: v[4].b,
			sport: int64(int32(v[5].n)), dport: int64(int32(v[6].n)), state: v[7].b}
		fn(&c)
	})
}

// appendConnOf appends a connection as "PROTO src:port -> dst:port" (IPv6
// addresses in brackets), from fields as strings or as raw record bytes.
func appendConnOf[S string | []byte](b []byte, proto, src S, sport int64, dst S, dport int64) []byte {
	b = append(b, proto...)
	b = append(b, ' ')
	b = appendHostPort(b, src, sport)
	b = append(b, " -> "...)
	return appendHostPort(b, dst, dport)
}

func appendHostPort[S string | []byte](b []byte, ip S, port int64) []byte {
	v6 := false
	for i := 0; i < len(ip); i++ {
		if ip[i] == ':' {
			v6 = true
			break
		}
	}
	if v6 {
		b = append(b, '[')
		b = append(b, ip...)
		b = append(b, ']')
	} else {
		b = append(b, ip...)
	}
	b = append(b, ':')
	return strconv.AppendInt(b, port, 10)
}

// memo remembers the names of the values seen, so that a transform over a
// million records formats each distinct value once.
func memo(name func(int32) string) func(int32) string {
	seen := map[int32]string{}
	return func(v int32) string {
		s, ok := seen[v]
		if !ok {
			s = name(v)
			seen[v] = s
		}
		return s
	}
}

// RcodeName names a DNS response code.
func RcodeName(c int32) string {
	names := []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}
	if c >= 0 && int(c) < len(names) {
		return fmt.Sprintf("%s (%d)", names[c], c)
	}
	return fmt.Sprintf("RCODE %d", c)
}

// tcpFlagNames are the TCP flags (record fields) in the order of their bits
// in a flag mask.
var tcpFlagNames = []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"}

// flagsName lists the flags set in a mask, "none" if none is.
func flagsName(m int32) string {
	var f []string
	for i, n := range tcpFlagNames {
		if m&(1<<i) != 0 {
			f = append(f, n)
		}
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, ",")
}

// EtherTypeName names an EtherType.
func EtherTypeName(t int32) string {
	if n, ok := etherTypeNames[t]; ok {
		return fmt.Sprintf("%s (0x%04x)", n, t)
	}
	return fmt.Sprintf("0x%04x", t)
}

var etherTypeNames = map[int32]string{0x0800: "IPv4", 0x0806: "ARP", 0x86DD: "IPv6", 0x8100: "Dot1Q", 0x88A8: "QinQ", 0x88CC: "LLDP",
	0x8863: "PPPoEDiscovery", 0x8864: "PPPoESession", 0x888E: "EAPOL", 0x8847: "MPLSUnicast", 0x8848: "MPLSMulticast", 0x9000: "Loopback"}

// IPProtocolName names an IP protocol number.
func IPProtocolName(p int32) string {
	if n, ok := ipProtocolNames[p]; ok {
		return fmt.Sprintf("%s (%d)", n, p)
	}
	return fmt.Sprintf("protocol %d", p)
}

var ipProtocolNames = map[int32]string{1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE", 50: "ESP", 51: "AH",
	58: "ICMPv6", 89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP"}

var icmp4Names = map[int32]string{0: "EchoReply", 3: "DestinationUnreachable", 4: "SourceQuench", 5: "Redirect", 8: "EchoRequest",
	9: "RouterAdvertisement", 10: "RouterSolicitation", 11: "TimeExceeded", 12: "ParameterProblem", 13: "Timestamp", 14: "TimestampReply"}

var icmp6Names = map[int32]string{1: "DestinationUnreachable", 2: "PacketTooBig", 3: "TimeExceeded", 4: "ParameterProblem",
	128: "EchoRequest", 129: "EchoReply", 130: "MLDQuery", 131: "MLDReport", 132: "MLDDone", 133: "RouterSolicitation",
	134: "RouterAdvertisement", 135: "NeighborSolicitation", 136: "NeighborAdvertisement", 137: "Redirect", 143: "MLDv2Report"}

// ICMPName names a TypeCode (type<<8 | code) as "Name type/code".
func ICMPName(names map[int32]string, tc int32) string {
	typ, code := tc>>8, tc&0xff
	if n, ok := names[typ]; ok {
		return fmt.Sprintf("%s %d/%d", n, typ, code)
	}
	return fmt.Sprintf("type %d/%d", typ, code)
}

// toDevices counts the source MACs of the Ethernet frames; each device gets
// its vendor from the OUI list and the host names its DHCP messages carried
// (option 12, by client hardware address).
func toDevices(q *query) error {
	err := q.scan(types.Type_NC_Ethernet, []string{"Timestamp", "SrcMAC", "SrcIP"}, func(v []rawValue) {
		if len(v[1].b) > 0 && (q.ip == "" || string(v[2].b) == q.ip) {
			q.addKey(v[1].b, int64(v[0].n), int64(v[0].n))
		}
	})
	if err != nil || len(q.agg) == 0 {
		return err
	}
	names := map[string]map[string]bool{}
	err = q.eachIfPresent(types.Type_NC_DHCPv4, func(m proto.Message) {
		d := m.(*types.DHCPv4)
		if h := dhcpHostname(d); h != "" && q.agg[d.ClientHWAddr] != nil {
			if names[d.ClientHWAddr] == nil {
				names[d.ClientHWAddr] = map[string]bool{}
			}
			names[d.ClientHWAddr][h] = true
		}
	})
	if err != nil {
		return err
	}
	for mac, set := range names {
		hs := make([]string, 0, len(set))
		for h := range set {
			hs = append(hs, h)
		}
		sort.Strings(hs)
		q.extra(mac)["hostname"] = strings.Join(hs, ", ")
	}

	macs := make([]string, 0, len(q.agg))
	for mac := range q.agg {
		macs = append(macs, mac)
	}
	var vendors map[string]string
	if list := ouiFile(q.opt.OUIFile); list == "" {
		q.msg.Warn(fmt.Sprintf("no vendor list (OUI) found, vendors left empty: install Debian's ieee-data or Wireshark, or name a list with -oui or $%s (looked for %s)", OUIEnv, strings.Join(DefaultOUIFiles, ", ")))
	} else if vendors, err = Vendors(list, macs); err != nil {
		q.msg.Warn(fmt.Sprintf("vendor list unreadable, vendors left empty: %v", err))
	}
	for _, mac := range macs {
		q.extra(mac)["vendor"] = vendors[mac] // "" when the list has none
	}
	return nil
}

// extra returns the additional fields of an aggregated value, made on first use.
func (q *query) extra(value string) map[string]string {
	it := q.agg[value]
	if it.extra == nil {
		it.extra = map[string]string{}
	}
	return it.extra
}

func dhcpHostname(d *types.DHCPv4) string {
	for _, o := range d.Options {
		if o.Type == 12 {
			// Some clients end the name with NUL bytes.
			return strings.TrimRight(string(o.Data), "\x00")
		}
	}
	return ""
}

// toAuditRecords captures the PCAP into <pcap>.net/ unless that folder
// exists, and returns one entity per record file with its record count.
func toAuditRecords(q *query) error {
	pcap := q.args.Props["path"]
	if pcap == "" {
		pcap = q.args.Value
	}
	st, err := os.Stat(pcap)
	if err != nil {
		return fmt.Errorf("capture file: %v", err)
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a folder, not a capture file", pcap)
	}
	q.dir = pcap + ".net"
	if _, err := os.Stat(q.dir); errors.Is(err, os.ErrNotExist) {
		if err := captureInto(pcap, q.dir, q.log); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(q.log, "net transform: using the records in %s\n", q.dir)
	}
	files, err := filepath.Glob(filepath.Join(q.dir, "*.ncap*"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	res := countFiles(q.dir, files)
	for i, f := range files {
		base := filepath.Base(f)
		name := base[:strings.Index(base, ".ncap")]
		c := res[i]
		if c.err != nil {
			q.msg.Warn(fmt.Sprintf("%s: %v (counted %d records before the damage)", base, c.err, c.n))
		}
		if c.n == 0 && c.err == nil {
			continue
		}
		q.agg[name] = &item{count: c.n, first: c.first, last: c.last, typ: "netcap." + name + "AuditRecords", extra: map[string]string{"file": base}}
	}
	if len(q.agg) == 0 {
		q.msg.Warn(fmt.Sprintf("no record files in %s", q.dir))
	}
	return nil
}

// countRecords counts the records of a file without decoding them beyond
// the Timestamp field needed for first/last.
func countRecords(path string) (n, first, last int64, err error) {
	r, err := ncio.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer r.Close()
	for {
		b, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			return n, first, last, nil
		}
		if err != nil {
			return n, first, last, err
		}
		n++
		if ts := leadingTimestamp(b); ts != 0 {
			if first == 0 || ts < first {
				first = ts
			}
			if ts > last {
				last = ts
			}
		}
	}
}

// leadingTimestamp reads field 1 when it is a varint: every top-level record
// starts with its timestamp (Timestamp or TimestampFirst) as field 1.
func leadingTimestamp(b []byte) int64 {
	if len(b) == 0 || b[0] != 0x08 {
		return 0
	}
	var v uint64
	for i, s := 1, uint(0); i < len(b) && s < 64; i, s = i+1, s+7 {
		v |= uint64(b[i]&0x7f) << s
		if b[i] < 0x80 {
			return int64(v)
		}
	}
	return 0
}

// captureInto decodes pcap into a temporary folder next to dir and renames it
// to dir when done, so that an interrupted capture never leaves a half
// folder that later runs would take as complete.
func captureInto(pcap, dir string, log io.Writer) error {
	tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	src, err := capture.OpenFile(pcap)
	if err != nil {
		return err
	}
	defer src.Close()
	fmt.Fprintf(log, "net transform: capturing %s into %s\n", pcap, dir)
	// File records, as net capture writes them by default: without a
	// files folder (records only), the contents are not stored.
	opts := decoder.DefaultOptions()
	opts.Files = &decoder.FileStore{MaxSize: decoder.DefaultMaxFileSize}
	sum, err := capture.Run(context.Background(), src, capture.Config{Decoding: capture.DecodeConfig{Options: opts}, Output: capture.OutputConfig{Dir: tmp, Compress: true, Version: netcap.Version}})
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if sum.Truncated != nil {
		fmt.Fprintf(log, "net transform: %v; records before the cut kept\n", sum.Truncated)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}
