package decoder

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("SIP", protocolTest{
		cases: sipCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeSIP, rec: types.Type_NC_SIP, link: layers.LinkTypeEthernet,
			below: udp4Stack, wrap: overUDP4(5060, 5060), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					[]byte("INVITE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
						"From: <sip:alice@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n" +
						"Subject: folded\r\n line\r\nContent-Length: 4\r\n\r\nv=0\n"),
					[]byte("SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_SIP, protos: []string{"sip"},
				fields: []tsField{
					{ours: "Version", tshark: "SIP/x.y of sip.Request-Line / sip.Status-Line", want: sipVersion},
					{ours: "Method", tshark: "sip.Method (gopacket's number)", want: sipMethod},
					{ours: "IsResponse", tshark: "sip.Status-Line present", want: func(_ *tsPacket, p *tsNode) (string, bool) {
						if p.field("sip.Status-Line") != nil {
							return "1", true
						}
						return "0", p.field("sip.Request-Line") != nil
					}},
					{ours: "ResponseCode", tshark: "sip.Status-Code", want: func(k *tsPacket, p *tsNode) (string, bool) {
						if p.field("sip.Status-Code") == nil {
							return "0", p.field("sip.Request-Line") != nil
						}
						return tsNum("sip.Status-Code")(k, p)
					}},
					{ours: "ResponseStatus", tshark: "sip.Status-Line after the code", want: func(_ *tsPacket, p *tsNode) (string, bool) {
						f := p.field("sip.Status-Line")
						if f == nil {
							return "", p.field("sip.Request-Line") != nil
						}
						parts := strings.SplitN(f.show, " ", 3)
						if len(parts) < 3 {
							return "", true
						}
						return parts[2], true
					}},
					{ours: "Headers", tshark: "the lines of sip.msg_hdr (bytes)", want: sipHeaderLines},
				},
			},
		},
	})
}

func FuzzSIP(f *testing.F) { fuzzLayer(f, "SIP") }

// sipMethod maps tshark's method name to gopacket's SIPMethod number.
func sipMethod(_ *tsPacket, p *tsNode) (string, bool) {
	f := p.field("sip.Method")
	if p.field("sip.Status-Code") != nil {
		// gopacket gives a response the method of its CSeq header.
		f = p.field("sip.CSeq.method")
	}
	if f == nil {
		return "0", p.field("sip.Status-Code") != nil
	}
	m, err := layers.GetSIPMethod(f.show)
	if err != nil {
		return "?" + f.show, true
	}
	return strconv.Itoa(int(m)), true
}

func sipVersion(_ *tsPacket, p *tsNode) (string, bool) {
	l := sipLine(p)
	switch {
	case strings.HasPrefix(l, "SIP/2.0") || strings.HasSuffix(l, "SIP/2.0"):
		return "2", true
	case strings.HasPrefix(l, "SIP/1.0") || strings.HasSuffix(l, "SIP/1.0"):
		return "1", true
	}
	return "", false
}

// sipLine is the request or status line.
func sipLine(p *tsNode) string {
	if f := p.field("sip.Request-Line"); f != nil {
		return f.show
	}
	if f := p.field("sip.Status-Line"); f != nil {
		return f.show
	}
	return ""
}

// sipHeaderLines are the bytes of each header line tshark lists in the
// message header, without the line end.
// sipFold is a line break that continues a header.
var sipFold = regexp.MustCompile(`\r?\n[ \t]+`)

func sipHeaderLines(_ *tsPacket, p *tsNode) (string, bool) {
	h := p.field("sip.msg_hdr")
	if h == nil {
		return "", false
	}
	var parts []string
	seen := map[int]bool{}
	for _, c := range h.kids {
		// tshark adds generated fields at a header's position (a second
		// Call-ID): one line per position.
		if c.proto || seen[c.pos] {
			continue
		}
		seen[c.pos] = true
		b, ok := c.rawBytes()
		if !ok {
			return "", false
		}
		// A header folded over several lines is one line (RFC 3261
		// 7.3.1: the line break and the leading white space are one space).
		if line := strings.TrimRight(string(b), "\r\n"); line != "" { // a header cut at the segment's end
			parts = append(parts, sipFold.ReplaceAllString(line, " "))
		}
	}
	return strings.Join(parts, ","), true
}

// sipCases are packets of SIP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var sipCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 SIP 265 Request: INVITE sip:bob@example.org |
	{name: "Request: INVITE sip:bob@example.org |", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00fb1234000040117b82c0000201c633 640713c413c400e70000494e56495445 207369703a626f62406578616d706c65 2e6f7267205349502f322e300d0a5669 613a205349502f322e302f5544502031 39322e302e322e313b6272616e63683d 7a39684734624b310d0a46726f6d3a20 3c7369703a616c696365406578616d70 6c652e6f72673e3b7461673d310d0a54 6f3a203c7369703a626f62406578616d 706c652e6f72673e0d0a43616c6c2d49 443a206140620d0a435365713a203120 494e564954450d0a5375626a6563743a 20666f6c6465640d0a206c696e650d0a 436f6e74656e742d4c656e6774683a20 340d0a0d0a763d300a",
		want: map[string]string{"IsResponse": "0", "Method": "1", "ResponseCode": "0", "Version": "2"}},
	// tshark: 192.0.2.1 → 198.51.100.7 SIP 95 Status: 200 OK (INVITE) |
	{name: "Status: 200 OK (INVITE) |", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00511234000040117c2cc0000201c633 640713c413c4003d00005349502f322e 3020323030204f4b0d0a435365713a20 3120494e564954450d0a436f6e74656e 742d4c656e6774683a20300d0a0d0a",
		want: map[string]string{"IsResponse": "1", "Method": "1", "ResponseCode": "200", "ResponseStatus": "OK", "Version": "2"}},
}
