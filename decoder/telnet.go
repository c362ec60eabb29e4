package decoder

import (
	"bytes"
	"strings"

	"github.com/netcap/netcap/types"
)

// Telnet (RFC 854) carries a terminal session in the clear, the login
// dialog included: the server prompts "login:", the client types a name,
// the server prompts "Password:", the client types the password, and the
// server answers with a shell prompt or "Login incorrect". The parser makes
// no record of its own (the session's text is the user's): it follows that
// dialog into a Credentials record per login, with the server's verdict,
// as Zeek's login analyzer does. Option negotiation (IAC sequences) is
// taken out of both directions first; typing one character per segment,
// with backspaces, gives the same line as typing it at once.
//
// Only the start of a session is read (telnetMaxBytes per side): the login
// comes first, and a long session's text is not looked through.
//
// Detection: either side starting with an IAC negotiation (RFC 855), or a
// connection to port 23.

const (
	// telnetMaxBytes bounds the bytes read of each side.
	telnetMaxBytes = 64 << 10
	// telnetMaxLine bounds a typed line, and telnetTail the server's
	// last output kept to find prompts and verdicts in.
	telnetMaxLine = 256
	telnetTail    = 256
)

func init() {
	RegisterStream(StreamProtocol{
		Name:    "Telnet",
		Records: []types.Type{types.Type_NC_Credentials},
		Detect:  detectTelnet,
		New:     func() StreamParser { return &telnetParser{} },
	})
}

// Telnet command bytes (RFC 854).
const (
	telnetSE   = 240
	telnetSB   = 250
	telnetWILL = 251
	telnetDONT = 254
	telnetIAC  = 255
)

func detectTelnet(first []byte, _ bool, conn *ConnInfo) Detection {
	if first[0] == telnetIAC {
		if len(first) == 1 {
			return DetectMore
		}
		if first[1] >= telnetWILL && first[1] <= telnetDONT || first[1] == telnetSB {
			return DetectYes
		}
		return DetectNo
	}
	if conn != nil && conn.ServerPort == 23 {
		return DetectYes
	}
	return DetectNo
}

// telnetText takes the IAC sequences out of one direction's bytes.
type telnetText struct {
	state uint8 // telnetData, or where in a command the last byte left it
	out   []byte
}

const (
	telnetData   = iota
	telnetCmd    // after IAC
	telnetOption // after IAC WILL/WONT/DO/DONT: the option byte
	telnetSub    // inside IAC SB ... IAC SE
	telnetSubCmd // IAC inside a subnegotiation
)

// text returns b's data bytes (valid until the next call).
func (t *telnetText) text(b []byte) []byte {
	t.out = t.out[:0]
	for _, c := range b {
		switch t.state {
		case telnetData:
			if c == telnetIAC {
				t.state = telnetCmd
			} else {
				t.out = append(t.out, c)
			}
		case telnetCmd:
			switch {
			case c == telnetIAC: // an escaped 0xFF
				t.out = append(t.out, c)
				t.state = telnetData
			case c >= telnetWILL && c <= telnetDONT:
				t.state = telnetOption
			case c == telnetSB:
				t.state = telnetSub
			default:
				t.state = telnetData
			}
		case telnetOption:
			t.state = telnetData
		case telnetSub:
			if c == telnetIAC {
				t.state = telnetSubCmd
			}
		case telnetSubCmd:
			if c == telnetSE {
				t.state = telnetData
			} else {
				t.state = telnetSub
			}
		}
	}
	return t.out
}

// Steps of the login dialog.
const (
	telnetIdle    = iota
	telnetUser    // prompted for the user name
	telnetPass    // prompted for the password
	telnetVerdict // the password sent: the server's answer decides
)

// telnetParser reads the login dialogs of one Telnet connection.
type telnetParser struct {
	cli, srv    telnetText
	cliN, srvN  int
	step        int
	line        []byte // what the client typed since its last line end
	tail        []byte // the server's last output, lower case
	answer      []byte // the server's output since the password, lower case
	cred        *types.Credentials
	creds       credList
	ts, frame   int64 // of the client bytes that began the line being typed
	typingStart bool
}

// Feed implements StreamParser.
func (p *telnetParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if c.Missed > 0 {
		// A hole: a line could be cut anywhere, so the dialog is lost.
		p.step, p.line, p.cred = telnetIdle, p.line[:0], nil
	}
	if c.FromClient {
		if p.cliN >= telnetMaxBytes {
			return
		}
		data := c.Data[:min(len(c.Data), telnetMaxBytes-p.cliN)]
		p.cliN += len(data)
		p.client(p.cli.text(data), c, conn, s)
		return
	}
	if p.srvN >= telnetMaxBytes {
		return
	}
	data := c.Data[:min(len(c.Data), telnetMaxBytes-p.srvN)]
	p.srvN += len(data)
	p.server(p.srv.text(data), conn, s)
}

