package decoder

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The rules below explain the messages where tshark --export-objects imf
// and netcap's SMTP message (the File record's content) differ. Each one
// checks the exact bytes of the difference against netcap's message, so a
// message netcap reads wrongly is not explained away. Who is right was
// decided with RFC 5321 and an independent server (docs/testing.md): the
// client's DATA bytes fed to aiosmtpd on loopback give netcap's message,
// byte for byte, in all the captures these rules explain.

// imfRule names an explained difference; "" when none applies.
type imfRule string

const (
	// RFC 5321 4.1.1.4: in <CRLF>.<CRLF> "the first <CRLF> is actually the
	// terminator of the previous line", so a message ends with the line
	// end of its last line, and an empty last line is part of it. tshark
	// ends the data wherever a line starts with the five bytes
	// CRLF.CRLF, so it drops an empty last line: netcap's message is
	// tshark's and CRLF, and ends with an empty line.
	imfEmptyLastLine imfRule = "imf export drops an empty last line"
	// The same test at the start of a TCP segment: when the client's last
	// segment begins with CRLF.CRLF (the last line's end, then the
	// terminator), tshark drops that line end: netcap's message is
	// tshark's and CRLF, and the capture holds such a segment after one
	// that ends with the last line.
	imfLineEndOpensSegment imfRule = "imf export drops the last line's CRLF that opens a segment"
	// Without tcp.reassemble_out_of_order tshark hands SMTP only the
	// segments it does not mark out of order or retransmitted, and drops
	// the new bytes such a segment carries (the captures send overlapping
	// segments): tshark's message is the one it exports with that option
	// on, one run of bytes missing, and that one is netcap's as the rules
	// above explain.
	imfOutOfOrder imfRule = "imf export drops the bytes of out-of-order segments"
	// When the client re-sent its data in smaller segments (path MTU),
	// tshark appends pieces of the re-sent data a second time: its message
	// is made of runs of the client's DATA bytes (dot-stuffed, as sent:
	// tshark does not undo RFC 5321 4.5.2's transparency), at least one of
	// them repeating bytes, and the capture holds re-sent client segments.
	imfResentSegments imfRule = "imf export repeats re-sent segments"
)

// explainImf returns the rule that explains tshark's message ts as netcap's
// message nc of the capture at path, or "". tshark is run again on the
// capture, with out-of-order reassembly, only if the first rules fail.
func explainImf(t *testing.T, path string, ts, nc []byte) imfRule {
	t.Helper()
	if r := lastLineRule(path, ts, nc); r != "" {
		return r
	}
	if len(ts) < len(nc)-2 {
		for _, ts2 := range imfExportOutOfOrder(t, path) {
			if lastLineRule(path, ts2, nc) != "" && oneRunMissing(ts, ts2) {
				return imfOutOfOrder
			}
		}
	}
	if repeatsResent(path, ts, nc) {
		return imfResentSegments
	}
	return ""
}

// lastLineRule is imfEmptyLastLine or imfLineEndOpensSegment when nc is ts
// and CRLF for the reason they name.
func lastLineRule(path string, ts, nc []byte) imfRule {
	if !bytes.Equal(nc, append(bytes.Clone(ts), "\r\n"...)) {
		return ""
	}
	if bytes.HasSuffix(nc, []byte("\r\n\r\n")) || bytes.Equal(nc, []byte("\r\n")) {
		return imfEmptyLastLine
	}
	// The segment before it in the same direction ends the last line.
	last := nc[:len(nc)-2]
	if i := bytes.LastIndex(last, []byte("\r\n")); i >= 0 {
		last = last[i+2:]
	}
	prev := map[string][]byte{}
	for _, s := range capturedSegments(path) {
		p := prev[s.dir]
		if bytes.HasPrefix(s.payload, []byte("\r\n.\r\n")) && len(p) > 0 && (bytes.HasSuffix(p, last) || bytes.HasSuffix(last, p)) {
			return imfLineEndOpensSegment
		}
		prev[s.dir] = s.payload
	}
	return ""
}

// oneRunMissing reports whether short is long with one run of bytes left
// out.
func oneRunMissing(short, long []byte) bool {
	if len(short) >= len(long) {
		return false
	}
	p := 0
	for p < len(short) && short[p] == long[p] {
		p++
	}
	return bytes.Equal(short[p:], long[len(long)-(len(short)-p):])
}

// imfExportOutOfOrder returns the messages tshark exports from the capture
// with out-of-order reassembly on.
func imfExportOutOfOrder(t *testing.T, path string) [][]byte {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("tshark", "-r", path, "-q", "-o", "tcp.reassemble_out_of_order:TRUE",
		"--export-objects", "imf,"+dir).CombinedOutput(); err != nil {
		t.Fatalf("%s: tshark: %v\n%s", path, err, out)
	}
	var msgs [][]byte
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if startsWithHeader(b) {
			msgs = append(msgs, b)
		}
	}
	return msgs
}

