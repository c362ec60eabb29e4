package decoder

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/netcap/netcap/internal/flowhash"
	"github.com/netcap/netcap/types"
)

// FTP data connections (RFC 959 section 3.2, RFC 2428). A control
// connection announces each data connection: the server's 227 (PASV) or
// 229 (EPSV) reply names the port it listens on, the client's PORT or EPRT
// command the port the client listens on. The data connection is another
// connection, which the engine would hash to any worker; to tie it to its
// control connection it must live in the control's worker, and the tie
// must not depend on the number of workers. So the engine's reader, which
// sees every packet in capture order in one goroutine, reads the control
// segments of port 21 (one segment at a time: an announcement split over
// two segments is not seen), keeps what they announce in an Expectations
// table, and hands each packet of an announced connection to the control's
// worker, tagged with the control's endpoints (Packet.Expected). The worker
// makes the connection a data connection of that control: its Connection
// record says ApplicationProto "FTP-DATA" and Parent, the control's UID;
// the control's FTP record names the data connection of each transfer
// (FTPTransfer.DataFlowID); the transferred file becomes a File record.

// Expected names the control connection that announced a data connection:
// what the engine's reader hands a worker with each packet of it.
type Expected struct {
	Client, Server         [16]byte
	ClientPort, ServerPort uint16
	V6                     bool
}

// key is the control connection's key in a worker's connection table.
func (e *Expected) key() connKey {
	k := connKey{proto: 6, v6: e.V6, a: e.Client, b: e.Server, pa: e.ClientPort, pb: e.ServerPort}
	n := 4
	if e.V6 {
		n = 16
	}
	if c := bytes.Compare(e.Client[:n], e.Server[:n]); c > 0 || c == 0 && e.ClientPort > e.ServerPort {
		k.a, k.b, k.pa, k.pb = k.b, k.a, k.pb, k.pa
	}
	return k
}

// DefaultMaxExpected is how many announced data connections the reader
// keeps (Options.MaxExpected): about 150 bytes each.
const DefaultMaxExpected = 4096

// ftpControlPort is the port whose segments the reader reads for
// announcements. Detection by content finds FTP on other ports too; their
// data connections are not tied.
const ftpControlPort = 21

// expectKey is what a data connection is expected by: the address and
// port that listens (the holder) and the address that connects (the peer);
// once the connection began, the peer's port too (peerPort 0: an
// announcement still waiting for its connection).
type expectKey struct {
	holder, peer   [16]byte
	port, peerPort uint16
	v6             bool
}

// expectation is one announced data connection.
type expectation struct {
	key  expectKey
	ctl  Expected
	hash uint64 // the control's flow hash: its worker
	// live is set when the connection began (its SYN) and cleared when it
	// ended (a RST, or a FIN from both sides): a live one is never
	// dropped to make room, which would send the rest of its connection
	// to another worker.
	live bool
	fin  [2]bool // a FIN from the holder, from the peer
	last int64   // packet time of the announcement or the last packet
	lruLinks[expectation]
}

// Expectations is the reader's table of announced data connections. It is
// used by one goroutine. Each is kept until idle for Idle (packet time:
// the announcement waits that long for its connection, the connection
// lasts while its packets come that often); when Max are kept, the one
// idle longest of those whose connection is not running is dropped first
// and counted in Dropped; when every one is a running connection, the new
// announcement is dropped and counted.
//
// The routing of a connection never changes while it runs: an
// announcement takes a connection only at its SYN, so one already running
// when the port is announced stays in the worker of its hash, and a
// running one keeps its entry (by its four endpoints) until it ends or
// goes idle for longer than the connection table keeps it
// (expectIdleMargin), whatever is announced meanwhile.
type Expectations struct {
	m map[expectKey]*expectation
	// waiting are the announcements without a running connection
	// (waiting for it, or it ended), live the running ones; each in the
	// order of their last packet.
	waiting, live lruList[expectation]
	max           int
	idle          int64
	// Dropped counts announcements dropped because the table was full
	// before their connection ended: its packets go to the worker of
	// their own hash and are not tied.
	Dropped int64
}

// expectIdleMargin is added to the idle timeout: the connection table
// ends idle connections at a sweep (conntrack.go sweepEvery), up to a
// second after their timeout. A data connection's entry outlives its
// connection in the table, so a packet after a long pause starts a new
// connection in the control's worker, the same at any number of workers,
// and never joins the old one in one worker and starts another in
// another.
const expectIdleMargin = sweepEvery + int64(time.Millisecond)

