package decoder

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// ES-IS frames: tcpdump's esis_snpa_asan captures (Frame Relay I frames,
// a 3 byte Q.922 address and a 2 byte control field before the PDU; made by
// a fuzzer, so the reserved byte is 0x55 and checksums are wrong),
// esis_opt_prot-oobr.pcap (Cisco HDLC, a pad byte before the NLPID, the PDU
// cut short) and an IS hello built from ISO 9542 (Ethernet, LLC).
const (
	// esis_snpa_asan-4.pcap 1: 1 0.000000 → ESIS 65570 ES HELLO[Packet size limited during capture]
	esisFrameESH = "000c0522008211015542534370a1020004ecff000000"
	// esis_snpa_asan-4.pcap 2: 2 0.000000 → ESIS 65570 RD REQUEST[Packet size limited during capture]
	esisFrameRDShort = "000c0522008210015546534370340302040000000000"
	// esis_snpa_asan-5.pcap 2: 2 0.000000 → ESIS 65570 RD REQUEST
	esisFrameRDSNPA = "000c0522008211015546534370340104040000000000"
	// esis_snpa_asan-4.pcap 4: 4 0.000000 → ESIS 262144 RD REQUEST[Packet size limited during capture]
	esisFrameRDNET = "000c0522008211015546534370340000040000000000"
	// esis_opt_prot-oobr.pcap 1: 1 0.000000 N/A → N/A ESIS 262144 RD REQUEST[Packet size limited during capture]
	esisFrameRDCHDLC = "02dcfefe0f823601006608ff00c602008e0000810b81"
	// built: 1 0.000000000 02:00:00:00:00:01 → DEC-MAP-(or-OSI?)-End-System-Hello? ESIS 41 IS HELLO
	esisFrameISH = "09002b000004020000000001001bfefe038218010004001e00000a49000100000000000a01c602003c"
)

func TestESISFrames(t *testing.T) {
	runFrameCases(t, layers.LinkTypeFRelay, []frameCase{
		{"ES hello in an I frame", esisFrameESH, Decoded, "", "", types.Type_NC_ESIS},
		{"redirect in an I frame", esisFrameRDShort, Decoded, "", "", types.Type_NC_ESIS},
		{"header cut", esisFrameESH[:22], Failed, "ES-IS header cut short", "", 0},
		// tcpdump's isis_stlv_asan-2.pcap, cut: an I frame on DLCI 0 (the
		// third address byte is DL-CORE control), the link's signalling,
		// which tshark shows as data:
		// 1 0.000000 → FR 262144 DLCI 0, I, N(R)=0, N(S)=17
		{"I frame on DLCI 0", "000c072200831b010010019de000fed0f90f58af84ff100041010000", Unknown, "Frame Relay EtherType 0x2200", "", 0},
		// tcpdump's isis_stlv_asan-4.pcap, cut: a 4 byte address, then an I
		// frame with an IS-IS hello
		// 1 0.000000 → ISIS HELLO 262144 L2 HELLO, System-ID: fe02.0000.d0f9[Packet size limited during capture]
		{"IS-IS in an I frame", "1c000c072200831b010010019de000fe020000d0f90f58af9fff10004101000088a201e2020c072205831b010010019d",
			Decoded, "", "", types.Type_NC_ISIS},
		// an unknown Cisco EtherType with no OSI PDU after a control field
		// stays what it was
		{"unknown EtherType", "000c052200450000000000", Unknown, "Frame Relay EtherType 0x2200", "", 0},
	})
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		{"redirect over Cisco HDLC", esisFrameRDCHDLC, Decoded, "", "", types.Type_NC_ESIS},
	})
	runFrameCases(t, layers.LinkTypeEthernet, []frameCase{
		{"IS hello over LLC", esisFrameISH, Decoded, "", "", types.Type_NC_ESIS},
	})
}