// dotStuffed is a message as its client sends it after DATA (RFC 5321
// 4.5.2): a line that starts with a dot gets a second one.
func dotStuffed(msg []byte) []byte {
	var out []byte
	for line := range bytes.Lines(msg) {
		if line[0] == '.' {
			out = append(out, '.')
		}
		out = append(out, line...)
	}
	return out
}

// repeatsResent reports whether ts is made of runs of nc's DATA bytes as
// sent (imfResentSegments): each run starts where one of the client's
// segments starts (tshark appended whole segments' bytes) or where the run
// before it ended, at least one repeats bytes, and the last ends where nc's
// last line ends; the client re-sent segments.
func repeatsResent(path string, ts, nc []byte) bool {
	sent := dotStuffed(nc)
	starts, resent := segmentStarts(path, sent)
	if !resent {
		return false
	}
	repeated := false
	end := 0 // where the previous run ended in sent
	for p := 0; p < len(ts); {
		best, at := 0, 0
		for _, i := range append([]int{end}, starts...) {
			n := 0
			for p+n < len(ts) && i+n < len(sent) && ts[p+n] == sent[i+n] {
				n++
			}
			if n > best {
				best, at = n, i
			}
		}
		if best == 0 {
			return false
		}
		repeated = repeated || at < end
		p, end = p+best, at+best
	}
	// tshark also drops an empty last line (imfEmptyLastLine).
	want := len(sent)
	if bytes.HasSuffix(sent, []byte("\r\n\r\n")) {
		want -= 2
	}
	return repeated && end == want
}

// segmentStarts returns where the client's segments start in its DATA
// bytes sent (the direction whose bytes, in sequence order, hold sent and
// then the final dot), and
// whether that client sent a segment starting before the end of one it had
// sent already.
func segmentStarts(path string, sent []byte) ([]int, bool) {
	if len(sent) == 0 {
		return nil, false
	}
	byDir := map[string][]capturedSegment{}
	for _, s := range capturedSegments(path) {
		byDir[s.dir] = append(byDir[s.dir], s)
	}
	for _, segs := range byDir {
		// The direction's bytes in sequence order, the first copy of
		// each byte kept, from its lowest sequence number on.
		base := segs[0].seq
		for _, s := range segs {
			if int32(s.seq-base) < 0 {
				base = s.seq
			}
		}
		var stream []byte
		var filled []bool
		resent, high := false, 0
		for _, s := range segs {
			off := int(s.seq - base)
			if off > 1<<24 {
				continue
			}
			resent = resent || off < high
			for len(stream) < off+len(s.payload) {
				stream, filled = append(stream, 0), append(filled, false)
			}
			for i, c := range s.payload {
				if !filled[off+i] {
					stream[off+i], filled[off+i] = c, true
				}
			}
			high = max(high, off+len(s.payload))
		}
		// sent is the client's data: the final dot follows it.
		at := bytes.Index(stream, append(bytes.Clone(sent), ".\r\n"...))
		if at < 0 {
			continue
		}
		var starts []int
		for _, s := range segs {
			if o := int(s.seq-base) - at; o >= 0 && o < len(sent) {
				starts = append(starts, o)
			}
		}
		return starts, resent
	}
	return nil, false
}

type capturedSegment struct {
	dir     string // sender and receiver, addresses and ports
	seq     uint32
	payload []byte
}

// capturedSegments are the TCP segments with payload of a capture, in order.
func capturedSegments(path string) []capturedSegment {
	var out []capturedSegment
	eachPacket(path, 1<<20, func(data []byte, link layers.LinkType) {
		p := gopacket.NewPacket(data, link, gopacket.Default)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || len(tcp.Payload) == 0 || p.NetworkLayer() == nil {
			return
		}
		dir := p.NetworkLayer().NetworkFlow().String() + " " + tcp.TransportFlow().String()
		out = append(out, capturedSegment{dir: dir, seq: tcp.Seq, payload: bytes.Clone(tcp.Payload)})
	})
	return out
}

