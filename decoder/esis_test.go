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

// ES-IS frames built here from ISO 9542: PDUs in Frame Relay I frames
// (a Q.922 address and a 2-byte control field before the PDU, as tshark
// reads them off a DLCI other than 0), a redirect over Cisco HDLC whose
// header length runs past the frame (with a pad byte before the NLPID) and
// an IS hello over Ethernet and LLC.
var (
	// ES hello with two source addresses: an empty one, then one of 4
	// bytes (no valid NSAP: tshark says so)
	esisESHPDU = esisPDU(esisESH, 21315, 0x70a1, []byte{2}, esisAddrField(nil), esisAddrField([]byte{0xec, 0xff, 0, 0}))
	// redirects: DA, subnetwork address, network entity title
	esisRDPDU     = esisPDU(esisRD, 600, 0x7034, esisAddrField([]byte{0x02, 0x04, 0x00}), esisAddrField(nil), esisAddrField(nil))
	esisRDSNPAPDU = esisPDU(esisRD, 600, 0x7035, esisAddrField([]byte{0x04}), esisAddrField([]byte{0, 0, 0, 0}), esisAddrField(nil))
	esisRDNETPDU  = esisPDU(esisRD, 600, 0x7036, esisAddrField(nil), esisAddrField(nil), esisAddrField([]byte{0, 0, 0, 0}))

	esisFrameESH     = esisIFrame(esisESHPDU)
	esisFrameRDShort = esisIFrame(esisRDPDU)
	esisFrameRDSNPA  = esisIFrame(esisRDSNPAPDU)
	esisFrameRDNET   = esisIFrame(esisRDNETPDU)
	// a redirect whose header length says 54 and whose title length byte
	// (0x81) runs past the frame, behind a pad byte
	esisFrameRDCHDLC = cat(chdlcHeader(chdlcUnicast, 0xfefe), []byte{0},
		esisFixed(54, esisRD, 2303, 0x00c6), esisAddrField([]byte{0x00, 0x8e}), esisAddrField(nil), []byte{0x81, 0x0b, 0x81})
	// IS hello, title 49.0001.0000.0000.0a01, option ESCT (0xc6) 60 s
	esisFrameISH = cat(esisEthernet(esisAllES), esisPDU(esisISH, 30, 0, esisAddrField([]byte{0x49, 0, 1, 0, 0, 0, 0, 0, 0x0a, 0x01}),
		[]byte{0xc6, 2, 0, 60}))
)

// esisAllES is the multicast address of all end systems.
var esisAllES = []byte{0x09, 0x00, 0x2b, 0x00, 0x00, 0x04}

// esisEthernet is an 802.3 header to dst with the length of an IS hello
// (the 24-byte PDU and LLC) and the LLC header of OSI.
func esisEthernet(dst []byte) []byte { return isisEthernet(dst, 27) }

// esisFixed is the fixed ES-IS header: NLPID, header length, version 1,
// reserved, type, holding time, checksum.
func esisFixed(length, typ byte, hold, sum uint16) []byte {
	return cat([]byte{nlpidESIS, length, 1, 0, typ}, u16b(hold), u16b(sum))
}

// esisPDU is a PDU whose header length covers the fixed header and parts.
func esisPDU(typ byte, hold, sum uint16, parts ...[]byte) []byte {
	body := cat(parts...)
	return cat(esisFixed(byte(9+len(body)), typ, hold, sum), body)
}

// esisAddrField is an address with its length byte.
func esisAddrField(a []byte) []byte { return cat([]byte{byte(len(a))}, a) }

// esisIFrame is pdu in a Frame Relay I frame on DLCI 1 (a 3-byte
// address): a 2-byte control field, N(S) 17, N(R) 0, before the PDU.
func esisIFrame(pdu []byte) []byte {
	return cat(frAddressN(1, 3), []byte{17 << 1, 0}, pdu)
}

