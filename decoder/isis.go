package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// IS-IS (ISO 10589, RFC 1195) is the link-state routing protocol of many
// ISP backbones and of industrial networks; it runs directly over the link
// layer as an OSI network protocol. Its PDUs are reached through the OSI
// layer below: 802.2 LLC with DSAP 0xFE, Cisco HDLC protocol 0xFEFE and
// Frame Relay NLPIDs 0x81 to 0x83 lead there. The record holds the fixed
// header of hellos, LSPs, CSNPs and PSNPs and the list of TLV types; the
// TLVs' contents other than area addresses are not decoded. gopacket has
// no layer for IS-IS.
func init() {
	RegisterLayer(layerTypeOSI, func() gopacket.DecodingLayer { return &osiLayer{} })
	Register(Protocol{
		Name: "ISIS", Layer: layerTypeISIS, Records: []types.Type{types.Type_NC_ISIS},
		Description: "IS-IS routing PDU headers (hellos, LSPs, CSNPs, PSNPs) over LLC, Cisco HDLC and Frame Relay",
		NewDecoder:  func() Decoder { return &isisDecoder{} },
	}, func() gopacket.DecodingLayer { return &isisLayer{} })
}

var (
	layerTypeOSI  = gopacket.RegisterLayerType(2310, gopacket.LayerTypeMetadata{Name: "OSI"})
	layerTypeISIS = gopacket.RegisterLayerType(2311, gopacket.LayerTypeMetadata{Name: "ISIS"})
)

// The network layer protocol identifiers of ISO/TR 9577 that start the OSI
// PDUs: CLNP, ES-IS, IS-IS.
const (
	nlpidCLNP = 0x81
	nlpidESIS = 0x82
	nlpidISIS = 0x83
)

func osiNLPID(b byte) bool { return b >= nlpidCLNP && b <= nlpidISIS }

var errOSIEmpty = errors.New("OSI PDU of no bytes")

// osiLayer chooses the OSI protocol by its first byte, the NLPID. Cisco
// HDLC frames may carry a pad byte before it; tcpdump and tshark skip a
// byte that is no NLPID when the next one is, and so does this layer.
type osiLayer struct {
	layers.BaseLayer
	NLPID uint8
}

func (l *osiLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) == 0 {
		df.SetTruncated()
		return errOSIEmpty
	}
	off := 0
	if !osiNLPID(data[0]) && len(data) > 1 && osiNLPID(data[1]) {
		off = 1
	}
	l.NLPID = data[off]
	l.Contents, l.Payload = data[:off], data[off:]
	return nil
}

func (l *osiLayer) CanDecode() gopacket.LayerClass { return layerTypeOSI }

func (l *osiLayer) NextLayerType() gopacket.LayerType {
	switch l.NLPID {
	case nlpidISIS:
		return layerTypeISIS
	case nlpidESIS:
		return layerTypeESIS
	}
	return gopacket.LayerTypeZero
}

func (l *osiLayer) unknownReason() string {
	switch l.NLPID {
	case nlpidCLNP:
		return "OSI CLNP"
	}
	return fmt.Sprintf("OSI NLPID 0x%02x", l.NLPID)
}

var (
	errISISShort = errors.New("IS-IS header cut short")
	errISISIDLen = errors.New("IS-IS system ID length above 8")
)

// isisLayer reads the fixed header of an IS-IS PDU and walks its TLVs.
// Every read is bounded by the PDU length and the bytes captured.
type isisLayer struct {
	layers.BaseLayer
	HeaderLength, Version, IDLengthField, PDUType, MaxAreas uint8
	idLen                                                   int
	PDULength                                               uint16
	CircuitType                                             uint8
	SourceID, LANID, LSPID, StartLSPID, EndLSPID            []byte
	HoldingTime, RemainingLifetime, Checksum                uint16
	Priority, LocalCircuitID                                uint8
	Sequence                                                uint32
	TLVTypes                                                []int32
	Areas                                                   [][]byte
}

// isisFixed is the length of the fixed header of a PDU type for a system
// ID of n bytes; 0 for a type without one.
func isisFixed(pduType uint8, n int) int {
	switch pduType {
	case 15, 16: // LAN hello: circuit type, source ID, holding time, PDU length, priority, LAN ID
		return 8 + 1 + n + 2 + 2 + 1 + n + 1
	case 17: // point-to-point hello: circuit type, source ID, holding time, PDU length, local circuit ID
		return 8 + 1 + n + 2 + 2 + 1
	case 18, 20: // LSP: PDU length, lifetime, LSP ID, sequence number, checksum, flags
		return 8 + 2 + 2 + n + 2 + 4 + 2 + 1
	case 24, 25: // CSNP: PDU length, source ID and circuit, start and end LSP IDs
		return 8 + 2 + n + 1 + 2*(n+2)
	case 26, 27: // PSNP: PDU length, source ID and circuit
		return 8 + 2 + n + 1
	}
	return 0
}

