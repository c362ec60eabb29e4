package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "IGMP", Layer: layers.LayerTypeIGMP, Records: []types.Type{types.Type_NC_IGMP},
		Description: "IGMPv1-3 membership queries and reports, v3 group records; times in nanoseconds",
		NewDecoder:  func() Decoder { return &igmpDecoder{} },
	}, func() gopacket.DecodingLayer { return &igmpLayer{} })
}

// IGMP message types (RFC 1112, 2236, 3376).
const (
	igmpQuery    = 0x11
	igmpReportV1 = 0x12
	igmpReportV2 = 0x16
	igmpLeave    = 0x17
	igmpReportV3 = 0x22
)

// igmpLayer decodes the three IGMP versions into one layer. gopacket has two
// layer types for IGMP that a DecodingLayer chain cannot choose between, it
// reads the v3 query interval (QQIC, in seconds) in tenths of seconds, and
// it drops a cut v3 report's error; this layer picks the version the way
// RFC 3376 section 7.1 and tshark do, and checks every count against the
// bytes there are. Addresses are slices of the packet.
type igmpLayer struct {
	layers.BaseLayer
	Version  uint8
	Type     uint8
	MaxResp  uint8 // the raw max response code
	Checksum uint16
	Group    []byte // v1, v2 and v3 queries
	// v3 queries
	S          bool
	QRV        uint8
	QQIC       uint8
	NumSources uint16
	Sources    []byte // NumSources addresses of 4 bytes
	// v3 reports
	NumRecords uint16
	Records    []igmpGroupRecord
}

type igmpGroupRecord struct {
	Type       uint8
	AuxDataLen uint8 // in 32-bit words
	NumSources uint16
	Group      []byte
	Sources    []byte // NumSources addresses of 4 bytes
}

func (i *igmpLayer) LayerType() gopacket.LayerType     { return layers.LayerTypeIGMP }
func (i *igmpLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeIGMP }
func (i *igmpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }
func (i *igmpLayer) LayerPayload() []byte              { return nil }
func (i *igmpLayer) truncated(df gopacket.DecodeFeedback, what string) error {
	df.SetTruncated()
	return errors.New("IGMP: " + what)
}

func (i *igmpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	recs := i.Records[:0]
	*i = igmpLayer{Records: recs}
	if len(data) < 8 {
		return i.truncated(df, fmt.Sprintf("message of %d bytes, at least 8 needed", len(data)))
	}
	i.Type, i.MaxResp, i.Checksum = data[0], data[1], binary.BigEndian.Uint16(data[2:4])
	i.BaseLayer = layers.BaseLayer{Contents: data}
	switch i.Type {
	case igmpQuery:
		switch {
		case len(data) == 8 && i.MaxResp == 0:
			i.Version = 1
		case len(data) == 8:
			i.Version = 2
		case len(data) >= 12:
			i.Version = 3
			return i.decodeQueryV3(data, df)
		default:
			return i.truncated(df, fmt.Sprintf("query of %d bytes: 8 (v1, v2) or at least 12 (v3) expected", len(data)))
		}
	case igmpReportV1:
		i.Version = 1
	case igmpReportV2, igmpLeave:
		i.Version = 2
	case igmpReportV3:
		i.Version = 3
		return i.decodeReportV3(data, df)
	default:
		return fmt.Errorf("IGMP type 0x%02x is not a membership query, report or leave of IGMPv1-3", i.Type)
	}
	i.Group = data[4:8]
	i.Contents = data[:8]
	return nil
}

func (i *igmpLayer) decodeQueryV3(data []byte, df gopacket.DecodeFeedback) error {
	i.Group = data[4:8]
	i.S = data[8]&0x08 != 0
	i.QRV = data[8] & 0x07
	i.QQIC = data[9]
	i.NumSources = binary.BigEndian.Uint16(data[10:12])
	end := 12 + 4*int(i.NumSources)
	if len(data) < end {
		return i.truncated(df, fmt.Sprintf("query announces %d sources, %d bytes hold %d", i.NumSources, len(data)-12, (len(data)-12)/4))
	}
	i.Sources = data[12:end]
	return nil
}

