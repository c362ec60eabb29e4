package decoder

import (
	"bufio"
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/netcap/netcap/types"
)

// Messages carried by SMTP (DATA, BDAT), POP3 (RETR, TOP) and IMAP (FETCH
// literals) are read by one push parser, mailReader: the protocol parser
// hands it the message's bytes as they arrive and takes a MailMessage at
// the end. Header blocks are parsed with the standard library (net/mail
// for the message's fields, net/textproto for part headers, mime for media
// types, parameters and RFC 2047 words); MIME structure is followed line by
// line with a stack of boundaries, so that a body is counted and skipped,
// never held: a hostile gigabyte of DATA costs a line buffer and a header
// block at most.

const (
	// mailMaxHeader bounds a header block held (the message's, or a
	// part's): longer ones are cut there and the message is Truncated.
	mailMaxHeader = 64 << 10
	// mailMaxLine bounds a body line held; RFC 5322 lines are at most 998
	// bytes and a boundary line at most 70+4 plus white space, so a longer
	// line is counted without being looked at.
	mailMaxLine = 1024
	// mailMaxParts bounds the parts recorded per message.
	mailMaxParts = 64
	// mailMaxDepth bounds nested multiparts followed; deeper ones are read
	// as leaves.
	mailMaxDepth = 8
	// mailMaxMessages bounds the messages kept in one POP3 or IMAP record.
	mailMaxMessages = 256
	// mailMaxList bounds command lists in SMTP, POP3 and IMAP records,
	// and mailMaxItem each entry's bytes.
	mailMaxList = 256
	mailMaxItem = 512
	// mailMaxCmdLine bounds a command or reply line held; the bytes of a
	// longer one are counted and dropped.
	mailMaxCmdLine = 4096
)

// mailReader parses one message pushed to it in pieces.
type mailReader struct {
	msg       types.MailMessage
	line      []byte // the current line, up to the state's bound
	long      bool   // the current line is longer than what line holds
	longN     int    // bytes of that long line so far
	prev      byte   // the last byte written
	header    bool   // reading a header block
	top       bool   // the header block is the message's own
	hdr       []byte // header block being read
	bounds    []string
	part      *types.MailPart // leaf part whose body is being counted
	lastEOL   int             // length of the line break last counted into part
	truncated bool
	// file hashes (and with -files keeps) the whole message, as
	// tshark --export-objects imf writes it; nil without File records.
	file *fileBody
	// body is the leaf part being read as a file of its own (its
	// transfer encoding decoded); nil without File records.
	body *partBody
	// parts are the parts' File records so far, at most mailMaxParts.
	parts []*types.File
	// Files are, once Finish was called, the message's File record and
	// those of its parts (Parent: the message's SHA256); empty without
	// File records.
	Files []*types.File
}

func newMailReader() *mailReader {
	return &mailReader{header: true, top: true}
}

// newMailFile is newMailReader for a message whose bytes also make a File
// record (when File records are selected): the message as sent, its first
// byte in the chunk c, from the client or the server.
func newMailFile(source string, c *Chunk, conn *ConnInfo) *mailReader {
	m := newMailReader()
	if conn == nil || conn.Files == nil {
		return m
	}
	m.file = newFileBody(conn.Files, "")
	r := &m.file.r
	r.Timestamp, r.FrameNumber, r.Source, r.ContentType, r.FlowID = c.Timestamp, c.Frame, source, "message/rfc822", conn.FlowID
	if c.FromClient {
		r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort
	} else {
		r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ServerIP, conn.ClientIP, conn.ServerPort, conn.ClientPort
	}
	return m
}

// fileRecords ends the message's File and its parts'; nil without File
// records.
func (m *mailReader) fileRecords(incomplete bool) []*types.File {
	if m.file == nil {
		return nil
	}
	f := m.file
	m.file = nil
	m.endPart(!incomplete)
	r := f.finish(!incomplete)
	if r == nil {
		return nil
	}
	r.Name = "message.eml"
	if m.msg.Subject != "" {
		r.Name = m.msg.Subject + ".eml"
	}
	out := append(make([]*types.File, 0, 1+len(m.parts)), r)
	for _, p := range m.parts {
		p.Parent = r.SHA256
		out = append(out, p)
	}
	m.parts = nil
	return out
}

// startPart begins the File of the leaf part p when File records are on.
func (m *mailReader) startPart(p *types.MailPart) {
	if m.file == nil || len(m.parts) >= mailMaxParts {
		return
	}
	m.body = newPartBody(m.file, p)
}

// endPart ends the File of the part being read, if any; ended says the
// part ended as its framing said (its boundary, or the message's end).
func (m *mailReader) endPart(ended bool) {
	if m.body == nil {
		return
	}
	if r := m.body.finish(ended); r != nil {
		m.parts = append(m.parts, r)
	}
	m.body = nil
}