func (l *isisLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.SourceID, l.LANID, l.LSPID, l.StartLSPID, l.EndLSPID = nil, nil, nil, nil, nil
	l.PDULength, l.CircuitType, l.HoldingTime, l.RemainingLifetime, l.Checksum = 0, 0, 0, 0, 0
	l.Priority, l.LocalCircuitID, l.Sequence = 0, 0, 0
	l.TLVTypes, l.Areas = l.TLVTypes[:0], l.Areas[:0]
	if len(data) < 8 {
		df.SetTruncated()
		return errISISShort
	}
	l.HeaderLength, l.Version, l.IDLengthField = data[1], data[2], data[3]
	l.PDUType, l.MaxAreas = data[4]&0x1f, data[7]
	switch n := l.IDLengthField; {
	case n == 0:
		l.idLen = 6
	case n == 255:
		l.idLen = 0
	case n > 8:
		return errISISIDLen
	default:
		l.idLen = int(n)
	}
	n := l.idLen
	fixed := isisFixed(l.PDUType, n)
	if len(data) < fixed {
		df.SetTruncated()
		return errISISShort
	}
	h := data[8:]
	switch l.PDUType {
	case 15, 16, 17:
		l.CircuitType = h[0] & 0x03
		l.SourceID = h[1 : 1+n]
		l.HoldingTime = binary.BigEndian.Uint16(h[1+n:])
		l.PDULength = binary.BigEndian.Uint16(h[3+n:])
		if l.PDUType == 17 {
			l.LocalCircuitID = h[5+n]
		} else {
			l.Priority = h[5+n] & 0x7f
			l.LANID = h[6+n : 7+2*n]
		}
	case 18, 20:
		l.PDULength = binary.BigEndian.Uint16(h)
		l.RemainingLifetime = binary.BigEndian.Uint16(h[2:])
		l.LSPID = h[4 : 6+n]
		l.Sequence = binary.BigEndian.Uint32(h[6+n:])
		l.Checksum = binary.BigEndian.Uint16(h[10+n:])
	case 24, 25:
		l.PDULength = binary.BigEndian.Uint16(h)
		l.SourceID = h[2 : 2+n]
		l.StartLSPID = h[3+n : 5+2*n]
		l.EndLSPID = h[5+2*n : 7+3*n]
	case 26, 27:
		l.PDULength = binary.BigEndian.Uint16(h)
		l.SourceID = h[2 : 2+n]
	}
	l.Contents, l.Payload = data, nil
	if fixed == 0 {
		return nil
	}
	// A PDU length below the fixed header leaves no room for TLVs; tcpdump
	// and tshark read none then either.
	end := min(len(data), int(l.PDULength))
	for off := fixed; off+2 <= end; {
		typ, size := data[off], int(data[off+1])
		if off+2+size > end {
			break
		}
		l.TLVTypes = append(l.TLVTypes, int32(typ))
		if typ == 1 { // area addresses: each a length byte and the address
			v := data[off+2 : off+2+size]
			for len(v) > 0 && int(v[0])+1 <= len(v) {
				l.Areas = append(l.Areas, v[1:1+v[0]])
				v = v[1+v[0]:]
			}
		}
		off += 2 + size
	}
	return nil
}

func (l *isisLayer) CanDecode() gopacket.LayerClass { return layerTypeISIS }

func (l *isisLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// isisID writes a system ID as groups of two bytes in hex joined by dots
// (1921.6800.1001), and after it, when the ID is longer than the system ID
// length, the pseudonode number (.01) and an LSP's fragment number (-00).
func isisID(b []byte, n int) string {
	if b == nil {
		return ""
	}
	var sb strings.Builder
	for i := 0; i < n && i < len(b); i++ {
		if i > 0 && i%2 == 0 {
			sb.WriteByte('.')
		}
		fmt.Fprintf(&sb, "%02x", b[i])
	}
	if len(b) > n {
		fmt.Fprintf(&sb, ".%02x", b[n])
	}
	if len(b) > n+1 {
		fmt.Fprintf(&sb, "-%02x", b[n+1])
	}
	return sb.String()
}

// isisArea writes an area address as tcpdump does: the first byte, then
// groups of two (49.0001).
func isisArea(b []byte) string {
	var sb strings.Builder
	for i, x := range b {
		fmt.Fprintf(&sb, "%02x", x)
		if i%2 == 0 && i+1 < len(b) {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}

type isisDecoder struct {
	r     types.ISIS
	areas []string
}

func (d *isisDecoder) Decode(dl gopacket.DecodingLayer, p *Packet, s Sink) {
	l := dl.(*isisLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.HeaderLength = int32(l.HeaderLength)
	r.Version = int32(l.Version)
	r.SystemIDLength = int32(l.IDLengthField)
	r.PDUType = int32(l.PDUType)
	r.MaxAreaAddresses = int32(l.MaxAreas)
	r.PDULength = int32(l.PDULength)
	r.CircuitType = int32(l.CircuitType)
	r.SourceID = isisID(l.SourceID, l.idLen)
	r.HoldingTime = int32(l.HoldingTime)
	r.Priority = int32(l.Priority)
	r.LANID = isisID(l.LANID, l.idLen)
	r.LocalCircuitID = int32(l.LocalCircuitID)
	r.RemainingLifetime = int32(l.RemainingLifetime)
	r.LSPID = isisID(l.LSPID, l.idLen)
	r.SequenceNumber = l.Sequence
	r.Checksum = int32(l.Checksum)
	r.StartLSPID = isisID(l.StartLSPID, l.idLen)
	r.EndLSPID = isisID(l.EndLSPID, l.idLen)
	d.areas = d.areas[:0]
	for _, a := range l.Areas {
		d.areas = append(d.areas, isisArea(a))
	}
	r.AreaAddresses = d.areas
	r.TLVTypes = l.TLVTypes
	s.Emit(types.Type_NC_ISIS, r)
}
