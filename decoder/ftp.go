package decoder

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/netcap/netcap/types"
)

// FTP (RFC 959, RFC 2228, RFC 2428): the client sends command lines, the
// server answers each with a three-digit code, on one line or several
// ("150-...", ending with "150 ..."); a 1xx is a preliminary reply and the
// final one follows. The parser makes one FTP record per control
// connection: commands with their final reply codes, the user, the
// working directory, and one transfer entry per RETR, STOR, LIST ... with
// the data connection's address (PASV, EPSV, PORT, EPRT) and the size the
// server announced. USER/PASS make a Credentials record, accepted on 230.
// After a 234 to AUTH TLS the rest is TLS, read by an Upgrade. The data
// connections are other connections, tied to this one by the engine
// (ftpdata.go): each PASV/EPSV reply or PORT/EPRT command opens a slot;
// the data connection opened next and the transfer commands that follow
// belong to it.
//
// Detection is by content: a server greeting "220" that names FTP ("220 "
// alone is also SMTP's); on port 21 any 220 greeting or client command
// line (a capture that missed the greeting).

const ftpMaxTransfers = 256

func init() {
	RegisterStream(StreamProtocol{
		Name: "FTP",
		// With the TLS hellos of what follows an accepted STARTTLS (or
		// CONNECT): selecting them must run this parser.
		// File: the names of the files the data connections carry are
		// here.
		Records: []types.Type{types.Type_NC_FTP, types.Type_NC_Credentials, types.Type_NC_File, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectFTP,
		New:     func() StreamParser { return &ftpParser{} },
	})
}

// detectFTP accepts a server greeting 220 that names FTP (vsFTPd,
// ProFTPD, Pure-FTPd and Microsoft FTP Service do) or FileZilla; on port
// 21 also any 220 greeting and a client that starts with a command line.
func detectFTP(first []byte, fromClient bool, conn *ConnInfo) Detection {
	port21 := conn != nil && conn.ServerPort == 21
	line, whole := first, false
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		line, whole = first[:i], true
	}
	if fromClient {
		if !port21 {
			return DetectNo
		}
		if !whole {
			if len(first) < 64 {
				return DetectMore
			}
			return DetectNo
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(string(line)), " ")
		if len(verb) >= 3 && len(verb) <= 4 && strings.ToUpper(verb) == verb && isLetters(verb) {
			return DetectYes
		}
		return DetectNo
	}
	if v := detectWord(first, "220"); v != DetectYes {
		return v
	}
	if !whole {
		if len(first) < 64 {
			return DetectMore
		}
		line = first
	}
	if len(line) < 4 || line[3] != ' ' && line[3] != '-' {
		return DetectNo
	}
	up := strings.ToUpper(string(line))
	switch {
	case strings.Contains(up, "SMTP"):
		return DetectNo
	case strings.Contains(up, "FTP"), strings.Contains(up, "FILEZILLA"), port21:
		return DetectYes
	}
	return DetectNo
}

