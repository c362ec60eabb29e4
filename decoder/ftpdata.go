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
// port that listens (the holder) and the address that connects (the peer).
type expectKey struct {
	holder, peer [16]byte
	port         uint16
	v6           bool
}

// expectation is one announced data connection.
type expectation struct {
	key  expectKey
	ctl  Expected
	hash uint64 // the control's flow hash: its worker
	// bound is set at the first packet of the data connection, whose
	// other port is peerPort: later connections to the same port are
	// not this one.
	bound    bool
	peerPort uint16
	last     int64 // packet time of the announcement or the last packet
	lruLinks[expectation]
}

// Expectations is the reader's table of announced data connections. It is
// used by one goroutine. Each is kept until idle for Idle (packet time:
// the announcement waits that long for its connection, the connection
// lasts while its packets come that often); when Max are kept, the one
// idle longest is dropped first and counted in Dropped.
type Expectations struct {
	m    map[expectKey]*expectation
	lru  lruList[expectation]
	max  int
	idle int64
	// Dropped counts announcements dropped because the table was full
	// before their connection ended: its packets go to the worker of
	// their own hash and are not tied.
	Dropped int64
}

// NewExpectations makes a table of at most max announcements (0:
// DefaultMaxExpected), each kept until idle for idle (0: until the table
// is full).
func NewExpectations(max int, idle time.Duration) *Expectations {
	if max <= 0 {
		max = DefaultMaxExpected
	}
	x := &Expectations{m: map[expectKey]*expectation{}, max: max, idle: int64(idle)}
	x.lru.links = func(e *expectation) *lruLinks[expectation] { return &e.lruLinks }
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
	for e := x.lru.head; e != nil && x.idle > 0 && ts-e.last > x.idle; e = x.lru.head {
		x.drop(e)
	}
}

func (x *Expectations) drop(e *expectation) {
	x.lru.remove(e)
	delete(x.m, e.key)
}

// match finds the announcement s belongs to: s goes to the holder's port
// or comes from it.
func (x *Expectations) match(s *flowhash.Segment, ts int64) *expectation {
	for _, side := range [2]struct {
		holder, peer []byte
		port, other  uint16
	}{{s.Dst, s.Src, s.DstPort, s.SrcPort}, {s.Src, s.Dst, s.SrcPort, s.DstPort}} {
		var k expectKey
		k.v6, k.port = len(side.holder) == 16, side.port
		copy(k.holder[:], side.holder)
		copy(k.peer[:], side.peer)
		e := x.m[k]
		if e == nil || e.bound && e.peerPort != side.other || x.isControl(e, s) {
			continue
		}
		e.bound, e.peerPort, e.last = true, side.other, ts
		x.lru.moveToBack(e)
		return e
	}
	return nil
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

// add keeps an announcement, replacing an earlier one of the same port.
func (x *Expectations) add(k expectKey, ctl *Expected, h uint64, ts int64) {
	e := x.m[k]
	if e == nil {
		if len(x.m) >= x.max {
			x.Dropped++
			x.drop(x.lru.head)
		}
		e = &expectation{key: k}
		x.m[k] = e
	}
	e.ctl, e.hash, e.bound, e.peerPort, e.last = *ctl, h, false, 0, ts
	x.lru.moveToBack(e)
}

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
	if err != nil || port == 0 {
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
	l := &dataLink{}
	if ctl := t.m[e.key()]; ctl != nil {
		l.parent = ctl.uid
		if p := ctl.ftp(); p != nil {
			p.dataOpened(c.uid, l)
		}
	}
	t.links[c] = l
	if c.st == nil || c.st.parser == nil {
		c.app = "FTP-DATA"
	}
}

// ftp returns the FTP parser of a control connection, or nil.
func (c *conn) ftp() *ftpParser {
	if c.st == nil {
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