// TestESISBounds: addresses and options stay within the header length and
// the bytes captured.
func TestESISBounds(t *testing.T) {
	for _, tc := range []struct {
		name, pdu string
		err       string
		sources   []string
		net, da   string
		opts      []int32
	}{
		{"ESH address past the header", "820b01000200000000" + "01" + "05aabb", "", nil, "", "", nil},
		{"ESH with 255 addresses", "821001000200000000" + "ff" + "02aabb" + "01cc" + "ff", "", []string{"aabb", "cc"}, "", "", nil},
		{"ISH title past the capture", "822001000400000000" + "0a4900", "", nil, "", "", nil},
		{"option past the header", "821001000400000000" + "024900" + "c5ff00", "", nil, "4900", "", nil},
		{"option fits", "821001000400000000" + "024900" + "c6020000", "", nil, "4900", "", []int32{0xc6}},
		{"RD without title", "821201000600000000" + "01aa" + "02bbcc" + "00" + "e100", "", nil, "", "aa", []int32{0xe1}},
		{"unknown type", "820901001f00000000", "", nil, "", "", nil},
		{"cut", "8209010002", "cut short", nil, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.pdu)
			if err != nil {
				t.Fatal(err)
			}
			var l esisLayer
			err = l.DecodeFromBytes(data, &testFeedback{})
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			var src []string
			for _, a := range l.Sources {
				src = append(src, hex.EncodeToString(a))
			}
			if !slices.Equal(src, tc.sources) || hexOrEmpty(l.NET) != tc.net || hexOrEmpty(l.DA) != tc.da || !slices.Equal(l.OptionTypes, tc.opts) {
				t.Fatalf("sources %v, title %q, DA %q, options %v; want %v, %q, %q, %v",
					src, hexOrEmpty(l.NET), hexOrEmpty(l.DA), l.OptionTypes, tc.sources, tc.net, tc.da, tc.opts)
			}
		})
	}
}

// The test entry: ES-IS PDUs over Ethernet and LLC for the fuzzer, the
// frames above as cases with tshark's values.
func init() {
	addProtocolTest("ESIS", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypeESIS, rec: types.Type_NC_ESIS, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC, layerTypeOSI},
			wrap: func(b []byte) []byte {
				// an 802.3 length field says at most 1500; the frame may be longer
				return cat(ethHeader(uint16(min(3+len(b), 1500))), []byte{0xfe, 0xfe, 0x03}, b)
			},
			max: fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range []string{esisFrameISH, "0000000000000000000000000000fefe03" + esisFrameRDCHDLC[10:]} {
					b, _ := hex.DecodeString(f)
					out = append(out, b[17:])
				}
				return out
			},
		},
		oracle: []tsRecord{esisOracle},
		cases: []packetCase{
			// tshark: esis.length 17, esis.type 2, esis.htime 21315, esis.chksum 0x70a1,
			// esis.sa <Invalid length of NSAP>,ecff0000
			{name: "ES hello in a Frame Relay I frame", link: layers.LinkTypeFRelay, hex: esisFrameESH,
				want: map[string]string{"HeaderLength": "17", "Version": "1", "PDUType": "2", "HoldingTime": "21315",
					"Checksum": "28833", "SourceAddresses": ",ecff0000", "OptionTypes": ""}},
			// tshark: esis.length 16, esis.type 6, esis.chksum 0x7034, esis.da 02.0400
			{name: "redirect", link: layers.LinkTypeFRelay, hex: esisFrameRDShort,
				want: map[string]string{"HeaderLength": "16", "PDUType": "6", "Checksum": "28724",
					"DestinationAddress": "020400", "SubnetworkAddress": "", "NetworkEntityTitle": ""}},
			// tshark: esis.da 04, esis.bsnpa 00000000.
			{name: "redirect with a subnetwork address", link: layers.LinkTypeFRelay, hex: esisFrameRDSNPA,
				want: map[string]string{"PDUType": "6", "DestinationAddress": "04", "SubnetworkAddress": "00000000"}},
			// tshark: esis.net 00000000
			{name: "redirect with a title", link: layers.LinkTypeFRelay, hex: esisFrameRDNET,
				want: map[string]string{"PDUType": "6", "DestinationAddress": "", "NetworkEntityTitle": "00000000"}},
			// tshark: esis.length 54, esis.type 6, esis.htime 2303, esis.chksum 0x00c6, esis.da 008e
			{name: "cut redirect over Cisco HDLC", link: layers.LinkTypeC_HDLC, hex: esisFrameRDCHDLC,
				want: map[string]string{"HeaderLength": "54", "PDUType": "6", "HoldingTime": "2303", "Checksum": "198",
					"DestinationAddress": "008e"}},
			// tshark: esis.length 24, esis.type 4, esis.htime 30, esis.net 49000100.000000000a01, ESCT (seconds): 60
			{name: "IS hello", link: layers.LinkTypeEthernet, hex: esisFrameISH,
				want: map[string]string{"HeaderLength": "24", "PDUType": "4", "HoldingTime": "30",
					"NetworkEntityTitle": "49000100000000000a01", "OptionTypes": "198"}},
		},
	})
}

func FuzzESIS(f *testing.F) { fuzzLayer(f, "ESIS") }
