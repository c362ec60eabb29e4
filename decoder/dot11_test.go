package decoder

import (
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("Dot11", protocolTest{
		cases: dot11Cases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeDot11, rec: types.Type_NC_Dot11, link: layers.LinkTypeIEEE802_11,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte { return dot11Seeds() },
		},
		oracle: []tsRecord{
			// --- link-layer and discovery records
			{
				typ: types.Type_NC_Dot11, protos: []string{"wlan"},
				fields: []tsField{
					{ours: "Type", tshark: "wlan.fc.type | wlan.fc.subtype<<2 (gopacket's Dot11Type)", want: func(_ *tsPacket, p *tsNode) (string, bool) {
						t, ok1 := p.field("wlan.fc.type").num()
						s, ok2 := p.field("wlan.fc.subtype").num()
						return strconv.FormatInt(t|s<<2, 10), ok1 && ok2
					}},
					{ours: "Proto", tshark: "wlan.fc.version", want: tsNum("wlan.fc.version")},
					{ours: "Flags", tshark: "wlan.flags", want: tsNum("wlan.flags")},
					{ours: "DurationID", tshark: "wlan.duration / wlan.aid bytes (little-endian)", want: leField("wlan.duration", "wlan.aid")},
					{ours: "Address1", tshark: "wlan.addr at offset 4", want: wlanAddr(4)},
					{ours: "Address2", tshark: "wlan.addr at offset 10", want: wlanAddr(10)},
					{ours: "Address3", tshark: "wlan.addr at offset 16", want: wlanAddr(16)},
					{ours: "Address4", tshark: "wlan.addr at offset 24", want: wlanAddr(24)},
					{ours: "SequenceNumber", tshark: "wlan.seq", want: numOr("wlan.seq", "0")},
					{ours: "FragmentNumber", tshark: "wlan.frag", want: numOr("wlan.frag", "0")},
					{ours: "Checksum", tshark: "wlan.fcs (0 without an FCS)", want: numOr("wlan.fcs", "0")},
					{ours: "QOS.TID", tshark: "wlan.qos.tid", want: numOr("wlan.qos.tid", "-")},
					{ours: "QOS.AckPolicy", tshark: "wlan.qos.ack", want: numOr("wlan.qos.ack", "-")},
				},
				skip: map[string]string{
					"QOS.EOSP":  "tshark names bit 4 eosp or buf_state_indicated by frame direction; the table-driven test checks it",
					"QOS.TXOP":  "tshark names the top byte txop_limit, txop_dur_req or queue_size by direction; the table-driven test checks it",
					"HTControl": "tshark 4.0 reads an all-ones +HTC as the HE variant, which the record has no fields for; the table-driven test checks the HT and VHT variants",
				},
			},
		},
	})
}

func FuzzDot11(f *testing.F) { fuzzLayer(f, "Dot11") }

// leField reads the first of names that tshark shows as a little-endian
// number from its bytes (802.11 fields are little-endian; tshark shows
// the duration without its top bit).
func leField(names ...string) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		for _, n := range names {
			f := p.field(n)
			if f == nil {
				continue
			}
			b, ok := f.ownBytes()
			if !ok || len(b) == 0 {
				return "", false
			}
			var v uint64
			for i := len(b) - 1; i >= 0; i-- {
				v = v<<8 | uint64(b[i])
			}
			return strconv.FormatUint(v, 10), true
		}
		return "", false
	}
}

// wlanAddr is the address tshark shows at offset off of the 802.11 header
// ("" when the frame has none there).
func wlanAddr(off int) tsWant {
	return func(_ *tsPacket, p *tsNode) (string, bool) {
		out := ""
		p.walk(func(k *tsNode) bool {
			if k.name == "wlan.addr" && k.pos == p.pos+off && k.size == 6 {
				out = k.show
				return false
			}
			return true
		})
		return out, true
	}
}

