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

// IS-IS frames of tcpdump's captures: ISIS_p2p_adjacency.pcap (Cisco HDLC,
// with a pad byte before the NLPID) and ISIS_level1_adjacency.pcap
// (Ethernet, LLC). The LAN hello is cut after its area address TLV, as a
// short snap length cuts it.
const (
	// 18 88.709388 N/A → N/A ISIS PSNP 40 L2 PSNP, Source-ID: 1111.1111.1111.00
	isisPSNP = "8f00fefe00831101001b010000002311111111111100091004ae222222222222000000000006f4cf"
	// 10 87.701338 N/A → N/A ISIS LSP 79 L2 LSP, LSP-ID: 1111.1111.1111.00-00, Sequence: 0x00000007, Lifetime: 1200s
	isisLSP = "8f00fefe35831b010014010000004a04b0111111111111000000000007378e030104034900018101cc8902523184040a000001020c000a80808022222222222200800c0a8080800a000000fffffffc"
	// 1 0.000000 c2:01:29:98:00:00 → ISIS-all-level-1-IS's ISIS HELLO 1514 L1 HELLO, System-ID: 2222.2222.2222
	isisLANHello = "0180c2000014c2012998000005dcfefe03831b01000f01000001222222222222001e05d940222222222222018101cc01040349000a"
	// 13 41.956674 c2:02:29:98:00:01 → ISIS-all-level-1-IS's ISIS CSNP 100 L1 CSNP, Source-ID: 3333.3333.3333.00, Start LSP-ID: 0000.0000.0000.00-00, End LSP-ID: ffff.ffff.ffff.ff-ff
	isisCSNP = "0180c2000014c202299800010056fefe0383210100180100000053333333333333000000000000000000ffffffffffffffff093004a8222222222222000000000009630b04aa33333333333300000000000e1b47040f3333333333330200000000047f9f"
)

func TestISISFrames(t *testing.T) {
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		{"PSNP", isisPSNP, Decoded, "", "", types.Type_NC_ISIS},
		{"LSP", isisLSP, Decoded, "", "", types.Type_NC_ISIS},
		{"header cut", isisLSP[:40], Failed, "IS-IS header cut short", "", 0},
		// tcpdump's esis_opt_prot-oobr.pcap (a pad byte 0x0f before the NLPID):
		// 1 0.000000 N/A → N/A ESIS 262144 RD REQUEST[Packet size limited during capture]
		{"ES-IS", "02dcfefe0f823601006608ff00c602008e0000810b81", Decoded, "", "", types.Type_NC_ESIS},
	})
	runFrameCases(t, layers.LinkTypeEthernet, []frameCase{
		{"LAN hello", isisLANHello, Decoded, "", "", types.Type_NC_ISIS},
		{"CSNP", isisCSNP, Decoded, "", "", types.Type_NC_ISIS},
	})
	// Frame Relay, RFC 2427: the UI control byte, then the IS-IS PDU whose
	// first byte is the NLPID (the PSNP above)
	runFrameCases(t, layers.LinkTypeFRelay, []frameCase{
		{"PSNP over Frame Relay", "0c2103" + isisPSNP[10:], Decoded, "", "", types.Type_NC_ISIS},
	})
}

