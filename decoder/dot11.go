package decoder

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// IEEE 802.11 MAC headers, from radiotap (link type 127) or bare (link type
// 105), with the QoS and HT control fields. Data frames with a body go on
// to LLC/SNAP and IP; management and control frame bodies, encrypted
// bodies and A-MSDUs have no decoder and end the chain as payload.
//
// Whether the frame ends with a frame check sequence and whether the
// header is padded to four bytes is known only from the radiotap flags, so
// the radiotap layer hands the frame on as one of four layer types; bare
// 802.11 frames have neither (tshark's default for link type 105).
func init() {
	Register(Protocol{
		Name: "Dot11", Layer: layers.LayerTypeDot11,
		Also:        []gopacket.LayerType{layerTypeDot11FCS, layerTypeDot11Pad, layerTypeDot11FCSPad},
		Records:     []types.Type{types.Type_NC_Dot11},
		Description: "IEEE 802.11 MAC headers with QoS and HT control (radiotap and bare 802.11)",
		NewDecoder:  func() Decoder { return &dot11Decoder{} },
	}, func() gopacket.DecodingLayer { return &dot11Layer{} })
	RegisterLayer(layerTypeDot11FCS, func() gopacket.DecodingLayer { return &dot11Layer{fcs: true} })
	RegisterLayer(layerTypeDot11Pad, func() gopacket.DecodingLayer { return &dot11Layer{pad: true} })
	RegisterLayer(layerTypeDot11FCSPad, func() gopacket.DecodingLayer { return &dot11Layer{fcs: true, pad: true} })
	// Bare 802.11 frames without a frame check sequence: tshark's default
	// for this link type.
	RegisterLink(Link{Type: layers.LinkTypeIEEE802_11, First: layers.LayerTypeDot11})
}

func chainOnlyLayerType(num int, name string) gopacket.LayerType {
	return gopacket.RegisterLayerType(num, gopacket.LayerTypeMetadata{Name: name, Decoder: gopacket.DecodeFunc(func([]byte, gopacket.PacketBuilder) error {
		return fmt.Errorf("%s is decoded only by netcap's decoder chain", name)
	})})
}

var (
	layerTypeDot11FCS    = chainOnlyLayerType(2191, "Dot11FCS")
	layerTypeDot11Pad    = chainOnlyLayerType(2192, "Dot11Pad")
	layerTypeDot11FCSPad = chainOnlyLayerType(2193, "Dot11FCSPad")
)

// 802.11 frame control values.
const (
	dot11Mgmt = 0
	dot11Ctrl = 1
	dot11Data = 2

	dot11ToDS      = 0x01
	dot11FromDS    = 0x02
	dot11Protected = 0x40
	dot11Order     = 0x80
)

// dot11Layer is an 802.11 MAC header, decoded without allocation.
type dot11Layer struct {
	fcs, pad bool // variant: the frame ends with an FCS, the header is padded

	typ      layers.Dot11Type // gopacket's encoding: main type | subtype<<2
	proto    uint8
	flags    uint8
	duration uint16
	addr     [4]net.HardwareAddr
	seq      uint16
	frag     uint16
	checksum uint32
	hasQoS   bool
	qos      [2]byte
	hasHTC   bool
	htc      [4]byte
	payload  []byte
	next     gopacket.LayerType
}

func (m *dot11Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	fcs, pad := m.fcs, m.pad
	*m = dot11Layer{fcs: fcs, pad: pad, next: gopacket.LayerTypePayload}
	if fcs {
		if len(data) < 4 {
			df.SetTruncated()
			return fmt.Errorf("%d bytes, shorter than the frame check sequence", len(data))
		}
		m.checksum = binary.LittleEndian.Uint32(data[len(data)-4:])
		data = data[:len(data)-4]
	}
	if len(data) < 10 {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, an 802.11 header has at least 10", len(data))
	}
	m.typ = layers.Dot11Type(data[0] >> 2)
	m.proto = data[0] & 3
	m.flags = data[1]
	m.duration = binary.LittleEndian.Uint16(data[2:4])
	m.addr[0] = data[4:10]
	main, sub := data[0]>>2&3, data[0]>>4
	need := func(n int) error {
		if len(data) < n {
			df.SetTruncated()
			return fmt.Errorf("%d bytes, this 802.11 header has %d", len(data), n)
		}
		return nil
	}
	off := 10
	switch main {
	case dot11Ctrl:
		// CTS and ACK have the receiver address only; the other control
		// frames add the transmitter address.
		if sub != 12 && sub != 13 && sub >= 4 {
			if err := need(16); err != nil {
				return err
			}
			m.addr[1] = data[10:16]
			off = 16
		}
	case dot11Mgmt, dot11Data:
		if err := need(24); err != nil {
			return err
		}
		m.addr[1], m.addr[2] = data[10:16], data[16:22]
		sc := binary.LittleEndian.Uint16(data[22:24])
		m.seq, m.frag = sc>>4, sc&0xf
		off = 24
		if main == dot11Data && m.flags&(dot11ToDS|dot11FromDS) == dot11ToDS|dot11FromDS {
			if err := need(30); err != nil {
				return err
			}
			m.addr[3] = data[24:30]
			off = 30
		}
		if main == dot11Data && sub&8 != 0 {
			if err := need(off + 2); err != nil {
				return err
			}
			m.hasQoS = true
			copy(m.qos[:], data[off:off+2])
			off += 2
		}
		if m.flags&dot11Order != 0 && (m.hasQoS || main == dot11Mgmt) {
			if err := need(off + 4); err != nil {
				return err
			}
			m.hasHTC = true
			copy(m.htc[:], data[off:off+4])
			off += 4
		}
	}
	if pad && main == dot11Data {
		off = min((off+3)&^3, len(data))
	}
	m.payload = data[off:]
	// A data frame's body is LLC unless it has none (the subtypes with the
	// no-data bit), is encrypted, or is an A-MSDU.
	if main == dot11Data && sub&4 == 0 && m.flags&dot11Protected == 0 && !(m.hasQoS && m.qos[0]&0x80 != 0) {
		m.next = layers.LayerTypeLLC
	}
	return nil
}

