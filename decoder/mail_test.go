package decoder

import (
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// mailCases are messages and what mailReader must make of them.
var mailCases = []struct {
	name string
	msg  string
	want *types.MailMessage
}{
	{"plain text, folded subject, LF line ends",
		"From: a@example.com\nTo: b@example.com\nSubject: a subject\n folded\nUser-Agent: mutt\nX-Mailer: not this\n\nhello\n",
		&types.MailMessage{From: "a@example.com", To: []string{"b@example.com"}, Subject: "a subject folded", UserAgent: "mutt"}},
	{"nested multipart, RFC 2231 and RFC 2047 file names",
		"Content-Type: multipart/mixed; boundary=A\r\nIn-Reply-To: <x@y>\r\nReply-To: r@example.com\r\n\r\n" +
			"--A\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n" +
			"--B\r\nContent-Type: text/plain\r\n\r\nplain\r\n" +
			"--B\r\nContent-Type: TEXT/HTML; charset=utf-8\r\n\r\n<p>html</p>\r\n--B--\r\n" +
			"--A\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=UTF-8''n%C3%A4me.txt\r\n\r\nabc\r\n" +
			"--A\r\nContent-Type: image/png; name=\"=?UTF-8?Q?bild=C3=A4.png?=\"\r\nContent-Disposition: inline\r\n\r\nPNG\r\n--A--\r\n",
		&types.MailMessage{ContentType: "multipart/mixed", InReplyTo: "<x@y>", RespondTo: "r@example.com", Parts: []*types.MailPart{
			{ContentType: "text/plain", Size: 5},
			{ContentType: "text/html", Size: 11},
			{ContentType: "text/plain", Filename: "näme.txt", Disposition: "attachment", Size: 3},
			{ContentType: "image/png", Filename: "bildä.png", Disposition: "inline", Size: 3}}}},
	{"headers only, no blank line",
		"Subject: only\r\nMessage-ID: <1@x>\r\n",
		&types.MailMessage{Subject: "only", MessageID: "<1@x>"}},
	{"a broken header line: the fields before it are kept",
		"Subject: before\r\nthis is not a header\r\nFrom: after@example.com\r\n\r\nbody\r\n",
		&types.MailMessage{Subject: "before"}},
	{"an address list that does not parse is kept as sent",
		"To: undisclosed-recipients:;, bad@@x\r\nCc: <a@b>, c@d\r\n\r\n",
		&types.MailMessage{To: []string{"undisclosed-recipients:;", "bad@@x"}, Cc: []string{"a@b", "c@d"}}},
	{"a multipart that never closes, a boundary with trailing blanks",
		"Content-Type: multipart/mixed; boundary=\"x y\"\r\n\r\n--x y  \r\nContent-Type: application/zip\r\n\r\nPK\r\nPK\r\n",
		&types.MailMessage{ContentType: "multipart/mixed", Parts: []*types.MailPart{{ContentType: "application/zip", Size: 8}}}},
	{"a message whose body is a named file",
		"Subject: fwd\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a b.pdf\"\r\n\r\nJVBE\r\nRi0x\r\n",
		&types.MailMessage{Subject: "fwd", ContentType: "application/pdf", Parts: []*types.MailPart{
			{ContentType: "application/pdf", Filename: "a b.pdf", Disposition: "attachment", Size: 12}}}},
	{"invalid UTF-8 in a header",
		"Subject: caf\xe9\r\n\r\n",
		&types.MailMessage{Subject: "caf\uFFFD"}},
}

func mailRead(msg string, piece int) *types.MailMessage {
	m := newMailReader()
	for i := 0; i < len(msg); i += piece {
		m.Write([]byte(msg[i:min(i+piece, len(msg))]))
	}
	return m.Finish(false)
}

func TestMailReader(t *testing.T) {
	for _, c := range mailCases {
		got := mailRead(c.msg, len(c.msg))
		c.want.Size = int64(len(c.msg))
		if !proto.Equal(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
		}
		if _, err := proto.Marshal(got); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestMailSplitEverywhere: a message written in pieces of every size from
// one byte gives the same fields.
func TestMailSplitEverywhere(t *testing.T) {
	for _, c := range mailCases {
		whole := mailRead(c.msg, len(c.msg))
		for piece := 1; piece < len(c.msg); piece++ {
			if got := mailRead(c.msg, piece); !proto.Equal(got, whole) {
				t.Fatalf("%s in pieces of %d:\n%v\n%v", c.name, piece, got, whole)
			}
		}
	}
}

// TestMailBounds: a header block over the bound, too many parts, too deep
// a nesting and a body line of 8 MiB.
func TestMailBounds(t *testing.T) {
	long := "Subject: x\r\nX-Long: " + strings.Repeat("a", 2*mailMaxHeader) + "\r\nFrom: f@x\r\n\r\n"
	m := newMailReader()
	m.Write([]byte(long))
	if cap(m.hdr) > 2*mailMaxHeader || cap(m.line) > 2*mailMaxHeader {
		t.Errorf("held %d header and %d line bytes", cap(m.hdr), cap(m.line))
	}
	got := m.Finish(false)
	if !got.Truncated || got.Subject != "x" || got.From != "f@x" {
		t.Errorf("a header line over the bound: %v", got)
	}

	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=z\r\n\r\n")
	for range 100 {
		b.WriteString("--z\r\nContent-Type: text/plain\r\n\r\nx\r\n")
	}
	got = mailRead(b.String(), 4096)
	if len(got.Parts) != mailMaxParts || !got.Truncated {
		t.Errorf("100 parts: %d kept, Truncated %v", len(got.Parts), got.Truncated)
	}

	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=d0\r\n\r\n")
	for i := range 20 {
		b.WriteString("--d" + strconv.Itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=d" + strconv.Itoa(i+1) + "\r\n\r\n")
	}
	got = mailRead(b.String(), 4096)
	// Nesting beyond the bound is read as a leaf: the multipart at depth
	// mailMaxDepth is one part.
	if len(got.Parts) != 1 || got.Parts[0].ContentType != "multipart/mixed" {
		t.Errorf("20 nested multiparts: %v", got.Parts)
	}

	m = newMailReader()
	m.Write([]byte("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\n"))
	big := []byte(strings.Repeat("b", 1<<20))
	for range 8 {
		m.Write(big)
	}
	m.Write([]byte("\r\n--q--\r\n"))
	if cap(m.line) > mailMaxLine+1<<20 {
		t.Errorf("a body line held %d bytes", cap(m.line))
	}
	got = m.Finish(false)
	if len(got.Parts) != 1 || got.Parts[0].Size != 8<<20 {
		t.Errorf("8 MiB line: %v", got.Parts)
	}
}

func FuzzMail(f *testing.F) {
	for _, c := range mailCases {
		f.Add([]byte(c.msg), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, piece uint8) {
		n := int(piece) + 1
		got := mailRead(string(data), n)
		if _, err := proto.Marshal(got); err != nil {
			t.Fatalf("message does not marshal: %v", err)
		}
		if got.Size != int64(len(data)) || len(got.Parts) > mailMaxParts {
			t.Fatalf("size %d of %d bytes, %d parts", got.Size, len(data), len(got.Parts))
		}
		if whole := mailRead(string(data), len(data)+1); !proto.Equal(got, whole) {
			t.Fatalf("pieces of %d differ from the whole:\n%v\n%v", n, got, whole)
		}
	})
}