// TestISISFields checks the records against tshark's isis.* fields for
// the frames above.
func TestISISFields(t *testing.T) {
	for _, tc := range []struct {
		name  string
		link  layers.LinkType
		frame string
		want  *types.ISIS
	}{
		// tshark: isis.len 17, isis.type 27, isis.psnp.pdu_length 35, isis.psnp.source_id 1111.1111.1111, isis.psnp.clv.type 9
		{"PSNP", layers.LinkTypeC_HDLC, isisPSNP, &types.ISIS{HeaderLength: 17, Version: 1, PDUType: 27, PDULength: 35,
			SourceID: "1111.1111.1111", TLVTypes: []int32{9}}},
		// tshark: isis.len 27, isis.type 20, isis.lsp.pdu_length 74, isis.lsp.remaining_life 1200,
		// isis.lsp.lsp_id 1111.1111.1111.00-00, isis.lsp.sequence_number 0x00000007, isis.lsp.checksum 0x378e,
		// isis.lsp.area_address 03:49:00:01, isis.lsp.clv.type 1,129,137,132,2,128
		{"LSP", layers.LinkTypeC_HDLC, isisLSP, &types.ISIS{HeaderLength: 27, Version: 1, PDUType: 20, PDULength: 74,
			RemainingLifetime: 1200, LSPID: "1111.1111.1111.00-00", SequenceNumber: 7, Checksum: 0x378e,
			AreaAddresses: []string{"49.0001"}, TLVTypes: []int32{1, 129, 137, 132, 2, 128}}},
		// tshark: isis.len 27, isis.type 15, isis.hello.circuit_type 0x01, isis.hello.source_id 2222.2222.2222,
		// isis.hello.holding_timer 30, isis.hello.pdu_length 1497, isis.hello.priority 64,
		// isis.hello.lan_id 2222.2222.2222.01, isis.hello.area_address 03:49:00:0a; the TLVs after 129 and 1 are cut
		{"LAN hello", layers.LinkTypeEthernet, isisLANHello, &types.ISIS{HeaderLength: 27, Version: 1, PDUType: 15, PDULength: 1497,
			CircuitType: 1, SourceID: "2222.2222.2222", HoldingTime: 30, Priority: 64, LANID: "2222.2222.2222.01",
			AreaAddresses: []string{"49.000a"}, TLVTypes: []int32{129, 1}}},
		// tshark: isis.len 33, isis.type 24, isis.csnp.pdu_length 83, isis.csnp.source_id 3333.3333.3333,
		// isis.csnp.start_lsp_id 0000.0000.0000.00-00, isis.csnp.end_lsp_id ffff.ffff.ffff.ff-ff, isis.csnp.clv.type 9
		{"CSNP", layers.LinkTypeEthernet, isisCSNP, &types.ISIS{HeaderLength: 33, Version: 1, PDUType: 24, PDULength: 83,
			SourceID: "3333.3333.3333", StartLSPID: "0000.0000.0000.00-00", EndLSPID: "ffff.ffff.ffff.ff-ff", TLVTypes: []int32{9}}},
	} {
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
				// an 802.3 length field says at most 1500; the frame may be longer
				return cat(ethHeader(uint16(min(3+len(b), 1500))), []byte{0xfe, 0xfe, 0x03}, b)
			},
			max: fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range []string{isisLANHello, isisCSNP} {
					b, _ := hex.DecodeString(f)
					out = append(out, b[17:])
				}
				return out
			},
		},
		oracle: []tsRecord{isisOracle},
		cases: []packetCase{
			// tshark: isis.type 27, isis.psnp.pdu_length 35, isis.psnp.source_id 1111.1111.1111
			{name: "L2 PSNP", link: layers.LinkTypeC_HDLC, hex: isisPSNP,
				want: map[string]string{"PDUType": "27", "PDULength": "35", "SourceID": "1111.1111.1111", "TLVTypes": "9"}},
			// tshark: isis.type 20, isis.lsp.lsp_id 1111.1111.1111.00-00, isis.lsp.sequence_number 7, isis.lsp.remaining_life 1200
			{name: "L2 LSP", link: layers.LinkTypeC_HDLC, hex: isisLSP,
				want: map[string]string{"PDUType": "20", "LSPID": "1111.1111.1111.00-00", "SequenceNumber": "7",
					"RemainingLifetime": "1200", "AreaAddresses": "49.0001", "TLVTypes": "1,129,137,132,2,128"}},
			// tshark: isis.type 24, isis.csnp.start_lsp_id 0000.0000.0000.00-00, isis.csnp.end_lsp_id ffff.ffff.ffff.ff-ff
			{name: "L1 CSNP", link: layers.LinkTypeEthernet, hex: isisCSNP,
				want: map[string]string{"PDUType": "24", "SourceID": "3333.3333.3333",
					"StartLSPID": "0000.0000.0000.00-00", "EndLSPID": "ffff.ffff.ffff.ff-ff"}},
		},
	})
}

func FuzzISIS(f *testing.F) { fuzzLayer(f, "ISIS") }
