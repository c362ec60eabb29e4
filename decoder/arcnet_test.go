package decoder

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestARCNET decodes Linux ARCNET frames (link type 129) built here: both
// framings of ARP, RFC 1201 IPv4, an id without a layer, a cut header.
func TestARCNET(t *testing.T) {
	arp1201 := cat(arcnetHeader(0x01, 0x00, arcnetARP1201), arcnetARP())
	runFrameCases(t, layers.LinkTypeARCNetLinux, []frameCase{
		{"RFC 1051 ARP", cat(arcnetHeader(0x01, 0x00, arcnetARP1051), arcnetARP()), Decoded, "", "", types.Type_NC_ARP, "arcnet:arp"},
		{"RFC 1201 ARP", arp1201, Decoded, "", "", types.Type_NC_ARP, "arcnet:arp"},
		{"RFC 1201 IPv4 ICMP", cat(arcnetHeader(0x01, 0x02, arcnetIPv41201), icmp4Echo(0x100, 1)),
			Decoded, "", "192.0.2.1", types.Type_NC_ICMPv4, "arcnet:ip:icmp:data"},
		// an AppleTalk DDP id, which has no layer in netcap
		{"AppleTalk", cat(arcnetHeader(0x01, 0x02, 0xdd), make([]byte, 13)), Unknown, "ARCNET protocol 0xdd", "", 0, "arcnet:ddp"},
		{"RFC 1201 cut in its sequence", arp1201[:6], Failed, "ARCNET header cut short", "", 0, ""},
	})
}

// ARCNET protocol ids (RFC 1201 and the older RFC 1051).
const (
	arcnetIPv41201 = 0xd4
	arcnetARP1201  = 0xd5
	arcnetARP1051  = 0xf1
)

// arcnetHeader is a Linux ARCNET header (link type 129): source and
// destination station, a zero offset and the protocol id; the RFC 1201 ids
// are followed by a split flag (0: not split) and a sequence number.
func arcnetHeader(src, dst, proto byte) []byte {
	b := []byte{src, dst, 0, 0, proto}
	if proto == arcnetIPv41201 || proto == arcnetARP1201 {
		b = append(b, 0, 0x00, 0x07)
	}
	return b
}

// arcnetARP is an ARP request over ARCNET (hardware type 7, one-byte
// station addresses): station 1 at 192.0.2.1 asks for 198.51.100.7.
func arcnetARP() []byte {
	return serialize(&layers.ARP{AddrType: 7, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 1, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: []byte{0x01}, SourceProtAddress: ip4A.To4(),
		DstHwAddress: []byte{0x00}, DstProtAddress: net.IP(ip4B).To4()})
}
