package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/netcap/netcap/types"
)

// IEEE 802.15.4 frames (link type 195, with FCS) built here, with the
// record each must give; TestWPAN has tshark dissect them.
var wpanFrames = []struct {
	name  string
	frame []byte
	want  *types.WPAN
}{
	// a 2015 data frame, long addresses, ack requested, the destination PAN
	// only: an uncompressed IPv6 header (no next header) in 6LoWPAN
	{"data", wpanFrame(wpanFC{typ: 1, ack: true, dstMode: 3, version: 2, srcMode: 3}, cat([]byte{1}, u16le(0xab4d),
		wpanLong(0x1005008100010001), wpanLong(0x0002000240021002)), cat([]byte{0x41}, ipv6Header(59, 0))),
		&types.WPAN{FrameType: 1, AckRequest: true, DstAddrMode: 3, FrameVersion: 2, SrcAddrMode: 3, SequenceNumber: 1,
			DstPANID: 0xab4d, DstAddr: "10:05:00:81:00:01:00:01", SrcPANID: -1, SrcAddr: "00:02:00:02:40:02:10:02"}},
	// an enhanced beacon without sequence number: broadcast destination,
	// both PANs, a long source, then the header termination IE and an MLME
	// payload IE holding a TSCH synchronization IE (ASN 2, join metric 1)
	{"enhanced beacon", wpanFrame(wpanFC{typ: 0, noSeq: true, ie: true, dstMode: 2, version: 2, srcMode: 3},
		cat(u16le(0xabcd), u16le(0xffff), u16le(0xabcd), wpanLong(0xc10c000000000001)),
		cat(u16le(0x7e<<7), u16le(1<<15|1<<11|8), u16le(0x1a<<8|6), []byte{2, 0, 0, 0, 0, 1})),
		&types.WPAN{FrameType: 0, SequenceNumberSuppression: true, IEPresent: true, DstAddrMode: 2, FrameVersion: 2, SrcAddrMode: 3,
			DstPANID: 0xabcd, DstAddr: "0xffff", SrcPANID: 0xabcd, SrcAddr: "c1:0c:00:00:00:00:00:01"}},
}

// wpanFC are the fields of an 802.15.4 frame control.
type wpanFC struct {
	typ                       uint16
	ack, panComp, noSeq, ie   bool
	dstMode, version, srcMode uint16
}

// bytes is the frame control, little-endian.
func (f wpanFC) bytes() []byte {
	bit := func(b bool, n uint) uint16 {
		if b {
			return 1 << n
		}
		return 0
	}
	v := f.typ | bit(f.ack, 5) | bit(f.panComp, 6) | bit(f.noSeq, 8) | bit(f.ie, 9) | f.dstMode<<10 | f.version<<12 | f.srcMode<<14
	return u16le(v)
}

// wpanFrame is a frame: frame control, the sequence number and addressing
// fields, the payload, then the FCS.
func wpanFrame(fc wpanFC, addressing, payload []byte) []byte {
	b := cat(fc.bytes(), addressing, payload)
	return append(b, u16le(wpanFCS(b))...)
}

