package decoder

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"

	"github.com/netcap/netcap/types"
)

// partBody reads one MIME leaf part of a mail message as a file of its own,
// as Zeek's files.log and Suricata's fileinfo list mail attachments: the
// content transfer encoding (base64, quoted-printable) decoded line by line
// as the message's lines arrive, and the line break before the next
// boundary left out (RFC 2046 5.1.1: it belongs to the boundary). Nothing
// of the part is held but one line and fewer than four base64 characters.
type partBody struct {
	f     *fileBody
	enc   string // "base64", "quoted-printable", or "" for the bytes as sent
	carry []byte // base64 characters not yet decoded (fewer than 4 between lines)
	eol   []byte // the last line's break, written when another line follows
	out   []byte // decoded bytes of one line
}

// newPartBody starts the File of part p of the message whose File msg is.
func newPartBody(msg *fileBody, p *types.MailPart) *partBody {
	f := newFileBody(msg.store, "")
	r, m := &f.r, &msg.r
	r.Timestamp, r.FrameNumber, r.Source, r.FlowID = m.Timestamp, m.FrameNumber, m.Source, m.FlowID
	r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = m.SrcIP, m.DstIP, m.SrcPort, m.DstPort
	r.Name, r.ContentType, r.Encoding = p.Filename, p.ContentType, p.Encoding
	b := &partBody{f: f}
	switch p.Encoding {
	case "base64", "quoted-printable":
		b.enc = p.Encoding
	case "", "7bit", "8bit", "binary":
	default:
		f.fail("transfer encoding " + p.Encoding + " not decoded")
	}
	return b
}

// line takes one line of the part's body, with its line break.
func (b *partBody) line(line []byte) {
	content := bytes.TrimRight(line, "\r\n")
	eol := line[len(content):]
	switch b.enc {
	case "base64":
		b.base64(content) // line breaks are not content
	case "quoted-printable":
		b.flushEOL()
		// A line ending in "=" (white space after it is padding) is
		// joined to the next: a soft line break, which the reader
		// drops; other lines end with their break.
		soft := bytes.HasSuffix(bytes.TrimRight(content, " \t"), []byte("="))
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(content)))
		if err != nil {
			b.f.fail("quoted-printable: " + err.Error())
			return
		}
		b.f.write(dec)
		if !soft {
			b.eol = append(b.eol[:0], eol...)
		}
	default:
		b.flushEOL()
		b.f.write(content)
		b.eol = append(b.eol[:0], eol...)
	}
}

// base64 decodes the whole groups of four characters so far; white space
// and other characters outside the alphabet are skipped, as RFC 2045 6.8
// says a decoder must.
func (b *partBody) base64(text []byte) {
	for _, c := range text {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=' {
			b.carry = append(b.carry, c)
		}
	}
	n := len(b.carry) / 4 * 4
	if n == 0 {
		return
	}
	if need := base64.StdEncoding.DecodedLen(n); cap(b.out) < need {
		b.out = make([]byte, need)
	}
	k, err := base64.StdEncoding.Decode(b.out[:cap(b.out)], b.carry[:n])
	b.f.write(b.out[:k])
	if err != nil {
		b.f.fail("base64: " + err.Error())
	}
	b.carry = append(b.carry[:0], b.carry[n:]...)
}

// flushEOL writes the last line's break: another line of the part follows.
func (b *partBody) flushEOL() {
	if len(b.eol) > 0 {
		b.f.write(b.eol)
		b.eol = b.eol[:0]
	}
}

// finish ends the part; ended says it ended as its framing said.
func (b *partBody) finish(ended bool) *types.File {
	if len(b.carry) > 0 {
		b.f.fail(fmt.Sprintf("base64: %d characters after the last whole group", len(b.carry)))
	}
	return b.f.finish(ended)
}