// dot11Cases are packets of Dot11 built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var dot11Cases = []packetCase{
	// tshark: 02:00:00:00:00:02 → 02:00:00:00:00:01 802.11 42 Beacon frame, SN=1, FN=0, Flags=........, BI=0, SSID="wifi"
	{name: "Beacon frame, SN=1, FN=0, Flags=........, BI=0, SSID=\"wifi\"", link: layers.LinkTypeIEEE802_11,
		hex:  "80002c00020000000001020000000002 02000000000310000000000000000000 00000000000477696669",
		want: map[string]string{"Address1": "02:00:00:00:00:01", "DurationID": "44", "Flags": "0", "Proto": "0", "Type": "32"}},
	// tshark: → 02:00:00:00:00:09 (RA) 802.11 10 Clear-to-send, Flags=........
	{name: "Clear-to-send, Flags=........", link: layers.LinkTypeIEEE802_11,
		hex:  "c4001000020000000009",
		want: map[string]string{"Address1": "02:00:00:00:00:09", "DurationID": "16", "Flags": "0", "Proto": "0", "Type": "49"}},
}

func TestDot11Fields(t *testing.T) {
	seeds := dot11Seeds()
	// QoS data, To DS: QoS control 0x0005 is TID 5, normal ack, no EOSP.
	recs := decodeOne(t, seeds[0], layers.LinkTypeIEEE802_11)
	d := one[*types.Dot11](t, recs, types.Type_NC_Dot11)
	if d.Type != 2|8<<2 || d.Flags != 1 || d.DurationID != 0x2c || d.SequenceNumber != 100 || d.Address4 != "" ||
		d.Address1 != "02:00:00:00:00:01" || d.Address3 != "02:00:00:00:00:03" || d.Checksum != 0 {
		t.Errorf("QoS data header: %v", d)
	}
	if q := d.QOS; q == nil || q.TID != 5 || q.EOSP || q.AckPolicy != 0 || q.TXOP != 0 || d.HTControl != nil {
		t.Errorf("QoS control 05 00: %v", d.QOS)
	}
	if len(recs[types.Type_NC_LLC]) != 1 || len(recs[types.Type_NC_IPv4]) != 1 || len(recs[types.Type_NC_UDP]) != 1 {
		t.Errorf("the data frame's body did not reach LLC, IPv4 and UDP: %v", recs)
	}
	// QoS control 0x26 0x01: TID 6, no EOSP, ack policy 1, TXOP 1. HT
	// control 38 0b 4d 61: bit 0 clear, so the HT variant; byte 0 0x38
	// has MAI 1110 (ASEL): command 0x0b>>1&7 = 5, data 0; byte 2 0x4d:
	// calibration position 1, sequence 3, CSI steering 1; byte 3 0x61:
	// NDP announcement 1, DEI (bit 5) 1, AC constraint 1, RDG 0.
	d = one[*types.Dot11](t, decodeOne(t, seeds[1], layers.LinkTypeIEEE802_11), types.Type_NC_Dot11)
	if q := d.QOS; q == nil || q.TID != 6 || q.EOSP || q.AckPolicy != 1 || q.TXOP != 1 {
		t.Errorf("QoS control 26 01: %v", d.QOS)
	}
	h := d.HTControl
	if h == nil || h.VHT != nil || h.HT == nil || !h.ACConstraint || h.RDGMorePPDU {
		t.Fatalf("HT control 38 0b 4d 61: %v", h)
	}
	if ht := h.HT; ht.CalibrationPosition != 1 || ht.CalibrationSequence != 3 || ht.CSISteering != 1 || !ht.NDPAnnouncement || !ht.DEI ||
		ht.LinkAdapationControl == nil || ht.LinkAdapationControl.ASEL == nil || ht.LinkAdapationControl.ASEL.Command != 5 ||
		ht.LinkAdapationControl.ASEL.Data != 0 || ht.LinkAdapationControl.MRQ {
		t.Errorf("HT variant: %v", ht)
	}
	// A VHT variant (bit 0 set), solicited, MRQ with MSI 3: byte 0 =
	// 1 | 1<<2 | 3<<3 = 0x1d; MFB: NumSTS 2, MCS 7 (byte 1 = 2<<1 | 7<<4
	// = 0x74), BW 1 and SNR field 0x3e (-2, so 20 dB) in byte 2 = 0xf9.
	vht := cat(dot11Header(0x88, 0x81, 3, 1), []byte{0, 0}, []byte{0x1d, 0x74, 0xf9, 0x00}, llcIPv4UDP())
	d = one[*types.Dot11](t, decodeOne(t, vht, layers.LinkTypeIEEE802_11), types.Type_NC_Dot11)
	v := d.HTControl.GetVHT()
	if v == nil || !v.MRQ || v.MSI != 3 || v.UnsolicitedMFB || v.MFB.NumSTS != 2 || v.MFB.VHTMCS != 7 || v.MFB.BW != 1 || v.MFB.SNR != 20 {
		t.Errorf("VHT variant: %v", v)
	}
	// Four addresses, and a CTS with one.
	d = one[*types.Dot11](t, decodeOne(t, seeds[2], layers.LinkTypeIEEE802_11), types.Type_NC_Dot11)
	if d.Address4 != "02:00:00:00:00:04" || d.QOS != nil {
		t.Errorf("WDS frame: %v", d)
	}
	d = one[*types.Dot11](t, decodeOne(t, seeds[4], layers.LinkTypeIEEE802_11), types.Type_NC_Dot11)
	if d.Type != 1|12<<2 || d.Address1 != "02:00:00:00:00:09" || d.Address2 != "" {
		t.Errorf("CTS: %v", d)
	}
}

