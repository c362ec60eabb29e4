package decoder

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// IS-IS PDUs built here from ISO 10589: over Cisco HDLC (with a pad byte
// before the NLPID, as some routers send it), over Ethernet and LLC, and
// over Frame Relay. The LAN hello is cut after its area address TLV, as a
// short snap length cuts a padded hello.
var (
	isisSysA = []byte{0x19, 0x20, 0x00, 0x00, 0x20, 0x01} // 1920.0000.2001
	isisSysB = []byte{0x19, 0x85, 0x11, 0x00, 0x00, 0x07} // 1985.1100.0007
	// isisTestArea is the area address 49.0002 with its length byte
	isisTestArea = []byte{3, 0x49, 0x00, 0x02}

	// L2 PSNP from 1920.0000.2001 acknowledging one LSP of 1985.1100.0007
	isisPSNPPDU = cat(isisHeader(17, 27), u16b(35), isisSysA, []byte{0},
		isisTLV(9, isisLSPEntry(1199, isisSysB, 6, 0x1a2b)))
	// L2 LSP 1920.0000.2001.00-00, sequence 7: area, protocols (IPv4),
	// host name, interface address, IS and IP reachability
	isisLSPPDU = isisLSPBuild()
	// L1 LAN hello of 1985.1100.0007, priority 64, LAN ID 1985.1100.0007.01;
	// its PDU length says 1497 (the hello padded to the MTU), the frame ends
	// after the area address TLV
	isisLANHelloPDU = cat(isisHeader(27, 15), []byte{1}, isisSysB, u16b(30), u16b(1497), []byte{64}, isisSysB, []byte{1},
		isisTLV(129, []byte{nlpidIPv4}), isisTLV(1, isisTestArea))
	// L1 CSNP of 1985.1100.0007 for the whole LSP ID range, three LSPs
	isisCSNPPDU = cat(isisHeader(33, 24), u16b(83), isisSysB, []byte{0},
		make([]byte, 8), bytes.Repeat([]byte{0xff}, 8),
		isisTLV(9, isisLSPEntry(1100, isisSysA, 9, 0x0101), isisLSPEntry(1150, isisSysB, 14, 0x0202),
			isisLSPEntry(1000, append(slices.Clone(isisSysB), 2), 4, 0x0303)))

	isisPSNP     = cat(chdlcHeader(chdlcMulticast, 0xfefe), []byte{0}, isisPSNPPDU)
	isisLSP      = cat(chdlcHeader(chdlcMulticast, 0xfefe), []byte{0}, isisLSPPDU)
	isisLANHello = cat(isisEthernet(isisAllL1, 1500), isisLANHelloPDU)
	isisCSNP     = cat(isisEthernet(isisAllL1, 3+len(isisCSNPPDU)), isisCSNPPDU)
)

// isisAllL1 is the multicast address of all level 1 intermediate systems.
var isisAllL1 = []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x14}

// isisEthernet is an 802.3 header to dst with the given length field and
// the LLC header of OSI (SAPs 0xfe, UI).
func isisEthernet(dst []byte, length int) []byte {
	return cat(dst, macA, u16b(uint16(length)), []byte{0xfe, 0xfe, 0x03})
}

// isisHeader is the common header of an IS-IS PDU: NLPID, the length of
// the fixed header, version 1, system ID length 0 (6 bytes), PDU type,
// version 1, reserved, maximum area addresses 0 (3).
func isisHeader(hdrLen, pduType byte) []byte {
	return []byte{nlpidISIS, hdrLen, 1, 0, pduType, 1, 0, 0}
}

// isisTLV is a TLV of the values' bytes.
func isisTLV(typ byte, values ...[]byte) []byte {
	v := cat(values...)
	return cat([]byte{typ, byte(len(v))}, v)
}

// isisLSPEntry is an LSP entry of a sequence numbers PDU: lifetime, LSP ID
// (the system's fragment 0 of its pseudonode 0), sequence number, checksum.
func isisLSPEntry(life uint16, sys []byte, seq uint32, sum uint16) []byte {
	id := cat(sys, []byte{0, 0})[:8]
	return cat(u16b(life), id, binary.BigEndian.AppendUint32(nil, seq), u16b(sum))
}

func isisLSPBuild() []byte {
	tlvs := cat(
		isisTLV(1, isisTestArea),
		isisTLV(129, []byte{nlpidIPv4}),
		isisTLV(137, []byte("r1")),
		isisTLV(132, ip4A.To4()),
		// virtual flag, then default metric 10 (other metrics unsupported) and the neighbour
		isisTLV(2, []byte{0}, []byte{10, 0x80, 0x80, 0x80}, isisSysB, []byte{0}),
		// metrics, then a prefix and its mask
		isisTLV(128, []byte{10, 0x80, 0x80, 0x80}, []byte{192, 0, 2, 0}, []byte{255, 255, 255, 0}),
	)
	return cat(isisHeader(27, 20), u16b(uint16(27+len(tlvs))), u16b(1200), isisSysA, []byte{0, 0},
		binary.BigEndian.AppendUint32(nil, 7), u16b(0x378e), []byte{0x03}, tlvs)
}

