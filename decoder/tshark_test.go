package decoder

// The tshark field oracle: every record of the issue-2 types is compared,
// field by field, with what tshark reports for the same packet (matched by
// frame number). The mapping of our fields to tshark's, with the unit
// conversions, is the table oracleRecords, made of the entries of each
// protocol's test file (decoder/<proto>_test.go); known, explained differences are
// in knownDifferences.
//
// How a record finds its tshark counterpart: tshark's PDML lists a frame's
// protocols in packet order, and the protocols an ICMP error quotes nested
// inside icmp. The i-th record of a type in a frame is compared with the
// i-th top-level occurrence of its protocol (a VLAN stack, IP in IP). A
// record without a counterpart fails the test; a tshark layer without a
// record (a link type or tunnel we do not decode) is only counted. A field
// that tshark does not show for a packet (a truncated or malformed one, or
// one that exists only in some messages) is not compared, but every field
// of the table must be compared somewhere: see the verbose report.
//
// The default run takes a deterministic part of the corpus (defaultSubset);
//
//	NETCAP_TSHARK_ALL=1        runs every capture
//	NETCAP_TSHARK_FILES=a,b    runs the captures whose names contain a or b
//	NETCAP_TSHARK_EXAMPLES=n   lists n more examples per mismatching field

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/netcap/netcap/types"

	"encoding/xml"
	"path"
	"runtime"

	ncio "github.com/netcap/netcap/io"
)

// corpusRoots are the shared test captures, relative to this package.
var corpusRoots = []string{"../../shared/pcaps", "../../shared/labels"}

// tsharkPrefs make tshark dissect packets as netcap does: IP fragments
// reassembled (tshark's default, and netcap's: the frame of the fragment that
// completes a datagram carries its transport and application layers, the
// others none), but no TCP stream reassembly (netcap's packet records come
// from single segments), no name resolution.
var tsharkPrefs = []string{
	"-n",
	"-o", "ip.defragment:TRUE",
	"-o", "ipv6.defragment:TRUE",
	"-o", "tcp.desegment_tcp_streams:FALSE",
}

// ---------------------------------------------------------------------------
// tshark's PDML output

// tsNode is a <proto> or <field> element of tshark's PDML output.
type tsNode struct {
	name  string
	show  string // the value as tshark displays it
	value string // the bytes (or, for bit fields, the masked value) in hex
	raw   string // for bit fields: the bytes the bits are in, in hex
	pos   int
	size  int
	proto bool
	kids  []*tsNode
	// srcLen is, for a protocol decoded from a reassembled IP datagram,
	// the length of that datagram's payload, which its pos counts from;
	// 0 for one in the frame's bytes.
	srcLen int
}

// tsPacket is one <packet> of PDML.
type tsPacket struct {
	frame     int64
	capLen    int
	epoch     string    // frame.time_epoch, "seconds.nanoseconds"
	protos    []*tsNode // top-level protocols in packet order
	malformed bool
	where     string // the protocol tshark's exception happened in ("MPTCP")
}

// walk visits the fields inside n in document order, without entering the
// protocols nested in n (the packet an ICMP error quotes is not n's) but
// those that are parts of n's header which tshark shows as protocols.
func (n *tsNode) walk(fn func(*tsNode) bool) bool {
	for _, k := range n.kids {
		if k.proto && !inlineProto(k.name) {
			continue
		}
		if !fn(k) || !k.walk(fn) {
			return false
		}
	}
	return true
}

// inlineProto: tshark shows MPTCP options and IPv6 extension headers
// (ipv6.hopopts, ...) as protocols nested in tcp and ipv6.
func inlineProto(name string) bool {
	return name == "mptcp" || strings.HasPrefix(name, "ipv6.")
}

// field returns the first field called name in n (nil for a nil n).
func (n *tsNode) field(name string) *tsNode {
	if n == nil {
		return nil
	}
	var out *tsNode
	n.walk(func(k *tsNode) bool {
		if k.name == name {
			out = k
			return false
		}
		return true
	})
	return out
}

// holders returns the fields of n that have a direct child called child:
// the containers of repeated structures (an option and its kind).
func (n *tsNode) holders(child string) []*tsNode {
	var out []*tsNode
	n.walk(func(k *tsNode) bool {
		for _, c := range k.kids {
			if c.name == child && !c.proto {
				out = append(out, k)
				break
			}
		}
		return true
	})
	return out
}

// child returns the direct child field called name.
func (n *tsNode) child(name string) *tsNode {
	for _, c := range n.kids {
		if c.name == name && !c.proto {
			return c
		}
	}
	return nil
}

// num parses the shown value: decimal, negative or 0x-prefixed hex.
func (n *tsNode) num() (int64, bool) {
	if n == nil {
		return 0, false
	}
	return parseNum(n.show)
}

func parseNum(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return int64(v), err == nil
	}
	switch s {
	case "True":
		return 1, true
	case "False":
		return 0, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		u, err2 := strconv.ParseUint(s, 10, 64)
		return int64(u), err2 == nil
	}
	return v, true
}

// rawBytes returns the bytes n covers. Structure fields (an ICMPv6 option)
// have no value of their own: their bytes are put together from the fields
// inside them.
func (n *tsNode) rawBytes() ([]byte, bool) {
	if n == nil {
		return nil, false
	}
	if b, ok := n.ownBytes(); ok {
		return b, true
	}
	if n.size <= 0 {
		return nil, false
	}
	out, have := n.assemble()
	for _, h := range have {
		if !h {
			return nil, false
		}
	}
	return out, true
}

// assemble puts n's bytes together from the fields inside it; have tells
// which bytes some field gave (tshark shows reserved bytes as FT_NONE).
func (n *tsNode) assemble() (out []byte, have []bool) {
	out = make([]byte, max(n.size, 0))
	have = make([]bool, len(out))
	n.walk(func(k *tsNode) bool {
		b, ok := k.ownBytes()
		if !ok || k.pos < n.pos || k.pos+len(b) > n.pos+n.size {
			return true
		}
		copy(out[k.pos-n.pos:], b)
		for i := range b {
			have[k.pos-n.pos+i] = true
		}
		return true
	})
	return out, have
}

// hexWild renders n's bytes from offset i on, with "??" for the bytes
// tshark does not give; sameWild compares such a rendering with ours.
func (n *tsNode) hexWild(i int) string { return n.hexRange(i, n.size) }

// hexRange renders n's bytes [from, to) (offsets in n) like hexWild.
func (n *tsNode) hexRange(from, to int) string {
	out, have := n.assemble()
	if b, ok := n.ownBytes(); ok {
		out = b
		for j := range have {
			have[j] = true
		}
	}
	var sb strings.Builder
	for j := from; j < to; j++ {
		if j < len(out) && have[j] {
			sb.WriteString(hex.EncodeToString(out[j : j+1]))
		} else {
			sb.WriteString("??")
		}
	}
	return sb.String()
}