// client takes the characters the client typed.
func (p *telnetParser) client(text []byte, c *Chunk, conn *ConnInfo, s Sink) {
	if p.step != telnetUser && p.step != telnetPass {
		return
	}
	for _, ch := range text {
		switch ch {
		case '\r', '\n':
			if len(p.line) > 0 || p.typingStart {
				p.endLine(conn, s)
			}
		case 0:
		case 8, 127: // backspace, delete
			if len(p.line) > 0 {
				p.line = p.line[:len(p.line)-1]
			}
		default:
			if !p.typingStart {
				p.typingStart, p.ts, p.frame = true, c.Timestamp, c.Frame
			}
			if len(p.line) < telnetMaxLine {
				p.line = append(p.line, ch)
			}
		}
	}
}

// endLine takes a whole typed line: the user name or the password.
func (p *telnetParser) endLine(conn *ConnInfo, s Sink) {
	typed := strings.ToValidUTF8(string(p.line), "\uFFFD")
	p.line, p.typingStart = p.line[:0], false
	switch p.step {
	case telnetUser:
		p.cred = p.creds.newCred("Telnet", "login prompt", p.ts, p.frame, conn, s)
		p.cred.User = typed
		p.step = telnetIdle // the password prompt comes next
	case telnetPass:
		if p.cred == nil {
			// A password prompt without a login prompt before it
			// (the user name came with the connection).
			p.cred = p.creds.newCred("Telnet", "login prompt", p.ts, p.frame, conn, s)
		}
		p.cred.Password = typed
		p.step, p.answer = telnetVerdict, p.answer[:0]
	}
}

// server takes the server's output: prompts and verdicts.
func (p *telnetParser) server(text []byte, conn *ConnInfo, s Sink) {
	if len(text) == 0 {
		return
	}
	low := bytes.ToLower(text)
	p.tail = append(p.tail, low...)
	if over := len(p.tail) - telnetTail; over > 0 {
		p.tail = append(p.tail[:0], p.tail[over:]...)
	}
	if p.step == telnetVerdict {
		p.answer = append(p.answer, low[:min(len(low), telnetTail-len(p.answer))]...)
		switch {
		case telnetFailed(p.answer):
			p.verdict(false, conn, s)
		case telnetLoggedIn(p.answer):
			p.verdict(true, conn, s)
		}
	}
	// A prompt ends the server's last line; "Last login: <date>" is no
	// prompt, whatever pieces it comes in.
	prompt := bytes.TrimRight(p.tail[bytes.LastIndexByte(p.tail, '\n')+1:], " \t")
	switch {
	case bytes.Contains(prompt, []byte("last login")):
	case bytes.HasSuffix(prompt, []byte("login:")) || bytes.HasSuffix(prompt, []byte("username:")) ||
		bytes.HasSuffix(prompt, []byte("user name:")):
		if p.step == telnetVerdict { // prompted again: the last login failed
			p.verdict(false, conn, s)
		}
		p.step, p.line, p.typingStart = telnetUser, p.line[:0], false
	case bytes.HasSuffix(prompt, []byte("password:")):
		if p.step == telnetVerdict {
			p.verdict(false, conn, s)
		}
		p.step, p.line, p.typingStart = telnetPass, p.line[:0], false
	}
}

// verdict records the login with the server's answer.
func (p *telnetParser) verdict(accepted bool, conn *ConnInfo, s Sink) {
	if p.cred != nil {
		p.creds.answer(p.cred, accepted, conn, s)
		p.cred = nil
	}
	p.step = telnetIdle
}

// telnetFailed: the server's answer after a password says the login
// failed (login(1), getty, routers and switches).
func telnetFailed(answer []byte) bool {
	for _, w := range []string{"incorrect", "failed", "denied", "invalid", "bad password"} {
		if bytes.Contains(answer, []byte(w)) {
			return true
		}
	}
	return false
}

// telnetLoggedIn: the answer shows a session: a greeting, the last login's
// time, or a shell prompt at its end.
func telnetLoggedIn(answer []byte) bool {
	if bytes.Contains(answer, []byte("last login")) || bytes.Contains(answer, []byte("welcome")) {
		return true
	}
	a := bytes.TrimRight(answer, " ")
	return len(a) > 0 && len(a) < len(answer) && bytes.IndexByte([]byte("$#>%"), a[len(a)-1]) >= 0
}

// Close implements StreamParser: a login without an answer is recorded
// without a Result.
func (p *telnetParser) Close(conn *ConnInfo, s Sink) {
	p.creds.flush(conn, s)
}