// Write takes the next bytes of the message (transparency dots removed).
func (m *mailReader) Write(b []byte) {
	if m.file != nil {
		m.file.write(b)
	}
	m.msg.Size += int64(len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		piece := b
		if i >= 0 {
			piece = b[:i+1]
		}
		limit := mailMaxLine
		if m.header {
			limit = mailMaxHeader
		}
		switch {
		case !m.long && len(m.line)+len(piece) <= limit:
			m.line = append(m.line, piece...)
		case !m.long:
			m.long, m.longN = true, len(m.line)+len(piece)
			m.line = m.line[:0]
		default:
			m.longN += len(piece)
		}
		if i < 0 {
			m.prev = piece[len(piece)-1]
			return
		}
		if m.long {
			cr := m.prev == '\r'
			if len(piece) >= 2 {
				cr = piece[len(piece)-2] == '\r'
			}
			m.longLine(m.longN, cr)
		} else {
			m.endLine(m.line)
		}
		m.line, m.long, m.longN, m.prev = m.line[:0], false, 0, '\n'
		b = b[i+1:]
	}
}

// longLine handles a line of n bytes too long to hold (cr: it ends with CR
// LF): in a header block it is dropped (the block is Truncated), in a body
// it is counted.
func (m *mailReader) longLine(n int, cr bool) {
	if m.header {
		m.truncated = true
		return
	}
	if m.part != nil {
		m.part.Size += int64(n)
		m.lastEOL = 1
		if cr {
			m.lastEOL = 2
		}
		if m.body != nil {
			m.body.f.fail(fmt.Sprintf("a line of %d bytes, longer than the %d a part's line may have, not read", n, mailMaxLine))
		}
	}
}

// endLine handles a whole line (with its line break); nil for a line too
// long to hold.
func (m *mailReader) endLine(line []byte) {
	if m.header {
		blank := len(bytes.TrimRight(line, "\r\n")) == 0
		if !blank {
			if len(m.hdr)+len(line) <= mailMaxHeader {
				m.hdr = append(m.hdr, line...)
			} else {
				m.truncated = true
			}
			return
		}
		m.endHeader()
		return
	}
	if len(m.bounds) > 0 && bytes.HasPrefix(line, []byte("--")) {
		t := string(bytes.TrimRight(line, " \t\r\n"))
		for i := len(m.bounds) - 1; i >= 0; i-- {
			b := "--" + m.bounds[i]
			if t != b && t != b+"--" {
				continue
			}
			if m.part != nil {
				m.part.Size -= int64(m.lastEOL) // the break before a boundary is the boundary's
				m.part = nil
				m.endPart(true)
			}
			m.bounds = m.bounds[:i+1]
			if t == b {
				m.header, m.top, m.hdr = true, false, m.hdr[:0]
			} else {
				m.bounds = m.bounds[:i]
			}
			return
		}
	}
	if m.part != nil {
		m.part.Size += int64(len(line))
		m.lastEOL = 0
		if bytes.HasSuffix(line, []byte("\r\n")) {
			m.lastEOL = 2
		} else if bytes.HasSuffix(line, []byte("\n")) {
			m.lastEOL = 1
		}
		if m.body != nil {
			m.body.line(line)
		}
	}
}

// endHeader parses the header block just read and says what follows it.
func (m *mailReader) endHeader() {
	m.header = false
	hdr := append(m.hdr, "\r\n"...)
	m.hdr = m.hdr[:0]
	if m.top {
		m.top = false
		// A block that breaks the syntax midway still gives the fields
		// before the break.
		h := mailHeader(hdr)
		m.msg.From = mailText(h.Get("From"))
		m.msg.To = mailAddresses(h.Get("To"))
		m.msg.Cc = mailAddresses(h.Get("Cc"))
		m.msg.Subject = mailText(mailDecode(h.Get("Subject")))
		m.msg.Date = mailText(h.Get("Date"))
		m.msg.MessageID = mailText(h.Get("Message-Id"))
		m.msg.RespondTo = mailText(h.Get("Reply-To"))
		m.msg.InReplyTo = mailText(h.Get("In-Reply-To"))
		m.msg.UserAgent = mailText(h.Get("User-Agent"))
		if m.msg.UserAgent == "" {
			m.msg.UserAgent = mailText(h.Get("X-Mailer"))
		}
		mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
		m.msg.ContentType = mailText(mt)
		if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
			m.bounds = append(m.bounds, params["boundary"])
			return
		}
		// A message whose whole body is a named file (a forwarded PDF)
		// has that file as its one part.
		if p := mailPart(h, mt, params); p.Filename != "" {
			m.msg.Parts = append(m.msg.Parts, p)
			m.part, m.lastEOL = p, 0
			m.startPart(p)
		}
		return
	}
	h := mailHeader(hdr)
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && len(m.bounds) < mailMaxDepth {
		m.bounds = append(m.bounds, params["boundary"])
		return
	}
	if len(m.msg.Parts) >= mailMaxParts {
		m.truncated = true
		return
	}
	p := mailPart(h, mt, params)
	m.msg.Parts = append(m.msg.Parts, p)
	m.part, m.lastEOL = p, 0
	m.startPart(p)
}

