package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("IPv4", protocolTest{
		cases: ipv4Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeIPv4, rec: types.Type_NC_IPv4, link: layers.LinkTypeIPv4,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					serialize(&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip4A, DstIP: ip4B},
						&layers.TCP{SrcPort: 40000, DstPort: 80, SYN: true, Window: 1024}),
					serialize(&layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolICMPv4, SrcIP: ip4A, DstIP: ip4B,
						Options: []layers.IPv4Option{{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}, {OptionType: 1}}},
						&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 2}),
					cat(ipv4Header(4, 28), ipv4Header(17, 8), udpHeader(7, 9, 0)), // IP in IP
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_IPv4, protos: []string{"ip"},
				fields: []tsField{
					{ours: "Version", tshark: "ip.version", want: tsNum("ip.version")},
					{ours: "IHL", tshark: "ip.hdr_len (bytes; IHL*4)", want: tsNum("ip.hdr_len"), got: oursTimes("IHL", 4)},
					{ours: "TOS", tshark: "ip.dsfield", want: tsNum("ip.dsfield")},
					{ours: "Length", tshark: "ip.len", want: tsNum("ip.len")},
					{ours: "Id", tshark: "ip.id", want: tsNum("ip.id")},
					{ours: "Flags", tshark: "ip.flags.rb/df/mf as 4/2/1", want: ipFlagsWant},
					{ours: "FragOffset", tshark: "ip.frag_offset", want: tsNum("ip.frag_offset")},
					{ours: "TTL", tshark: "ip.ttl", want: tsNum("ip.ttl")},
					{ours: "Protocol", tshark: "ip.proto", want: tsNum("ip.proto")},
					{ours: "Checksum", tshark: "ip.checksum", want: tsNum("ip.checksum")},
					{ours: "SrcIP", tshark: "ip.src", want: tsText("ip.src")},
					{ours: "DstIP", tshark: "ip.dst", want: tsText("ip.dst")},
					{ours: "Options.OptionType", tshark: "ip.opt.type (byte)", want: tsList("ip.opt.type", rawByte(0))},
					{ours: "Options.OptionLength", tshark: "size of each option", want: tsList("ip.opt.type", holderSize)},
					{ours: "Options.OptionData", tshark: "option bytes after type and length", want: tsList("ip.opt.type", rawFrom(2))},
					{ours: "PayloadSize", tshark: "min(ip.len, captured) - ip.hdr_len", want: ipv4PayloadSize},
				},
				skip: map[string]string{
					"PayloadEntropy": "netcap's own statistic (and 0 without -entropy)",
					"Padding":        "bytes after the End-of-options option; tshark shows no field for them",
				},
				own: map[string]bool{"SrcIP": true, "DstIP": true},
			},
		},
	})
}

func FuzzIPv4(f *testing.F) { fuzzLayer(f, "IPv4") }

// ipFlagsWant: ip.flags is the flag byte's top three bits (0x40 is DF);
// netcap keeps gopacket's 3-bit value (DF=2, MF=1, reserved=4).
func ipFlagsWant(_ *tsPacket, p *tsNode) (string, bool) {
	f := p.field("ip.flags")
	if f == nil {
		return "", false
	}
	var v int64
	for _, b := range []struct {
		name string
		bit  int64
	}{{"ip.flags.rb", 4}, {"ip.flags.df", 2}, {"ip.flags.mf", 1}} {
		x, ok := p.field(b.name).num()
		if !ok {
			return "", false
		}
		if x != 0 {
			v |= b.bit
		}
	}
	return strconv.FormatInt(v, 10), true
}

func ipv4PayloadSize(k *tsPacket, p *tsNode) (string, bool) {
	l, ok1 := p.field("ip.len").num()
	h, ok2 := p.field("ip.hdr_len").num()
	if !ok1 || !ok2 {
		return "", false
	}
	avail := capturedAfter(k, p, p.pos)
	if l == 0 { // TSO: the length field is 0, the datagram is what was captured
		l = int64(avail)
	}
	return strconv.Itoa(max(min(int(l), avail)-int(h), 0)), true
}

// ipv4Cases are packets of IPv4 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ipv4Cases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 TCP 40 40000 → 80 [SYN] Seq=0 Win=1024 Len=0
	{name: "raw IPv4, TCP SYN inside", link: layers.LinkTypeIPv4,
		hex:  "450000280000000040060000c0000201 c63364079c4000500000000000000000 5002040000000000",
		want: map[string]string{"Flags": "0", "Id": "0", "Length": "40", "TOS": "0", "Version": "4"}},
	// tshark: 192.0.2.1 → 198.51.100.7 ICMP 36 Echo (ping) request id=0x0001, seq=2/512, ttl=1
	{name: "Echo (ping) request id=0x0001, seq=2/512, ttl=1", link: layers.LinkTypeIPv4,
		hex:  "470000240000000001010000c0000201 c6336407070704000000000108000000 00010002",
		want: map[string]string{"Flags": "0", "Id": "0", "Length": "36", "TOS": "0", "Version": "4"}},
}
