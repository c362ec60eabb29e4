package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestFrameRelay decodes Frame Relay frames (link type 107) built here:
// Cisco's encapsulation (an EtherType after the address) and RFC 2427's
// (UI control, NLPID).
func TestFrameRelay(t *testing.T) {
	udp := udp4(40000, 40001, nil) // IPv4 192.0.2.1:40000 → 198.51.100.7:40001, UDP
	runFrameCases(t, layers.LinkTypeFRelay, []frameCase{
		{"Cisco encapsulation, IPv6 OSPF", cat(frAddress(100), []byte{0x86, 0xdd}, ipv6Header(89, len(ospfv3Hello)), ospfv3Hello),
			Decoded, "", "2001:db8::1", types.Type_NC_OSPFv3, "fr:ipv6:ospf"},
		{"RFC 2427, NLPID IPv4", cat(frAddress(100), []byte{frUI, nlpidIPv4}, udp), Decoded, "", "192.0.2.1", types.Type_NC_IPv4, "fr:ip:udp"},
		{"RFC 2427 with pad", cat(frAddress(100), []byte{frUI, 0, nlpidIPv4}, udp), Decoded, "", "192.0.2.1", types.Type_NC_IPv4, "fr:ip:udp"},
		// a 3-byte address (DL-CORE bit clear: the DLCI's low 6 bits) before an EtherType
		{"3-byte address", cat(frAddressN(0x83a7, 3), []byte{0x08, 0x00}, udp), Decoded, "", "192.0.2.1", types.Type_NC_IPv4, "fr:ip:udp"},
		{"NLPID of ISO CLNP", cat(frAddress(100), []byte{frUI, 0x81, 0, 0}), Unknown, "Frame Relay NLPID 0x81", "", 0, ""},
		{"address never ends", []byte{0x18, 0x40, 0x40, 0x40}, Failed, "Frame Relay header cut short", "", 0, ""},
	})
}

// Frame Relay control and NLPIDs (RFC 2427).
const (
	frUI      = 0x03 // unnumbered information
	nlpidIPv4 = 0xcc
)

// frAddress is a 2-byte Q.922 address of a DLCI: its high 6 bits in the
// first byte (C/R 0, EA 0), its low 4 in the second (FECN, BECN, DE 0, EA 1).
func frAddress(dlci int) []byte {
	return binary.BigEndian.AppendUint16(nil, uint16(dlci>>4)<<10|uint16(dlci&0xf)<<4|1)
}

// frAddressN is a Q.922 address of n bytes (2, 3 or 4) of dlci: 6 bits in
// the first byte, 4 in the second, 7 in the third of a 4-byte address and
// 6 in the last byte of a longer one (D/C bit 0, EA 1).
func frAddressN(dlci, n int) []byte {
	switch n {
	case 3:
		hi := dlci >> 6
		return []byte{byte(hi>>4) << 2, byte(hi&0xf) << 4, byte(dlci&0x3f)<<2 | 1}
	case 4:
		hi := dlci >> 13
		return []byte{byte(hi>>4) << 2, byte(hi&0xf) << 4, byte(dlci>>6&0x7f) << 1, byte(dlci&0x3f)<<2 | 1}
	}
	return frAddress(dlci)
}