// mailPart describes a leaf part from its header and parsed media type.
func mailPart(h textproto.MIMEHeader, mt string, params map[string]string) *types.MailPart {
	if mt == "" {
		mt = "text/plain"
	}
	p := &types.MailPart{ContentType: mailText(mt), Encoding: mailText(strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))))}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	p.Disposition = mailText(disp)
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	p.Filename = mailText(mailDecode(name))
	return p
}

// mailHeader parses a header block (ending with its blank line) with
// net/textproto; a block that breaks the syntax midway gives the fields
// before the break. The reader is sized to the block: bufio's default 4 KiB
// per block was most of what a message cost.
func mailHeader(hdr []byte) textproto.MIMEHeader {
	h, _ := textproto.NewReader(bufio.NewReaderSize(bytes.NewReader(hdr), max(len(hdr), 16))).ReadMIMEHeader()
	return h
}

// Finish ends the message and returns it; incomplete says the protocol
// did not see the message's end.
func (m *mailReader) Finish(incomplete bool) *types.MailMessage {
	if len(m.line) > 0 && !m.long {
		m.endLine(m.line)
	}
	if m.header && m.top && len(m.hdr) > 0 {
		m.endHeader() // a message of headers only, without the blank line
	}
	m.msg.Truncated = m.truncated
	m.msg.Incomplete = incomplete
	if m.body != nil && !incomplete {
		m.body.flushEOL() // a part that ends with the message keeps its last line break
	}
	m.line, m.hdr, m.bounds, m.part = nil, nil, nil, nil
	m.Files = m.fileRecords(incomplete)
	return &m.msg
}

// keepMessage ends a message POP3 or IMAP read and keeps it, up to
// mailMaxMessages, with its File record.
func keepMessage(m *mailReader, incomplete bool, msgs *[]*types.MailMessage, files *[]*types.File) {
	msg := m.Finish(incomplete)
	*files = append(*files, m.Files...)
	if len(*msgs) < mailMaxMessages {
		*msgs = append(*msgs, msg)
	}
}

// mailDecode decodes RFC 2047 encoded words; the text as sent when they do
// not decode.
func mailDecode(s string) string {
	d := mime.WordDecoder{}
	if out, err := d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// mailAddresses returns the addr-specs of an address list header; the
// comma-separated text as sent when the list does not parse (hand-written
// and hostile headers often do not).
func mailAddresses(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	if list, err := mail.ParseAddressList(s); err == nil {
		for _, a := range list {
			out = append(out, mailText(a.Address))
		}
		return out
	}
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, mailText(a))
		}
	}
	return out
}

// mailText makes a header value fit for a record: valid UTF-8, bounded.
func mailText(s string) string {
	if len(s) > mailMaxHeader {
		s = s[:mailMaxHeader]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// mailItem bounds one entry of a command list.
func mailItem(s string) string {
	if len(s) > mailMaxItem {
		s = s[:mailMaxItem]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// mailLine is a bounded line reader for command and reply lines: it keeps
// up to mailMaxCmdLine bytes of the line being read.
type mailLine struct {
	buf  []byte
	long bool
}

// next consumes data up to and including the next line feed. It returns
// the line without CR LF (only valid until the next call), whether the line
// was longer than the bound (then it is cut there), whether a line ended,
// and the rest of data.
func (l *mailLine) next(data []byte) (line []byte, long, ok bool, rest []byte) {
	i := bytes.IndexByte(data, '\n')
	piece := data
	if i >= 0 {
		piece = data[:i]
	}
	if n := mailMaxCmdLine - len(l.buf); n < len(piece) {
		l.long = true
		piece = piece[:max(n, 0)]
	}
	l.buf = append(l.buf, piece...)
	if i < 0 {
		return nil, false, false, nil
	}
	line, long = bytes.TrimSuffix(l.buf, []byte("\r")), l.long
	l.buf, l.long = l.buf[:0], false
	return line, long, true, data[i+1:]
}

// dotBlock reads a block that ends with a line holding a single dot and in
// which a dot starting a line is doubled (SMTP DATA, POP3 multi-line
// replies), without holding its lines.
type dotBlock struct {
	st int // 0 inside a line, 1 at a line start, 2 after a line-start dot, 3 after ".\r"
}

func newDotBlock() dotBlock { return dotBlock{st: 1} }

// feed consumes data up to the end of the block, handing the content (dots
// of transparency removed) to out. It returns the bytes consumed and
// whether the block ended.
func (d *dotBlock) feed(data []byte, out func([]byte)) (n int, done bool) {
	for n < len(data) {
		switch d.st {
		case 0:
			i := bytes.IndexByte(data[n:], '\n')
			if i < 0 {
				out(data[n:])
				return len(data), false
			}
			out(data[n : n+i+1])
			n += i + 1
			d.st = 1
		case 1:
			if data[n] == '.' {
				d.st = 2
				n++
			} else {
				d.st = 0
			}
		default:
			switch {
			case data[n] == '\n':
				return n + 1, true
			case data[n] == '\r' && d.st == 2:
				d.st = 3
				n++
			default:
				if d.st == 3 {
					out([]byte{'\r'})
				}
				d.st = 0 // the dot was a transparency dot
			}
		}
	}
	return n, false
}
