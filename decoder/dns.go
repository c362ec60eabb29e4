package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "DNS", Layer: layers.LayerTypeDNS, Records: []types.Type{types.Type_NC_DNS},
		Description: "DNS messages over UDP, and over TCP from the reassembled stream (queries, answers, authorities, additionals)",
		NewDecoder:  func() Decoder { return &dnsDecoder{} },
		// Multicast DNS (5353) and LLMNR (5355) use the DNS message
		// format, and analysts expect them among the DNS records, as
		// tshark shows them with dns.* fields.
		Ports: []Port{{Transport: UDP, Number: 5353}, {Transport: UDP, Number: 5355}},
	}, func() gopacket.DecodingLayer { return &layers.DNS{} })
}

type dnsDecoder struct {
	r         types.DNS
	questions []*types.DNSQuestion
	rrs       []*types.DNSResourceRecord
}

func (d *dnsDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	r := d.fill(l.(*layers.DNS))
	r.Timestamp = p.Timestamp
	s.Emit(types.Type_NC_DNS, r)
}

// fill sets the message fields of the record from a decoded message, for
// UDP and TCP alike; the caller sets the packet fields (time, frame,
// endpoints, flow). The record is valid until the next fill.
func (d *dnsDecoder) fill(m *layers.DNS) *types.DNS {
	r := &d.r
	r.Reset()
	r.ID = int32(m.ID)
	r.QR = m.QR
	r.OpCode = int32(m.OpCode)
	r.AA, r.TC, r.RD, r.RA = m.AA, m.TC, m.RD, m.RA
	r.Z = int32(m.Z)
	// The header's 4-bit code: gopacket ORs in the upper bits from an OPT
	// record, which stay visible in that record's TTL.
	r.ResponseCode = int32(m.ResponseCode & 0xF)
	r.QDCount = int32(m.QDCount)
	r.ANCount = int32(m.ANCount)
	r.NSCount = int32(m.NSCount)
	r.ARCount = int32(m.ARCount)
	if len(m.Questions) > 0 {
		r.Questions = reuse(&d.questions, len(m.Questions))
		for i, q := range m.Questions {
			r.Questions[i].Name = Text(q.Name)
			r.Questions[i].Type = int32(q.Type)
			r.Questions[i].Class = int32(q.Class)
		}
	}
	// One pool for the three sections: each gets its own slice of it.
	n := len(m.Answers) + len(m.Authorities) + len(m.Additionals)
	if n > 0 {
		all := reuse(&d.rrs, n)
		r.Answers = fillRRs(all[:len(m.Answers)], m.Answers)
		all = all[len(m.Answers):]
		r.Authorities = fillRRs(all[:len(m.Authorities)], m.Authorities)
		r.Additionals = fillRRs(all[len(m.Authorities):], m.Additionals)
	}
	return r
}

func fillRRs(out []*types.DNSResourceRecord, in []layers.DNSResourceRecord) []*types.DNSResourceRecord {
	if len(in) == 0 {
		return nil
	}
	for i := range in {
		rr, o := &in[i], out[i]
		o.Name = Text(rr.Name)
		o.Type = int32(rr.Type)
		o.Class = int32(rr.Class)
		o.TTL = rr.TTL
		o.DataLength = int32(rr.DataLength)
		o.Data = rr.Data
		o.IP = ipText(rr.IP)
		o.NS = Text(rr.NS)
		o.CNAME = Text(rr.CNAME)
		o.PTR = Text(rr.PTR)
		switch rr.Type {
		case layers.DNSTypeSOA:
			o.SOA = &types.DNSSOA{MName: Text(rr.SOA.MName), RName: Text(rr.SOA.RName), Serial: rr.SOA.Serial,
				Refresh: rr.SOA.Refresh, Retry: rr.SOA.Retry, Expire: rr.SOA.Expire, Minimum: rr.SOA.Minimum}
		case layers.DNSTypeSRV:
			o.SRV = &types.DNSSRV{Priority: int32(rr.SRV.Priority), Weight: int32(rr.SRV.Weight), Port: int32(rr.SRV.Port), Name: Text(rr.SRV.Name)}
		case layers.DNSTypeMX:
			o.MX = &types.DNSMX{Preference: int32(rr.MX.Preference), Name: Text(rr.MX.Name)}
		}
		o.TXTs = rr.TXTs
	}
	return out
}