// TestImfRules checks the rules on made-up messages, each also with bytes
// a rule must not explain.
func TestImfRules(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\n.dot\r\nline two\r\n\r\n")
	if r := lastLineRule("", msg[:len(msg)-2], msg); r != imfEmptyLastLine {
		t.Errorf("empty last line dropped: %q", r)
	}
	for _, ts := range [][]byte{msg, msg[:len(msg)-1], msg[:len(msg)-4], append(bytes.Clone(msg[:len(msg)-4]), "\n\r"...)} {
		if r := lastLineRule("", ts, msg); r != "" {
			t.Errorf("%q explained as %q", ts, r)
		}
	}
	// A last line that is not empty: only a segment opening with CRLF.CRLF
	// explains its line end missing, and there is no capture.
	if r := lastLineRule("", []byte("a: b\r\nc"), []byte("a: b\r\nc\r\n")); r != "" {
		t.Errorf("line end dropped without a segment: %q", r)
	}
	if got, want := dotStuffed(msg), "Subject: x\r\n\r\n..dot\r\nline two\r\n\r\n"; string(got) != want {
		t.Errorf("dotStuffed: %q, want %q", got, want)
	}
	for _, c := range []struct {
		short, long string
		want        bool
	}{{"abef", "abcdef", true}, {"cdef", "abcdef", true}, {"abcd", "abcdef", true}, {"abxf", "abcdef", false}, {"abcdef", "abcdef", false}, {"aef", "abcdeef", true}, {"aeg", "abcdeef", false}} {
		if got := oneRunMissing([]byte(c.short), []byte(c.long)); got != c.want {
			t.Errorf("oneRunMissing(%q, %q) = %v", c.short, c.long, got)
		}
	}

	// A client that sends the DATA command, the data in three segments,
	// then the first of them again.
	sent := dotStuffed(msg)
	stream := append([]byte("DATA\r\n"), sent...)
	stream = append(stream, ".\r\n"...)
	seg := func(from, to int) []byte {
		f := cat(ethHeader(0x0800), tcp4(40000, 25, stream[from:to]))
		binary.BigEndian.PutUint32(f[14+20+4:], uint32(5000+from))
		return f
	}
	a, b := 6+10, 6+20
	capture := func(frames ...[]byte) string {
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		w.WriteFileHeader(65535, layers.LinkTypeEthernet)
		for _, f := range frames {
			w.WritePacket(gopacket.CaptureInfo{CaptureLength: len(f), Length: len(f)}, f)
		}
		path := filepath.Join(t.TempDir(), "c.pcap")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The last line's end opens the last segment, and only then.
	short := []byte("a: b\r\nlast")
	stream = []byte("DATA\r\na: b\r\nlast\r\n.\r\n")
	for _, c := range []struct {
		path string
		want imfRule
	}{
		{capture(seg(0, 6), seg(6, 16), seg(16, len(stream))), imfLineEndOpensSegment},
		{capture(seg(0, 6), seg(6, 14), seg(14, len(stream))), ""},
		{capture(seg(0, 6), seg(6, len(stream))), ""},
	} {
		if r := lastLineRule(c.path, short, append(bytes.Clone(short), "\r\n"...)); r != c.want {
			t.Errorf("line end: %q, want %q", r, c.want)
		}
		other := []byte("a: b\r\nother")
		if r := lastLineRule(c.path, other, append(bytes.Clone(other), "\r\n"...)); r != "" {
			t.Errorf("line end of another last line: %q", r)
		}
	}
	stream = append([]byte("DATA\r\n"), sent...)
	stream = append(stream, ".\r\n"...)
	resent := capture(seg(0, 6), seg(6, a), seg(a, b), seg(b, len(stream)), seg(6, a))
	once := capture(seg(0, 6), seg(6, a), seg(a, b), seg(b, len(stream)))
	twice := cat(sent[:b-6], sent[:a-6], sent[b-6:]) // the first segment's DATA bytes again
	// tshark drops the empty last line (imfEmptyLastLine).
	dropped := twice[:len(twice)-2]
	if !repeatsResent(resent, dropped, msg) {
		t.Errorf("re-sent segment repeated, empty last line dropped: not explained")
	}
	for name, c := range map[string]struct {
		path    string
		ts, msg []byte
	}{
		"no re-sent segment":    {once, dropped, msg},
		"nothing repeated":      {resent, sent[:len(sent)-2], msg},
		"a byte changed":        {resent, bytes.Replace(dropped, []byte("two"), []byte("tw0"), 1), msg},
		"dot-stuffing undone":   {resent, bytes.Replace(dropped, []byte(".."), []byte("."), 1), msg},
		"repeat inside segment": {resent, cat(sent[:b-6], sent[3:a-6], sent[b-6:len(sent)-2]), msg},
		"end cut":               {resent, dropped[:len(dropped)-1], msg},
		"empty last line kept":  {resent, twice, msg},
		"another message":       {resent, dropped, msg[:len(msg)-2]},
	} {
		if repeatsResent(c.path, c.ts, c.msg) {
			t.Errorf("%s: explained as re-sent segments", name)
		}
	}
}