func (i *igmpLayer) decodeReportV3(data []byte, df gopacket.DecodeFeedback) error {
	i.NumRecords = binary.BigEndian.Uint16(data[6:8])
	off := 8
	for n := 0; n < int(i.NumRecords); n++ {
		if len(data) < off+8 {
			return i.truncated(df, fmt.Sprintf("report announces %d group records, the bytes end in record %d", i.NumRecords, n+1))
		}
		g := igmpGroupRecord{
			Type: data[off], AuxDataLen: data[off+1],
			NumSources: binary.BigEndian.Uint16(data[off+2 : off+4]),
			Group:      data[off+4 : off+8],
		}
		srcEnd := off + 8 + 4*int(g.NumSources)
		end := srcEnd + 4*int(g.AuxDataLen)
		if len(data) < end {
			return i.truncated(df, fmt.Sprintf("group record %d announces %d sources and %d words of data, beyond the message", n+1, g.NumSources, g.AuxDataLen))
		}
		g.Sources = data[off+8 : srcEnd]
		i.Records = append(i.Records, g)
		off = end
	}
	return nil
}

// igmpCode decodes a max response code or QQIC (RFC 3376 4.1.1, 4.1.7): below
// 128 the value itself, above a floating-point value with a 3-bit exponent
// and a 4-bit mantissa.
func igmpCode(c uint8) int64 {
	if c < 128 {
		return int64(c)
	}
	return int64(c&0x0f|0x10) << ((c>>4)&0x07 + 3)
}

type igmpDecoder struct {
	r    types.IGMP
	srcs []string
	recs []*types.IGMPv3GroupRecord
	rsrc [][]string
}

// addrs renders n 4-byte addresses of b into dst.
func igmpAddrs(p *Packet, dst []string, b []byte) []string {
	dst = dst[:0]
	for len(b) >= 4 {
		dst = append(dst, p.Strings.IP(net.IP(b[:4])))
		b = b[4:]
	}
	return dst
}

// Decode gives MaxResponseTime and IntervalTime in nanoseconds, as the
// original's time.Duration values: the max response code counts tenths of
// a second (v2 and v3), QQIC seconds.
func (d *igmpDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*igmpLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(m.Version)
	r.Type = int32(m.Type)
	switch {
	case m.Version < 3:
		r.MaxResponseTime = uint64(int64(m.MaxResp) * int64(100*time.Millisecond))
	case m.Type == igmpQuery: // a v3 report has a reserved byte there
		r.MaxResponseTime = uint64(igmpCode(m.MaxResp) * int64(100*time.Millisecond))
	}
	r.Checksum = int32(m.Checksum)
	if m.Group != nil {
		r.GroupAddress = p.Strings.IP(net.IP(m.Group))
	}
	r.SupressRouterProcessing = m.S
	r.RobustnessValue = int32(m.QRV)
	r.IntervalTime = uint64(igmpCode(m.QQIC) * int64(time.Second))
	r.NumberOfSources = int32(m.NumSources)
	if len(m.Sources) > 0 {
		d.srcs = igmpAddrs(p, d.srcs, m.Sources)
		r.SourceAddresses = d.srcs
	}
	r.NumberOfGroupRecords = int32(m.NumRecords)
	if len(m.Records) > 0 {
		r.GroupRecords = reuse(&d.recs, len(m.Records))
		for len(d.rsrc) < len(m.Records) {
			d.rsrc = append(d.rsrc, nil)
		}
		for i, g := range m.Records {
			gr := r.GroupRecords[i]
			gr.Type = int32(g.Type)
			gr.AuxDataLen = int32(g.AuxDataLen)
			gr.NumberOfSources = int32(g.NumSources)
			gr.MulticastAddress = p.Strings.IP(net.IP(g.Group))
			if len(g.Sources) > 0 {
				d.rsrc[i] = igmpAddrs(p, d.rsrc[i], g.Sources)
				gr.SourceAddresses = d.rsrc[i]
			}
		}
	}
	s.Emit(types.Type_NC_IGMP, r)
}