// NewExpectations makes a table of at most max announcements (0:
// DefaultMaxExpected), each kept until idle for idle (0: until the table
// is full), the connection table's timeout.
func NewExpectations(max int, idle time.Duration) *Expectations {
	if max <= 0 {
		max = DefaultMaxExpected
	}
	x := &Expectations{m: map[expectKey]*expectation{}, max: max, idle: int64(idle)}
	if x.idle > 0 {
		x.idle += expectIdleMargin
	}
	links := func(e *expectation) *lruLinks[expectation] { return &e.lruLinks }
	x.waiting.links, x.live.links = links, links
	return x
}

// Len is how many announcements the table holds.
func (x *Expectations) Len() int { return len(x.m) }

// Packet reads one packet's TCP segment s, whose flow hash is h, at packet
// time ts. A segment of a control connection adds what it announces; a
// segment of an announced data connection returns the control's endpoints
// and flow hash, to route and tag it with.
func (x *Expectations) Packet(s *flowhash.Segment, h uint64, ts int64) (ctl *Expected, ctlHash uint64, ok bool) {
	if len(x.m) > 0 {
		x.expire(ts)
		if e := x.match(s, ts); e != nil {
			return &e.ctl, e.hash, true
		}
	}
	if len(s.Payload) > 0 && (s.SrcPort == ftpControlPort || s.DstPort == ftpControlPort) && s.SrcPort != s.DstPort {
		x.announce(s, h, ts)
	}
	return nil, 0, false
}

// expire drops the announcements idle for longer than Idle.
func (x *Expectations) expire(ts int64) {
	if x.idle <= 0 {
		return
	}
	for _, l := range [2]*lruList[expectation]{&x.waiting, &x.live} {
		for e := l.head; e != nil && ts-e.last > x.idle; e = l.head {
			x.drop(e)
		}
	}
}

func (x *Expectations) drop(e *expectation) {
	x.list(e).remove(e)
	delete(x.m, e.key)
}

// list is the list e is in.
func (x *Expectations) list(e *expectation) *lruList[expectation] {
	if e.live {
		return &x.live
	}
	return &x.waiting
}

// TCP flags the table reads.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// match finds the announcement s belongs to: the running connection of
// its four endpoints, or, for its first segment (the peer's SYN, or the
// holder's SYN-ACK when the SYN was not captured), an announcement of the
// port it goes to or comes from.
func (x *Expectations) match(s *flowhash.Segment, ts int64) *expectation {
	for i, side := range [2]struct {
		holder, peer []byte
		port, other  uint16
	}{{s.Dst, s.Src, s.DstPort, s.SrcPort}, {s.Src, s.Dst, s.SrcPort, s.DstPort}} {
		var k expectKey
		k.v6, k.port, k.peerPort = len(side.holder) == 16, side.port, side.other
		copy(k.holder[:], side.holder)
		copy(k.peer[:], side.peer)
		if side.other == 0 {
			continue // port 0 is no connection's; 0 marks a waiting one
		}
		syn := s.Flags&(tcpSYN|tcpACK|tcpRST) == tcpSYN && i == 0 || s.Flags&(tcpSYN|tcpACK|tcpRST) == tcpSYN|tcpACK && i == 1
		if e := x.m[k]; e != nil {
			if syn {
				// A new connection on the ports of one that ended (or
				// is ending): running again.
				x.list(e).remove(e)
				e.live, e.fin = true, [2]bool{}
			}
			x.seen(e, s, i == 0, ts)
			return e
		}
		if !syn {
			continue
		}
		k.peerPort = 0
		e := x.m[k]
		if e == nil || x.isControl(e, s) {
			continue
		}
		// The connection began: from now on it is known by its four
		// endpoints, and the port may be announced again.
		delete(x.m, k)
		e.key.peerPort = side.other // free: looked up above
		x.m[e.key] = e
		x.waiting.remove(e)
		e.live, e.fin = true, [2]bool{}
		x.seen(e, s, i == 0, ts)
		return e
	}
	return nil
}