// wpanFCS is the 802.15.4 FCS: CRC-16 of ITU-T, bits reflected, initial
// value 0.
func wpanFCS(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// wpanLong is a long (EUI-64) address as the frame carries it,
// little-endian.
func wpanLong(a uint64) []byte { return binary.LittleEndian.AppendUint64(nil, a) }

// u16le is v in little-endian byte order.
func u16le(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func TestWPAN(t *testing.T) {
	for _, tc := range wpanFrames {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.frame
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			st, reason := d.Decode(data, linkTypeWPAN, &meta, s)
			if st != Unknown || reason != "IEEE 802.15.4 frame type "+string(rune('0'+tc.want.FrameType))+" payload" {
				t.Fatalf("status %v %q, want unknown (the payload)", st, reason)
			}
			if len(s.recs) != 1 {
				t.Fatalf("%d records, want 1 WPAN", len(s.recs))
			}
			got, ok := s.recs[0].(*types.WPAN)
			w := tc.want
			if !ok || got.FrameType != w.FrameType || got.SecurityEnabled != w.SecurityEnabled || got.FramePending != w.FramePending ||
				got.AckRequest != w.AckRequest || got.PANIDCompression != w.PANIDCompression ||
				got.SequenceNumberSuppression != w.SequenceNumberSuppression || got.IEPresent != w.IEPresent ||
				got.DstAddrMode != w.DstAddrMode || got.FrameVersion != w.FrameVersion || got.SrcAddrMode != w.SrcAddrMode ||
				got.SequenceNumber != w.SequenceNumber || got.DstPANID != w.DstPANID || got.DstAddr != w.DstAddr ||
				got.SrcPANID != w.SrcPANID || got.SrcAddr != w.SrcAddr {
				t.Errorf("got  %v\nwant %v", s.recs[0], w)
			}
		})
	}
	var frames [][]byte
	var names, want []string
	for _, f := range wpanFrames {
		frames, names = append(frames, f.frame), append(names, f.name)
	}
	want = []string{"wpan:6lowpan:ipv6", "wpan"}
	t.Run("tshark", func(t *testing.T) {
		checkTsharkProtocols(t, linkTypeWPAN, frames, want, names)
		// the addressing fields the records are checked for above
		checkTsharkField(t, linkTypeWPAN, frames, "wpan.dst_pan", []string{"0xab4d", "0xabcd"}, names)
		checkTsharkField(t, linkTypeWPAN, frames, "wpan.src_pan", []string{"", "0xabcd"}, names)
		checkTsharkField(t, linkTypeWPAN, frames, "wpan.src64", []string{"00:02:00:02:40:02:10:02", "c1:0c:00:00:00:00:00:01"}, names)
		checkTsharkField(t, linkTypeWPAN, frames, "wpan.fcs_ok", []string{"1", "1"}, names)
	})
	runFrameCases(t, linkTypeWPAN, []frameCase{
		// an acknowledgment (2006): frame control, sequence number 42, FCS
		{"ack", wpanFrame(wpanFC{typ: 2, version: 1}, []byte{42}, nil), Decoded, "", "", types.Type_NC_WPAN, "wpan"},
		// a 2006 data frame, short addresses, PAN ID compressed: dst PAN 0x1234, dst 0x0001, src 0x0002, 1 payload byte, FCS
		{"data, short addresses", wpanFrame(wpanFC{typ: 1, ack: true, panComp: true, dstMode: 2, version: 1, srcMode: 2},
			cat([]byte{23}, u16le(0x1234), u16le(1), u16le(2)), []byte{0x55}),
			Unknown, "IEEE 802.15.4 frame type 1 payload", "", types.Type_NC_WPAN, "wpan:*"},
		{"addresses cut", wpanFrames[0].frame[:9], Failed, "IEEE 802.15.4 header cut short", "", 0, ""},
		{"FCS only", wpanFrame(wpanFC{typ: 2, version: 1}, nil, nil)[:2], Failed, "IEEE 802.15.4 header cut short", "", 0, ""},
	})
}

func TestWPANPANs(t *testing.T) {
	// IEEE 802.15.4-2015 table 7-2 (frame version 2) and the 2006 rule
	for _, tc := range []struct {
		version, dst, src uint8
		comp              bool
		dstPAN, srcPAN    bool
	}{
		{2, 0, 0, false, false, false}, {2, 0, 0, true, true, false},
		{2, 2, 0, false, true, false}, {2, 3, 0, true, false, false},
		{2, 0, 2, false, false, true}, {2, 0, 3, true, false, false},
		{2, 3, 3, false, true, false}, {2, 3, 3, true, false, false},
		{2, 2, 2, false, true, true}, {2, 2, 3, false, true, true}, {2, 3, 2, false, true, true},
		{2, 2, 2, true, true, false}, {2, 2, 3, true, true, false}, {2, 3, 2, true, true, false},
		{1, 2, 2, true, true, false}, {0, 3, 3, false, true, true}, {1, 0, 2, false, false, true},
	} {
		d, s := wpanPANs(tc.version, tc.dst, tc.src, tc.comp)
		if d != tc.dstPAN || s != tc.srcPAN {
			t.Errorf("%+v: %v %v", tc, d, s)
		}
	}
}

// The test entry: 802.15.4 frames with FCS for the fuzzer, the frames
// above as cases with tshark's values.
func init() {
	addProtocolTest("WPAN", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypeWPAN, rec: types.Type_NC_WPAN, link: linkTypeWPAN,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range wpanFrames {
					out = append(out, f.frame)
				}
				return out
			},
		},
		oracle: wpanOracle,
		// The corpus's 802.15.4 frames carry payloads netcap does not decode
		// (unknown packets), so the cases are payload-less frames of the
		// same header rules.
		cases: []packetCase{
			// tshark: IEEE 802.15.4 5 Ack, Bad FCS; wpan.frame_type 2, wpan.seq_no 42
			{name: "Ack", link: linkTypeWPAN, hex: "02002a0000",
				want: map[string]string{"FrameType": "2", "SequenceNumber": "42", "DstAddr": "", "SrcAddr": ""}},
			// tshark: 0x0001 → Broadcast IEEE 802.15.4 11 Data, Dst: Broadcast, Src: 0x0001, Bad FCS;
			// wpan.seq_no 23, wpan.pan_id_compression 1, wpan.dst_pan 0x1234, wpan.dst16 0xffff, wpan.src16 0x0001
			{name: "Data without payload", link: linkTypeWPAN, hex: "41881734 12ffff01 000000",
				want: map[string]string{"FrameType": "1", "SequenceNumber": "23", "PANIDCompression": "1",
					"DstPANID": "4660", "DstAddr": "0xffff", "SrcAddr": "0x0001"}},
		},
	})
}

func FuzzWPAN(f *testing.F) { fuzzLayer(f, "WPAN") }