// sameWild compares ours with tshark's value, in which '?' stands for a
// character tshark does not give.
func sameWild(ours, theirs string) bool {
	if ours == theirs {
		return true
	}
	if len(ours) != len(theirs) || !strings.Contains(theirs, "??") {
		return false
	}
	for i := 0; i < len(ours); i++ {
		if theirs[i] != '?' && theirs[i] != ours[i] {
			return false
		}
	}
	return true
}

// ownBytes decodes n's own value when it spans n's bytes.
func (n *tsNode) ownBytes() ([]byte, bool) {
	v := n.value
	if n.raw != "" {
		v = n.raw
	}
	if len(v) != 2*n.size {
		return nil, false
	}
	b, err := hex.DecodeString(v)
	return b, err == nil
}

// rawUint reads the value attribute as one unsigned number.
func (n *tsNode) rawUint() (uint64, bool) {
	if n == nil || n.value == "" || len(n.value) > 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(n.value, 16, 64)
	return v, err == nil
}

// readPDML streams tshark's PDML output and calls fn for every packet.
func readPDML(r io.Reader, fn func(*tsPacket)) error {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	d.Strict = false
	var (
		pkt   *tsPacket
		stack []*tsNode
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "packet":
				pkt, stack = &tsPacket{}, stack[:0]
			case "proto", "field":
				if pkt == nil {
					continue
				}
				n := &tsNode{proto: e.Name.Local == "proto"}
				showname := ""
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "name":
						n.name = a.Value
					case "show":
						n.show = a.Value
					case "value":
						n.value = a.Value
					case "unmaskedvalue":
						n.raw = a.Value
					case "pos":
						n.pos, _ = strconv.Atoi(a.Value)
					case "size":
						n.size, _ = strconv.Atoi(a.Value)
					case "showname":
						showname = a.Value
					}
				}
				switch n.name {
				case "frame.number":
					pkt.frame, _ = strconv.ParseInt(n.show, 10, 64)
				case "frame.cap_len":
					pkt.capLen, _ = strconv.Atoi(n.show)
				case "frame.time_epoch":
					pkt.epoch = n.show
				case "_ws.malformed":
					pkt.malformed = true
					// "[Malformed Packet: MPTCP]" names where it happened.
					if w, ok := strings.CutPrefix(showname, "[Malformed Packet: "); ok && pkt.where == "" {
						pkt.where = strings.TrimSuffix(w, "]")
					}
				}
				if len(stack) == 0 {
					if n.proto {
						pkt.protos = append(pkt.protos, n)
					}
				} else {
					p := stack[len(stack)-1]
					p.kids = append(p.kids, n)
				}
				stack = append(stack, n)
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "packet":
				if pkt != nil {
					pkt.markReassembled()
					fn(pkt)
				}
				pkt = nil
			case "proto", "field":
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			}
		}
	}
}

// markReassembled sets srcLen on the protocols that follow an IP layer
// holding a reassembled datagram (ip.reassembled.length): tshark decodes them
// from the datagram, and their positions count from its start.
func (k *tsPacket) markReassembled() {
	src := 0
	for _, p := range k.protos {
		p.srcLen = src
		if p.name != "ip" && p.name != "ipv6" {
			continue
		}
		if n, ok := p.field(p.name + ".reassembled.length").num(); ok && n > 0 {
			src = int(n)
		}
	}
}

// ---------------------------------------------------------------------------
// The table: our fields and tshark's

// tsWant computes tshark's value of a field, in our units, from the
// protocol p (one top-level occurrence) of packet k. ok is false when
// tshark does not show the field for that packet.
type tsWant func(k *tsPacket, p *tsNode) (v string, ok bool)

// tsGot renders our value; nil means the field (or path) named by ours.
type tsGot func(m protoreflect.Message) string

type tsField struct {
	ours   string // field of our record; a dotted path for sub-records
	tshark string // the tshark field(s) or derivation compared with
	want   tsWant
	got    tsGot
}

type tsRecord struct {
	typ    types.Type
	protos []string           // top-level tshark protocols, one per record
	keep   func(*tsNode) bool // nil: every occurrence of protos
	fields []tsField          // compared fields
	skip   map[string]string  // our fields that tshark has no value for, and why
	own    map[string]bool    // context-named fields that are the record's own (IPv4.SrcIP)
	// partial, when set, says why fields neither compared nor skipped are
	// left out and where else they are checked.
	partial string
}

// contextFields are on every record: they are checked against the frame
// (first IP layer, first transport layer), not against the record's layer.
var contextFields = []string{"SrcIP", "DstIP", "SrcPort", "DstPort"}

// commonSkip are fields of every record that have no tshark counterpart.
var commonSkip = map[string]string{
	"FrameNumber": "the matching key itself (frame.number)",
	"FlowID":      "netcap's own flow identifier; tshark has none",
}

// --- value helpers (tshark side)

func tsNum(name string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		v, ok := p.field(name).num()
		return strconv.FormatInt(v, 10), ok
	}
}

// tsFirstNum is tsNum over alternatives: the first field tshark shows.
func tsFirstNum(names ...string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		for _, n := range names {
			if f := p.field(n); f != nil {
				v, ok := f.num()
				return strconv.FormatInt(v, 10), ok
			}
		}
		return "", false
	}
}

func tsText(names ...string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		for _, n := range names {
			if f := p.field(n); f != nil {
				return f.show, true
			}
		}
		return "", false
	}
}

// tsRawUint reads a field's bytes as a big-endian number, for fields that
// tshark shows in other units (NTP times, seconds as fractions).
func tsRawUint(name string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		v, ok := p.field(name).rawUint()
		return strconv.FormatUint(v, 10), ok
	}
}

func tsRawHex(name string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		f := p.field(name)
		if f == nil {
			return "", false
		}
		return strings.ToLower(f.value), true
	}
}

// --- value helpers (our side)

// render gives our value at a dotted path. Repeated fields are joined with
// "," (and ";" one level down); an unset sub-message is "-".
func render(m protoreflect.Message, path string) string {
	return renderPath(m, strings.Split(path, "."), 0)
}

func renderPath(m protoreflect.Message, path []string, depth int) string {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(path[0]))
	if fd == nil {
		return "<no field " + path[0] + ">"
	}
	sep := []string{",", ";", "/"}[min(depth, 2)]
	switch {
	case fd.IsList():
		l := m.Get(fd).List()
		parts := make([]string, l.Len())
		for i := range parts {
			if fd.Message() != nil {
				parts[i] = renderPath(l.Get(i).Message(), path[1:], depth+1)
			} else {
				parts[i] = renderScalar(fd, l.Get(i))
			}
		}
		return strings.Join(parts, sep)
	case fd.Message() != nil:
		if !m.Has(fd) {
			return "-"
		}
		return renderPath(m.Get(fd).Message(), path[1:], depth)
	}
	return renderScalar(fd, m.Get(fd))
}

func renderScalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if v.Bool() {
			return "1"
		}
		return "0"
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return hex.EncodeToString(v.Bytes())
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case protoreflect.EnumKind:
		return strconv.FormatInt(int64(v.Enum()), 10)
	}
	return v.String()
}

func intField(m protoreflect.Message, name string) int64 {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name))).Int()
}

// oursTimes renders an integer field multiplied by f (words to bytes).
func oursTimes(name string, f int64) tsGot {
	return func(m protoreflect.Message) string { return strconv.FormatInt(intField(m, name)*f, 10) }
}

// --- repeated structures (tshark side)

// tsList renders one value per holder (found by child), joined like render.
func tsList(child string, val func(h *tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		hs := p.holders(child)
		parts := make([]string, len(hs))
		for i, h := range hs {
			parts[i] = val(h)
		}
		return strings.Join(parts, ","), true
	}
}

func childNum(name string) func(*tsNode) string {
	return func(h *tsNode) string {
		v, ok := h.child(name).num()
		if !ok {
			return "?"
		}
		return strconv.FormatInt(v, 10)
	}
}

// rawByte returns byte i of the holder's bytes (an option's kind or length).
func rawByte(i int) func(*tsNode) string {
	return func(h *tsNode) string {
		b, ok := h.rawBytes()
		if !ok || len(b) <= i {
			return "?"
		}
		return strconv.Itoa(int(b[i]))
	}
}

// rawFrom returns the holder's bytes from offset i on, in hex (empty for
// one-byte options; "??" for bytes tshark does not give).
func rawFrom(i int) func(*tsNode) string {
	return func(h *tsNode) string { return h.hexWild(i) }
}

func holderSize(h *tsNode) string { return strconv.Itoa(h.size) }

// ---------------------------------------------------------------------------
// Derived tshark values

// capturedAfter is how many bytes of p's data source (the frame, or the
// reassembled datagram p was decoded from) there are from offset off on.
func capturedAfter(k *tsPacket, p *tsNode, off int) int { return max(srcEnd(k, p)-off, 0) }

func srcEnd(k *tsPacket, p *tsNode) int {
	if p.srcLen > 0 {
		return p.srcLen
	}
	return k.capLen
}

// typeCode: netcap's TypeCode is type<<8 | code, tshark has both apart.
func typeCode(typ, code string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		t, ok1 := p.field(typ).num()
		c, ok2 := p.field(code).num()
		return strconv.FormatInt(t<<8|c, 10), ok1 && ok2
	}
}

// datagramEnd is where the IP datagram that carries p ends: the last
// top-level IP layer before p, cut to the captured bytes.
func datagramEnd(k *tsPacket, p *tsNode) int {
	src := srcEnd(k, p)
	end := src
	for _, q := range k.protos {
		if q == p {
			break
		}
		if q.srcLen != p.srcLen {
			continue // in another data source: the frame, or another datagram
		}
		switch q.name {
		case "ip":
			if l, ok := q.field("ip.len").num(); ok && l > 0 {
				end = min(src, q.pos+int(l))
			} else {
				end = src
			}
		case "ipv6":
			if l, ok := q.field("ipv6.plen").num(); ok && l > 0 {
				end = min(src, q.pos+40+int(l))
			} else {
				end = src
			}
		}
	}
	return end
}

// oracleRecords maps every issue-2 record to tshark. Each protocol's test
// file (decoder/<proto>_test.go) adds its entries with addProtocolTest;
// this file holds the corpus-wide comparison only.
var oracleRecords []tsRecord

// ---------------------------------------------------------------------------
// Known differences

// knownDiff is a (record, field) where our value is right and tshark's
// differs for a stated reason. Keep this short: a mismatch is first a reason
// to fix the decoder.
type knownDiff struct {
	// key is "Record.Field", "Record.*" (every field) or "Record (extra)"
	// (a record where tshark shows no such layer).
	key  string
	when func(k *tsPacket) bool // the frames it applies to; nil: all
	why  string
}

// hasProto reports whether tshark found protocol name at the top level.
func hasProto(name string) func(k *tsPacket) bool {
	return func(k *tsPacket) bool {
		for _, p := range k.protos {
			if p.name == name {
				return true
			}
		}
		return false
	}
}

var knownDifferences = []knownDiff{
	// Cisco ISL frames start with a 26-byte ISL header that has the shape of
	// an 802.3/LLC/SNAP header (destination 01:00:0c:00:00:0x). tshark
	// recognises ISL and dissects the frame inside; netcap has no ISL
	// decoder and records the outer header as what it looks like, so the
	// n-th Ethernet/SNAP of the two sides are different headers (the LLC
	// bytes happen to be the same).
	{key: "Ethernet.*", when: hasProto("isl"), why: "ISL header read as 802.3"},
	{key: "SNAP.*", when: hasProto("isl"), why: "ISL header read as SNAP"},

	// tshark's dissector of one option (a CALIPSO or MPTCP option whose
	// length it finds invalid) throws, which ends its list of options; the
	// record reads the header as the type-length-value list it is and goes
	// on.
	{key: "IPv6.HopByHop.Options.*", when: malformedIn("IPv6 Hop-by-Hop"), why: "tshark stops at an option it cannot dissect"},
	{key: "IPv6HopByHop.Options.*", when: malformedIn("IPv6 Hop-by-Hop"), why: "tshark stops at an option it cannot dissect"},
	{key: "TCP.Options.*", when: malformedIn("MPTCP"), why: "tshark stops at an option it cannot dissect"},

	{key: "ARP (extra)", when: atmARP, why: "a truncated ATM ARP frame, which gopacket reads as plain ARP"},

	// Segmentation offload (GSO, BIG TCP) hands the capture packets over
	// 64 KiB whose UDP length is 0. tshark calls the length bogus and stops;
	// gopacket takes the captured bytes as the datagram, so netcap also
	// decodes the tunnel and the packet inside.
	{key: "* (extra)", when: udpLengthZero, why: "UDP length 0 (segmentation offload): tshark stops there"},

	// A pcap record whose nanosecond field is 2^31 or more: tshark takes it
	// as signed and prints a negative time; netcap reads the unsigned field
	// as written (seconds + nanoseconds).
	{key: "*.Timestamp", when: func(k *tsPacket) bool { return strings.HasPrefix(k.epoch, "-") }, why: "tshark reads nanoseconds as signed"},
}

// udpLengthZero: tshark found a UDP header whose length is 0.
func udpLengthZero(k *tsPacket) bool {
	for _, p := range k.protos {
		if p.name == "udp" && p.field("udp.length.bad") != nil {
			if v, ok := p.field("udp.length").num(); ok && v == 0 {
				return true
			}
		}
	}
	return false
}

// atmARP: an ARP frame that tshark reads as ATM ARP (hardware type 19,
// RFC 2225), whose layout differs after the protocol type, and that is too
// short for it. gopacket has no ATM ARP and reads the plain ARP layout.
func atmARP(k *tsPacket) bool {
	if !k.malformed {
		return false
	}
	arp := false
	for _, p := range k.protos {
		if p.name == "arp" {
			return false
		}
		for _, f := range []string{"eth.type", "vlan.etype"} {
			if v, ok := p.field(f).num(); ok && v == 0x0806 {
				arp = true
			}
		}
	}
	return arp
}