// seen notes a segment of e's connection, from the peer or the holder: its
// time, and its end (a RST, or a FIN from both sides), after which e may
// make room for another.
func (x *Expectations) seen(e *expectation, s *flowhash.Segment, fromPeer bool, ts int64) {
	e.last = ts
	if s.Flags&tcpFIN != 0 {
		if fromPeer {
			e.fin[1] = true
		} else {
			e.fin[0] = true
		}
	}
	if e.live && (s.Flags&tcpRST != 0 || e.fin[0] && e.fin[1]) {
		x.live.remove(e)
		e.live = false
	}
	x.list(e).moveToBack(e)
}

// isControl tells whether s is a segment of e's control connection itself
// (a reply announcing the control's own port): it is never a data
// connection.
func (x *Expectations) isControl(e *expectation, s *flowhash.Segment) bool {
	c := &e.ctl
	same := func(a []byte, pa uint16, b [16]byte, pb uint16) bool { return pa == pb && bytes.Equal(a, b[:len(a)]) }
	return same(s.Src, s.SrcPort, c.Client, c.ClientPort) && same(s.Dst, s.DstPort, c.Server, c.ServerPort) ||
		same(s.Src, s.SrcPort, c.Server, c.ServerPort) && same(s.Dst, s.DstPort, c.Client, c.ClientPort)
}

// announce reads the lines of a control segment: a server's 227 and 229
// replies, a client's PORT and EPRT commands.
func (x *Expectations) announce(s *flowhash.Segment, h uint64, ts int64) {
	fromServer := s.SrcPort == ftpControlPort
	var ctl Expected
	ctl.V6 = len(s.Src) == 16
	if fromServer {
		copy(ctl.Server[:], s.Src)
		copy(ctl.Client[:], s.Dst)
		ctl.ServerPort, ctl.ClientPort = s.SrcPort, s.DstPort
	} else {
		copy(ctl.Client[:], s.Src)
		copy(ctl.Server[:], s.Dst)
		ctl.ClientPort, ctl.ServerPort = s.SrcPort, s.DstPort
	}
	for data := s.Payload; len(data) > 0; {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		port, ok := ftpAnnounced(line, fromServer)
		if !ok {
			continue
		}
		// The data connection is expected at the control's own address:
		// the address a reply or command names is often a private one
		// behind NAT, and a transfer between two other hosts (FXP) is
		// not followed.
		var k expectKey
		k.v6, k.port = ctl.V6, port
		if fromServer {
			k.holder, k.peer = ctl.Server, ctl.Client
		} else {
			k.holder, k.peer = ctl.Client, ctl.Server
		}
		x.add(k, &ctl, h, ts)
	}
}

// add keeps an announcement, replacing an earlier one of the same port
// still waiting for its connection.
func (x *Expectations) add(k expectKey, ctl *Expected, h uint64, ts int64) {
	e := x.m[k]
	if e == nil {
		if len(x.m) >= x.max {
			x.Dropped++
			if x.waiting.head == nil {
				return // every one is a running connection
			}
			x.drop(x.waiting.head)
		}
		e = &expectation{key: k}
		x.m[k] = e
	}
	e.ctl, e.hash, e.last = *ctl, h, ts
	x.waiting.moveToBack(e)
}

// ftpMinDataPort is the lowest data port an announcement may name. A
// port below is a service's (22, 25, 80, ...): tied, the next connection
// to that service between the two hosts would be read as a file, never as
// its protocol, so a peer could hide it. Servers never listen there for
// PASV, and refuse such a PORT (the FTP bounce attack, CERT CA-1997-27).
const ftpMinDataPort = 1024

// ftpAnnounced reads the port a line announces: a server's "227 ...
// (h1,h2,h3,h4,p1,p2)" or "229 ... (|||port|)", a client's "PORT
// h1,h2,h3,h4,p1,p2" or "EPRT |proto|address|port|".
func ftpAnnounced(line []byte, fromServer bool) (uint16, bool) {
	line = bytes.TrimRight(line, "\r")
	if len(line) < 5 {
		return 0, false
	}
	var addr string
	switch head := strings.ToUpper(string(line[:5])); {
	case fromServer && head[:4] == "227 ":
		addr = ftpPortAddress(string(line[4:]))
	case fromServer && head[:4] == "229 ":
		m := ftpEpsv.FindSubmatch(line[4:])
		if m == nil {
			return 0, false
		}
		addr = ":" + string(m[4])
	case !fromServer && head == "PORT ":
		addr = ftpPortAddress(string(line[5:]))
	case !fromServer && head == "EPRT ":
		addr = ftpEPRTAddress(strings.TrimSpace(string(line[5:])))
	default:
		return 0, false
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0, false
	}
	port, err := strconv.ParseUint(addr[i+1:], 10, 16)
	if err != nil || port < ftpMinDataPort {
		return 0, false
	}
	return uint16(port), true
}

