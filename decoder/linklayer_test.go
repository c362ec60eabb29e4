package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// Fields of the link-layer and discovery records that tshark cannot check
// (no dissector, no capture in the corpus, or tshark names them otherwise):
// packets built from the specs, expected values written from the specs.

type collectSink struct {
	recs map[types.Type][]proto.Message
}

func (s *collectSink) Emit(t types.Type, m proto.Message) {
	s.recs[t] = append(s.recs[t], proto.Clone(m))
}

func decodeOne(t *testing.T, frame []byte, link layers.LinkType) map[types.Type][]proto.Message {
	t.Helper()
	s := &collectSink{recs: map[types.Type][]proto.Message{}}
	pd := NewPacketDecoder(packetRecords)
	st, reason := pd.Decode(frame, link, &Packet{Frame: 1, Timestamp: 5}, s)
	if st != Decoded {
		t.Fatalf("status %d (%s), layers %v", st, reason, pd.Layers())
	}
	return s.recs
}

func one[T proto.Message](t *testing.T, recs map[types.Type][]proto.Message, typ types.Type) T {
	t.Helper()
	if len(recs[typ]) != 1 {
		t.Fatalf("%d %v records, want 1", len(recs[typ]), typ)
	}
	return recs[typ][0].(T)
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

func TestUSBFields(t *testing.T) {
	for _, mm := range []bool{false, true} {
		link := linkTypeUSBLinux
		if mm {
			link = layers.LinkTypeLinuxUSB
		}
		recs := decodeOne(t, usbSeed(mm, true), link)
		u := one[*types.USB](t, recs, types.Type_NC_USB)
		if u.ID != 0xffff88003b1c5e40 || u.EventType != 'S' || u.TransferType != 2 || u.Direction != int32(layers.USBDirectionTypeIn) ||
			u.EndpointNumber != 0 || u.DeviceAddress != 3 || u.BusID != 1 || !u.Setup || u.Data || u.TimestampSec != 1700000000 ||
			u.TimestampUsec != 123456 || u.Status != -115 || u.UrbLength != 18 || u.UrbDataLength != 0 {
			t.Errorf("mmapped %v: %v", mm, u)
		}
		if mm && u.UrbCopyOfTransferFlags != 0x200 {
			t.Errorf("mmapped transfer flags %#x", u.UrbCopyOfTransferFlags)
		}
		s := one[*types.USBRequestBlockSetup](t, recs, types.Type_NC_USBRequestBlockSetup)
		if s.RequestType != 0x80 || s.Request != 6 || s.Value != 0x100 || s.Index != 0 || s.Length != 18 {
			t.Errorf("GET_DESCRIPTOR setup: %v", s)
		}
		recs = decodeOne(t, usbSeed(mm, false), link)
		u = one[*types.USB](t, recs, types.Type_NC_USB)
		if u.Setup || !u.Data || u.EndpointNumber != 1 || u.UrbDataLength != 4 || len(recs[types.Type_NC_USBRequestBlockSetup]) != 0 {
			t.Errorf("bulk completion, mmapped %v: %v", mm, u)
		}
	}
}

func TestLCMFields(t *testing.T) {
	s := lcmSeeds()
	l := one[*types.LCM](t, decodeOne(t, overUDP4(1, lcmPort)(s[0]), layers.LinkTypeEthernet), types.Type_NC_LCM)
	if l.Magic != 0x4c433032 || l.SequenceNumber != 9 || l.ChannelName != "POSE" || l.Fragmented {
		t.Errorf("short message: %v", l)
	}
	l = one[*types.LCM](t, decodeOne(t, overUDP4(1, lcmPort)(s[1]), layers.LinkTypeEthernet), types.Type_NC_LCM)
	if l.Magic != 0x4c433033 || l.SequenceNumber != 10 || l.PayloadSize != 4096 || l.FragmentOffset != 0 ||
		l.FragmentNumber != 0 || l.TotalFragments != 3 || l.ChannelName != "CAMERA" || !l.Fragmented {
		t.Errorf("first fragment: %v", l)
	}
}

func TestFDDIAndNortelFields(t *testing.T) {
	// FDDI: frame control 0x51 (LLC, priority 1), destination first.
	frame := cat([]byte{0x51}, macB, macA, []byte{0xaa, 0xaa, 3, 0, 0, 0x81, 0x01, 0xa2}, []byte{192, 0, 2, 9, 0, 0, 1, 12, 2, 3, 4})
	recs := decodeOne(t, frame, layers.LinkTypeFDDI)
	f := one[*types.FDDI](t, recs, types.Type_NC_FDDI)
	if f.FrameControl != 0x50 || f.Priority != 1 || f.DstMAC != macB.String() || f.SrcMAC != macA.String() {
		t.Errorf("FDDI: %v", f)
	}
	n := one[*types.NortelDiscovery](t, recs, types.Type_NC_NortelDiscovery)
	if n.IPAddress != "192.0.2.9" || string(n.SegmentID) != "\x00\x00\x01" || n.Chassis != 12 || n.Backplane != 2 || n.State != 3 || n.NumLinks != 4 {
		t.Errorf("Nortel: %v", n)
	}
}

func TestEAPOLKeyRSNFields(t *testing.T) {
	k := eapolKeySeeds()[0]
	frame := cat(ethHeader(0x888e), []byte{2, 3, 0, byte(len(k))}, k)
	r := one[*types.EAPOLKey](t, decodeOne(t, frame, layers.LinkTypeEthernet), types.Type_NC_EAPOLKey)
	// key information 0x008a: descriptor version 2, pairwise (bit 3), ACK (bit 7)
	if r.KeyDescriptorType != 2 || r.KeyDescriptorVersion != 2 || r.KeyType != 1 || !r.KeyACK || r.KeyMIC || r.Install ||
		r.KeyLength != 16 || r.ReplayCounter != 1 || len(r.Nonce) != 32 || r.Nonce[0] != 13 || r.KeyDataLength != 0 {
		t.Errorf("RSN key message 1: %v", r)
	}
}

func TestLLDPInfoFields(t *testing.T) {
	recs := decodeOne(t, cat(ethHeader(0x88cc), lldpSeed()), layers.LinkTypeEthernet)
	in := one[*types.LinkLayerDiscoveryInfo](t, recs, types.Type_NC_LinkLayerDiscoveryInfo)
	// capabilities 0x0014 (bridge, router) enabled 0x0004 (bridge)
	c := in.SysCapabilities
	if c == nil || !c.SystemCap.Bridge || !c.SystemCap.Router || c.SystemCap.Other || !c.EnabledCap.Bridge || c.EnabledCap.Router {
		t.Errorf("capabilities: %v", c)
	}
	m := in.MgmtAddress
	if m == nil || m.Subtype != 1 || string(m.Address) != string(ip4A.To4()) || m.InterfaceSubtype != 2 || m.InterfaceNumber != 7 {
		t.Errorf("management address: %v", m)
	}
	if len(in.OrgTLVs) != 1 || in.OrgTLVs[0].OUI != 0x0080c2 || in.OrgTLVs[0].SubType != 1 || len(in.Unknown) != 1 || in.Unknown[0].Type != 9 {
		t.Errorf("org and unknown TLVs: %v %v", in.OrgTLVs, in.Unknown)
	}
	if in.SysName != "switch1" || in.PortDescription != "uplink" {
		t.Errorf("names: %v", in)
	}
}