func (m *dot11Layer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeDot11 }
func (m *dot11Layer) NextLayerType() gopacket.LayerType { return m.next }
func (m *dot11Layer) LayerPayload() []byte              { return m.payload }

type dot11Decoder struct {
	r   types.Dot11
	qos types.Dot11QOS
	htc types.Dot11HTControl
	vht types.Dot11HTControlVHT
	mfb types.Dot11HTControlMFB
	ht  types.Dot11HTControlHT
	lac types.Dot11LinkAdapationControl
	asl types.Dot11ASEL
}

func (d *dot11Decoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*dot11Layer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Type = int32(m.typ)
	r.Proto = int32(m.proto)
	r.Flags = int32(m.flags)
	r.DurationID = int32(m.duration)
	r.Address1 = p.Strings.MAC(m.addr[0])
	r.Address2 = p.Strings.MAC(m.addr[1])
	r.Address3 = p.Strings.MAC(m.addr[2])
	r.Address4 = p.Strings.MAC(m.addr[3])
	r.SequenceNumber = int32(m.seq)
	r.FragmentNumber = int32(m.frag)
	r.Checksum = m.checksum
	if m.hasQoS {
		d.qos.Reset()
		d.qos.TID = int32(m.qos[0] & 0x0f)
		d.qos.EOSP = m.qos[0]&0x10 != 0
		d.qos.AckPolicy = int32(m.qos[0] >> 5 & 3)
		d.qos.TXOP = int32(m.qos[1])
		r.QOS = &d.qos
	}
	if m.hasHTC {
		r.HTControl = d.htControl(m.htc, m.typ.MainType() == layers.Dot11TypeMgmt)
	}
	s.Emit(types.Type_NC_Dot11, r)
}

// htControl decodes the 4-byte HT control field (IEEE 802.11-2016 9.2.4.6)
// into the original netcap's record: the VHT variant when bit 0 is set,
// else the HT variant.
func (d *dot11Decoder) htControl(b [4]byte, mgmt bool) *types.Dot11HTControl {
	h := &d.htc
	h.Reset()
	h.ACConstraint = b[3]&0x40 != 0
	h.RDGMorePPDU = b[3]&0x80 != 0
	if b[0]&1 != 0 {
		v := &d.vht
		v.Reset()
		v.MRQ = b[0]&0x04 != 0
		v.UnsolicitedMFB = b[3]&0x20 != 0
		d.mfb.Reset()
		d.mfb.NumSTS = int32(b[1] >> 1 & 7)
		d.mfb.VHTMCS = int32(b[1] >> 4)
		d.mfb.BW = int32(b[2] & 3)
		d.mfb.SNR = int32(int8(b[2]&0xfc)>>2) + 22 // 6-bit two's complement, dB above -10
		v.MFB = &d.mfb
		noFeedback := d.mfb.NumSTS == 7 && d.mfb.VHTMCS == 15
		if v.UnsolicitedMFB {
			if !noFeedback {
				v.CompressedMSI = int32(b[0] >> 3 & 3)
				v.STBCIndication = b[0]&0x20 != 0
				v.CodingType = int32(b[3] >> 3 & 1)
				v.FbTXBeamformed = b[3]&0x10 != 0
				v.GID = int32(b[0]>>6 | (b[1]&1)<<2 | (b[3]&7)<<3)
			}
		} else {
			if v.MRQ {
				v.MSI = int32(b[0] >> 3 & 7)
			}
			v.MFSI = int32(b[0]>>6 | (b[1]&1)<<2)
		}
		h.VHT = v
		return h
	}
	ht := &d.ht
	ht.Reset()
	lac := &d.lac
	lac.Reset()
	lac.TRQ = b[0]&0x02 != 0
	lac.MFSI = int32(b[0]>>6 | (b[1]&1)<<2)
	if b[0]&0x3c == 0x38 { // MAI is 14: antenna selection
		d.asl.Reset()
		d.asl.Command = int32(b[1] >> 1 & 7)
		d.asl.Data = int32(b[1] >> 4)
		lac.ASEL = &d.asl
	} else {
		lac.MRQ = b[0]&0x04 != 0
		if lac.MRQ {
			lac.MSI = int32(b[0] >> 3 & 7)
		}
		lac.MFB = int32(b[1] >> 1)
	}
	ht.LinkAdapationControl = lac
	ht.CalibrationPosition = int32(b[2] & 3)
	ht.CalibrationSequence = int32(b[2] >> 2 & 3)
	ht.CSISteering = int32(b[2] >> 6 & 3)
	ht.NDPAnnouncement = b[3]&1 != 0
	if !mgmt {
		ht.DEI = b[3]&0x20 != 0
	}
	h.HT = ht
	return h
}
