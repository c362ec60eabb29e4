package decoder

import (
	"bytes"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "SIP", Layer: layers.LayerTypeSIP, Records: []types.Type{types.Type_NC_SIP},
		Description: "SIP requests and responses over UDP (per datagram) and TCP (the message a segment starts with), port 5060",
		NewDecoder:  func() Decoder { return &sipDecoder{} },
		// gopacket maps SIP to UDP and SCTP ports only. Over TCP a
		// segment is decoded on its own: a segment that starts a message
		// gives a record of the message's start line and the headers the
		// segment holds.
		Ports:    []Port{{Transport: TCP, Number: 5060}},
		Segments: true,
	}, func() gopacket.DecodingLayer { return &layers.SIP{} })
}

type sipDecoder struct {
	r       types.SIP
	headers []string
}

// Decode lists the headers as "Name: value" in the order of the message,
// continuation lines joined with one space: gopacket keeps them in a map,
// whose order would make the output differ from run to run.
func (d *sipDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := l.(*layers.SIP)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(m.Version)
	r.Method = int32(m.Method)
	r.IsResponse = m.IsResponse
	r.ResponseCode = int32(m.ResponseCode)
	r.ResponseStatus = Text([]byte(m.ResponseStatus))
	d.headers = sipHeaders(d.headers[:0], m.Contents)
	r.Headers = d.headers
	s.Emit(types.Type_NC_SIP, r)
}

// sipHeaders appends the header lines of a SIP header section (start line
// first, up to the empty line) to dst.
func sipHeaders(dst []string, section []byte) []string {
	first := true
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			dst = append(dst, Text(cur))
		}
		cur = cur[:0]
	}
	for len(section) > 0 {
		line := section
		if i := bytes.IndexByte(section, '\n'); i >= 0 {
			line, section = section[:i], section[i+1:]
		} else {
			section = nil
		}
		line = bytes.TrimRight(line, "\r")
		if first {
			first = false
			continue
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(cur) > 0 {
				cur = append(bytes.TrimRight(cur, " \t"), ' ')
				cur = append(cur, bytes.TrimSpace(line)...)
			}
			continue
		}
		flush()
		cur = append(cur, line...)
	}
	flush()
	return dst
}