// TestRadiotapFCSAndPadding: the radiotap flags say the frame ends with an
// FCS and the header is padded to 4 bytes; both must be taken off before
// LLC.
func TestRadiotapFCSAndPadding(t *testing.T) {
	// version 0, length 9, present = flags only, flags 0x30 (FCS, pad)
	rt := []byte{0, 0, 9, 0, 2, 0, 0, 0, 0x30}
	body := cat(dot11Header(0x88, 0x01, 3, 9), []byte{0x01, 0}, []byte{0xee, 0xee}, llcIPv4UDP())
	frame := cat(rt, body, []byte{0x78, 0x56, 0x34, 0x12})
	recs := decodeOne(t, frame, layers.LinkTypeIEEE80211Radio)
	d := one[*types.Dot11](t, recs, types.Type_NC_Dot11)
	if d.Checksum != 0x12345678 || d.QOS.GetTID() != 1 {
		t.Errorf("FCS %#x, QoS %v", d.Checksum, d.QOS)
	}
	if u := one[*types.UDP](t, recs, types.Type_NC_UDP); u.DstPort != 9999 || u.PayloadSize != 4 {
		t.Errorf("UDP after padding and FCS: %v", u)
	}
}

// dot11Seeds are bare 802.11 frames (no FCS): a QoS data frame to the
// AP with IP inside, the same with an HT control field, a data frame
// between two APs (four addresses), a beacon and a CTS.
func dot11Seeds() [][]byte {
	return [][]byte{
		cat(dot11Header(0x88, 0x01, 3, 100), []byte{0x05, 0x00}, llcIPv4UDP()),
		cat(dot11Header(0x88, 0x81, 3, 101), []byte{0x26, 0x01}, []byte{0x38, 0x0b, 0x4d, 0x61}, llcIPv4UDP()),
		cat(dot11Header(0x08, 0x03, 4, 7), llcIPv4UDP()),
		cat(dot11Header(0x80, 0x00, 3, 1), make([]byte, 12), []byte{0, 4}, []byte("wifi")),
		{0xc4, 0x00, 0x10, 0x00, 0x02, 0, 0, 0, 0, 9},
	}
}

// dot11Header is an 802.11 header: frame control, duration, addresses and
// sequence control (for management and data frames).
func dot11Header(fc0, flags byte, addrs int, seq uint16) []byte {
	b := []byte{fc0, flags, 0x2c, 0x00}
	for i := 0; i < addrs && i < 3; i++ {
		b = append(b, []byte{0x02, 0, 0, 0, 0, byte(i + 1)}...)
	}
	if addrs >= 3 {
		b = append(b, byte(seq<<4), byte(seq>>4))
	}
	if addrs == 4 {
		b = append(b, []byte{0x02, 0, 0, 0, 0, 4}...)
	}
	return b
}

// llcIPv4UDP is LLC/SNAP carrying an IPv4/UDP datagram.
func llcIPv4UDP() []byte {
	return cat([]byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ipv4Header(17, 12), udpHeader(5000, 9999, 4), []byte("abcd"))
}