// u16b is v in network byte order.
func u16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func TestISISFrames(t *testing.T) {
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		{"PSNP", isisPSNP, Decoded, "", "", types.Type_NC_ISIS, "chdlc:osi:isis:isis.psnp"},
		{"LSP", isisLSP, Decoded, "", "", types.Type_NC_ISIS, "chdlc:osi:isis:isis.lsp"},
		{"header cut", isisLSP[:20], Failed, "IS-IS header cut short", "", 0, ""},
		{"ES-IS", esisFrameRDCHDLC, Decoded, "", "", types.Type_NC_ESIS, "chdlc:osi:esis"},
	})
	runFrameCases(t, layers.LinkTypeEthernet, []frameCase{
		{"LAN hello", isisLANHello, Decoded, "", "", types.Type_NC_ISIS, "eth:llc:osi:isis:isis.hello"},
		{"CSNP", isisCSNP, Decoded, "", "", types.Type_NC_ISIS, "eth:llc:osi:isis:isis.csnp"},
	})
	// Frame Relay, RFC 2427: the UI control byte, then the IS-IS PDU whose
	// first byte is the NLPID
	runFrameCases(t, layers.LinkTypeFRelay, []frameCase{
		{"PSNP over Frame Relay", cat(frAddress(50), []byte{frUI}, isisPSNPPDU), Decoded, "", "", types.Type_NC_ISIS, "fr:isis:isis.psnp"},
	})
}

// TestISISFields checks the records of the frames above field by field;
// the values are the isis.* fields tshark shows for them (TestProtocolCases
// compares the same frames' records with tshark's dissection).
func TestISISFields(t *testing.T) {
	for _, tc := range []struct {
		name  string
		link  layers.LinkType
		frame []byte
		want  *types.ISIS
	}{
		// tshark: isis.len 17, isis.type 27, isis.psnp.pdu_length 35, isis.psnp.source_id 1920.0000.2001, isis.psnp.clv.type 9
		{"PSNP", layers.LinkTypeC_HDLC, isisPSNP, &types.ISIS{HeaderLength: 17, Version: 1, PDUType: 27, PDULength: 35,
			SourceID: "1920.0000.2001", TLVTypes: []int32{9}}},
		// tshark: isis.len 27, isis.type 20, isis.lsp.pdu_length 74, isis.lsp.remaining_life 1200,
		// isis.lsp.lsp_id 1920.0000.2001.00-00, isis.lsp.sequence_number 0x00000007, isis.lsp.checksum 0x378e,
		// isis.lsp.area_address 03:49:00:02, isis.lsp.clv.type 1,129,137,132,2,128
		{"LSP", layers.LinkTypeC_HDLC, isisLSP, &types.ISIS{HeaderLength: 27, Version: 1, PDUType: 20, PDULength: 74,
			RemainingLifetime: 1200, LSPID: "1920.0000.2001.00-00", SequenceNumber: 7, Checksum: 0x378e,
			AreaAddresses: []string{"49.0002"}, TLVTypes: []int32{1, 129, 137, 132, 2, 128}}},
		// tshark: isis.len 27, isis.type 15, isis.hello.circuit_type 0x01, isis.hello.source_id 1985.1100.0007,
		// isis.hello.holding_timer 30, isis.hello.pdu_length 1497, isis.hello.priority 64,
		// isis.hello.lan_id 1985.1100.0007.01, isis.hello.area_address 03:49:00:02; the TLVs after 129 and 1 are cut
		{"LAN hello", layers.LinkTypeEthernet, isisLANHello, &types.ISIS{HeaderLength: 27, Version: 1, PDUType: 15, PDULength: 1497,
			CircuitType: 1, SourceID: "1985.1100.0007", HoldingTime: 30, Priority: 64, LANID: "1985.1100.0007.01",
			AreaAddresses: []string{"49.0002"}, TLVTypes: []int32{129, 1}}},
		// tshark: isis.len 33, isis.type 24, isis.csnp.pdu_length 83, isis.csnp.source_id 1985.1100.0007,
		// isis.csnp.start_lsp_id 0000.0000.0000.00-00, isis.csnp.end_lsp_id ffff.ffff.ffff.ff-ff, isis.csnp.clv.type 9
		{"CSNP", layers.LinkTypeEthernet, isisCSNP, &types.ISIS{HeaderLength: 33, Version: 1, PDUType: 24, PDULength: 83,
			SourceID: "1985.1100.0007", StartLSPID: "0000.0000.0000.00-00", EndLSPID: "ffff.ffff.ffff.ff-ff", TLVTypes: []int32{9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.frame
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			if st, reason := d.Decode(data, tc.link, &meta, s); st != Decoded {
				t.Fatalf("status %v %q", st, reason)
			}
			var got *types.ISIS
			for _, r := range s.recs {
				if r, ok := r.(*types.ISIS); ok {
					got = r
				}
			}
			if got == nil {
				t.Fatal("no ISIS record")
			}
			w := tc.want
			if got.HeaderLength != w.HeaderLength || got.Version != w.Version || got.SystemIDLength != 0 || got.PDUType != w.PDUType ||
				got.PDULength != w.PDULength || got.CircuitType != w.CircuitType || got.SourceID != w.SourceID ||
				got.HoldingTime != w.HoldingTime || got.Priority != w.Priority || got.LANID != w.LANID ||
				got.RemainingLifetime != w.RemainingLifetime || got.LSPID != w.LSPID || got.SequenceNumber != w.SequenceNumber ||
				got.Checksum != w.Checksum || got.StartLSPID != w.StartLSPID || got.EndLSPID != w.EndLSPID ||
				!slices.Equal(got.AreaAddresses, w.AreaAddresses) || !slices.Equal(got.TLVTypes, w.TLVTypes) {
				t.Errorf("got  %v\nwant %v", got, w)
			}
		})
	}
}

// TestISISBounds: hostile headers and TLVs stay within the PDU.
func TestISISBounds(t *testing.T) {
	for _, tc := range []struct {
		name, pdu, err string
		tlvs           []int32
	}{
		{"system ID length 9", "831b01090f010000", "system ID length above 8", nil},
		{"TLV longer than the PDU", "831101001b010000" + "0011" + "111111111111" + "00" + "09ff00", "", nil},
		{"PDU length below the header", "831101001b010000" + "0001" + "111111111111" + "00" + "0900" + "0100", "", nil},
		{"area length past the TLV", "831101001b010000" + "0017" + "111111111111" + "00" + "010205490001", "", []int32{1}},
		{"unknown PDU type", "8308010000010000ffff", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := hex.DecodeString(tc.pdu)
			if err != nil {
				t.Fatal(err)
			}
			var l isisLayer
			err = l.DecodeFromBytes(data, &testFeedback{})
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if !slices.Equal(l.TLVTypes, tc.tlvs) {
				t.Fatalf("TLVs %v, want %v", l.TLVTypes, tc.tlvs)
			}
		})
	}
}