func isLetters(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ftpPending is a command waiting for its final reply.
type ftpPending struct {
	idx      int // index in Commands; -1 when the list was full
	verb     string
	arg      string
	transfer int // index in Transfers; -1 when not a transfer
	cred     *types.Credentials
}

// ftpParser reads one FTP control connection.
type ftpParser struct {
	r       types.FTP
	started bool
	pending []ftpPending
	cli     mailLine
	srv     mailLine
	stop    [2]bool
	seen    [2]bool
	// multi is the code of a multi-line reply being read ("" when none).
	multi    string
	greeted  bool
	dataAddr string // the data address of the last PASV/EPSV/PORT/EPRT
	user     *types.Credentials
	creds    credList
	inner    *Upgrade
	// slot counts the data connection announcements; slots[i] is the
	// slot of Transfers[i]; data are the data connections tied to this
	// control, in the order they opened.
	slot  int
	slots []int
	data  []ftpData
}

// ftpData is a data connection tied to the control: the slot it opened in.
type ftpData struct {
	slot int
	uid  string
	link *dataLink
}

// dataOpened is told by the connection table that a data connection of
// this control opened, in the current slot. A
// transfer command of that slot already sent (active mode: RETR before the
// server connects) is paired with it now, a later one when it comes.
func (p *ftpParser) dataOpened(uid string, l *dataLink) {
	if len(p.data) < ftpMaxTransfers {
		p.data = append(p.data, ftpData{p.slot, uid, l})
	}
	if tr := p.transferOf(p.slot); tr != nil && tr.DataFlowID == "" && !ftpRefused(tr.Reply) {
		tr.DataFlowID, l.transfer = uid, tr
	}
}

// ftpRefused tells whether a transfer's final reply refused it (4xx, 5xx):
// it opened no data connection. A data connection that opens after one
// (its announcement not read: a segment before it missed) belongs to a
// later command.
func ftpRefused(reply string) bool { return reply != "" && (reply[0] == '4' || reply[0] == '5') }

// pair gives transfer tr of the current slot to the data connection
// opened in it that has none yet (passive mode: the client connects, then
// sends RETR).
func (p *ftpParser) pair(tr *types.FTPTransfer) {
	for i := len(p.data) - 1; i >= 0 && p.data[i].slot == p.slot; i-- {
		if d := &p.data[i]; d.link.transfer == nil {
			tr.DataFlowID, d.link.transfer = d.uid, tr
			return
		}
	}
}

// transferOf returns the last transfer command of a slot, or nil.
func (p *ftpParser) transferOf(slot int) *types.FTPTransfer {
	for i := len(p.slots) - 1; i >= 0; i-- {
		if p.slots[i] == slot {
			return p.r.Transfers[i]
		}
	}
	return nil
}

// Inner names the protocol after an accepted AUTH TLS, or "".
func (p *ftpParser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *ftpParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	if !p.started {
		p.started = true
		p.r.Timestamp, p.r.FrameNumber = c.Timestamp, c.Frame
	}
	i, l := 1, &p.srv
	if c.FromClient {
		i, l = 0, &p.cli
	}
	if p.stop[i] {
		return
	}
	if c.Missed > 0 && p.seen[i] {
		p.r.Incomplete = true
		p.stop[i] = true
		conn.count().GaveUp++
		return
	}
	p.seen[i] = true
	data := c.Data
	for len(data) > 0 && !p.stop[i] && p.inner == nil {
		line, _, ok, rest := l.next(data)
		if !ok {
			return
		}
		data = rest
		if c.FromClient {
			p.command(string(line), c, conn, s)
		} else {
			p.reply(string(line), conn, s)
		}
	}
	if p.inner != nil && len(data) > 0 {
		rc := *c
		rc.Data, rc.Missed = data, 0
		p.inner.Feed(&rc, conn, s)
	}
}

// command reads one client line.
func (p *ftpParser) command(line string, c *Chunk, conn *ConnInfo, s Sink) {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	verb = strings.ToUpper(verb)
	if verb == "" {
		return
	}
	shown := verb
	if arg != "" {
		shown += " " + arg
	}
	pd := ftpPending{idx: -1, verb: verb, arg: arg, transfer: -1}
	switch verb {
	case "USER":
		p.r.User = mailItem(arg)
		p.user = p.creds.newCred("FTP", "USER/PASS", c.Timestamp, c.Frame, conn, s)
		p.user.User = mailItem(arg)
	case "PASS":
		shown = "PASS"
		if p.user == nil {
			p.user = p.creds.newCred("FTP", "USER/PASS", c.Timestamp, c.Frame, conn, s)
		}
		p.user.Password = mailItem(arg)
		pd.cred, p.user = p.user, nil
	case "PORT":
		p.dataAddr = ftpPortAddress(arg)
		p.slot++
	case "EPRT":
		p.dataAddr = ftpEPRTAddress(arg)
		p.slot++
	case "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD":
		if len(p.r.Transfers) < ftpMaxTransfers {
			p.r.Transfers = append(p.r.Transfers, &types.FTPTransfer{Command: verb, Name: mailItem(arg), DataAddress: p.dataAddr, Size: -1})
			p.slots = append(p.slots, p.slot)
			pd.transfer = len(p.r.Transfers) - 1
			p.pair(p.r.Transfers[pd.transfer])
		}
	}
	if len(p.r.Commands) < mailMaxList {
		p.r.Commands = append(p.r.Commands, mailItem(shown))
		p.r.Replies = append(p.r.Replies, "")
		pd.idx = len(p.r.Commands) - 1
	}
	if len(p.pending) < mailMaxList {
		p.pending = append(p.pending, pd)
	}
}

var (
	ftpPasv = regexp.MustCompile(`(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})`)
	ftpEpsv = regexp.MustCompile(`\((.)(.)(.)(\d{1,5})(.)\)`)
	ftpSize = regexp.MustCompile(`\((\d{1,18}) bytes\)`)
)

// ftpPortAddress reads h1,h2,h3,h4,p1,p2 (PORT, and the 227 reply).
func ftpPortAddress(s string) string {
	m := ftpPasv.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	return m[1] + "." + m[2] + "." + m[3] + "." + m[4] + ":" + strconv.Itoa(p1*256+p2)
}

// ftpEPRTAddress reads |proto|address|port| (RFC 2428).
func ftpEPRTAddress(s string) string {
	if len(s) < 4 {
		return ""
	}
	f := strings.Split(s[1:], s[:1])
	if len(f) < 3 {
		return ""
	}
	if strings.Contains(f[1], ":") {
		return "[" + f[1] + "]:" + f[2]
	}
	return f[1] + ":" + f[2]
}

// reply reads one server line.
func (p *ftpParser) reply(line string, conn *ConnInfo, s Sink) {
	if p.multi != "" {
		// A multi-line reply ends with a line starting with its code and
		// a space.
		if len(line) >= 4 && line[:3] == p.multi && line[3] == ' ' {
			p.multi = ""
			p.final(line[:3], line[4:], conn, s)
		}
		return
	}
	if len(line) < 3 || !isDigits(line[:3]) {
		return
	}
	code, text := line[:3], ""
	if len(line) > 4 {
		text = line[4:]
	}
	if len(line) >= 4 && line[3] == '-' {
		p.multi = code
		if code == "220" && !p.greeted {
			p.r.Greeting = mailItem(text)
		}
		return
	}
	p.final(code, text, conn, s)
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// final handles a whole reply.
func (p *ftpParser) final(code, text string, conn *ConnInfo, s Sink) {
	if code == "220" && !p.greeted && len(p.pending) == 0 {
		p.greeted = true
		if p.r.Greeting == "" {
			p.r.Greeting = mailItem(text)
		}
		return
	}
	switch code {
	case "227":
		p.dataAddr = ftpPortAddress(text)
		p.slot++
	case "229":
		if m := ftpEpsv.FindStringSubmatch(text); m != nil {
			p.dataAddr = ":" + m[4]
		}
		p.slot++
	case "257":
		if i, j := strings.IndexByte(text, '"'), strings.LastIndexByte(text, '"'); i >= 0 && j > i {
			p.r.Directory = mailItem(text[i+1 : j])
		}
	}
	if len(p.pending) == 0 {
		return
	}
	pd := &p.pending[0]
	if code[0] == '1' {
		// Preliminary: the size of a transfer, then its final reply.
		if pd.transfer >= 0 {
			if m := ftpSize.FindStringSubmatch(text); m != nil {
				p.r.Transfers[pd.transfer].Size, _ = strconv.ParseInt(m[1], 10, 64)
			}
		}
		return
	}
	if pd.idx >= 0 {
		p.r.Replies[pd.idx] = code
	}
	if pd.transfer >= 0 {
		p.r.Transfers[pd.transfer].Reply = code
	}
	switch {
	case pd.cred != nil:
		if code != "331" && code != "332" {
			p.creds.answer(pd.cred, code[0] == '2', conn, s)
		}
	case pd.verb == "USER" && code == "230" && p.user != nil:
		// Logged in without a password (anonymous setups).
		p.creds.answer(p.user, true, conn, s)
		p.user = nil
	case (pd.verb == "CWD" || pd.verb == "XCWD") && code == "250":
		p.r.Directory = mailItem(pd.arg)
	case (pd.verb == "AUTH") && code == "234":
		p.r.AuthTLS = true
		p.inner = &Upgrade{}
	}
	p.pending = p.pending[1:]
}

// Close implements StreamParser: the record is made when the connection
// ends.
func (p *ftpParser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
	p.creds.flush(conn, s)
	if !p.started {
		return
	}
	r := &p.r
	r.SrcIP, r.DstIP, r.SrcPort, r.DstPort, r.FlowID = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort, conn.FlowID
	s.Emit(types.Type_NC_FTP, r)
}
