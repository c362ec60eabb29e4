package decoder

import (
	"encoding/base64"
	"strings"

	"github.com/netcap/netcap/types"
)

// POP3 (RFC 1939, RFC 2449, RFC 5034): the client sends command lines, the
// server answers each with "+OK" or "-ERR" and, for some commands (CAPA,
// LIST and UIDL without an argument, RETR, TOP, AUTH without a mechanism),
// lines up to one holding a single dot, with dots of transparency as in
// SMTP. With PIPELINING (RFC 2449) replies are paired with commands in
// order. The parser makes one POP3 record per session, with the messages
// of RETR and TOP read by mailReader without holding them, and a
// Credentials record per USER/PASS, APOP or AUTH PLAIN/LOGIN login. After
// a +OK to STLS the rest is TLS, read by an Upgrade (the TLS hellos; the
// Connection says "POP3/TLS").
//
// Detection is by content on any port: a server that starts with "+OK" and
// text,
// or a client that starts with APOP, CAPA or STLS (not USER, which FTP
// clients send first too).

func init() {
	RegisterStream(StreamProtocol{
		Name: "POP3",
		// With the TLS hellos of what follows an accepted STARTTLS (or
		// CONNECT): selecting them must run this parser.
		Records: []types.Type{types.Type_NC_POP3, types.Type_NC_Credentials, types.Type_NC_File, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectPOP3,
		New:     func() StreamParser { return &pop3Parser{} },
	})
}

func detectPOP3(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if fromClient {
		// Not USER: FTP clients start with it too.
		return detectWord(first, "APOP ", "CAPA\r\n", "CAPA\n", "STLS\r\n", "STLS\n")
	}
	// "+OK" and text: a Redis server's bare "+OK" reply is not a greeting.
	if v := detectWord(first, "+OK "); v != DetectYes {
		return v
	}
	if len(first) == len("+OK ") {
		return DetectMore
	}
	if first[4] == '\r' || first[4] == '\n' {
		return DetectNo
	}
	return DetectYes
}

// pop3Pending is a command waiting for its reply.
type pop3Pending struct {
	idx  int    // index in Commands; -1 when the list was full
	verb string // upper case
	arg  string
	cred *types.Credentials
}

// pop3Parser reads one POP3 connection.
type pop3Parser struct {
	r       types.POP3
	started bool
	pending []pop3Pending

	cli, srv         mailLine
	cliOff, srvOff   int64
	cliStop, srvStop bool
	cliSeen, srvSeen bool

	multi bool        // reading a multi-line reply
	block dotBlock    // its framing
	msg   *mailReader // the message of a RETR or TOP reply

	auth     *types.Credentials // an AUTH exchange in progress
	authMech string
	authStep int
	user     *types.Credentials // USER sent, PASS to come
	creds    credList
	files    []*types.File // File records of the messages read, to emit
	// the chunk being fed, for the File records of messages it starts
	chunkTS, chunkFrame int64

	stlsAt, tlsCli, tlsSrv int64
	upgraded               bool
	inner                  *Upgrade // what follows an accepted STLS (TLS)
}

// Inner names the protocol after an accepted STLS (TLS), or "": the
// Connection record then says "POP3/TLS".
func (p *pop3Parser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *pop3Parser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	if !p.started {
		p.started = true
		p.r.Timestamp, p.r.FrameNumber = c.Timestamp, c.Frame
	}
	p.chunkTS, p.chunkFrame = c.Timestamp, c.Frame
	if c.FromClient {
		p.feedClient(c, conn, s)
	} else {
		p.feedServer(c, conn, s)
	}
	emitFiles(&p.files, s)
}

// gap handles missed bytes of one side: bytes the engine dropped before
// choosing the parser are no harm; later ones end that side's reading.
func (p *pop3Parser) gap(c *Chunk, conn *ConnInfo, seen bool) bool {
	if c.Missed == 0 || !seen {
		return false
	}
	p.r.Incomplete = true
	conn.count().GaveUp++
	return true
}

func (p *pop3Parser) feedClient(c *Chunk, conn *ConnInfo, s Sink) {
	if p.cliStop {
		return
	}
	p.cliOff += int64(c.Missed)
	if p.gap(c, conn, p.cliSeen) {
		p.cliStop = true
		return
	}
	p.cliSeen = true
	data := c.Data
	for len(data) > 0 && !p.cliStop {
		line, _, ok, rest := p.cli.next(data)
		p.cliOff += int64(len(data) - len(rest))
		if !ok {
			return
		}
		data = rest
		p.command(string(line), c, conn, s)
	}
}

// command handles one client line.
func (p *pop3Parser) command(line string, c *Chunk, conn *ConnInfo, s Sink) {
	if p.auth != nil || p.authMech != "" {
		p.authLine(line)
		return
	}
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	cmd := verb
	var cred *types.Credentials
	newCred := func(mech string) *types.Credentials {
		return p.creds.newCred("POP3", mech, c.Timestamp, c.Frame, conn, s)
	}
	switch verb {
	case "USER":
		cmd = line
		p.r.User = mailItem(arg)
		p.user = newCred("USER/PASS")
		p.user.User = p.r.User
		p.user.Timestamp, p.user.FrameNumber = c.Timestamp, c.Frame
	case "PASS":
		cred = p.user
		if cred == nil {
			cred = newCred("USER/PASS")
		}
		cred.Password = mailItem(arg)
		p.user = nil
	case "APOP":
		name, digest, _ := strings.Cut(strings.TrimSpace(arg), " ")
		cmd = "APOP " + name
		p.r.User = mailItem(name)
		cred = newCred("APOP")
		cred.User, cred.Material = p.r.User, mailItem(strings.TrimSpace(digest))
	case "AUTH":
		mech, initial, _ := strings.Cut(strings.TrimSpace(arg), " ")
		mech = strings.ToUpper(mech)
		cmd = strings.TrimSpace("AUTH " + mech)
		if mech != "" {
			p.authMech, p.authStep = mech, 0
			if mech == "PLAIN" || mech == "LOGIN" {
				cred = newCred("AUTH " + mech)
				p.auth = cred
			}
			if initial = strings.TrimSpace(initial); initial != "" {
				p.authLine(initial)
			}
		}
	case "STLS":
		p.stlsAt = p.cliOff
	default:
		cmd = line
	}
	idx := -1
	if len(p.r.Commands) < mailMaxList {
		idx = len(p.r.Commands)
		p.r.Commands = append(p.r.Commands, mailItem(cmd))
		p.r.Responses = append(p.r.Responses, "")
	}
	if len(p.pending) >= mailMaxList {
		p.pending = p.pending[1:]
	}
	p.pending = append(p.pending, pop3Pending{idx: idx, verb: verb, arg: strings.TrimSpace(arg), cred: cred})
}

// authLine takes one SASL response line of an AUTH exchange.
func (p *pop3Parser) authLine(line string) {
	p.authStep++
	c := p.auth
	if line == "*" || p.authStep > 4 {
		p.auth, p.authMech = nil, "" // cancelled, or not an exchange this parser knows
		return
	}
	if c == nil {
		return // another mechanism: its lines end with the final reply
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		p.auth, p.authMech = nil, ""
		return
	}
	switch p.authMech {
	case "PLAIN":
		c.Material, c.User, c.Password = saslPlain(dec)
		p.r.User = c.User
		p.auth, p.authMech = nil, ""
	case "LOGIN":
		if p.authStep == 1 {
			c.User = mailItem(string(dec))
			p.r.User = c.User
			return
		}
		c.Password = mailItem(string(dec))
		p.auth, p.authMech = nil, ""
	}
}

func (p *pop3Parser) feedServer(c *Chunk, conn *ConnInfo, s Sink) {
	if p.srvStop {
		return
	}
	p.srvOff += int64(c.Missed)
	if p.gap(c, conn, p.srvSeen) {
		if p.msg != nil {
			p.addMessage(true)
		}
		p.srvStop = true
		return
	}
	p.srvSeen = true
	data := c.Data
	for len(data) > 0 && !p.srvStop {
		if p.multi {
			out := func([]byte) {}
			if p.msg != nil {
				out = p.msg.Write
			}
			n, done := p.block.feed(data, out)
			p.srvOff += int64(n)
			data = data[n:]
			if done {
				p.multi = false
				if p.msg != nil {
					p.addMessage(false)
				}
			}
			continue
		}
		line, _, ok, rest := p.srv.next(data)
		p.srvOff += int64(len(data) - len(rest))
		if !ok {
			return
		}
		data = rest
		p.reply(string(line), conn, s)
		if p.upgraded {
			// The rest is TLS: the Upgrade finds its hellos.
			p.inner = upgradeFrom(c, data, conn, s)
			return
		}
	}
}

// addMessage ends the message being read and keeps it.
func (p *pop3Parser) addMessage(incomplete bool) {
	keepMessage(p.msg, incomplete, &p.r.Messages, &p.files)
	p.msg = nil
}

// reply handles one status line of the server.
func (p *pop3Parser) reply(line string, conn *ConnInfo, s Sink) {
	status, text, _ := strings.Cut(line, " ")
	switch status {
	case "+OK", "-ERR", "+":
	default:
		return // not a status line
	}
	if len(p.pending) == 0 {
		if status == "+OK" && p.r.Greeting == "" && len(p.r.Commands) == 0 {
			p.r.Greeting = mailItem(text)
		}
		return
	}
	q := p.pending[0]
	if status == "+" {
		if q.idx >= 0 {
			p.r.Responses[q.idx] = "+"
		}
		return // an AUTH challenge: the exchange goes on
	}
	p.pending = p.pending[1:]
	if q.idx >= 0 {
		p.r.Responses[q.idx] = status
	}
	if q.verb == "AUTH" {
		p.auth, p.authMech = nil, ""
	}
	if q.cred != nil {
		p.creds.answer(q.cred, status == "+OK", conn, s)
	}
	if status != "+OK" {
		return
	}
	switch q.verb {
	case "RETR", "TOP":
		p.multi, p.block, p.msg = true, newDotBlock(), newMailFile("POP3", &Chunk{Timestamp: p.chunkTS, Frame: p.chunkFrame}, conn)
	case "CAPA":
		p.multi, p.block = true, newDotBlock()
	case "LIST", "UIDL", "AUTH":
		if q.arg == "" {
			p.multi, p.block = true, newDotBlock()
		}
	case "STLS":
		p.r.STLS, p.upgraded = true, true
		p.tlsCli, p.tlsSrv = p.stlsAt, p.srvOff
		p.cliStop, p.srvStop = true, true
	}
}

// Close implements StreamParser.
func (p *pop3Parser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	if p.msg != nil {
		p.addMessage(true)
		p.r.Incomplete = true
	}
	p.creds.flush(conn, s)
	emitFiles(&p.files, s)
	if !p.started {
		return
	}
	r := &p.r
	r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort
	r.FlowID = conn.FlowID
	s.Emit(types.Type_NC_POP3, r)
	p.started = false
	p.pending, p.msg = nil, nil
}