type testFeedback struct{ truncated bool }

func (f *testFeedback) SetTruncated() { f.truncated = true }

// The test entry: IS-IS PDUs over Ethernet and LLC for the fuzzer, the
// frames above as cases with tshark's values.
func init() {
	addProtocolTest("ISIS", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypeISIS, rec: types.Type_NC_ISIS, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC, layerTypeOSI},
			wrap: func(b []byte) []byte {
				// The first fuzz byte is the NLPID, which picks the OSI
				// protocol: it is set to IS-IS's (0x83), so that the bytes
				// always reach the layer under test.
				b = append([]byte{0x83}, b[1:]...)
				// an 802.3 length field says at most 1500; the frame may be longer
				return cat(ethHeader(uint16(min(3+len(b), 1500))), []byte{0xfe, 0xfe, 0x03}, b)
			},
			max: fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range [][]byte{isisLANHello, isisCSNP} {
					out = append(out, f[17:])
				}
				return out
			},
		},
		oracle: []tsRecord{isisOracle},
		cases: []packetCase{
			// tshark: isis.type 27, isis.psnp.pdu_length 35, isis.psnp.source_id 1920.0000.2001
			{name: "L2 PSNP", link: layers.LinkTypeC_HDLC, frame: isisPSNP,
				want: map[string]string{"PDUType": "27", "PDULength": "35", "SourceID": "1920.0000.2001", "TLVTypes": "9"}},
			// tshark: isis.type 20, isis.lsp.lsp_id 1920.0000.2001.00-00, isis.lsp.sequence_number 7, isis.lsp.remaining_life 1200
			{name: "L2 LSP", link: layers.LinkTypeC_HDLC, frame: isisLSP,
				want: map[string]string{"PDUType": "20", "LSPID": "1920.0000.2001.00-00", "SequenceNumber": "7",
					"RemainingLifetime": "1200", "AreaAddresses": "49.0002", "TLVTypes": "1,129,137,132,2,128"}},
			// tshark: isis.type 15, isis.hello.source_id 1985.1100.0007, isis.hello.lan_id 1985.1100.0007.01,
			// isis.hello.pdu_length 1497 (the frame ends after the area address TLV)
			{name: "L1 LAN hello, cut", link: layers.LinkTypeEthernet, frame: isisLANHello,
				want: map[string]string{"PDUType": "15", "PDULength": "1497", "SourceID": "1985.1100.0007",
					"LANID": "1985.1100.0007.01", "Priority": "64", "AreaAddresses": "49.0002", "TLVTypes": "129,1"}},
			// tshark: isis.type 24, isis.csnp.start_lsp_id 0000.0000.0000.00-00, isis.csnp.end_lsp_id ffff.ffff.ffff.ff-ff
			{name: "L1 CSNP", link: layers.LinkTypeEthernet, frame: isisCSNP,
				want: map[string]string{"PDUType": "24", "SourceID": "1985.1100.0007",
					"StartLSPID": "0000.0000.0000.00-00", "EndLSPID": "ffff.ffff.ffff.ff-ff"}},
		},
	})
}

func FuzzISIS(f *testing.F) { fuzzLayer(f, "ISIS") }
