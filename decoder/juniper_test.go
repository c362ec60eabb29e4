package decoder

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestJuniper decodes Juniper Ethernet frames (link type 178) built here,
// and hostile ones.
func TestJuniper(t *testing.T) {
	bgp := tcp4(49200, 179, bgpKeepalive())
	ext := juniperExtensions()
	runFrameCases(t, linkTypeJuniperEther, []frameCase{
		{"IPv4 TCP BGP", cat(juniperHeader(juniperFlagExt|juniperIn, ext), ethHeader(0x0800), bgp),
			Decoded, "", "192.0.2.1", types.Type_NC_TCP, "juniper:eth:ethertype:ip:tcp:bgp"},
		{"802.3 LLC IS-IS", cat(juniperHeader(juniperFlagExt|juniperIn, ext), isisEthernet(isisAllL2, 3+len(isisLSPPDU)), isisLSPPDU),
			Decoded, "", "", types.Type_NC_ISIS, "juniper:eth:llc:osi:isis:isis.lsp"},
		// the header says the router stripped the link header: 4 bytes (the
		// protocol, little-endian: 2 IPv4, which tshark reads and netcap
		// does not need), then the IPv4 packet
		{"no link header, IPv4", cat(juniperHeader(juniperFlagExt|juniperFlagNoL2|juniperIn, ext), []byte{2, 0, 0, 0}, bgp),
			Decoded, "", "192.0.2.1", types.Type_NC_TCP, "juniper:ip:tcp:bgp"},
		// extensions said to be 0x3030 bytes long in a short frame
		{"extensions past the frame", cat(juniperHeader(juniperFlagExt|juniperIn, bytes.Repeat([]byte{0x30}, 0x3030))[:13]),
			Failed, "Juniper header cut short", "", 0, ""},
		{"no magic", []byte{'M', 'G', 'D', juniperFlagExt | juniperIn, 0, 0, 0}, Failed, "without its magic number", "", 0, ""},
		{"no link header, not IP", cat(juniperHeader(juniperFlagNoL2, nil), []byte{0, 0, 0, 0}, []byte{0x11, 0x11}),
			Unknown, "Juniper frame without link header or IP", "", 0, ""},
	})
}

// juniperIn is the flag of a packet the router received.
const juniperIn = 0x01

// isisAllL2 is the multicast address of all level 2 intermediate systems.
var isisAllL2 = []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x15}

// juniperHeader is the Juniper header: the magic "MGC", the flags and,
// with the extension flag, the length of the extension TLVs and them.
func juniperHeader(flags byte, ext []byte) []byte {
	b := []byte{'M', 'G', 'C', flags}
	if flags&juniperFlagExt != 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
		b = append(b, ext...)
	}
	return b
}

// juniperExtensions are the extension TLVs of an Ethernet interface: the
// device's media type (1, Ethernet), the logical interface's encapsulation
// (14, Ethernet), the device index 42 and the logical interface index 77
// (indexes little-endian).
func juniperExtensions() []byte {
	return cat([]byte{3, 1, 1}, []byte{6, 1, 14}, []byte{1, 2, 42, 0}, []byte{4, 4, 77, 0, 0, 0})
}

// bgpKeepalive is a BGP KEEPALIVE message: the marker, length 19, type 4.
func bgpKeepalive() []byte {
	return cat(bytes.Repeat([]byte{0xff}, 16), []byte{0, 19, 4})
}
