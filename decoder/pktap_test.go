package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestPKTAP decodes Apple PKTAP frames (link type 258) built here: an
// Ethernet frame behind the header, and hostile ones.
func TestPKTAP(t *testing.T) {
	runFrameCases(t, linkTypePKTAP, []frameCase{
		{"Ethernet IPv4 DNS", cat(pktapHeader(pktapMinHeader, layers.LinkTypeEthernet), pktapDNSFrame()),
			Decoded, "", "192.0.2.1", types.Type_NC_DNS, "pktap:pcap_pktdata:eth:ethertype:ip:udp:dns"},
		{"PKTAP inside PKTAP", cat(pktapHeader(pktapMinHeader, linkTypePKTAP), []byte{pktapMinHeader, 0, 0, 0}), Unknown, "", "", 0, ""},
		{"header longer than the frame", pktapHeader(255, layers.LinkTypeEthernet)[:11], Failed, "PKTAP header cut short", "", 0, ""},
	})
}

// pktapHeader is a version 1 PKTAP header (108 bytes, little-endian) that
// says it is n bytes long, of a packet (type 1) of link type link on en0,
// sent by process 4242 "netcap".
func pktapHeader(n uint32, link layers.LinkType) []byte {
	b := make([]byte, pktapMinHeader)
	binary.LittleEndian.PutUint32(b[0:], n)
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[8:], uint32(link))
	copy(b[12:36], "en0")
	binary.LittleEndian.PutUint32(b[40:], 2) // protocol family: IPv4
	binary.LittleEndian.PutUint32(b[52:], 4242)
	copy(b[56:73], "netcap")
	binary.LittleEndian.PutUint16(b[80:], 6) // interface type: Ethernet
	return b
}

// pktapDNSFrame is an Ethernet frame of a DNS query from 192.0.2.1.
func pktapDNSFrame() []byte {
	return cat(ethHeader(0x0800), udp4(63538, 53, dnsQuery(0x4301, "example.org")))
}