// dataLink is what a worker keeps of a data connection: its control.
type dataLink struct {
	parent string // the control's UID; empty when it was not in the table
	// transfer is the control's transfer command the connection carries,
	// set by the control's parser once both are known; nil until then.
	transfer *types.FTPTransfer
}

// dataLinkBytes is what MemCap counts for a data connection's link.
const dataLinkBytes = 64

// tie makes c, at its first packet tagged by the reader, a data connection
// of the control e names.
func (t *connTable) tie(c *conn, e *Expected) {
	if t.links == nil {
		t.links = map[*conn]*dataLink{}
	}
	if t.links[c] != nil {
		return
	}
	ctl := t.m[e.key()]
	p := ctl.ftp()
	if p != nil && p.inner != nil {
		// After AUTH TLS the control's bytes are TLS: what the reader
		// read as an announcement in them was ciphertext, or a lie.
		return
	}
	l := &dataLink{}
	if ctl != nil {
		l.parent = ctl.uid
		if p != nil {
			p.dataOpened(c.uid, l)
		}
	}
	t.links[c] = l
	if c.st == nil || c.st.parser == nil {
		c.app = "FTP-DATA"
	}
}

// ftp returns the FTP parser of a control connection, or nil (c nil: the
// control is not in the table).
func (c *conn) ftp() *ftpParser {
	if c == nil || c.st == nil {
		return nil
	}
	p, _ := c.st.parser.(*ftpParser)
	return p
}

// ftpDataParser reads the content of a data connection as a file: every
// byte the sender sent, until it closes (RFC 959 stream mode ends a file
// with the connection).
type ftpDataParser struct {
	c    *conn
	link *dataLink
	f    *fileBody
	from int // the sender's direction; valid once f is made
}

// Feed implements StreamParser.
func (p *ftpDataParser) Feed(ch *Chunk, conn *ConnInfo, s Sink) {
	d := 1
	if ch.FromClient {
		d = 0
	}
	if p.f == nil {
		if len(ch.Data) == 0 || conn.Files == nil {
			return
		}
		p.f, p.from = newFileBody(conn.Files, ""), d
		r := &p.f.r
		r.Timestamp, r.FrameNumber, r.Source, r.FlowID = ch.Timestamp, ch.Frame, "FTP", conn.FlowID
		r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ServerIP, conn.ClientIP, conn.ServerPort, conn.ClientPort
		if ch.FromClient {
			r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort
		}
		if ch.Missed > 0 {
			p.f.fail(strconv.Itoa(ch.Missed) + " bytes not captured before the first byte of the transfer")
		}
	}
	if d != p.from {
		return // the receiver sends nothing in stream mode
	}
	if ch.Missed > 0 {
		p.f.missed(ch.Missed)
	}
	p.f.write(ch.Data)
}

// Close implements StreamParser: the file ends with the connection, whole
// when its sender closed it with a FIN.
func (p *ftpDataParser) Close(conn *ConnInfo, s Sink) {
	if p.f == nil {
		return
	}
	name, listing := p.transfer()
	if listing {
		// A directory listing is no file.
		p.f.dropTmp()
		p.f.release()
		p.f = nil
		return
	}
	p.f.r.Name = name
	ended := p.c.dir[p.from].fin && !p.c.rst[0] && !p.c.rst[1]
	if !ended {
		p.f.fail("the data connection ended without the sender's FIN")
	}
	r := p.f.finish(ended)
	p.f = nil
	if r != nil {
		s.Emit(types.Type_NC_File, r)
	}
}

// transfer returns the argument of the transfer command this data
// connection carried, and whether it is a directory listing.
func (p *ftpDataParser) transfer() (name string, listing bool) {
	tr := p.link.transfer
	if tr == nil {
		return "", false
	}
	switch tr.Command {
	case "LIST", "NLST", "MLSD":
		return tr.Name, true
	}
	return tr.Name, false
}
