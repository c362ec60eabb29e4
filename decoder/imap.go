package decoder

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/netcap/netcap/types"
)

// IMAP (RFC 9051, RFC 3501): the client sends tagged commands, the server
// answers with untagged data ("* ..."), continuation requests ("+ ...")
// and a tagged completion (OK, NO, BAD) per command. Strings may be sent as
// literals: "{n}" at a line's end, then n bytes, then the line goes on.
// The parser makes one IMAP record per session: commands and their
// completion results (paired by tag), the user, the selected mailboxes and
// the messages of FETCH literals that hold a whole message or its header
// (BODY[], BODY[HEADER...], RFC822, RFC822.HEADER), read by mailReader
// without holding them; and a Credentials record per LOGIN or AUTHENTICATE
// PLAIN/LOGIN. After an OK to STARTTLS the rest is TLS, read by an
// Upgrade (the TLS hellos; the Connection says "IMAP/TLS").
//
// Detection is by content on any port: a server greeting "* OK" or
// "* PREAUTH", or a client whose first line is a tag and CAPABILITY,
// LOGIN, AUTHENTICATE or STARTTLS.

// imapMaxLiteralKept bounds a client literal kept as a command argument
// (a LOGIN user or password); longer ones are skipped.
const imapMaxLiteralKept = 1024

func init() {
	RegisterStream(StreamProtocol{
		Name: "IMAP",
		// With the TLS hellos of what follows an accepted STARTTLS (or
		// CONNECT): selecting them must run this parser.
		Records: []types.Type{types.Type_NC_IMAP, types.Type_NC_Credentials, types.Type_NC_File, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectIMAP,
		New:     func() StreamParser { return &imapParser{} },
	})
}

func detectIMAP(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if !fromClient {
		return detectWord(first, "* OK", "* PREAUTH")
	}
	sp := bytes.IndexByte(first, ' ')
	if sp < 0 {
		if len(first) > 32 || !imapAtom(first) {
			return DetectNo
		}
		return DetectMore
	}
	if sp == 0 || sp > 32 || !imapAtom(first[:sp]) {
		return DetectNo
	}
	return detectWord(first[sp+1:], "CAPABILITY\r\n", "CAPABILITY\n", "LOGIN ", "AUTHENTICATE ", "STARTTLS\r\n", "STARTTLS\n")
}

// imapAtom says whether b is made of tag characters (letters, digits and
// the punctuation tags use).
func imapAtom(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// imapPending is a command waiting for its tagged completion.
type imapPending struct {
	idx  int // index in Commands; -1 when the list was full
	name string
	cred *types.Credentials
}

// imapParser reads one IMAP connection.
type imapParser struct {
	r       types.IMAP
	started bool
	pending map[string]imapPending
	files   []*types.File // File records of the messages read, to emit
	// the chunk being fed, for the File records of messages it starts
	chunkTS, chunkFrame int64

	cli, srv         mailLine
	cliOff, srvOff   int64
	cliStop, srvStop bool
	cliSeen, srvSeen bool

	// The client command being assembled over literals.
	cmdText   []byte   // the command as shown (literals as {n}), bounded
	cmdTokens []string // its tokens, literals included when short
	cmdTS     int64
	cmdFrame  int64
	cmdOpen   bool
	cliLit    int64  // literal bytes of the client still to come
	litKeep   []byte // a short literal being kept
	litKept   bool

	authTag  string // an AUTHENTICATE in progress
	authMech string
	authStep int
	auth     *types.Credentials
	creds    credList

	srvLit int64       // literal bytes of the server still to come
	srvMsg *mailReader // the message that literal holds

	tlsTag                string
	tlsAt, tlsCli, tlsSrv int64
	upgraded              bool
	inner                 *Upgrade // what follows an accepted STARTTLS (TLS)
}

// Inner names the protocol after an accepted STARTTLS (TLS), or "": the
// Connection record then says "IMAP/TLS".
func (p *imapParser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *imapParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	if !p.started {
		p.started = true
		p.r.Timestamp, p.r.FrameNumber = c.Timestamp, c.Frame
		p.pending = map[string]imapPending{}
	}
	p.chunkTS, p.chunkFrame = c.Timestamp, c.Frame
	if c.FromClient {
		p.feedClient(c, conn, s)
	} else {
		p.feedServer(c, conn, s)
	}
	emitFiles(&p.files, s)
}

func (p *imapParser) feedClient(c *Chunk, conn *ConnInfo, s Sink) {
	if p.cliStop {
		return
	}
	p.cliOff += int64(c.Missed)
	if c.Missed > 0 && p.cliSeen {
		p.r.Incomplete, p.cliStop = true, true
		conn.count().GaveUp++
		return
	}
	p.cliSeen = true
	data := c.Data
	for len(data) > 0 && !p.cliStop {
		if p.cliLit > 0 {
			n := int(min(int64(len(data)), p.cliLit))
			if p.litKept {
				p.litKeep = append(p.litKeep, data[:n]...)
			}
			p.cliLit -= int64(n)
			p.cliOff += int64(n)
			data = data[n:]
			if p.cliLit == 0 && p.litKept {
				p.cmdTokens = append(p.cmdTokens, string(p.litKeep))
				p.litKeep, p.litKept = nil, false
			}
			continue
		}
		line, _, ok, rest := p.cli.next(data)
		p.cliOff += int64(len(data) - len(rest))
		if !ok {
			return
		}
		data = rest
		p.clientLine(string(line), c, conn, s)
	}
}

// imapLiteral returns the size of the literal a line ends with ("{n}" or
// "{n+}"), and the line without it; -1 when it ends with none.
func imapLiteral(line string) (int64, string) {
	if !strings.HasSuffix(line, "}") {
		return -1, line
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return -1, line
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(line[i+1:len(line)-1], "+"), 10, 64)
	if err != nil || n < 0 {
		return -1, line
	}
	return n, line[:i]
}

// clientLine handles one client line: a SASL response, or a piece of a
// command (a command goes on after each literal).
func (p *imapParser) clientLine(line string, c *Chunk, conn *ConnInfo, s Sink) {
	if p.authTag != "" && !p.cmdOpen {
		p.authLine(line)
		return
	}
	if !p.cmdOpen {
		if strings.EqualFold(line, "DONE") {
			return // the end of an IDLE
		}
		p.cmdOpen = true
		p.cmdText, p.cmdTokens = p.cmdText[:0], p.cmdTokens[:0]
		p.cmdTS, p.cmdFrame = c.Timestamp, c.Frame
	}
	if len(p.cmdText)+len(line) <= mailMaxCmdLine {
		p.cmdText = append(p.cmdText, line...)
	}
	n, text := imapLiteral(line)
	if len(p.cmdTokens) < 64 {
		p.cmdTokens = append(p.cmdTokens, imapTokens(text)...)
	}
	if n >= 0 {
		p.cliLit = n
		p.litKept = n <= imapMaxLiteralKept && len(p.cmdTokens) < 64
		if n == 0 && p.litKept {
			p.cmdTokens = append(p.cmdTokens, "")
			p.litKept = false
		}
		return
	}
	p.cmdOpen = false
	p.command(conn, s)
}

// imapTokens splits command text into atoms and quoted strings (quotes and
// escapes removed); parentheses and brackets stay in the atoms.
func imapTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ':
			i++
		case s[i] == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			out = append(out, b.String())
			i = j + 1
		default:
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, s[i:i+j])
			i += j
		}
	}
	return out
}

