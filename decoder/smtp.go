package decoder

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/netcap/netcap/types"
)

// SMTP (RFC 5321): the client sends command lines, the server answers each
// with a reply (a three-digit code, "-" on every line but the last). With
// PIPELINING (RFC 2920) a client sends several commands before the replies
// come, so replies are paired with commands in order. A message follows
// DATA (after the server's 354) up to a line holding a single dot, with a
// dot doubled at the start of a line (transparency); or it follows BDAT
// commands (RFC 3030) as chunks of a stated length, the last one marked
// LAST. The parser makes one SMTP record per transaction (MAIL to the next
// MAIL, RSET, HELO/EHLO or the end of the connection; what a session says
// before its first MAIL belongs to the first record), reads the message
// with mailReader without holding it, and one Credentials record per AUTH
// PLAIN or LOGIN. After a 220 reply to STARTTLS both directions are TLS:
// an Upgrade reads them (the TLS hellos; the Connection says "SMTP/TLS"),
// and the record gives the byte offset where TLS starts in each direction.
//
// Detection is by content on any port: a server greeting "220" whose line
// names SMTP or ESMTP, or a client that starts with HELO or EHLO.

func init() {
	RegisterStream(StreamProtocol{
		Name: "SMTP",
		// With the TLS hellos of what follows an accepted STARTTLS (or
		// CONNECT): selecting them must run this parser.
		Records: []types.Type{types.Type_NC_SMTP, types.Type_NC_Credentials, types.Type_NC_File, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectSMTP,
		New:     func() StreamParser { return &smtpParser{} },
	})
}

// detectSMTP accepts a client's HELO or EHLO, or a server's 220 greeting
// that says SMTP before its last line ends (FTP servers greet with 220
// too, and do not say SMTP; for another 220 greeting it asks for more, so
// that the client's first line decides).
func detectSMTP(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if fromClient {
		return detectWord(first, "EHLO ", "HELO ", "EHLO\r\n", "HELO\r\n", "EHLO\n", "HELO\n")
	}
	const prefix = "220"
	n := min(len(first), len(prefix))
	if string(first[:n]) != prefix[:n] {
		return DetectNo
	}
	if len(first) <= len(prefix) {
		return DetectMore
	}
	if c := first[len(prefix)]; c != ' ' && c != '-' {
		return DetectNo
	}
	// The greeting up to the end of its last line.
	text := first
	for off := 0; ; {
		i := bytes.IndexByte(text[off:], '\n')
		if i < 0 {
			break
		}
		line := text[off : off+i]
		off += i + 1
		if len(line) < 4 || line[3] != '-' {
			text = text[:off]
			if bytes.Contains(bytes.ToUpper(text), []byte("SMTP")) {
				return DetectYes
			}
			// A greeting that does not say SMTP: the client's HELO or
			// EHLO decides, and the engine keeps the greeting for the
			// parser meanwhile (when it is shorter than StreamDetectMax).
			return DetectMore
		}
	}
	if bytes.Contains(bytes.ToUpper(text), []byte("SMTP")) {
		return DetectYes
	}
	return DetectMore
}

// detectWord accepts first when it starts with one of the words, letters
// in any case; DetectMore while it is a prefix of one.
func detectWord(first []byte, words ...string) Detection {
	v := DetectNo
	for _, w := range words {
		n := min(len(first), len(w))
		if !bytes.EqualFold(first[:n], []byte(w[:n])) {
			continue
		}
		if n == len(w) {
			return DetectYes
		}
		v = DetectMore
	}
	return v
}

// Client modes of the SMTP parser.
const (
	smtpCommand  = iota
	smtpWaitData // DATA sent: its reply decides what the next bytes are
	smtpData     // message lines up to the final dot
	smtpBdat     // a BDAT chunk's bytes
	smtpAuth     // SASL responses of an AUTH exchange
	smtpStop     // the client's bytes are no longer read
)

// smtpTx is a transaction being recorded.
type smtpTx struct {
	r        types.SMTP
	hasMail  bool        // a MAIL was sent: the next MAIL, RSET or HELO/EHLO ends the transaction
	emitted  bool        // recorded: replies that come later no longer change it
	npending int         // its commands still waiting for a reply
	msg      *mailReader // the message being read (DATA or BDAT chunks)
}

// smtpPending is a command waiting for its reply.
type smtpPending struct {
	tx   *smtpTx
	idx  int // index in tx.r.Commands; -1 when the list was full
	verb string
	cred *types.Credentials
}

// smtpParser reads one SMTP connection.
type smtpParser struct {
	cur     *smtpTx       // the transaction commands go to; nil between transactions
	ended   []*smtpTx     // ended transactions waiting for their replies
	pending []smtpPending // commands waiting for their reply, in order

	greeting   string // the server's first reply
	greeted    bool   // that reply was read to its last line
	helo       string // the last HELO/EHLO argument, for the next transactions
	ehlo       bool
	tlsOffered bool // an EHLO reply listed STARTTLS

	cli, srv            mailLine
	cliOff, srvOff      int64         // bytes of each direction read (missed ones included)
	cliSeen, srvSeen    bool          // a byte of the direction was read (a later gap is a loss)
	files               []*types.File // File records of the messages read, to emit
	srvStop             bool          // the server's bytes are no longer read
	mode                int           // what the client's next bytes are (smtpCommand, ...)
	dot                 dotBlock
	bdatLeft            int64 // bytes of the BDAT chunk still to come
	bdatLast            bool  // that chunk ends the message
	authMech            string
	authLines           int                // SASL response lines read in this AUTH exchange
	cred                *types.Credentials // the login the exchange fills
	creds               credList
	tlsCli, tlsSrv      int64 // where TLS starts after an accepted STARTTLS
	upgraded            bool
	tlsCliAt            int64    // the client's offset after its STARTTLS line
	chunkTS, chunkFrame int64    // time and frame of the chunk being read
	inner               *Upgrade // what follows an accepted STARTTLS (TLS)
}

// Inner names the protocol after an accepted STARTTLS (TLS), or "": the
// Connection record then says "SMTP/TLS".
func (p *smtpParser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *smtpParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	p.chunkTS, p.chunkFrame = c.Timestamp, c.Frame
	if c.FromClient {
		p.feedClient(c, conn, s)
	} else {
		p.feedServer(c, conn, s)
	}
	emitFiles(&p.files, s)
}

// tx returns the transaction commands go to, making it when needed.
func (p *smtpParser) tx() *smtpTx {
	if p.cur == nil {
		p.cur = &smtpTx{}
		p.cur.r.Timestamp, p.cur.r.FrameNumber = p.chunkTS, p.chunkFrame
		p.cur.r.Helo, p.cur.r.Ehlo = p.helo, p.ehlo
	}
	return p.cur
}

// endTx ends the current transaction; it is recorded once its replies are in.
func (p *smtpParser) endTx(conn *ConnInfo, s Sink) {
	t := p.cur
	if t == nil {
		return
	}
	p.cur = nil
	p.finishMessage(t, true)
	p.ended = append(p.ended, t)
	p.flush(conn, s, false)
}

// finishMessage ends the transaction's message, if it has one open.
func (p *smtpParser) finishMessage(t *smtpTx, incomplete bool) {
	if t.msg != nil {
		t.r.Message = t.msg.Finish(incomplete)
		p.files = append(p.files, t.msg.Files...)
		t.msg = nil
		if incomplete {
			t.r.Incomplete = true
		}
	}
}

// flush records the ended transactions whose replies are all in (all of
// them when force is set, or when too many wait).
func (p *smtpParser) flush(conn *ConnInfo, s Sink, force bool) {
	kept := p.ended[:0]
	for i, t := range p.ended {
		if force || t.npending <= 0 || len(p.ended)-i > 16 {
			p.emit(t, conn, s)
			continue
		}
		kept = append(kept, t)
	}
	clear(p.ended[len(kept):])
	p.ended = kept
}

func (p *smtpParser) emit(t *smtpTx, conn *ConnInfo, s Sink) {
	if t.emitted {
		return
	}
	t.emitted = true
	r := &t.r
	r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort
	r.FlowID = conn.FlowID
	r.Greeting = p.greeting
	r.StartTLSOffered = r.StartTLSOffered || p.tlsOffered
	s.Emit(types.Type_NC_SMTP, r)
}

// Close implements StreamParser.
func (p *smtpParser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	if p.cur != nil {
		if p.mode == smtpWaitData {
			if p.cur.msg != nil && p.cur.msg.file != nil {
				p.cur.msg.file.dropTmp()
			}
			p.cur.msg = nil // DATA sent, no message byte followed
		}
		p.finishMessage(p.cur, p.mode == smtpData || p.mode == smtpBdat)
		p.ended = append(p.ended, p.cur)
		p.cur = nil
	}
	p.flush(conn, s, true)
	p.creds.flush(conn, s)
	emitFiles(&p.files, s)
	p.pending = nil
}

// addCommand records a command of the current transaction and queues it for
// its reply.
func (p *smtpParser) addCommand(cmd, verb string, cred *types.Credentials) {
	t := p.tx()
	idx := -1
	if len(t.r.Commands) < mailMaxList {
		idx = len(t.r.Commands)
		t.r.Commands = append(t.r.Commands, mailItem(cmd))
		t.r.ResponseCodes = append(t.r.ResponseCodes, 0)
	}
	if len(p.pending) >= mailMaxList {
		// Replies lost or never sent: the oldest waits no more.
		p.pending[0].tx.npending--
		p.pending = p.pending[1:]
	}
	t.npending++
	p.pending = append(p.pending, smtpPending{tx: t, idx: idx, verb: verb, cred: cred})
}

func (p *smtpParser) feedClient(c *Chunk, conn *ConnInfo, s Sink) {
	if p.mode == smtpStop {
		return
	}
	if c.Missed > 0 {
		p.cliOff += int64(c.Missed)
		if p.cliSeen {
			// A gap: the transaction lost bytes, and nothing tells where the
			// next command starts.
			if p.cur != nil {
				p.cur.r.Incomplete = true
				p.finishMessage(p.cur, true)
			}
			p.mode = smtpStop
			conn.count().GaveUp++
			return
		}
	}
	if !p.cliSeen && len(c.Data) > 0 && c.Data[0] == tlsRecordHandshake {
		// A client that starts with a TLS record (implicit TLS, port 465,
		// to a server that greets in the clear): no SMTP command starts
		// with that byte; its TLS is read as TLS.
		p.inner = &Upgrade{}
		p.inner.Feed(c, conn, s)
		return
	}
	p.cliSeen = true
	data := c.Data
	for len(data) > 0 && p.mode != smtpStop {
		switch p.mode {
		case smtpData:
			data = p.readData(data)
		case smtpBdat:
			n := int(min(int64(len(data)), p.bdatLeft))
			p.tx().msg.Write(data[:n])
			p.bdatLeft -= int64(n)
			p.cliOff += int64(n)
			data = data[n:]
			if p.bdatLeft == 0 {
				if p.bdatLast {
					p.finishMessage(p.tx(), false)
				}
				p.mode = smtpCommand
			}
		case smtpWaitData:
			// The reply to DATA came before these bytes (capture order): a
			// 354 or no reply captured lets the message in, another code
			// means the client goes on with commands.
			p.mode, p.dot = smtpData, newDotBlock()
			if code := p.dataReplyCode(); code != 0 && code != 354 {
				p.mode = smtpCommand
				p.tx().msg = nil
			}
		default:
			line, _, ok, rest := p.cli.next(data) // a longer line is read cut: its verb is at its start
			p.cliOff += int64(len(data) - len(rest))
			if !ok {
				return
			}
			data = rest
			if p.mode == smtpAuth {
				p.authResponse(string(line))
				continue
			}
			p.command(string(line), conn, s)
		}
	}
}

// dataReplyCode is the code of the last reply to DATA; 0 when none came.
func (p *smtpParser) dataReplyCode() int32 {
	t := p.tx()
	for i := len(t.r.Commands) - 1; i >= 0; i-- {
		if t.r.Commands[i] == "DATA" {
			return t.r.ResponseCodes[i]
		}
	}
	return 0
}

// readData consumes message bytes up to the final dot; it returns the rest.
func (p *smtpParser) readData(data []byte) []byte {
	n, done := p.dot.feed(data, p.tx().msg.Write)
	p.cliOff += int64(n)
	if done {
		p.endData()
	}
	return data[n:]
}

// endData ends a DATA message; its reply is queued as the command ".".
func (p *smtpParser) endData() {
	p.mode = smtpCommand
	p.finishMessage(p.tx(), false)
	p.addCommand(".", ".", nil)
}

// command handles one client command line.
func (p *smtpParser) command(line string, conn *ConnInfo, s Sink) {
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	if len(verb) > 16 || verb == "" {
		p.addCommand(line, "", nil)
		return
	}
	cmd := verb
	if arg != "" {
		cmd += " " + arg
	}
	switch verb {
	case "HELO", "EHLO":
		if p.cur != nil && p.cur.hasMail {
			p.endTx(conn, s)
		}
		p.helo, p.ehlo = mailItem(strings.TrimSpace(arg)), verb == "EHLO"
		t := p.tx()
		t.r.Helo, t.r.Ehlo = p.helo, p.ehlo
	case "MAIL":
		if p.cur != nil && p.cur.hasMail {
			p.endTx(conn, s)
		}
		t := p.tx()
		t.hasMail = true
		path, params := smtpPath(arg, "FROM:")
		t.r.MailFrom = mailItem(path)
		for _, prm := range strings.Fields(params) {
			if k, v, ok := strings.Cut(prm, "="); ok && strings.EqualFold(k, "SIZE") {
				t.r.DeclaredSize, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	case "RCPT":
		t := p.tx()
		if path, _ := smtpPath(arg, "TO:"); len(t.r.RcptTo) < mailMaxList {
			t.r.RcptTo = append(t.r.RcptTo, mailItem(path))
		}
	case "DATA":
		t := p.tx()
		t.msg = newMailFile("SMTP", &Chunk{FromClient: true, Timestamp: p.chunkTS, Frame: p.chunkFrame}, conn)
		p.addCommand(cmd, verb, nil)
		p.mode = smtpWaitData
		return
	case "BDAT":
		f := strings.Fields(arg)
		n, err := int64(0), error(nil)
		if len(f) > 0 {
			n, err = strconv.ParseInt(f[0], 10, 64)
		}
		if len(f) == 0 || len(f) > 2 || err != nil || n < 0 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
			break // not BDAT's syntax: servers refuse it without reading a chunk
		}
		t := p.tx()
		t.r.Bdat = true
		if t.msg == nil {
			t.msg = newMailFile("SMTP", &Chunk{FromClient: true, Timestamp: p.chunkTS, Frame: p.chunkFrame}, conn)
		}
		p.addCommand(cmd, verb, nil)
		p.bdatLeft, p.bdatLast = n, len(f) > 1 && strings.EqualFold(f[1], "LAST")
		switch {
		case n > 0:
			p.mode = smtpBdat
		case p.bdatLast:
			p.finishMessage(t, false)
		}
		return
	case "RSET":
		p.addCommand(cmd, verb, nil)
		if p.cur != nil && p.cur.hasMail {
			p.endTx(conn, s)
		}
		return
	case "STARTTLS":
		p.addCommand(cmd, verb, nil)
		p.tlsCliAt = p.cliOff
		return
	case "AUTH":
		mech, initial, _ := strings.Cut(strings.TrimSpace(arg), " ")
		mech = strings.ToUpper(mech)
		t := p.tx()
		t.r.AuthMechanism = mailItem(mech)
		p.authMech, p.authLines = mech, 0
		var cred *types.Credentials
		if mech == "PLAIN" || mech == "LOGIN" {
			cred = p.creds.newCred("SMTP", "AUTH "+mech, p.chunkTS, p.chunkFrame, conn, s)
			p.cred = cred
		}
		p.addCommand("AUTH "+mech, verb, cred)
		p.mode = smtpAuth
		if initial = strings.TrimSpace(initial); initial != "" {
			p.authResponse(initial)
		}
		return
	}
	p.addCommand(cmd, verb, nil)
}

// authResponse takes one SASL response line of AUTH PLAIN or LOGIN.
func (p *smtpParser) authResponse(line string) {
	p.authLines++
	if line == "*" || p.authLines > 4 {
		p.mode = smtpCommand // cancelled, or not an exchange this parser knows
		p.cred = nil
		return
	}
	c := p.cred
	if c == nil {
		return // another mechanism: its lines end with the final reply
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil && line != "=" {
		// Not base64: not a SASL response; back to commands.
		p.mode, p.cred = smtpCommand, nil
		return
	}
	switch p.authMech {
	case "PLAIN":
		c.Material, c.User, c.Password = saslPlain(dec)
		p.mode, p.cred = smtpCommand, nil
	case "LOGIN":
		if c.User == "" && p.authLines == 1 {
			c.User = mailItem(string(dec))
			return
		}
		c.Password = mailItem(string(dec))
		p.mode, p.cred = smtpCommand, nil
	}
}

// saslPlain splits a PLAIN response: authzid NUL authcid NUL passwd.
func saslPlain(b []byte) (authz, user, pass string) {
	f := strings.SplitN(string(b), "\x00", 3)
	if len(f) < 3 {
		return "", mailItem(string(b)), ""
	}
	return mailItem(f[0]), mailItem(f[1]), mailItem(f[2])
}

// smtpPath returns the path of "FROM:<path> params" without brackets, and
// the parameters.
func smtpPath(arg, key string) (path, params string) {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(key) && strings.EqualFold(arg[:len(key)], key) {
		arg = strings.TrimSpace(arg[len(key):])
	}
	if strings.HasPrefix(arg, "<") {
		if i := strings.IndexByte(arg, '>'); i >= 0 {
			return arg[1:i], arg[i+1:]
		}
	}
	path, params, _ = strings.Cut(arg, " ")
	return path, params
}

func (p *smtpParser) feedServer(c *Chunk, conn *ConnInfo, s Sink) {
	if p.srvStop {
		return
	}
	data := c.Data
	p.srvOff += int64(c.Missed)
	if c.Missed > 0 && p.srvSeen {
		// Replies lost: the commands waiting cannot be paired any more;
		// the bytes up to the next line feed are the rest of a line.
		for _, q := range p.pending {
			q.tx.npending--
			q.tx.r.Incomplete = true
		}
		p.pending = nil
		p.srv = mailLine{}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			p.srvOff += int64(len(data))
			return
		}
		p.srvOff += int64(i + 1)
		data = data[i+1:]
		p.flush(conn, s, false)
	}
	p.srvSeen = true
	for len(data) > 0 && !p.srvStop {
		line, _, ok, rest := p.srv.next(data) // a longer line is read cut: its code is at its start
		p.srvOff += int64(len(data) - len(rest))
		if !ok {
			return
		}
		data = rest
		if len(line) >= 3 {
			p.reply(line, conn, s)
		}
		if p.upgraded {
			// The rest is TLS: the Upgrade finds its hellos.
			p.inner = upgradeFrom(c, data, conn, s)
			return
		}
	}
}

// reply handles one reply line.
func (p *smtpParser) reply(line []byte, conn *ConnInfo, s Sink) {
	code, err := strconv.Atoi(string(line[:3]))
	if err != nil || code < 100 || code > 599 {
		return
	}
	final := len(line) == 3 || line[3] != '-'
	text := ""
	if len(line) > 4 {
		text = string(line[4:])
	}
	if len(p.pending) == 0 {
		if !p.greeted && p.greeting == "" {
			p.greeting = mailItem(text)
			p.tx() // the session's first record starts with the greeting
		}
		if final {
			p.greeted = true
		}
		return
	}
	q := p.pending[0]
	if q.verb == "EHLO" && strings.HasPrefix(strings.ToUpper(text), "STARTTLS") {
		p.tlsOffered = true
		q.tx.r.StartTLSOffered = true
	}
	if !final {
		return
	}
	p.greeted = true
	if q.verb == "AUTH" && code == 334 {
		return // a challenge; the exchange goes on
	}
	p.pending = p.pending[1:]
	q.tx.npending--
	if q.idx >= 0 && !q.tx.emitted {
		q.tx.r.ResponseCodes[q.idx] = int32(code)
	}
	switch q.verb {
	case "AUTH":
		if p.mode == smtpAuth {
			p.mode, p.cred = smtpCommand, nil
		}
		if q.cred != nil {
			p.creds.answer(q.cred, code == 235, conn, s)
		}
	case "STARTTLS":
		if code == 220 {
			q.tx.r.StartTLS = true
			p.upgraded = true
			p.tlsCli, p.tlsSrv = p.tlsCliAt, p.srvOff
			q.tx.r.TLSOffsetClient, q.tx.r.TLSOffsetServer = p.tlsCli, p.tlsSrv
			p.mode, p.srvStop = smtpStop, true
		}
	}
	p.flush(conn, s, false)
}
