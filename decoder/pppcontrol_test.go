package decoder

import (
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// PPP control packets built here (RFC 1661, 1332, 1334), over PPPoE
// sessions (RFC 2516) and in PPP frames, with the record each must give.
var pppControlFrames = []struct {
	name  string
	link  layers.LinkType
	frame []byte
	want  *types.PPPControl
}{
	// IPCP configure request: Van Jacobson compression (2: protocol 0x002d,
	// 15 slots, slot ids compressed), IP address 192.0.2.1 (3)
	{"IPCP configure request", layers.LinkTypeEthernet, pppoeSession(0x0002, 0x8021,
		pppControlPacket(1, 1, pppOption(2, []byte{0x00, 0x2d, 0x0f, 0x01}), pppOption(3, ip4A.To4()))),
		&types.PPPControl{Protocol: 0x8021, Code: 1, Identifier: 1, Length: 16, OptionTypes: []int32{2, 3}}},
	// LCP echo request: magic number, 4 bytes of data
	{"LCP echo request", layers.LinkTypeEthernet, pppoeSession(0x0017, 0xc021,
		pppControlPacket(9, 106, []byte{0x12, 0x34, 0x56, 0x78}, []byte("ncap"))),
		&types.PPPControl{Protocol: 0xc021, Code: 9, Identifier: 106, Length: 12}},
	// PAP authenticate ack with an empty message
	{"PAP authenticate ack", layers.LinkTypePPP, cat([]byte{0xff, 0x03}, u16b(0xc023), pppControlPacket(2, 1, []byte{0})),
		&types.PPPControl{Protocol: 0xc023, Code: 2, Identifier: 1, Length: 5}},
}

// pppControlPacket is a control packet: code, identifier, the length of
// the whole, the data.
func pppControlPacket(code, id byte, data ...[]byte) []byte {
	d := cat(data...)
	return cat([]byte{code, id}, u16b(uint16(4+len(d))), d)
}

// pppOption is a configuration option: type, the length of the whole, the
// value.
func pppOption(typ byte, v []byte) []byte { return cat([]byte{typ, byte(2 + len(v))}, v) }

// pppoeSession is an Ethernet frame of a PPPoE session (EtherType 0x8864:
// version and type 1, code 0, the session id, the length) holding a PPP
// packet of protocol proto.
func pppoeSession(session, proto uint16, packet []byte) []byte {
	return cat(ethHeader(0x8864), []byte{0x11, 0}, u16b(session), u16b(uint16(2+len(packet))), u16b(proto), packet)
}

func TestPPPControl(t *testing.T) {
	for _, tc := range pppControlFrames {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.frame
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			if st, reason := d.Decode(data, tc.link, &meta, s); st != Decoded {
				t.Fatalf("status %v %q", st, reason)
			}
			var got *types.PPPControl
			for _, r := range s.recs {
				if r, ok := r.(*types.PPPControl); ok {
					got = r
				}
			}
			w := tc.want
			if got == nil || got.Protocol != w.Protocol || got.Code != w.Code || got.Identifier != w.Identifier ||
				got.Length != w.Length || !slices.Equal(got.OptionTypes, w.OptionTypes) {
				t.Errorf("got  %v\nwant %v", got, w)
			}
		})
	}
	var frames [][]byte
	var names []string
	for _, f := range pppControlFrames[:2] {
		frames, names = append(frames, f.frame), append(names, f.name)
	}
	t.Run("tshark", func(t *testing.T) {
		checkTsharkProtocols(t, layers.LinkTypeEthernet, frames, []string{"eth:ethertype:pppoes:ppp:ipcp", "eth:ethertype:pppoes:ppp:lcp"}, names)
	})
	lcp := []byte{0xff, 0x03, 0xc0, 0x21}
	runFrameCases(t, layers.LinkTypePPP, []frameCase{
		{"PAP authenticate ack", pppControlFrames[2].frame, Decoded, "", "", types.Type_NC_PPPControl, "ppp:pap"},
		{"cut", cat(lcp, []byte{9, 1}), Failed, "PPP control packet shorter than 4 bytes", "", 0, ""},
		// an LCP configure request whose second option says length 1: the walk stops there
		{"bad option length", cat(lcp, []byte{1, 1, 0, 12}, pppOption(1, u16b(1500)), []byte{3, 1}), Decoded, "", "", types.Type_NC_PPPControl, ""},
		// IPv4 still goes to IPv4
		{"IPv4", cat([]byte{0xff, 0x03, 0x00, 0x21}, udp4(40000, 40001, nil)), Decoded, "", "192.0.2.1", types.Type_NC_UDP, "ppp:ip:udp"},
	})
}

// The fuzz target: control packets in PPP frames. The first fuzz byte
// picks the control protocol, so that every input reaches the layer.
var pppControlFuzzProtocols = [][]byte{{0xc0, 0x21}, {0x80, 0x21}, {0x80, 0x57}, {0x80, 0xfd}, {0xc0, 0x23}, {0xc2, 0x23}}

func init() {
	addProtocolTest("PPPControl", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypePPPControl, rec: types.Type_NC_PPPControl, link: layers.LinkTypePPP,
			below: []gopacket.LayerType{layers.LayerTypePPP},
			wrap: func(b []byte) []byte {
				if len(b) == 0 {
					return []byte{0xff, 0x03, 0xc0, 0x21}
				}
				return cat([]byte{0xff, 0x03}, pppControlFuzzProtocols[int(b[0])%len(pppControlFuzzProtocols)], b[1:])
			},
			max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					{0, 0x01, 0x01, 0x00, 0x0e, 0x01, 0x04, 0x05, 0xdc, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78}, // LCP MRU, magic
					{1, 0x01, 0x01, 0x00, 0x0a, 0x03, 0x06, 0xc0, 0xa8, 0x02, 0x2d},                         // IPCP address
					{4, 0x02, 0x01, 0x00, 0x05, 0x00},                                                       // PAP ack
				}
			},
		},
		oracle: pppControlOracle,
		cases: []packetCase{
			// tshark: PPP IPCP 38 Configuration Request; ppp.code 1, ppp.identifier 1, ppp.length 16
			{name: "IPCP Configuration Request", link: layers.LinkTypeEthernet, frame: pppControlFrames[0].frame,
				want: map[string]string{"Protocol": "32801", "Code": "1", "Identifier": "1", "Length": "16", "OptionTypes": "2,3"}},
			// tshark: PPP LCP 34 Echo Request; ppp.code 9, ppp.identifier 106, ppp.length 12
			{name: "LCP Echo Request", link: layers.LinkTypeEthernet, frame: pppControlFrames[1].frame,
				want: map[string]string{"Protocol": "49185", "Code": "9", "Identifier": "106", "Length": "12"}},
		},
	})
}

func FuzzPPPControl(f *testing.F) { fuzzLayer(f, "PPPControl") }