// command handles a whole client command.
func (p *imapParser) command(conn *ConnInfo, s Sink) {
	tok := p.cmdTokens
	if len(tok) < 2 {
		return
	}
	tag, name := tok[0], strings.ToUpper(tok[1])
	args := tok[2:]
	shown := strings.TrimSpace(strings.TrimPrefix(string(p.cmdText), tag))
	if i := strings.IndexByte(shown, ' '); i > 0 {
		shown = name + shown[i:]
	} else {
		shown = name
	}
	var cred *types.Credentials
	newCred := func(mech string) *types.Credentials {
		return p.creds.newCred("IMAP", mech, p.cmdTS, p.cmdFrame, conn, s)
	}
	switch name {
	case "LOGIN":
		cred = newCred("LOGIN")
		if len(args) > 0 {
			cred.User = mailItem(args[0])
			p.r.User = cred.User
		}
		if len(args) > 1 {
			cred.Password = mailItem(args[1])
		}
		shown = "LOGIN " + cred.User
	case "AUTHENTICATE":
		mech := ""
		if len(args) > 0 {
			mech = strings.ToUpper(args[0])
		}
		shown = strings.TrimSpace("AUTHENTICATE " + mech)
		p.authTag, p.authMech, p.authStep, p.auth = tag, mech, 0, nil
		if mech == "PLAIN" || mech == "LOGIN" {
			cred = newCred("AUTHENTICATE " + mech)
			p.auth = cred
		}
		if len(args) > 1 {
			p.authLine(args[1]) // SASL-IR initial response
		}
	case "SELECT", "EXAMINE":
		if len(args) > 0 && len(p.r.Mailboxes) < mailMaxList {
			p.r.Mailboxes = append(p.r.Mailboxes, mailItem(args[0]))
		}
	case "STARTTLS":
		p.tlsTag, p.tlsAt = tag, p.cliOff
	}
	idx := -1
	if len(p.r.Commands) < mailMaxList {
		idx = len(p.r.Commands)
		p.r.Commands = append(p.r.Commands, mailItem(shown))
		p.r.Responses = append(p.r.Responses, "")
	}
	if len(p.pending) < mailMaxList {
		p.pending[tag] = imapPending{idx: idx, name: name, cred: cred}
	}
}

