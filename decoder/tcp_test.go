package decoder

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("TCP", protocolTest{
		cases: tcpCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeTCP, rec: types.Type_NC_TCP, link: layers.LinkTypeEthernet,
			below: ipv4Stack, wrap: overIPv4(6), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1, SYN: true, Window: 65535,
						Options: []layers.TCPOption{
							{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
							{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
							{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
						}}),
					serialize(&layers.TCP{SrcPort: 80, DstPort: 40000, Seq: 5, Ack: 2, ACK: true, PSH: true, Window: 512},
						gopacket.Payload("HTTP/1.1 200 OK\r\n\r\n")),
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_TCP, protos: []string{"tcp"},
				fields: []tsField{
					{ours: "SrcPort", tshark: "tcp.srcport", want: tsNum("tcp.srcport")},
					{ours: "DstPort", tshark: "tcp.dstport", want: tsNum("tcp.dstport")},
					{ours: "SeqNum", tshark: "tcp.seq_raw", want: tsNum("tcp.seq_raw")},
					{ours: "AckNum", tshark: "tcp.ack_raw", want: tsNum("tcp.ack_raw")},
					{ours: "DataOffset", tshark: "tcp.hdr_len (bytes; DataOffset*4)", want: tsNum("tcp.hdr_len"), got: oursTimes("DataOffset", 4)},
					{ours: "FIN", tshark: "tcp.flags.fin", want: tsNum("tcp.flags.fin")},
					{ours: "SYN", tshark: "tcp.flags.syn", want: tsNum("tcp.flags.syn")},
					{ours: "RST", tshark: "tcp.flags.reset", want: tsNum("tcp.flags.reset")},
					{ours: "PSH", tshark: "tcp.flags.push", want: tsNum("tcp.flags.push")},
					{ours: "ACK", tshark: "tcp.flags.ack", want: tsNum("tcp.flags.ack")},
					{ours: "URG", tshark: "tcp.flags.urg", want: tsNum("tcp.flags.urg")},
					{ours: "ECE", tshark: "tcp.flags.ece", want: tsNum("tcp.flags.ece")},
					{ours: "CWR", tshark: "tcp.flags.cwr", want: tsNum("tcp.flags.cwr")},
					{ours: "NS", tshark: "tcp.flags.ae (the former NS bit)", want: tsFirstNum("tcp.flags.ae", "tcp.flags.ns")},
					{ours: "Window", tshark: "tcp.window_size_value (unscaled)", want: tsNum("tcp.window_size_value")},
					{ours: "Checksum", tshark: "tcp.checksum", want: tsNum("tcp.checksum")},
					{ours: "Urgent", tshark: "tcp.urgent_pointer", want: tsNum("tcp.urgent_pointer")},
					{ours: "Options.OptionType", tshark: "tcp.option_kind (up to the first End of list)", want: tcpOptions(childNum("tcp.option_kind"))},
					{ours: "Options.OptionLength", tshark: "size of each option", want: tcpOptions(holderSize)},
					{ours: "Options.OptionData", tshark: "option bytes after kind and length", want: tcpOptions(rawFrom(2))},
					{ours: "Padding", tshark: "tcp.options bytes after the first End of list", want: tcpPadding},
					{ours: "PayloadSize", tshark: "tcp.len, at most the captured bytes", want: tcpPayloadSize},
				},
				skip: map[string]string{
					"PayloadEntropy": "netcap's own statistic (and 0 without -entropy)",
					"Payload":        "filled only with -payload; tshark has no per-segment payload field once a sub-dissector takes it",
				},
				own: map[string]bool{"SrcPort": true, "DstPort": true},
			},
		},
	})
}

func FuzzTCP(f *testing.F) { fuzzLayer(f, "TCP") }

func tcpPayloadSize(k *tsPacket, p *tsNode) (string, bool) {
	l, ok1 := p.field("tcp.len").num()
	h, ok2 := p.field("tcp.hdr_len").num()
	if !ok1 || !ok2 {
		return "", false
	}
	return strconv.Itoa(max(min(int(l), capturedAfter(k, p, p.pos+int(h))), 0)), true
}

// tcpOptions lists the TCP options up to the first End of list: gopacket
// stops there and keeps the rest as Padding, tshark goes on (each padding
// byte is one more End of list).
func tcpOptions(val func(*tsNode) string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		var parts []string
		for _, h := range p.holders("tcp.option_kind") {
			parts = append(parts, val(h))
			if k, _ := h.child("tcp.option_kind").num(); k == 0 {
				break
			}
		}
		return strings.Join(parts, ","), true
	}
}

// tcpPadding is the option bytes after the first End of list.
func tcpPadding(_ *tsPacket, p *tsNode) (string, bool) {
	opts := p.field("tcp.options")
	if opts == nil {
		return "", true
	}
	b, ok := opts.rawBytes()
	if !ok {
		return "", false
	}
	for _, h := range p.holders("tcp.option_kind") {
		if k, _ := h.child("tcp.option_kind").num(); k == 0 {
			if off := h.pos + 1 - opts.pos; off >= 0 && off <= len(b) {
				return hex.EncodeToString(b[off:]), true
			}
			return "", false
		}
	}
	return "", true
}

// tcpCases are packets of TCP built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var tcpCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 TCP 66 40000 → 443 [SYN] Seq=0 Win=65535 Len=0 MSS=1460 SACK_PERM WS=128
	{name: "SYN with MSS, SACK permitted and window scale", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00341234000040067c54c0000201c633 64079c4001bb00000001000000008002 ffff00000000020405b4040203030700 0000",
		want: map[string]string{"AckNum": "0", "DstPort": "443", "FIN": "0", "SeqNum": "1", "SrcPort": "40000"}},
	// tshark: 192.0.2.1 → 198.51.100.7 HTTP 73 HTTP/1.1 200 OK
	{name: "HTTP/1.1 200 OK", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003b1234000040067c4dc0000201c633 640700509c4000000005000000025018 020000000000485454502f312e312032 3030204f4b0d0a0d0a",
		want: map[string]string{"AckNum": "2", "DstPort": "40000", "FIN": "0", "SeqNum": "5", "SrcPort": "80"}},
}
