package decoder

import (
	"encoding/hex"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// PPP control packets of the shared captures, with tshark's summary and
// fields (ppp.code, ppp.identifier, ppp.length, <proto>.opt.type).
var pppControlFrames = []struct {
	name  string
	link  layers.LinkType
	frame string
	want  *types.PPPControl
}{
	// suricata-verify pppoe__input.pcap:
	// 26 4.390168 ee:86:e2:f9:70:57 → AlliedTe_38:13:43 PPP IPCP 38 Configuration Request
	// ppp.protocol 0x8021, code 1, identifier 1, length 16, ipcp.opt.type 2,3
	{"IPCP configure request", layers.LinkTypeEthernet, "0000cd381343ee86e2f9705788641100000200128021010100100206002d0f010306c0a80101",
		&types.PPPControl{Protocol: 0x8021, Code: 1, Identifier: 1, Length: 16, OptionTypes: []int32{2, 3}}},
	// tcpdump's pppoes.pcap: 1 0.000000 Intel_a9:5d:8e → Advanced_03:00:07 PPP LCP 34 Echo Request
	// ppp.protocol 0xc021, code 9, identifier 106, length 12
	{"LCP echo request", layers.LinkTypeEthernet, "000218030007000423a95d8e886411000017000ec021096a000ca4cbea340ee2f609",
		&types.PPPControl{Protocol: 0xc021, Code: 9, Identifier: 106, Length: 12}},
	// tcpdump's truncated-aack.pcap: 1 0.000000 N/A → N/A PPP PAP 10 Authenticate-Ack[Malformed Packet]
	// code 2, identifier 1, length 4
	{"PAP authenticate ack", layers.LinkTypePPP, "ff03c023020100049486",
		&types.PPPControl{Protocol: 0xc023, Code: 2, Identifier: 1, Length: 4}},
}

func TestPPPControl(t *testing.T) {
	for _, tc := range pppControlFrames {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
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
	runFrameCases(t, layers.LinkTypePPP, []frameCase{
		{"cut", "ff03c0210901", Failed, "PPP control packet shorter than 4 bytes", "", 0},
		// an LCP configure request whose second option says length 1: the walk stops there
		{"bad option length", "ff03c0210101000c010405dc0301", Decoded, "", "", types.Type_NC_PPPControl},
		// IPv4 still goes to IPv4
		{"IPv4", "ff0300214500001c000100004011f9cb0a0000010a0000029c409c4100080000", Decoded, "", "10.0.0.1", types.Type_NC_UDP},
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
			{name: "IPCP Configuration Request", link: layers.LinkTypeEthernet, hex: pppControlFrames[0].frame,
				want: map[string]string{"Protocol": "32801", "Code": "1", "Identifier": "1", "Length": "16", "OptionTypes": "2,3"}},
			// tshark: PPP LCP 34 Echo Request; ppp.code 9, ppp.identifier 106, ppp.length 12
			{name: "LCP Echo Request", link: layers.LinkTypeEthernet, hex: pppControlFrames[1].frame,
				want: map[string]string{"Protocol": "49185", "Code": "9", "Identifier": "106", "Length": "12"}},
		},
	})
}

func FuzzPPPControl(f *testing.F) { fuzzLayer(f, "PPPControl") }