// authLine takes one SASL response line of an AUTHENTICATE exchange.
func (p *imapParser) authLine(line string) {
	p.authStep++
	c := p.auth
	if line == "*" || p.authStep > 4 {
		p.authTag, p.auth = "", nil // cancelled, or not an exchange this parser knows
		return
	}
	if c == nil {
		return
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		p.auth = nil
		return
	}
	switch p.authMech {
	case "PLAIN":
		c.Material, c.User, c.Password = saslPlain(dec)
		p.r.User = c.User
		p.auth = nil
	case "LOGIN":
		if c.User == "" {
			c.User = mailItem(string(dec))
			p.r.User = c.User
			return
		}
		c.Password = mailItem(string(dec))
		p.auth = nil
	}
}

func (p *imapParser) feedServer(c *Chunk, conn *ConnInfo, s Sink) {
	if p.srvStop {
		return
	}
	p.srvOff += int64(c.Missed)
	if c.Missed > 0 && p.srvSeen {
		p.r.Incomplete, p.srvStop = true, true
		if p.srvMsg != nil {
			p.addMessage(true)
		}
		conn.count().GaveUp++
		return
	}
	p.srvSeen = true
	data := c.Data
	for len(data) > 0 && !p.srvStop {
		if p.srvLit > 0 {
			n := int(min(int64(len(data)), p.srvLit))
			if p.srvMsg != nil {
				p.srvMsg.Write(data[:n])
			}
			p.srvLit -= int64(n)
			p.srvOff += int64(n)
			data = data[n:]
			if p.srvLit == 0 && p.srvMsg != nil {
				p.addMessage(false)
			}
			continue
		}
		line, _, ok, rest := p.srv.next(data)
		p.srvOff += int64(len(data) - len(rest))
		if !ok {
			return
		}
		data = rest
		p.serverLine(string(line), conn, s)
		if p.upgraded {
			// The rest is TLS: the Upgrade finds its hellos.
			p.inner = upgradeFrom(c, data, conn, s)
			return
		}
	}
}

// addMessage ends the message of a FETCH literal and keeps it.
func (p *imapParser) addMessage(incomplete bool) {
	keepMessage(p.srvMsg, incomplete, &p.r.Messages, &p.files)
	p.srvMsg = nil
}

// imapMessageItem says whether a FETCH item name before a literal holds a
// whole message or its header: BODY[], BODY[HEADER], BODY[HEADER.FIELDS
// (...)], RFC822, RFC822.HEADER, BINARY[] (a partial "<n>" origin allowed).
func imapMessageItem(text string) bool {
	text = strings.TrimRight(text, " ")
	if strings.HasSuffix(text, ">") {
		if i := strings.LastIndexByte(text, '<'); i >= 0 {
			text = text[:i]
		}
	}
	up := strings.ToUpper(text)
	if strings.HasSuffix(up, "RFC822") || strings.HasSuffix(up, "RFC822.HEADER") {
		return true
	}
	if !strings.HasSuffix(up, "]") {
		return false
	}
	i := max(strings.LastIndex(up, "BODY["), strings.LastIndex(up, "BINARY["))
	if i < 0 {
		return false
	}
	section := up[strings.IndexByte(up[i:], '[')+i+1 : len(up)-1]
	return section == "" || strings.HasPrefix(section, "HEADER")
}

// serverLine handles one server line (up to a literal, when it ends with one).
func (p *imapParser) serverLine(line string, conn *ConnInfo, s Sink) {
	if n, text := imapLiteral(line); n >= 0 {
		p.srvLit = n
		if imapMessageItem(text) {
			p.srvMsg = newMailFile("IMAP", &Chunk{Timestamp: p.chunkTS, Frame: p.chunkFrame}, conn)
			if n == 0 {
				p.addMessage(false)
			}
		}
		return
	}
	tag, rest, _ := strings.Cut(line, " ")
	status, _, _ := strings.Cut(rest, " ")
	status = strings.ToUpper(status)
	switch tag {
	case "*":
		if p.r.Greeting == "" && len(p.r.Commands) == 0 && (status == "OK" || status == "PREAUTH" || status == "BYE") {
			p.r.Greeting = mailItem(rest)
		}
		return
	case "+", "":
		return
	}
	q, ok := p.pending[tag]
	if !ok || status != "OK" && status != "NO" && status != "BAD" {
		return
	}
	delete(p.pending, tag)
	if q.idx >= 0 {
		p.r.Responses[q.idx] = status
	}
	if tag == p.authTag {
		p.authTag, p.auth = "", nil
	}
	if q.cred != nil {
		p.creds.answer(q.cred, status == "OK", conn, s)
	}
	if q.name == "STARTTLS" && status == "OK" && tag == p.tlsTag {
		p.r.StartTLS, p.upgraded = true, true
		p.tlsCli, p.tlsSrv = p.tlsAt, p.srvOff
		p.cliStop, p.srvStop = true, true
	}
}

// Close implements StreamParser.
func (p *imapParser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	if p.srvMsg != nil {
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
	s.Emit(types.Type_NC_IMAP, r)
	p.started = false
	p.pending = nil
}