// malformedIn: tshark hit an exception in the protocol it calls name.
func malformedIn(name string) func(k *tsPacket) bool {
	return func(k *tsPacket) bool { return k.where == name }
}

// bogusIPVersion: tshark found an IP header with the wrong version.
func bogusIPVersion(k *tsPacket) bool {
	for _, p := range k.protos {
		if (p.name == "ipv6" && p.field("ipv6.bogus_ipv6_version") != nil) ||
			(p.name == "ip" && p.field("ip.bogus_ip_version") != nil) {
			return true
		}
	}
	return false
}

// knownUsed counts how often each known difference was applied, so that the
// report can point out entries that no longer match anything.
var knownUsed = make([]int, len(knownDifferences))

var knownMu sync.Mutex

func isKnown(key string, k *tsPacket) bool {
	for i, d := range knownDifferences {
		if ok, _ := path.Match(d.key, key); ok && (d.when == nil || d.when(k)) {
			knownMu.Lock()
			knownUsed[i]++
			knownMu.Unlock()
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Comparison

type fieldStat struct {
	compared, absent, mismatched, known int
	example                             string
	more                                []string // further examples with NETCAP_TSHARK_EXAMPLES=n
}

// moreExamples is how many examples per field the report lists beyond the
// first (NETCAP_TSHARK_EXAMPLES), for working through a class of mismatch.
var moreExamples, _ = strconv.Atoi(os.Getenv("NETCAP_TSHARK_EXAMPLES"))

type countStat struct {
	n       int
	example string
}

// oracleResult is what the comparison of one or more files found.
type oracleResult struct {
	files, withRecords, unreadable int
	records, fields                int
	tcpDNS                         int                   // DNS records over TCP compared (compareTCPDNS)
	stats                          map[string]*fieldStat // "Record.Field"
	extra                          map[string]*countStat // our records tshark has no layer for
	missing                        map[string]*countStat // tshark layers we have no record for (information)
	lost                           map[string]*countStat // frames with records that tshark does not list
	unreadableWhy                  map[string]string
}

func newOracleResult() *oracleResult {
	return &oracleResult{
		stats: map[string]*fieldStat{}, extra: map[string]*countStat{}, missing: map[string]*countStat{},
		lost: map[string]*countStat{}, unreadableWhy: map[string]string{},
	}
}

func (r *oracleResult) stat(key string) *fieldStat {
	s := r.stats[key]
	if s == nil {
		s = &fieldStat{}
		r.stats[key] = s
	}
	return s
}

func count(m map[string]*countStat, key, example string) {
	c := m[key]
	if c == nil {
		c = &countStat{example: example}
		m[key] = c
	}
	c.n++
}

// merge adds o to r; examples of r (earlier files) win, so the report does
// not depend on which file finished first.
func (r *oracleResult) merge(o *oracleResult) {
	r.files += o.files
	r.withRecords += o.withRecords
	r.unreadable += o.unreadable
	r.records += o.records
	r.tcpDNS += o.tcpDNS
	r.fields += o.fields
	for k, s := range o.stats {
		t := r.stat(k)
		t.compared += s.compared
		t.absent += s.absent
		t.mismatched += s.mismatched
		t.known += s.known
		if t.example == "" {
			t.example = s.example
		}
		for _, e := range append([]string{s.example}, s.more...) {
			if e != "" && e != t.example && len(t.more) < moreExamples {
				t.more = append(t.more, e)
			}
		}
	}
	for _, mm := range []struct{ dst, src map[string]*countStat }{{r.extra, o.extra}, {r.missing, o.missing}, {r.lost, o.lost}} {
		for k, c := range mm.src {
			d := mm.dst[k]
			if d == nil {
				mm.dst[k] = &countStat{n: c.n, example: c.example}
				continue
			}
			d.n += c.n
		}
	}
	for k, v := range o.unreadableWhy {
		r.unreadableWhy[k] = v
	}
}

// frameRecords are our records of one frame, per type, in packet order.
type frameRecords map[types.Type][]protoreflect.Message

// loadRecords reads every record file of the compared types in dir.
func loadRecords(dir string, table []tsRecord) (map[int64]frameRecords, int, error) {
	out := map[int64]frameRecords{}
	n := 0
	for _, rt := range table {
		path := filepath.Join(dir, types.Name(rt.typ)+".ncap.gz")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		r, err := ncio.Open(path)
		if err != nil {
			return nil, 0, err
		}
		for {
			m := r.New()
			err := r.Next(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, 0, err
			}
			pm := m.ProtoReflect()
			f := intField(pm, "FrameNumber")
			if out[f] == nil {
				out[f] = frameRecords{}
			}
			out[f][rt.typ] = append(out[f][rt.typ], pm)
			n++
		}
		r.Close()
	}
	return out, n, nil
}

// OracleEngine runs the capture engine (package capture) on the capture at
// path and writes compressed record files of the enabled types to dir;
// unreadable is set when the capture cannot be opened. Package capture
// imports this package, so the oracle, which lives beside the protocols'
// tests in package decoder, gets the engine from oracle_engine_test.go
// (package decoder_test), which sets this in its init.
var OracleEngine func(ctx context.Context, path, dir string, enabled func(types.Type) bool) (unreadable, err error)

// compareFile runs the engine and tshark on one capture and compares.
func compareFile(ctx context.Context, tshark, path, name string, table []tsRecord) (*oracleResult, error) {
	res := newOracleResult()
	res.files = 1
	dir, err := os.MkdirTemp("", "netcap-oracle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	enabled := map[types.Type]bool{}
	for _, rt := range table {
		enabled[rt.typ] = true
	}
	if OracleEngine == nil {
		return nil, fmt.Errorf("%s: no engine: OracleEngine is set by oracle_engine_test.go", name)
	}
	unreadable, err := OracleEngine(ctx, path, dir, func(t types.Type) bool { return enabled[t] })
	if unreadable != nil {
		res.unreadable = 1
		res.unreadableWhy[name] = unreadable.Error()
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: engine: %w", name, err)
	}
	recs, n, err := loadRecords(dir, table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n == 0 {
		return res, nil // nothing of ours to compare (a link type we do not decode)
	}
	res.withRecords = 1

	args := append(append([]string{}, tsharkPrefs...), "-r", path, "-T", "pdml")
	cmd := exec.CommandContext(ctx, tshark, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	// DNS over TCP is compared in a second pass, with tshark reassembling
	// the streams (see compareTCPDNS); this one leaves DNS out of TCP
	// packets, where tshark shows parts of messages.
	dnsTable, noDNS := splitDNS(table)
	tcpDNS := map[int64]bool{} // frames with DNS records of ours over TCP
	tsTCPDNS := false          // tshark shows DNS (or part of it) over TCP
	perr := readPDML(out, func(k *tsPacket) {
		overTCP := dnsTable != nil && topProto(k, "tcp")
		tsTCPDNS = tsTCPDNS || overTCP && topProto(k, dnsTable[0].protos...)
		fr, ok := recs[k.frame]
		if !ok {
			return
		}
		seen[k.frame] = true
		if overTCP {
			if len(fr[types.Type_NC_DNS]) > 0 {
				tcpDNS[k.frame] = true
			}
			res.comparePacket(noDNS, name, k, fr)
			return
		}
		res.comparePacket(table, name, k, fr)
	})
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if perr != nil {
		return nil, fmt.Errorf("%s: reading tshark's PDML: %w", name, perr)
	}
	// tshark exits non-zero on a cut capture; the frames it did print count.
	if werr != nil && len(seen) == 0 && strings.Contains(stderr.String(), "unknown or unsupported") {
		// a link type tshark has no dissector for (the DSA switch tags,
		// read as tcpdump reads them): nothing to compare with
		res.unreadable = 1
		res.unreadableWhy[name] = "tshark does not read its link type"
		return res, nil
	}
	if werr != nil && len(seen) == 0 {
		return nil, fmt.Errorf("%s: tshark: %v: %s", name, werr, strings.TrimSpace(stderr.String()))
	}
	if len(tcpDNS) > 0 || tsTCPDNS {
		if err := res.compareTCPDNS(ctx, tshark, path, name, dnsTable, recs, tcpDNS); err != nil {
			return nil, err
		}
	}
	frames := make([]int64, 0, len(recs))
	for f := range recs {
		if !seen[f] {
			frames = append(frames, f)
		}
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	for _, f := range frames {
		for t := range recs[f] {
			count(res.lost, types.Name(t), fmt.Sprintf("%s frame %d", name, f))
		}
	}
	return res, nil
}

// splitDNS returns the table's DNS entry alone (nil when it has none) and
// the table without it.
func splitDNS(table []tsRecord) (dns, others []tsRecord) {
	for _, rt := range table {
		if rt.typ == types.Type_NC_DNS {
			dns = append(dns, rt)
		} else {
			others = append(others, rt)
		}
	}
	return dns, others
}

// topProto says whether one of names is a top-level protocol of k.
func topProto(k *tsPacket, names ...string) bool {
	for _, p := range k.protos {
		if slices.Contains(names, p.name) {
			return true
		}
	}
	return false
}

// tsharkTCPDNSPrefs make tshark put DNS messages together from the TCP
// streams, as netcap does: in order, out-of-order segments included. A
// message reassembled from several segments shows in the frame that
// completed it.
var tsharkTCPDNSPrefs = []string{
	"-n",
	"-o", "ip.defragment:TRUE",
	"-o", "ipv6.defragment:TRUE",
	"-o", "tcp.desegment_tcp_streams:TRUE",
	"-o", "tcp.reassemble_out_of_order:TRUE",
	"-o", "dns.desegment_dns_messages:TRUE",
}

// compareTCPDNS compares our DNS records of TCP frames (tcpDNS) with the
// messages tshark reassembles from the TCP streams. A record of ours in a
// frame where tshark shows no DNS message is extra; a message tshark shows
// where we have no record is counted as missing ("DNS over TCP").
func (r *oracleResult) compareTCPDNS(ctx context.Context, tshark, path, name string, dnsTable []tsRecord, recs map[int64]frameRecords, tcpDNS map[int64]bool) error {
	args := append(append([]string{}, tsharkTCPDNSPrefs...), "-r", path, "-Y", "tcp && (dns || mdns || llmnr)", "-T", "pdml")
	cmd := exec.CommandContext(ctx, tshark, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	shown := 0
	perr := readPDML(out, func(k *tsPacket) {
		shown++
		delete(tcpDNS, k.frame)
		before := r.records
		r.comparePacket(dnsTable, name+" (TCP reassembled)", k, recs[k.frame])
		r.tcpDNS += r.records - before
		occ := 0
		for _, p := range k.protos {
			if slices.Contains(dnsTable[0].protos, p.name) {
				occ++
			}
		}
		if occ > len(recs[k.frame][types.Type_NC_DNS]) {
			count(r.missing, "DNS over TCP", fmt.Sprintf("%s frame %d", name, k.frame))
		}
	})
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if perr != nil {
		return fmt.Errorf("%s: reading tshark's PDML (TCP DNS): %w", name, perr)
	}
	if werr != nil && shown == 0 && len(tcpDNS) > 0 {
		return fmt.Errorf("%s: tshark (TCP DNS): %v: %s", name, werr, strings.TrimSpace(stderr.String()))
	}
	frames := slices.Sorted(maps.Keys(tcpDNS))
	for _, f := range frames {
		for range recs[f][types.Type_NC_DNS] {
			count(r.extra, "DNS", fmt.Sprintf("%s frame %d (over TCP)", name, f))
		}
	}
	return nil
}

// frameContext is what the packet context of a record must be: the first IP
// layer's addresses and the first transport layer's ports of the packet the
// record's layer is in (the outer one, or the one a tunnel carries), as far
// as our decoding got (no ports on a frame we have no TCP/UDP record of).
type frameContext struct {
	srcIP, dstIP     string
	srcPort, dstPort string
	noIP             bool // tshark stopped inside the IP header: nothing to compare
}

// tsTunnelStart mirrors the decoder's tunnelStart on tshark's protocols:
// the protocol after a tunnel header, or an IP header in a packet that
// already has one, begins the packet the tunnel carries.
func tsTunnelStart(protos []*tsNode, start, i int) bool {
	switch protos[i-1].name {
	case "gre", "vxlan", "geneve", "etherip":
		return true
	}
	if n := protos[i].name; n == "ip" || n == "ipv6" {
		for _, p := range protos[start:i] {
			if p.name == "ip" || p.name == "ipv6" {
				return true
			}
		}
	}
	return false
}

// contexts returns the context of each top-level protocol of k.
func contexts(k *tsPacket, fr frameRecords) map[*tsNode]frameContext {
	out := map[*tsNode]frameContext{}
	start := 0
	for i := 1; i <= len(k.protos); i++ {
		if i < len(k.protos) && !tsTunnelStart(k.protos, start, i) {
			continue
		}
		c := expectedContext(k, k.protos[start:i], fr)
		for _, p := range k.protos[start:i] {
			out[p] = c
		}
		start = i
	}
	return out
}

func expectedContext(k *tsPacket, seg []*tsNode, fr frameRecords) frameContext {
	c := frameContext{srcPort: "0", dstPort: "0"}
	ours := func(ts ...types.Type) bool {
		for _, t := range ts {
			if len(fr[t]) > 0 {
				return true
			}
		}
		return false
	}
	if ours(types.Type_NC_IPv4, types.Type_NC_IPv6) {
		for _, p := range seg {
			if p.name == "ip" || p.name == "ipv6" {
				var ok1, ok2 bool
				c.srcIP, ok1 = tsText(p.name+".src")(k, p)
				c.dstIP, ok2 = tsText(p.name+".dst")(k, p)
				c.noIP = !ok1 || !ok2
				break
			}
		}
	}
	if ours(types.Type_NC_TCP, types.Type_NC_UDP, types.Type_NC_SCTP) {
		for _, p := range seg {
			if p.name == "tcp" || p.name == "udp" || p.name == "sctp" {
				c.srcPort, _ = tsNum(p.name+".srcport")(k, p)
				c.dstPort, _ = tsNum(p.name+".dstport")(k, p)
				break
			}
		}
	}
	return c
}

// epochNanos parses frame.time_epoch ("1704147702.293205000").
func epochNanos(s string) (int64, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	v, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	// tshark prints the nanoseconds with %09d, so a capture's
	// out-of-range fraction (1000000 µs) comes out with ten digits.
	if len(frac) < 9 {
		frac += strings.Repeat("0", 9-len(frac))
	}
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return v*1e9 + ns, true
}

func (r *oracleResult) comparePacket(table []tsRecord, name string, k *tsPacket, fr frameRecords) {
	ctxs := contexts(k, fr)
	note := ""
	if k.malformed {
		note = " (tshark: malformed)"
	}
	for ti := range table {
		rt := &table[ti]
		msgs := fr[rt.typ]
		var occ []*tsNode
		for _, p := range k.protos {
			if slices.Contains(rt.protos, p.name) && (rt.keep == nil || rt.keep(p)) {
				occ = append(occ, p)
			}
		}
		rec := types.Name(rt.typ)
		where := fmt.Sprintf("%s frame %d", name, k.frame)
		if len(msgs) > len(occ) && !isKnown(rec+" (extra)", k) {
			count(r.extra, rec, where+note)
		}
		if len(occ) > len(msgs) {
			count(r.missing, rec, where+note)
		}
		for i := 0; i < len(msgs) && i < len(occ); i++ {
			r.records++
			m, p := msgs[i], occ[i]
			check := func(field, ours, theirs string, ok bool) {
				key := rec + "." + field
				s := r.stat(key)
				if !ok {
					s.absent++
					return
				}
				s.compared++
				r.fields++
				if sameWild(ours, theirs) {
					return
				}
				if isKnown(key, k) {
					s.known++
					return
				}
				s.mismatched++
				e := fmt.Sprintf("%s: ours %q, tshark %q%s", where, ours, theirs, note)
				if s.example == "" {
					s.example = e
				} else if len(s.more) < moreExamples {
					s.more = append(s.more, e)
				}
			}
			ns, ok := epochNanos(k.epoch)
			check("Timestamp", strconv.FormatInt(intField(m, "Timestamp"), 10), strconv.FormatInt(ns, 10), ok)
			for _, f := range rt.fields {
				theirs, ok := f.want(k, p)
				var ours string
				if f.got != nil {
					ours = f.got(m)
				} else {
					ours = render(m, f.ours)
				}
				check(f.ours, ours, theirs, ok)
			}
			ctx := ctxs[p]
			want := map[string]string{"SrcIP": ctx.srcIP, "DstIP": ctx.dstIP, "SrcPort": ctx.srcPort, "DstPort": ctx.dstPort}
			for _, cf := range contextFields {
				if rt.own[cf] {
					continue
				}
				check(cf+" (context)", render(m, cf), want[cf], !(ctx.noIP && (cf == "SrcIP" || cf == "DstIP")))
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The tests

// oracleFiles lists the corpus captures, sorted, with their names relative
// to the corpus roots.
func oracleFiles() (paths, names []string) {
	for _, root := range corpusRoots {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(p, ".gz")))
			if ext != ".pcap" && ext != ".pcapng" && ext != ".cap" {
				return nil
			}
			rel, _ := filepath.Rel(filepath.Dir(root), p)
			paths = append(paths, p)
			names = append(names, filepath.ToSlash(rel))
			return nil
		})
	}
	return paths, names
}

// subsetStride: the default run takes every subsetStride-th capture of
// those whose catalog entry names none of our protocols (they mostly hold
// plain Ethernet/IP/TCP/UDP, which the others have plenty of). With 2 cores
// the whole corpus takes about two minutes, mostly tshark starting up.
const subsetStride = 4

// ourProtocols are tshark's names of the protocols of issue-2 records that
// CATALOG.tsv lists (it leaves out eth, ip, ipv6, tcp and udp).
var ourProtocols = map[string]bool{
	"arp": true, "vlan": true, "ieee8021ad": true, "llc": true, "icmp": true, "icmpv6": true,
	"dns": true, "mdns": true, "llmnr": true, "dhcp": true, "dhcpv6": true, "ntp": true, "ipv6.hopopts": true,
	"gre": true, "vxlan": true, "geneve": true, "mpls": true,
	// link layer and discovery
	"wlan": true, "lldp": true, "cdp": true, "eapol": true, "eap": true, "loop": true,
	// network control and industrial
	"igmp": true, "ospf": true, "vrrp": true, "bfd": true, "sctp": true, "ah": true, "esp": true, "sip": true, "enip": true, "cip": true,
}

// defaultSubset picks a deterministic part of the corpus: every capture
// outside the catalog (the labelled ones), every capture the catalog says
// holds one of our protocols, and every subsetStride-th of the others.
func defaultSubset(paths, names []string) (p, n []string) {
	catalog := map[string][]string{}
	if b, err := os.ReadFile(filepath.Join(corpusRoots[0], "CATALOG.tsv")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, "\t")
			if len(f) >= 6 {
				catalog["pcaps/"+f[0]] = strings.Split(strings.TrimSpace(f[5]), ",")
			}
		}
	}
	other := 0
	return filterFiles(paths, names, func(name string) bool {
		protos, listed := catalog[name]
		if !listed {
			return true
		}
		for _, pr := range protos {
			if ourProtocols[pr] {
				return true
			}
		}
		other++
		return other%subsetStride == 1
	})
}

func filterFiles(paths, names []string, keep func(string) bool) (p, n []string) {
	for i := range paths {
		if keep(names[i]) {
			p, n = append(p, paths[i]), append(n, names[i])
		}
	}
	return p, n
}

func runOracle(t *testing.T, tshark string, paths, names []string, table []tsRecord) *oracleResult {
	t.Helper()
	results := make([]*oracleResult, len(paths))
	errs := make([]error, len(paths))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i], errs[i] = compareFile(context.Background(), tshark, paths[i], names[i], table)
			}
		}()
	}
	for i := range paths {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	total := newOracleResult()
	for i, r := range results {
		if errs[i] != nil {
			t.Errorf("%v", errs[i])
			continue
		}
		total.merge(r)
	}
	return total
}

// TestFieldsMatchTshark compares every field of every issue-2 record made
// from the shared corpus with tshark's dissection of the same frame.
func TestFieldsMatchTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark over the corpus; skipped with -short")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	paths, names := oracleFiles()
	if len(paths) == 0 {
		t.Skipf("no captures under %v (the shared corpus is not checked out next to the repository)", corpusRoots)
	}
	if only := os.Getenv("NETCAP_TSHARK_FILES"); only != "" {
		paths, names = filterFiles(paths, names, func(n string) bool {
			for _, o := range strings.Split(only, ",") {
				if strings.Contains(n, o) {
					return true
				}
			}
			return false
		})
	}
	if os.Getenv("NETCAP_TSHARK_ALL") == "" && os.Getenv("NETCAP_TSHARK_FILES") == "" {
		before := len(paths)
		paths, names = defaultSubset(paths, names)
		t.Logf("running %d of %d captures (every one with a protocol of ours in CATALOG.tsv, every %dth other one); NETCAP_TSHARK_ALL=1 runs all",
			len(paths), before, subsetStride)
	}
	start := time.Now()
	res := runOracle(t, tshark, paths, names, oracleRecords)
	report(t, res, time.Since(start))
}

// report logs the summary and fails on every mismatch that is not a known
// difference.
func report(t *testing.T, res *oracleResult, took time.Duration) {
	t.Helper()
	mismatches, known := 0, 0
	keys := make([]string, 0, len(res.stats))
	for k, s := range res.stats {
		keys = append(keys, k)
		mismatches += s.mismatched
		known += s.known
	}
	sort.Strings(keys)
	t.Logf("tshark oracle: %d files (%d with records, %d unreadable), %d records, %d fields compared, %d mismatches, %d known differences, in %v",
		res.files, res.withRecords, res.unreadable, res.records, res.fields, mismatches, known, took.Round(time.Second))
	for _, k := range keys {
		s := res.stats[k]
		if s.mismatched > 0 {
			t.Errorf("%s: %d of %d differ, e.g. %s", k, s.mismatched, s.compared, s.example)
			for _, e := range s.more {
				t.Logf("    also %s", e)
			}
		}
	}
	for _, k := range sortedKeys(res.extra) {
		c := res.extra[k]
		t.Errorf("%s: %d records where tshark shows no such layer, e.g. %s", k, c.n, c.example)
	}
	for _, k := range sortedKeys(res.lost) {
		c := res.lost[k]
		t.Errorf("%s: %d records of frames tshark does not list, e.g. %s", k, c.n, c.example)
	}
	// A table field that is never compared while its record is suggests a
	// misspelt tshark field name.
	for _, rt := range oracleRecords {
		rec := types.Name(rt.typ)
		if s := res.stats[rec+".Timestamp"]; s == nil || s.compared == 0 {
			continue
		}
		for _, f := range rt.fields {
			if s := res.stats[rec+"."+f.ours]; s == nil || s.compared == 0 {
				t.Errorf("%s.%s: compared with tshark (%s) in no record of this run: is the tshark field name right?", rec, f.ours, f.tshark)
			}
		}
	}
	for i, d := range knownDifferences {
		if knownUsed[i] == 0 {
			t.Logf("information: known difference %q (%s) matched nothing in this run", d.key, d.why)
		} else {
			t.Logf("known difference %q (%s): %d times", d.key, d.why, knownUsed[i])
		}
	}
	for _, k := range sortedKeys(res.missing) {
		c := res.missing[k]
		t.Logf("information: %s: %d layers tshark decodes that we have no record of, e.g. %s", k, c.n, c.example)
	}
	for _, k := range keys {
		s := res.stats[k]
		if testing.Verbose() {
			t.Logf("  %-55s compared %7d  absent in tshark %6d  known %d", k, s.compared, s.absent, s.known)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// oracleTypes are the record types the oracle must cover: those of every
// registered protocol that does not say, in its Oracle field, where else
// or why not its records are checked.
func oracleTypes() []types.Type {
	var out []types.Type
	for _, p := range Protocols() {
		if p.Oracle == "" {
			out = append(out, p.Records...)
		}
	}
	return out
}

// leafPaths lists the scalar fields of md as dotted paths, sub-messages
// included.
func leafPaths(md protoreflect.MessageDescriptor, prefix string, depth int) []string {
	var out []string
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		p := prefix + string(fd.Name())
		if fd.Message() != nil && depth < 4 {
			out = append(out, leafPaths(fd.Message(), p+".", depth+1)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestOracleTableCoversEveryField checks the table itself: every issue-2
// record is in it, every field it names exists, and every scalar field of a
// record is compared, is packet context, or is skipped with a reason.
func TestOracleTableCoversEveryField(t *testing.T) {
	byType := map[types.Type]*tsRecord{}
	for i := range oracleRecords {
		byType[oracleRecords[i].typ] = &oracleRecords[i]
	}
	for _, typ := range oracleTypes() {
		rt := byType[typ]
		if rt == nil {
			t.Errorf("%s: not in the oracle table", types.Name(typ))
			continue
		}
		m := newRecord(t, typ)
		covered := map[string]bool{"Timestamp": true}
		for k := range commonSkip {
			covered[k] = true
		}
		for _, c := range contextFields {
			covered[c] = true
		}
		for _, f := range rt.fields {
			if strings.HasPrefix(render(m, f.ours), "<no field") {
				t.Errorf("%s: table names field %s, which the record does not have", types.Name(typ), f.ours)
			}
			covered[f.ours] = true
		}
		for k, why := range rt.skip {
			if why == "" {
				t.Errorf("%s: skipped field %s needs a reason", types.Name(typ), k)
			}
			covered[k] = true
		}
		for _, p := range leafPaths(m.Descriptor(), "", 0) {
			ok := covered[p]
			for c := range covered {
				ok = ok || strings.HasPrefix(p, c+".")
			}
			if !ok && rt.partial == "" {
				t.Errorf("%s.%s: neither compared with tshark nor skipped with a reason", types.Name(typ), p)
			}
		}
	}
}

func newRecord(t *testing.T, typ types.Type) protoreflect.Message {
	t.Helper()
	for _, mt := range []proto.Message{
		&types.Ethernet{}, &types.ARP{}, &types.Dot1Q{}, &types.IPv4{}, &types.IPv6{}, &types.ICMPv4{}, &types.ICMPv6{},
		&types.ICMPv6Echo{}, &types.ICMPv6NeighborSolicitation{}, &types.ICMPv6NeighborAdvertisement{},
		&types.ICMPv6RouterSolicitation{}, &types.ICMPv6RouterAdvertisement{}, &types.TCP{}, &types.UDP{},
		&types.DNS{}, &types.DHCPv4{}, &types.DHCPv6{}, &types.NTP{}, &types.LLC{}, &types.SNAP{},
	} {
		if string(mt.ProtoReflect().Descriptor().Name()) == types.Name(typ) {
			return mt.ProtoReflect()
		}
	}
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + types.Name(typ))); err == nil {
		return mt.New()
	}
	t.Fatalf("no message for %v", typ)
	return nil
}

// samplePDML is tshark's dissection of one IPv4 header (trimmed).
const samplePDML = `<?xml version="1.0" encoding="utf-8"?>
<pdml version="0" creator="wireshark/4.0.17">
<packet>
  <proto name="frame" showname="Frame 1" size="34" pos="0">
    <field name="frame.time_epoch" show="1704147702.293205000" size="0" pos="0"/>
    <field name="frame.number" show="1" size="0" pos="0"/>
    <field name="frame.cap_len" show="34" size="0" pos="0"/>
  </proto>
  <proto name="ip" showname="Internet Protocol Version 4" size="20" pos="14">
    <field name="ip.version" size="1" pos="14" show="4" value="45"/>
    <field name="ip.hdr_len" size="1" pos="14" show="20" value="45"/>
    <field name="ip.len" size="2" pos="16" show="20" value="0014"/>
    <field name="ip.src" size="4" pos="26" show="10.0.0.1" value="0a000001"/>
  </proto>
</packet>
</pdml>`

// TestOracleDetectsMismatch proves the comparison can fail: a record that
// agrees with tshark passes, and a wrong conversion (IHL in words compared
// with tshark's bytes) or a wrong value is reported.
func TestOracleDetectsMismatch(t *testing.T) {
	var pkt *tsPacket
	if err := readPDML(strings.NewReader(samplePDML), func(k *tsPacket) { pkt = k }); err != nil || pkt == nil {
		t.Fatalf("sample PDML: %v", err)
	}
	ip := &types.IPv4{Timestamp: 1704147702293205000, Version: 4, IHL: 5, Length: 20, SrcIP: "10.0.0.1", FrameNumber: 1}
	fields := []tsField{
		{ours: "Version", want: tsNum("ip.version")},
		{ours: "IHL", want: tsNum("ip.hdr_len"), got: oursTimes("IHL", 4)},
		{ours: "Length", want: tsNum("ip.len")},
		{ours: "SrcIP", want: tsText("ip.src")},
	}
	run := func(fs []tsField, m *types.IPv4) *oracleResult {
		res := newOracleResult()
		table := []tsRecord{{typ: types.Type_NC_IPv4, protos: []string{"ip"}, fields: fs, own: map[string]bool{"SrcIP": true, "DstIP": true}}}
		res.comparePacket(table, "sample", pkt, frameRecords{types.Type_NC_IPv4: {m.ProtoReflect()}})
		return res
	}
	mismatches := func(r *oracleResult) (n int, keys []string) {
		for k, s := range r.stats {
			if s.mismatched > 0 {
				n += s.mismatched
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		return n, keys
	}

	good := run(fields, ip)
	if n, keys := mismatches(good); n != 0 || good.fields == 0 {
		t.Fatalf("matching record: %d mismatches %v over %d fields, want 0 over > 0", n, keys, good.fields)
	}
	wrongConv := append([]tsField(nil), fields...)
	wrongConv[1].got = nil // IHL in 32-bit words against ip.hdr_len in bytes
	if n, keys := mismatches(run(wrongConv, ip)); n != 1 || keys[0] != "IPv4.IHL" {
		t.Errorf("wrong IHL conversion: mismatches %v, want exactly IPv4.IHL", keys)
	}
	bad := proto.Clone(ip).(*types.IPv4)
	bad.SrcIP, bad.Timestamp = "10.0.0.2", ip.Timestamp+1000
	if _, keys := mismatches(run(fields, bad)); strings.Join(keys, " ") != "IPv4.SrcIP IPv4.Timestamp" {
		t.Errorf("wrong address and time: mismatches %v, want IPv4.SrcIP and IPv4.Timestamp", keys)
	}
}

// TestOracleEndToEndCanFail runs the whole path (engine, record files,
// tshark, comparison) on a capture made here: the real table agrees with
// tshark, and the same table with IPv4's IHL compared unconverted (words
// against tshark's bytes) reports exactly that field.
func TestOracleEndToEndCanFail(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	path := filepath.Join(t.TempDir(), "dns.pcap")
	writeDNSCapture(t, path)

	res, err := compareFile(context.Background(), tshark, path, "dns.pcap", oracleRecords)
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range res.stats {
		if s.mismatched > 0 {
			t.Errorf("real table: %s differs: %s", k, s.example)
		}
	}
	if res.records < 4 || res.stats["DNS.Questions.Name"] == nil || res.stats["DNS.Questions.Name"].compared != 1 {
		t.Fatalf("real table: compared %d records, want Ethernet, IPv4, UDP and DNS", res.records)
	}

	sabotaged := slices.Clone(oracleRecords)
	for i := range sabotaged {
		if sabotaged[i].typ != types.Type_NC_IPv4 {
			continue
		}
		sabotaged[i].fields = slices.Clone(sabotaged[i].fields)
		for j := range sabotaged[i].fields {
			if sabotaged[i].fields[j].ours == "IHL" {
				sabotaged[i].fields[j].got = nil
			}
		}
	}
	res, err = compareFile(context.Background(), tshark, path, "dns.pcap", sabotaged)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for k, s := range res.stats {
		if s.mismatched > 0 {
			bad = append(bad, k)
		}
	}
	if len(bad) != 1 || bad[0] != "IPv4.IHL" {
		t.Errorf("sabotaged IHL conversion: mismatching fields %v, want [IPv4.IHL]", bad)
	}
}

// writeDNSCapture writes one DNS query over IPv4/UDP/Ethernet.
func writeDNSCapture(t *testing.T, path string) {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: 7, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 53}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	dns := &layers.DNS{ID: 0x1234, RD: true, QDCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, dns); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, 123456000), CaptureLength: len(data), Length: len(data)}
	if err := w.WritePacket(ci, data); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// More value helpers, shared by several protocols' tables

// tsAll joins every field called name in p (not nested protocols).
func tsAll(name string, conv func(string) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		var parts []string
		p.walk(func(k *tsNode) bool {
			if k.name == name && !k.proto {
				parts = append(parts, conv(k.show))
			}
			return true
		})
		return strings.Join(parts, ","), true
	}
}

func same(s string) string { return s }

// oursU32 renders an int32 field holding a 32-bit wire value unsigned.
func oursU32(name string) tsGot {
	return func(m protoreflect.Message) string { return strconv.FormatUint(uint64(uint32(intField(m, name))), 10) }
}

// --- helpers of the link-layer and discovery records

// numOr is tsNum, or def when tshark does not show the field (the record
// has 0 or no sub-message then).
func numOr(name, def string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		f := p.field(name)
		if f == nil {
			return def, true
		}
		v, ok := f.num()
		return strconv.FormatInt(v, 10), ok
	}
}

// rawTextOr is the text of a field from its bytes ("" when tshark does not
// show it): PDML's show attribute turns CR LF into LF.
func rawTextOr(name string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		f := p.field(name)
		if f == nil {
			return "", true
		}
		b, ok := f.ownBytes()
		return string(b), ok
	}
}