func TestESISFrames(t *testing.T) {
	// an IS-IS L2 hello cut after its fixed header, in an I frame on a 4-byte address
	isisHello := cat(isisHeader(27, 16), []byte{2}, isisSysA, u16b(30), u16b(1497), []byte{64}, isisSysA, []byte{1})
	runFrameCases(t, layers.LinkTypeFRelay, []frameCase{
		{"ES hello in an I frame", esisFrameESH, Decoded, "", "", types.Type_NC_ESIS, "fr:esis"},
		{"redirect in an I frame", esisFrameRDShort, Decoded, "", "", types.Type_NC_ESIS, "fr:esis"},
		{"header cut", esisFrameESH[:11], Failed, "ES-IS header cut short", "", 0, ""},
		// an I frame on DLCI 0, the link's signalling, which tshark shows
		// as data: the control field stays an unknown EtherType
		{"I frame on DLCI 0", cat(frAddressN(0, 3), []byte{0x22, 0x00}, isisHello), Unknown, "Frame Relay EtherType 0x2200", "", 0, ""},
		{"IS-IS in an I frame", cat(frAddressN(1000, 4), []byte{0x22, 0x00}, isisHello), Decoded, "", "", types.Type_NC_ISIS, "fr:isis:isis.hello"},
		// an unknown Cisco EtherType with no OSI PDU after a control field
		// stays what it was
		{"unknown EtherType", cat(frAddressN(1, 3), []byte{0x22, 0x00}, []byte{0x45, 0, 0, 0, 0, 0}), Unknown, "Frame Relay EtherType 0x2200", "", 0, ""},
	})
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		{"redirect over Cisco HDLC", esisFrameRDCHDLC, Decoded, "", "", types.Type_NC_ESIS, "chdlc:osi:esis"},
	})
	runFrameCases(t, layers.LinkTypeEthernet, []frameCase{
		{"IS hello over LLC", esisFrameISH, Decoded, "", "", types.Type_NC_ESIS, "eth:llc:osi:esis"},
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
				// The first fuzz byte is the NLPID, which picks the OSI
				// protocol: it is set to ES-IS's (0x82), so that the bytes
				// always reach the layer under test.
				b = append([]byte{0x82}, b[1:]...)
				// an 802.3 length field says at most 1500; the frame may be longer
				return cat(ethHeader(uint16(min(3+len(b), 1500))), []byte{0xfe, 0xfe, 0x03}, b)
			},
			max: fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range [][]byte{esisFrameISH[17:], esisFrameRDCHDLC[5:]} {
					out = append(out, f)
				}
				return out
			},
		},
		oracle: []tsRecord{esisOracle},
		cases: []packetCase{
			// tshark: esis.length 16, esis.type 2, esis.htime 21315, esis.chksum 0x70a1,
			// esis.sa <Invalid length of NSAP>,ecff0000
			{name: "ES hello in a Frame Relay I frame", link: layers.LinkTypeFRelay, frame: esisFrameESH,
				want: map[string]string{"HeaderLength": "16", "Version": "1", "PDUType": "2", "HoldingTime": "21315",
					"Checksum": "28833", "SourceAddresses": ",ecff0000", "OptionTypes": ""}},
			// tshark: esis.length 15, esis.type 6, esis.chksum 0x7034, esis.da 02.0400
			{name: "redirect", link: layers.LinkTypeFRelay, frame: esisFrameRDShort,
				want: map[string]string{"HeaderLength": "15", "PDUType": "6", "Checksum": "28724",
					"DestinationAddress": "020400", "SubnetworkAddress": "", "NetworkEntityTitle": ""}},
			// tshark: esis.da 04, esis.bsnpa 00000000.
			{name: "redirect with a subnetwork address", link: layers.LinkTypeFRelay, frame: esisFrameRDSNPA,
				want: map[string]string{"PDUType": "6", "DestinationAddress": "04", "SubnetworkAddress": "00000000"}},
			// tshark: esis.net 00000000
			{name: "redirect with a title", link: layers.LinkTypeFRelay, frame: esisFrameRDNET,
				want: map[string]string{"PDUType": "6", "DestinationAddress": "", "NetworkEntityTitle": "00000000"}},
			// tshark: esis.length 54, esis.type 6, esis.htime 2303, esis.chksum 0x00c6, esis.da 008e
			{name: "cut redirect over Cisco HDLC", link: layers.LinkTypeC_HDLC, frame: esisFrameRDCHDLC,
				want: map[string]string{"HeaderLength": "54", "PDUType": "6", "HoldingTime": "2303", "Checksum": "198",
					"DestinationAddress": "008e"}},
			// tshark: esis.length 24, esis.type 4, esis.htime 30, esis.net 49000100.000000000a01, ESCT (seconds): 60
			{name: "IS hello", link: layers.LinkTypeEthernet, frame: esisFrameISH,
				want: map[string]string{"HeaderLength": "24", "PDUType": "4", "HoldingTime": "30",
					"NetworkEntityTitle": "49000100000000000a01", "OptionTypes": "198"}},
		},
	})
}

func FuzzESIS(f *testing.F) { fuzzLayer(f, "ESIS") }
