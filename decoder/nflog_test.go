package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestNFLog decodes Linux NFLOG frames (link type 239) built here.
func TestNFLog(t *testing.T) {
	dns := udp4(40000, 53, dnsQuery(0x4371, "example.com"))
	hdr := nflogTLV(nflogPacketHdr, []byte{0x08, 0x00, 1, 0}) // EtherType IPv4, hook 1 (input)
	runFrameCases(t, linkTypeNFLog, []frameCase{
		{"IPv4 DNS", cat(nflogHeader(2), hdr, nflogTLV(nflogPrefix, []byte("netcap\x00")), nflogTLV(nflogPayload, dns)),
			Decoded, "", "192.0.2.1", types.Type_NC_DNS, "nflog:ip:udp:dns"},
		{"no payload attribute", cat(nflogHeader(2), hdr), Failed, "without a payload attribute", "", 0, ""},
		// a payload attribute whose length (255) runs past the frame
		{"attribute longer than the frame", cat(nflogHeader(2), []byte{0xff, 0, nflogPayload, 0}), Failed, "cut short", "", 0, ""},
		{"family 7", cat(nflogHeader(7), nflogTLV(nflogPayload, []byte{0xaa, 0xbb, 0xcc, 0xdd})), Unknown, "NFLOG address family 7", "", 0, ""},
	})
}

// NFLOG attribute types (linux/netfilter/nfnetlink_log.h).
const (
	nflogPacketHdr = 1
	nflogPrefix    = 10
)

// nflogHeader is the NFLOG header: address family, version 0, resource
// id (the log group) 20.
func nflogHeader(family byte) []byte { return []byte{family, 0, 0, 20} }

// nflogTLV is an NFLOG attribute: length and type little-endian (the
// byte order of the capturing host), the value, padding to 4 bytes.
func nflogTLV(typ uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(4+len(v)))
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = append(b, v...)
	return append(b, make([]byte, (4-len(b)%4)%4)...)
}
