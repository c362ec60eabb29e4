package decoder

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// One fuzz target per protocol decoder. Each target feeds the fuzz bytes to
// PacketDecoder.Decode as the bytes of its layer: the layers below it (an
// Ethernet, IPv4, IPv6 or UDP header with correct lengths) are built in code,
// so that the fuzzer spends its time inside the layer under test and not in
// getting past the headers below it. Seeds are packets of the protocol taken
// from the shared captures at test time, plus a few packets built in code.
//
// Besides "no panic", every input must keep these invariants:
//   - Decode returns Decoded with no reason, or Unknown/Failed with one;
//   - the layers below the fuzz bytes decode as built;
//   - every emitted record is of the message type its Type names, marshals
//     (so its strings are valid UTF-8), carries the packet's frame number and
//     timestamp, and no bytes field, list, or PayloadSize is larger than the
//     frame; PayloadEntropy is within 0..8 bits;
//   - the layer under test gives exactly one record per occurrence in the
//     chain (unless its decoder failed);
//   - the input bytes are not modified;
//   - two decoders that decoded different packets before give the same
//     records (no state leaks from one packet to the next).

// fuzzMax caps the fuzz input: no link layer carries more than 64 KiB, and
// longer inputs only slow the fuzzer down without reaching new code.
const fuzzMax = 65000

// fuzzTarget says how the fuzz bytes become a frame.
type fuzzTarget struct {
	layer gopacket.LayerType
	rec   types.Type
	link  layers.LinkType
	below []gopacket.LayerType // layers the wrapper builds under the fuzz bytes
	wrap  func(b []byte) []byte
	max   int
	built func() [][]byte // seeds built in code: bytes of the layer and above
}

var (
	macA = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macB = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	ip4A = net.IP{192, 0, 2, 1}
	ip4B = net.IP{198, 51, 100, 7}
	ip6A = net.ParseIP("2001:db8::1")
	ip6B = net.ParseIP("2001:db8::2")
)

// ethHeader is an Ethernet II header; typ may also be an 802.3 length.
func ethHeader(typ uint16) []byte {
	b := make([]byte, 14)
	copy(b, macB)
	copy(b[6:], macA)
	binary.BigEndian.PutUint16(b[12:], typ)
	return b
}

// ipv4Header is a 20-byte IPv4 header for a payload of n bytes.
func ipv4Header(proto byte, n int) []byte {
	b := make([]byte, 20)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+n))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	b[8] = 64
	b[9] = proto
	copy(b[12:], ip4A.To4())
	copy(b[16:], ip4B.To4())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	return b
}

// ipv6Header is a 40-byte IPv6 header for a payload of n bytes.
func ipv6Header(next byte, n int) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(n))
	b[6] = next
	b[7] = 64
	copy(b[8:], ip6A)
	copy(b[24:], ip6B)
	return b
}

// udpHeader is a UDP header for a payload of n bytes (checksum 0: none).
func udpHeader(src, dst uint16, n int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b, src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(8+n))
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func overEthernet(typ uint16) func([]byte) []byte {
	return func(b []byte) []byte { return cat(ethHeader(typ), b) }
}

func overIPv4(proto byte) func([]byte) []byte {
	return func(b []byte) []byte { return cat(ethHeader(0x0800), ipv4Header(proto, len(b)), b) }
}

func overUDP4(src, dst uint16) func([]byte) []byte {
	return func(b []byte) []byte {
		return cat(ethHeader(0x0800), ipv4Header(17, 8+len(b)), udpHeader(src, dst, len(b)), b)
	}
}

// serialize builds a layer stack with gopacket, lengths fixed.
func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	etherLinkStack = []gopacket.LayerType{layers.LayerTypeEthernet}
	ipv4Stack      = []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4}
	udp4Stack      = []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeUDP}
)

var fuzzTargets = map[string]*fuzzTarget{
	"Ethernet": {
		layer: layers.LayerTypeEthernet, rec: types.Type_NC_Ethernet, link: layers.LinkTypeEthernet,
		wrap: func(b []byte) []byte { return b }, max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
					&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ip4A, DstIP: ip4B},
					&layers.UDP{SrcPort: 5000, DstPort: 53}, gopacket.Payload("hi")),
				cat(ethHeader(0x88cc), []byte{0x02, 0x07, 0x04}), // an ether type without decoder
			}
		},
	},
	"ARP": {
		layer: layers.LayerTypeARP, rec: types.Type_NC_ARP, link: layers.LinkTypeEthernet,
		below: etherLinkStack, wrap: overEthernet(0x0806), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
				HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
				SourceHwAddress: macA, SourceProtAddress: ip4A.To4(), DstHwAddress: make([]byte, 6), DstProtAddress: ip4B.To4()})}
		},
	},
	"Dot1Q": {
		layer: layers.LayerTypeDot1Q, rec: types.Type_NC_Dot1Q, link: layers.LinkTypeEthernet,
		below: etherLinkStack, wrap: overEthernet(0x8100), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.Dot1Q{Priority: 3, VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
					&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeARP}),
				cat([]byte{0x20, 0x64, 0x08, 0x00}, ipv4Header(17, 8), udpHeader(1, 2, 0)),
			}
		},
	},
	"LLC": {
		layer: layers.LayerTypeLLC, rec: types.Type_NC_LLC, link: layers.LinkTypeEthernet,
		below: etherLinkStack, max: 1500, // an 802.3 length field cannot say more
		wrap: func(b []byte) []byte { return cat(ethHeader(uint16(len(b))), b) },
		built: func() [][]byte {
			return [][]byte{
				{0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00}, // spanning tree
				{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}, // SNAP, Cisco
				{0xf0, 0xf1, 0x10, 0x22},                         // I-format control
			}
		},
	},
	"SNAP": {
		layer: layers.LayerTypeSNAP, rec: types.Type_NC_SNAP, link: layers.LinkTypeEthernet,
		below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC}, max: 1497,
		wrap: func(b []byte) []byte { return cat(ethHeader(uint16(3+len(b))), []byte{0xaa, 0xaa, 0x03}, b) },
		built: func() [][]byte {
			return [][]byte{
				cat([]byte{0, 0, 0, 0x08, 0x06}, serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
					HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply,
					SourceHwAddress: macA, SourceProtAddress: ip4A.To4(), DstHwAddress: macB, DstProtAddress: ip4B.To4()})),
				{0x00, 0x00, 0x0c, 0x20, 0x00, 0x02, 0xb4},
			}
		},
	},
	"IPv4": {
		layer: layers.LayerTypeIPv4, rec: types.Type_NC_IPv4, link: layers.LinkTypeIPv4,
		wrap: func(b []byte) []byte { return b }, max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip4A, DstIP: ip4B},
					&layers.TCP{SrcPort: 40000, DstPort: 80, SYN: true, Window: 1024}),
				serialize(&layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolICMPv4, SrcIP: ip4A, DstIP: ip4B,
					Options: []layers.IPv4Option{{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}, {OptionType: 1}}},
					&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 2}),
				cat(ipv4Header(4, 28), ipv4Header(17, 8), udpHeader(7, 9, 0)), // IP in IP
			}
		},
	},
	"IPv6": {
		layer: layers.LayerTypeIPv6, rec: types.Type_NC_IPv6, link: layers.LinkTypeIPv6,
		wrap: func(b []byte) []byte { return b }, max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat(ipv6Header(17, 12), udpHeader(546, 547, 4), []byte{1, 0, 0, 1}),
				// hop-by-hop header with a router alert option, then ICMPv6
				cat(ipv6Header(0, 16), []byte{58, 0, 5, 2, 0, 0, 1, 0}, []byte{143, 0, 0, 0, 0, 0, 0, 0}),
				cat(ipv6Header(44, 8), []byte{6, 0, 0, 8, 0, 0, 0, 1}), // a later fragment
			}
		},
	},
	"IPv6Fragment": {
		layer: layers.LayerTypeIPv6Fragment, rec: types.Type_NC_IPv6Fragment, link: layers.LinkTypeIPv6,
		below: []gopacket.LayerType{layers.LayerTypeIPv6},
		wrap:  func(b []byte) []byte { return cat(ipv6Header(44, len(b)), b) }, max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat([]byte{17, 0, 0, 1, 0, 0, 0, 9}, udpHeader(5000, 53, 8), []byte("fragment")), // first of two
				cat([]byte{17, 0, 0, 16, 0, 0, 0, 9}, []byte("the rest")),                        // the last one
				cat([]byte{58, 0, 0, 0, 0, 0, 0, 3}, []byte{128, 0, 0, 0, 0, 1, 0, 1}),           // atomic: ICMPv6 echo
			}
		},
	},
	"ICMPv4": {
		layer: layers.LayerTypeICMPv4, rec: types.Type_NC_ICMPv4, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(1), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 77, Seq: 1}, gopacket.Payload("abcdefgh")),
				cat([]byte{3, 3, 0, 0, 0, 0, 0, 0}, ipv4Header(17, 8), udpHeader(1, 53, 0)),
			}
		},
	},
	"ICMPv6": {
		layer: layers.LayerTypeICMPv6, rec: types.Type_NC_ICMPv6, link: layers.LinkTypeIPv6,
		below: []gopacket.LayerType{layers.LayerTypeIPv6}, max: fuzzMax,
		wrap: func(b []byte) []byte { return cat(ipv6Header(58, len(b)), b) },
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)},
					&layers.ICMPv6Echo{Identifier: 9, SeqNumber: 1}, gopacket.Payload("ping")),
				serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)},
					&layers.ICMPv6NeighborSolicitation{TargetAddress: ip6B,
						Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: macA}}}),
				serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)},
					&layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: ip6A,
						Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: macB}}}),
				serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterSolicitation, 0)},
					&layers.ICMPv6RouterSolicitation{}),
				serialize(&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterAdvertisement, 0)},
					&layers.ICMPv6RouterAdvertisement{HopLimit: 64, RouterLifetime: 1800,
						Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptMTU, Data: []byte{0, 0, 0, 0, 5, 0xdc}}}}),
			}
		},
	},
	"TCP": {
		layer: layers.LayerTypeTCP, rec: types.Type_NC_TCP, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(6), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1, SYN: true, Window: 65535,
					Options: []layers.TCPOption{
						{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
						{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
						{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
					}}),
				serialize(&layers.TCP{SrcPort: 80, DstPort: 40000, Seq: 5, Ack: 2, ACK: true, PSH: true, Window: 512},
					gopacket.Payload("HTTP/1.1 200 OK\r\n\r\n")),
			}
		},
	},
	"UDP": {
		layer: layers.LayerTypeUDP, rec: types.Type_NC_UDP, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(17), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat(udpHeader(5353, 5353, 12), make([]byte, 12)),
				cat(udpHeader(9999, 9998, 3), []byte("abc")),
			}
		},
	},
	"DNS": {
		layer: layers.LayerTypeDNS, rec: types.Type_NC_DNS, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(40000, 53), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.DNS{ID: 1, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}),
				serialize(&layers.DNS{ID: 2, QR: true, RD: true, RA: true,
					Questions: []layers.DNSQuestion{{Name: []byte("example.org"), Type: layers.DNSTypeMX, Class: layers.DNSClassIN}},
					Answers: []layers.DNSResourceRecord{
						{Name: []byte("example.org"), Type: layers.DNSTypeMX, Class: layers.DNSClassIN, TTL: 60, MX: layers.DNSMX{Preference: 10, Name: []byte("mx.example.org")}},
						{Name: []byte("example.org"), Type: layers.DNSTypeTXT, Class: layers.DNSClassIN, TTL: 60, TXTs: [][]byte{[]byte("v=spf1 -all")}},
					},
					Authorities: []layers.DNSResourceRecord{{Name: []byte("example.org"), Type: layers.DNSTypeSOA, Class: layers.DNSClassIN, TTL: 60,
						SOA: layers.DNSSOA{MName: []byte("ns.example.org"), RName: []byte("h\xffst.example.org"), Serial: 1}}},
					Additionals: []layers.DNSResourceRecord{{Name: []byte("_s._tcp.example.org"), Type: layers.DNSTypeSRV, Class: layers.DNSClassIN,
						SRV: layers.DNSSRV{Priority: 1, Weight: 2, Port: 3, Name: []byte("t.example.org")}}},
				}),
			}
		},
	},
	"DHCPv4": {
		layer: layers.LayerTypeDHCPv4, rec: types.Type_NC_DHCPv4, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(68, 67), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{serialize(&layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet,
				HardwareLen: 6, Xid: 0xdeadbeef, ClientHWAddr: macA, ServerName: []byte("srv"),
				Options: layers.DHCPOptions{
					layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)}),
					layers.NewDHCPOption(layers.DHCPOptHostname, []byte("h\xc3")),
					layers.NewDHCPOption(layers.DHCPOptEnd, nil),
				}})}
		},
	},
	"DHCPv6": {
		layer: layers.LayerTypeDHCPv6, rec: types.Type_NC_DHCPv6, link: layers.LinkTypeIPv6,
		below: []gopacket.LayerType{layers.LayerTypeIPv6, layers.LayerTypeUDP}, max: fuzzMax,
		wrap: func(b []byte) []byte { return cat(ipv6Header(17, 8+len(b)), udpHeader(546, 547, len(b)), b) },
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.DHCPv6{MsgType: layers.DHCPv6MsgTypeSolicit, TransactionID: []byte{1, 2, 3},
					Options: layers.DHCPv6Options{layers.NewDHCPv6Option(layers.DHCPv6OptClientID, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1})}}),
				serialize(&layers.DHCPv6{MsgType: layers.DHCPv6MsgTypeRelayForward, HopCount: 1, LinkAddr: ip6A, PeerAddr: ip6B,
					Options: layers.DHCPv6Options{layers.NewDHCPv6Option(layers.DHCPv6OptRelayMessage, []byte{1, 0, 0, 1})}}),
			}
		},
	},
	"NTP": {
		layer: layers.LayerTypeNTP, rec: types.Type_NC_NTP, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(123, 123), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.NTP{Version: 4, Mode: 3, Poll: 6, Precision: -20, TransmitTimestamp: 0xe0000000_80000000}),
				cat(serialize(&layers.NTP{Version: 4, Mode: 4, Stratum: 2, ReferenceID: 0x7f000001}), make([]byte, 20)),
			}
		},
	},
	"GRE": {
		layer: layers.LayerTypeGRE, rec: types.Type_NC_GRE, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(47), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				// Key and sequence number, then an IPv4/UDP packet.
				cat([]byte{0x30, 0x00, 0x08, 0x00, 0, 0, 0, 7, 0, 0, 0, 1}, ipv4Header(17, 8), udpHeader(1, 2, 0)),
				// Checksum and routing present (RFC 1701), then Ethernet.
				cat([]byte{0xc0, 0x00, 0x65, 0x58, 0, 0, 0, 4, 0x08, 0x00, 0, 4, 10, 0, 0, 1, 0, 0, 0, 0}, ethHeader(0x0806)),
			}
		},
	},
	"VXLAN": {
		layer: layers.LayerTypeVXLAN, rec: types.Type_NC_VXLAN, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(50000, 4789), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat([]byte{0x08, 0, 0, 0, 0, 0x12, 0x34, 0}, ethHeader(0x0800), ipv4Header(17, 8), udpHeader(1, 2, 0)),
				cat([]byte{0x88, 0x40, 0x00, 0x2a, 0, 0, 1, 0}, ethHeader(0x0806)), // group policy
			}
		},
	},
	"Geneve": {
		layer: layers.LayerTypeGeneve, rec: types.Type_NC_Geneve, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(50000, 6081), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat([]byte{0x00, 0x00, 0x65, 0x58, 0, 0, 5, 0}, ethHeader(0x0800), ipv4Header(17, 8), udpHeader(1, 2, 0)),
				// One 4-byte option, then IPv4.
				cat([]byte{0x01, 0x40, 0x08, 0x00, 0, 0, 6, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4}, ipv4Header(17, 8), udpHeader(1, 2, 0)),
			}
		},
	},
	"MPLS": {
		layer: layers.LayerTypeMPLS, rec: types.Type_NC_MPLS, link: layers.LinkTypeEthernet,
		below: etherLinkStack, wrap: overEthernet(0x8847), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat([]byte{0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x3f}, ipv4Header(17, 8), udpHeader(1, 2, 0)), // two labels
				{0x00, 0x01, 0x01, 0x40, 0x00, 0x00, 0x00, 0x00},                                                   // a pseudowire: not IP
			}
		},
	},
	// Link-layer and discovery records.
	"LinkLayerDiscovery": {
		layer: layers.LayerTypeLinkLayerDiscovery, rec: types.Type_NC_LinkLayerDiscovery, link: layers.LinkTypeEthernet,
		below: etherLinkStack, wrap: overEthernet(0x88cc), max: fuzzMax,
		built: func() [][]byte { return [][]byte{lldpSeed()} },
	},
	"CiscoDiscovery": {
		layer: layers.LayerTypeCiscoDiscovery, rec: types.Type_NC_CiscoDiscovery, link: layers.LinkTypeEthernet,
		below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC, layers.LayerTypeSNAP}, max: 1492,
		wrap:  overSNAP([]byte{0, 0, 0x0c, 0x20, 0x00}),
		built: func() [][]byte { return [][]byte{cdpSeed()} },
	},
	"NortelDiscovery": {
		layer: layers.LayerTypeNortelDiscovery, rec: types.Type_NC_NortelDiscovery, link: layers.LinkTypeEthernet,
		below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC, layers.LayerTypeSNAP}, max: 1492,
		wrap:  overSNAP([]byte{0, 0, 0x81, 0x01, 0xa2}),
		built: func() [][]byte { return [][]byte{{192, 0, 2, 9, 0, 0, 1, 12, 2, 1, 0}} },
	},
	"EthernetCTP": {
		layer: layers.LayerTypeEthernetCTP, rec: types.Type_NC_EthernetCTP, link: layers.LinkTypeEthernet,
		below: etherLinkStack, wrap: overEthernet(0x9000), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{cat([]byte{8, 0, 2, 0}, macA, []byte{1, 0, 7, 0}, []byte("data"))}
		},
	},
	"EthernetCTPReply": {
		layer: layers.LayerTypeEthernetCTPReply, rec: types.Type_NC_EthernetCTPReply, link: layers.LinkTypeEthernet,
		below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeEthernetCTP}, max: fuzzMax,
		// The fuzz bytes start at the function code, which the wrapper
		// sets to reply (1): another code is another layer, not this one.
		wrap: func(b []byte) []byte {
			f := cat(ethHeader(0x9000), []byte{0, 0}, b)
			if len(f) >= 18 {
				f[16], f[17] = 1, 0
			}
			return f
		},
		built: func() [][]byte { return [][]byte{{1, 0, 3, 0, 0x55, 0x55}} },
	},
	"FDDI": {
		layer: layers.LayerTypeFDDI, rec: types.Type_NC_FDDI, link: layers.LinkTypeFDDI,
		wrap: func(b []byte) []byte { return b }, max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{cat([]byte{0x50}, macB, macA, []byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ipv4Header(17, 8), udpHeader(1, 2, 0))}
		},
	},
	"EAPOL": {
		layer: layers.LayerTypeEAPOL, rec: types.Type_NC_EAPOL, link: layers.LinkTypeEthernet,
		below: etherLinkStack, wrap: overEthernet(0x888e), max: fuzzMax,
		built: func() [][]byte { return [][]byte{{1, 1, 0, 0}, cat([]byte{1, 0, 0, 5}, []byte{1, 1, 0, 5, 1})} },
	},
	"EAP": {
		layer: layers.LayerTypeEAP, rec: types.Type_NC_EAP, link: layers.LinkTypeEthernet,
		below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeEAPOL}, max: 0xffff,
		wrap: func(b []byte) []byte {
			return cat(ethHeader(0x888e), []byte{1, 0, byte(len(b) >> 8), byte(len(b))}, b)
		},
		built: func() [][]byte { return [][]byte{{2, 7, 0, 10, 1, 'u', 's', 'e', 'r', '1'}, {3, 7, 0, 4}} },
	},
	"EAPOLKey": {
		layer: layers.LayerTypeEAPOLKey, rec: types.Type_NC_EAPOLKey, link: layers.LinkTypeEthernet,
		below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeEAPOL}, max: 0xffff,
		wrap: func(b []byte) []byte {
			return cat(ethHeader(0x888e), []byte{2, 3, byte(len(b) >> 8), byte(len(b))}, b)
		},
		built: func() [][]byte { return eapolKeySeeds() },
	},
	"USB": {
		layer: layers.LayerTypeUSB, rec: types.Type_NC_USB, link: linkTypeUSBLinux,
		wrap: func(b []byte) []byte { return b }, max: fuzzMax,
		built: func() [][]byte { return [][]byte{usbSeed(false, true), usbSeed(false, false)} },
	},
	"USBRequestBlockSetup": {
		layer: layers.LayerTypeUSBRequestBlockSetup, rec: types.Type_NC_USBRequestBlockSetup, link: layers.LinkTypeLinuxUSB,
		below: []gopacket.LayerType{layerTypeUSBMmapped}, max: fuzzMax,
		// the fuzz bytes are the setup packet and what follows the header
		wrap: func(b []byte) []byte {
			h := usbSeed(true, true)[:64]
			copy(h[40:48], b)
			if len(b) > 8 {
				return cat(h, b[8:])
			}
			return h
		},
		built: func() [][]byte { return [][]byte{{0x80, 6, 0, 1, 0, 0, 0x12, 0}} },
	},
	"LCM": {
		layer: layers.LayerTypeLCM, rec: types.Type_NC_LCM, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(40000, 7667), max: fuzzMax,
		built: func() [][]byte { return lcmSeeds() },
	},
	"Dot11": {
		layer: layers.LayerTypeDot11, rec: types.Type_NC_Dot11, link: layers.LinkTypeIEEE802_11,
		wrap: func(b []byte) []byte { return b }, max: fuzzMax,
		built: func() [][]byte { return dot11Seeds() },
	},
}

func FuzzGRE(f *testing.F)    { fuzzLayer(f, "GRE") }
func FuzzVXLAN(f *testing.F)  { fuzzLayer(f, "VXLAN") }
func FuzzGeneve(f *testing.F) { fuzzLayer(f, "Geneve") }
func FuzzMPLS(f *testing.F)   { fuzzLayer(f, "MPLS") }

// The network-control and industrial targets are added to fuzzTargets
// here, beside the others.
func init() {
	for name, tg := range netControlTargets {
		fuzzTargets[name] = tg
	}
}

// tcpHeader is a 20-byte TCP header (PSH, ACK) for a segment.
func tcpHeader(src, dst uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint32(b[4:], 1000)
	binary.BigEndian.PutUint32(b[8:], 2000)
	b[12] = 5 << 4
	b[13] = 0x18
	binary.BigEndian.PutUint16(b[14:], 8192)
	return b
}

func overTCP4(src, dst uint16) func([]byte) []byte {
	return func(b []byte) []byte {
		return cat(ethHeader(0x0800), ipv4Header(6, 20+len(b)), tcpHeader(src, dst), b)
	}
}

// withByte sets byte i of the frame a wrapper builds (the OSPF version, so
// that each OSPF target stays with its version).
func withByte(wrap func([]byte) []byte, i int, v byte) func([]byte) []byte {
	return func(b []byte) []byte {
		f := wrap(b)
		if len(f) > i {
			f[i] = v
		}
		return f
	}
}

// enipSendRRData is an EtherNet/IP SendRRData header whose unconnected data
// item carries n bytes of CIP.
func enipSendRRData(n int) []byte {
	b := make([]byte, 40)
	binary.LittleEndian.PutUint16(b, 0x6f)
	binary.LittleEndian.PutUint16(b[2:], uint16(16+n))
	binary.LittleEndian.PutUint32(b[4:], 0x11223344) // session handle
	binary.LittleEndian.PutUint16(b[30:], 2)         // item count
	binary.LittleEndian.PutUint16(b[36:], 0xb2)      // unconnected data item
	binary.LittleEndian.PutUint16(b[38:], uint16(n))
	return b
}

var (
	tcp4Stack   = []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeTCP}
	ospfv2Hello = cat([]byte{2, 1, 0, 48, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		[]byte{255, 255, 255, 0, 0, 10, 0x12, 1, 0, 0, 0, 40, 10, 0, 0, 1, 0, 0, 0, 0, 10, 0, 0, 2})
	ospfv3Hello = []byte{3, 1, 0, 40, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 0, 5, 1, 0, 0, 0x13, 0, 10, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2}
)

var netControlTargets = map[string]*fuzzTarget{
	"IGMP": {
		layer: layers.LayerTypeIGMP, rec: types.Type_NC_IGMP, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(2), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				{0x16, 0, 0, 0, 239, 1, 2, 3},                                   // v2 report
				{0x11, 100, 0, 0, 0, 0, 0, 0},                                   // v2 general query
				{0x11, 0x8a, 0, 0, 239, 1, 2, 3, 0x0a, 0x90, 0, 1, 10, 0, 0, 9}, // v3 query, one source
				{0x22, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 1, 239, 1, 1, 1, 10, 0, 0, 1,
					4, 1, 0, 0, 239, 2, 2, 2, 0xaa, 0xbb, 0xcc, 0xdd}, // v3 report, two records
			}
		},
	},
	"OSPFv2": {
		layer: layers.LayerTypeOSPF, rec: types.Type_NC_OSPFv2, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: withByte(overIPv4(89), 34, 2), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				ospfv2Hello,
				// link state acknowledgment with one LSA header
				cat([]byte{2, 5, 0, 44, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
					[]byte{0, 1, 0x22, 1, 10, 0, 0, 1, 10, 0, 0, 1, 0x80, 0, 0, 1, 0x12, 0x34, 0, 36}),
				// link state update with a router LSA of one link
				cat([]byte{2, 4, 0, 64, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
					[]byte{0, 1, 0x22, 1, 10, 0, 0, 1, 10, 0, 0, 1, 0x80, 0, 0, 1, 0x12, 0x34, 0, 36},
					[]byte{0, 0, 0, 1, 10, 0, 0, 0, 255, 255, 255, 0, 3, 0, 0, 10}),
			}
		},
	},
	"OSPFv3": {
		layer: layers.LayerTypeOSPF, rec: types.Type_NC_OSPFv3, link: layers.LinkTypeIPv6,
		below: []gopacket.LayerType{layers.LayerTypeIPv6}, max: fuzzMax,
		wrap: withByte(func(b []byte) []byte { return cat(ipv6Header(89, len(b)), b) }, 40, 3),
		built: func() [][]byte {
			return [][]byte{
				ospfv3Hello,
				// link state request for one LSA
				{3, 3, 0, 28, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, 1, 0, 0, 0, 0, 1, 1, 1, 1},
			}
		},
	},
	"VRRPv2": {
		layer: layers.LayerTypeVRRP, rec: types.Type_NC_VRRPv2, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(112), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{{0x21, 42, 100, 2, 0, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}}
		},
	},
	"BFD": {
		layer: layers.LayerTypeBFD, rec: types.Type_NC_BFD, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(49152, 3784), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				serialize(&layers.BFD{Version: 1, State: layers.BFDStateUp, DetectMultiplier: 3, MyDiscriminator: 1,
					YourDiscriminator: 2, DesiredMinTxInterval: 1000000, RequiredMinRxInterval: 1000000}),
				serialize(&layers.BFD{Version: 1, State: layers.BFDStateInit, AuthPresent: true, DetectMultiplier: 5, MyDiscriminator: 7,
					AuthHeader: &layers.BFDAuthHeader{AuthType: layers.BFDAuthTypeKeyedMD5, KeyID: 2, SequenceNumber: 5,
						Data: layers.BFDAuthData(bytes.Repeat([]byte{0xab}, 16))}}),
			}
		},
	},
	"SCTP": {
		layer: layers.LayerTypeSCTP, rec: types.Type_NC_SCTP, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(132), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				{0x84, 0xc1, 0x1a, 0x30, 0, 0, 0, 0, 0x25, 0x9e, 0xf4, 0x3f, 1, 0, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1},
				{0x13, 0xc4, 0x13, 0xc4, 1, 2, 3, 4, 0, 0, 0, 0, 0, 3, 0, 8, 0, 0, 0, 0}, // SIP ports, a DATA chunk
			}
		},
	},
	"IPSecAH": {
		layer: layers.LayerTypeIPSecAH, rec: types.Type_NC_IPSecAH, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(51), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{cat([]byte{17, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 19}, bytes.Repeat([]byte{0x21}, 12), udpHeader(1, 2, 0))}
		},
	},
	"IPSecESP": {
		layer: layers.LayerTypeIPSecESP, rec: types.Type_NC_IPSecESP, link: layers.LinkTypeEthernet,
		below: ipv4Stack, wrap: overIPv4(50), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{cat([]byte{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1}, bytes.Repeat([]byte{0x5a}, 40))}
		},
	},
	"SIP": {
		layer: layers.LayerTypeSIP, rec: types.Type_NC_SIP, link: layers.LinkTypeEthernet,
		below: udp4Stack, wrap: overUDP4(5060, 5060), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				[]byte("INVITE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
					"From: <sip:alice@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\nCall-ID: a@b\r\nCSeq: 1 INVITE\r\n" +
					"Subject: folded\r\n line\r\nContent-Length: 4\r\n\r\nv=0\n"),
				[]byte("SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
			}
		},
	},
	"Modbus": {
		layer: layers.LayerTypeModbus, rec: types.Type_NC_Modbus, link: layers.LinkTypeEthernet,
		below: tcp4Stack, wrap: overTCP4(40000, 502), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2},                                  // read holding registers
				{0, 1, 0, 0, 0, 3, 1, 0x83, 2, 0, 2, 0, 0, 0, 5, 1, 4, 2, 0x12, 0x34}, // exception, then a response
			}
		},
	},
	"ENIP": {
		layer: layers.LayerTypeENIP, rec: types.Type_NC_ENIP, link: layers.LinkTypeEthernet,
		below: tcp4Stack, wrap: overTCP4(40000, 44818), max: fuzzMax,
		built: func() [][]byte {
			return [][]byte{
				cat([]byte{0x65, 0, 4, 0}, make([]byte, 20), []byte{1, 0, 0, 0}), // register session
				cat([]byte{0x63, 0}, make([]byte, 22)),                           // list identity
				cat(enipSendRRData(6), []byte{0x0e, 2, 0x20, 1, 0x24, 1}),
			}
		},
	},
	"CIP": {
		layer: layers.LayerTypeCIP, rec: types.Type_NC_CIP, link: layers.LinkTypeEthernet,
		below: append(append([]gopacket.LayerType{}, tcp4Stack...), layers.LayerTypeENIP), max: fuzzMax,
		wrap: func(b []byte) []byte { return overTCP4(40000, 44818)(cat(enipSendRRData(len(b)), b)) },
		built: func() [][]byte {
			return [][]byte{
				{0x0e, 2, 0x20, 1, 0x24, 1},          // get attribute single, class 1 instance 1
				{0x8e, 0, 0, 1, 0x05, 0x01, 1, 2, 3}, // response with one additional status
			}
		},
	},
}

func FuzzIGMP(f *testing.F)     { fuzzLayer(f, "IGMP") }
func FuzzOSPFv2(f *testing.F)   { fuzzLayer(f, "OSPFv2") }
func FuzzOSPFv3(f *testing.F)   { fuzzLayer(f, "OSPFv3") }
func FuzzVRRPv2(f *testing.F)   { fuzzLayer(f, "VRRPv2") }
func FuzzBFD(f *testing.F)      { fuzzLayer(f, "BFD") }
func FuzzSCTP(f *testing.F)     { fuzzLayer(f, "SCTP") }
func FuzzIPSecAH(f *testing.F)  { fuzzLayer(f, "IPSecAH") }
func FuzzIPSecESP(f *testing.F) { fuzzLayer(f, "IPSecESP") }
func FuzzSIP(f *testing.F)      { fuzzLayer(f, "SIP") }
func FuzzModbus(f *testing.F)   { fuzzLayer(f, "Modbus") }
func FuzzENIP(f *testing.F)     { fuzzLayer(f, "ENIP") }
func FuzzCIP(f *testing.F)      { fuzzLayer(f, "CIP") }

func FuzzEthernet(f *testing.F)     { fuzzLayer(f, "Ethernet") }
func FuzzARP(f *testing.F)          { fuzzLayer(f, "ARP") }
func FuzzDot1Q(f *testing.F)        { fuzzLayer(f, "Dot1Q") }
func FuzzLLC(f *testing.F)          { fuzzLayer(f, "LLC") }
func FuzzSNAP(f *testing.F)         { fuzzLayer(f, "SNAP") }
func FuzzIPv4(f *testing.F)         { fuzzLayer(f, "IPv4") }
func FuzzIPv6(f *testing.F)         { fuzzLayer(f, "IPv6") }
func FuzzIPv6Fragment(f *testing.F) { fuzzLayer(f, "IPv6Fragment") }
func FuzzICMPv4(f *testing.F)       { fuzzLayer(f, "ICMPv4") }
func FuzzICMPv6(f *testing.F)       { fuzzLayer(f, "ICMPv6") }
func FuzzTCP(f *testing.F)          { fuzzLayer(f, "TCP") }
func FuzzUDP(f *testing.F)          { fuzzLayer(f, "UDP") }
func FuzzDNS(f *testing.F)          { fuzzLayer(f, "DNS") }
func FuzzDHCPv4(f *testing.F)       { fuzzLayer(f, "DHCPv4") }
func FuzzDHCPv6(f *testing.F)       { fuzzLayer(f, "DHCPv6") }
func FuzzNTP(f *testing.F)          { fuzzLayer(f, "NTP") }

func FuzzLinkLayerDiscovery(f *testing.F)   { fuzzLayer(f, "LinkLayerDiscovery") }
func FuzzCiscoDiscovery(f *testing.F)       { fuzzLayer(f, "CiscoDiscovery") }
func FuzzNortelDiscovery(f *testing.F)      { fuzzLayer(f, "NortelDiscovery") }
func FuzzEthernetCTP(f *testing.F)          { fuzzLayer(f, "EthernetCTP") }
func FuzzEthernetCTPReply(f *testing.F)     { fuzzLayer(f, "EthernetCTPReply") }
func FuzzFDDI(f *testing.F)                 { fuzzLayer(f, "FDDI") }
func FuzzEAPOL(f *testing.F)                { fuzzLayer(f, "EAPOL") }
func FuzzEAP(f *testing.F)                  { fuzzLayer(f, "EAP") }
func FuzzEAPOLKey(f *testing.F)             { fuzzLayer(f, "EAPOLKey") }
func FuzzUSB(f *testing.F)                  { fuzzLayer(f, "USB") }
func FuzzUSBRequestBlockSetup(f *testing.F) { fuzzLayer(f, "USBRequestBlockSetup") }
func FuzzLCM(f *testing.F)                  { fuzzLayer(f, "LCM") }
func FuzzDot11(f *testing.F)                { fuzzLayer(f, "Dot11") }

// packetRecords enables the records made from single packets, those of the
// registered protocols. The flow and stream records stay off: they carry
// state from one input to the next (they have fuzz targets of their own,
// and FuzzPipeline runs everything), while these targets check what must
// hold for every single packet.
func packetRecords(t types.Type) bool {
	for _, p := range protocols {
		for _, r := range p.Records {
			if r == t {
				return true
			}
		}
	}
	return false
}

func fuzzLayer(f *testing.F, name string) {
	tg := fuzzTargets[name]
	for _, s := range tg.built() {
		f.Add(s)
	}
	for _, s := range corpusSeeds()[tg.layer] {
		f.Add(s)
	}
	d := newFuzzDecoders()
	f.Fuzz(func(t *testing.T, b []byte) {
		// An empty layer has nothing to decode (and an IPv6 header with
		// payload length 0 announces a jumbogram, which is not what the
		// wrapper means to build).
		if len(b) == 0 || len(b) > tg.max {
			return
		}
		checkFrame(t, tg, d, tg.wrap(b), len(b))
	})
}

// fuzzDecoders are the two decoders a target keeps for all its inputs. The
// one under test decodes the inputs in turn, as a worker's decoder decodes
// the packets of a capture; the other decodes one of the frames built in
// code before each input. So the two have decoded different packets before
// every input, and a record that differs between them carries state from an
// earlier packet. (A decoder made afresh for each input would tell the same
// but costs more than the decoding itself.)
type fuzzDecoders struct {
	pd, other *PacketDecoder
	noise     []fuzzFrameIn
	n         int
}

type fuzzFrameIn struct {
	frame []byte
	link  layers.LinkType
}

func newFuzzDecoders() *fuzzDecoders {
	// Without defragmentation: a fragment completing a datagram that an
	// earlier input started would differ between the two decoders by
	// design. FuzzDefrag fuzzes the defragmenter.
	o := DefaultOptions()
	o.NoDefrag = true
	d := &fuzzDecoders{pd: NewPacketDecoder(packetRecords, o), other: NewPacketDecoder(packetRecords, o)}
	// DNS records are also made from TCP streams (dnstcp.go, fuzzed by
	// FuzzDNSTCP), which turns the flow table on; these targets check
	// single packets, so it stays off.
	d.pd.conns, d.other.conns = nil, nil
	for _, tg := range fuzzTargets {
		for _, s := range tg.built() {
			d.noise = append(d.noise, fuzzFrameIn{tg.wrap(s), tg.link})
		}
	}
	return d
}

// prepareOther has the other decoder decode the next noise frame.
func (d *fuzzDecoders) prepareOther() {
	in := d.noise[d.n%len(d.noise)]
	d.n++
	d.other.Decode(in.frame, in.link, &Packet{Frame: 1, Payloads: true, Entropy: true}, discard{})
}

const (
	fuzzFrame = 42
	fuzzTime  = 1_700_000_000_123_456_789
)

// emitted is a record as the sink saw it, marshalled right away because the
// decoder reuses the message.
type emitted struct {
	typ types.Type
	b   []byte
}

type checkSink struct {
	t     *testing.T
	frame int // frame length, the bound for sizes
	recs  []emitted
}

func (s *checkSink) Emit(typ types.Type, m proto.Message) {
	t := s.t
	t.Helper()
	want := "netcap." + types.Name(typ)
	if got := string(m.ProtoReflect().Descriptor().FullName()); got != want {
		t.Fatalf("record emitted as %v is a %s", typ, got)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("%v record does not marshal: %v", typ, err)
	}
	checkFields(t, typ, m.ProtoReflect(), s.frame, true)
	s.recs = append(s.recs, emitted{typ, b})
}

// checkFields walks a record and its sub-messages.
func checkFields(t *testing.T, typ types.Type, m protoreflect.Message, frame int, top bool) {
	t.Helper()
	fds := m.Descriptor().Fields()
	if top {
		if fd := fds.ByName("FrameNumber"); fd == nil || m.Get(fd).Int() != fuzzFrame {
			t.Fatalf("%v record: FrameNumber is not the packet's (%d)", typ, fuzzFrame)
		}
		if fd := fds.ByName("Timestamp"); fd == nil || m.Get(fd).Int() != fuzzTime {
			t.Fatalf("%v record: Timestamp is not the packet's (%d)", typ, fuzzTime)
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			if l.Len() > frame {
				t.Fatalf("%v record: %s has %d entries, more than the %d bytes of the frame", typ, fd.Name(), l.Len(), frame)
			}
			for i := 0; i < l.Len(); i++ {
				switch fd.Kind() {
				case protoreflect.MessageKind:
					checkFields(t, typ, l.Get(i).Message(), frame, false)
				case protoreflect.BytesKind:
					if n := len(l.Get(i).Bytes()); n > frame {
						t.Fatalf("%v record: %s[%d] holds %d bytes, the frame has %d", typ, fd.Name(), i, n, frame)
					}
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			checkFields(t, typ, v.Message(), frame, false)
		case fd.Kind() == protoreflect.BytesKind:
			if n := len(v.Bytes()); n > frame {
				t.Fatalf("%v record: %s holds %d bytes, the frame has %d", typ, fd.Name(), n, frame)
			}
		case fd.Name() == "PayloadSize" && typ != types.Type_NC_LCM: // LCM's is the announced message size, a wire field
			if n := v.Int(); n < 0 || n > int64(frame) {
				t.Fatalf("%v record: PayloadSize %d, the frame has %d bytes", typ, n, frame)
			}
		case fd.Name() == "PayloadEntropy":
			if e := v.Float(); math.IsNaN(e) || e < 0 || e > 8 {
				t.Fatalf("%v record: PayloadEntropy %v outside 0..8", typ, e)
			}
		}
		return true
	})
}

// checkFrame decodes one frame and checks the invariants; n is the number of
// fuzz bytes in it. It returns the records.
func checkFrame(t *testing.T, tg *fuzzTarget, d *fuzzDecoders, frame []byte, n int) []emitted {
	t.Helper()
	orig := bytes.Clone(frame)
	decode := func(pd *PacketDecoder) (Status, string, []emitted) {
		meta := Packet{Frame: fuzzFrame, Timestamp: fuzzTime, CaptureLength: len(frame), Length: len(frame), Payloads: true, Entropy: true}
		s := &checkSink{t: t, frame: len(frame)}
		st, reason := pd.Decode(frame, tg.link, &meta, s)
		return st, reason, s.recs
	}
	st, reason, recs := decode(d.pd)
	switch {
	case st == Decoded && reason != "":
		t.Fatalf("status Decoded with a reason: %q", reason)
	case (st == Unknown || st == Failed) && reason == "":
		t.Fatalf("status %d without a reason", st)
	case st > Failed:
		t.Fatalf("invalid status %d (%q)", st, reason)
	}
	if !bytes.Equal(frame, orig) {
		t.Fatalf("Decode modified its input")
	}
	chain := d.pd.Layers()
	for i, l := range tg.below {
		if i >= len(chain) || chain[i] != l {
			t.Fatalf("the layers built under the fuzz bytes did not decode: got %v, want %v first (%d %q)", chain, tg.below, st, reason)
		}
	}
	occurrences, records := 0, 0
	for _, l := range chain {
		if l == tg.layer {
			occurrences++
		}
	}
	for _, r := range recs {
		if r.typ == tg.rec {
			records++
		}
	}
	if n > 0 && st == Decoded && occurrences == 0 {
		t.Fatalf("packet decoded without reaching %v: %v", tg.layer, chain)
	}
	if records != occurrences && !(st == Failed && strings.Contains(reason, " record: ")) {
		t.Fatalf("%d %v layers gave %d %v records (status %d %q)", occurrences, tg.layer, records, tg.rec, st, reason)
	}

	// A decoder with another history must give the same.
	d.prepareOther()
	st2, reason2, recs2 := decode(d.other)
	if st2 != st || reason2 != reason || len(recs2) != len(recs) {
		t.Fatalf("decoder under test: status %d %q, %d records; other decoder: %d %q, %d records", st, reason, len(recs), st2, reason2, len(recs2))
	}
	for i := range recs {
		if recs[i].typ != recs2[i].typ || !bytes.Equal(recs[i].b, recs2[i].b) {
			t.Fatalf("record %d (%v) differs between two decoders that decoded different packets before", i, recs[i].typ)
		}
	}
	return recs
}

// TestFuzzHarness checks that every target's wrapper reaches its layer with
// the seeds built in code, so that the fuzzers test what they are named after.
func TestFuzzHarness(t *testing.T) {
	fuzzed := map[gopacket.LayerType]bool{}
	for _, tg := range fuzzTargets {
		fuzzed[tg.layer] = true
	}
	for _, p := range protocols {
		// The ICMPv6 message bodies are reached through FuzzICMPv6.
		if !fuzzed[p.Layer] && !strings.HasPrefix(p.Name, "ICMPv6") {
			t.Errorf("protocol %s (layer %v) has no fuzz target in fuzz_test.go", p.Name, p.Layer)
		}
	}
	d := newFuzzDecoders()
	for name, tg := range fuzzTargets {
		for i, s := range tg.built() {
			recs := checkFrame(t, tg, d, tg.wrap(s), len(s))
			// A decoder that decoded nothing before gives the same.
			fresh := checkFrame(t, tg, newFuzzDecoders(), tg.wrap(s), len(s))
			for j := range recs {
				if j >= len(fresh) || !bytes.Equal(recs[j].b, fresh[j].b) {
					t.Errorf("%s: built seed %d: record %d (%v) differs from a fresh decoder's", name, i, j, recs[j].typ)
				}
			}
			found := false
			for _, l := range d.pd.Layers() {
				found = found || l == tg.layer
			}
			if !found {
				t.Errorf("%s: built seed %d does not reach %v: %v", name, i, tg.layer, d.pd.Layers())
			}
		}
	}
}

// corpusDir is where the shared captures are, seen from this package.
const corpusDir = "../../shared/pcaps"

var (
	seedsOnce sync.Once
	seeds     map[gopacket.LayerType][][]byte
)

// corpusSeeds returns, for each fuzzed layer, the bytes of that layer and
// above from packets of the shared captures: at most one packet per capture
// and layer, so that the seeds come from as many captures as possible. It
// returns nothing when the captures are absent.
func corpusSeeds() map[gopacket.LayerType][][]byte {
	seedsOnce.Do(func() {
		seeds = map[gopacket.LayerType][][]byte{}
		want := map[gopacket.LayerType]int{}
		for _, tg := range fuzzTargets {
			want[tg.layer] = tg.max
		}
		const perLayer, maxSeed = 32, 2048
		pd := NewPacketDecoder(func(types.Type) bool { return false })
		filepath.WalkDir(corpusDir, func(path string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return nil
			}
			taken := map[gopacket.LayerType]bool{}
			eachPacket(path, 5000, func(data []byte, link layers.LinkType) {
				data = data[:len(data):len(data)]
				pd.Decode(data, link, &Packet{}, discard{})
				for _, e := range pd.chain {
					limit, ok := want[e.typ]
					if !ok || taken[e.typ] || len(seeds[e.typ]) >= perLayer {
						continue
					}
					l, ok := e.l.(gopacket.Layer)
					if !ok {
						continue
					}
					b := cat(l.LayerContents(), l.LayerPayload())
					if len(b) == 0 || len(b) > limit || len(b) > maxSeed {
						continue
					}
					taken[e.typ] = true
					seeds[e.typ] = append(seeds[e.typ], b)
				}
			})
			return nil
		})
	})
	return seeds
}

type discard struct{}

func (discard) Emit(types.Type, proto.Message) {}

// eachPacket calls fn for at most limit packets of a pcap or pcapng file,
// silently stopping at the first error.
func eachPacket(path string, limit int, fn func([]byte, layers.LinkType)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return
	}
	var next func() ([]byte, layers.LinkType, error)
	if binary.LittleEndian.Uint32(magic[:]) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return
		}
		next = func() ([]byte, layers.LinkType, error) {
			data, ci, err := r.ReadPacketData()
			link := r.LinkType()
			if err == nil && len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					link = lt
				}
			}
			return data, link, err
		}
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			return
		}
		r.SetSnaplen(262144)
		next = func() ([]byte, layers.LinkType, error) {
			data, _, err := r.ReadPacketData()
			return data, r.LinkType(), err
		}
	}
	for i := 0; i < limit; i++ {
		data, link, err := next()
		if err != nil {
			return // io.EOF, or a cut or corrupt capture: keep what we have
		}
		fn(data, link)
	}
}

// FuzzDefrag sends fragments, 4 bytes each: a byte of datagram (id, 0-3) and
// more-fragments flag (bit 2), the offset in 8-byte units (2 bytes, up to
// 4 KiB) and the length less one. Each fragment's bytes are its own number,
// so overlaps show which one a byte came from. The defragmenter must give
// what a plain model of Wireshark's rules gives (a byte comes from the
// covering fragment with the lowest offset, the first among equals; the first
// last fragment sets the length; a complete datagram leaves), and the packet
// decoder, fed the same fragments as IPv4 and IPv6 frames, must reassemble
// the same datagrams without failing.
func FuzzDefrag(f *testing.F) {
	f.Add([]byte{4, 0, 0, 39, 0, 0, 5, 19})                                    // two fragments in order
	f.Add([]byte{0, 0, 5, 19, 4, 0, 0, 39})                                    // reversed
	f.Add([]byte{4, 0, 4, 39, 4, 0, 4, 39, 0, 0, 9, 7, 4, 0, 0, 47})           // equal offsets, overlap
	f.Add([]byte{5, 0, 0, 7, 4, 0, 0, 15, 1, 0, 1, 7, 0, 0, 2, 7, 0, 0, 2, 3}) // two datagrams, two tails
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4*200 {
			return
		}
		type mfrag struct {
			off   int
			data  []byte
			order int
		}
		type mdatagram struct {
			frags []mfrag
			total int
		}
		model := map[uint32]*mdatagram{}
		var wantDone []int // ops that complete a datagram
		var wantData [][]byte
		df := newDefragmenter(Options{})
		o := DefaultOptions()
		o.DefragTimeout = 0
		pd4 := NewPacketDecoder(func(types.Type) bool { return true }, o)
		pd6 := NewPacketDecoder(func(types.Type) bool { return true }, o)
		for i := 0; i+4 <= len(b); i += 4 {
			id, more := uint32(b[i]&3), b[i]&4 != 0
			off := int(binary.BigEndian.Uint16(b[i+1:])%512) * 8
			data := bytes.Repeat([]byte{byte(i / 4)}, int(b[i+3])+1)
			if off == 0 && !more {
				continue // not a fragment
			}

			// The model.
			m := model[id]
			if m == nil {
				m = &mdatagram{total: -1}
				model[id] = m
			}
			if !more && m.total < 0 {
				m.total = off + len(data)
			}
			m.frags = append(m.frags, mfrag{off, data, i})
			var whole []byte
			if m.total >= 0 {
				whole = make([]byte, m.total)
				for p := 0; p < m.total && whole != nil; p++ {
					best := -1
					for j, fr := range m.frags {
						if p >= fr.off && p < fr.off+len(fr.data) && (best < 0 || fr.off < m.frags[best].off) {
							best = j
						}
					}
					if best < 0 {
						whole = nil
						break
					}
					whole[p] = m.frags[best].data[p-m.frags[best].off]
				}
			}
			if whole != nil {
				delete(model, id)
				wantDone = append(wantDone, i)
				wantData = append(wantData, whole)
			}

			// The defragmenter.
			k := fragKey{id: id, proto: 17}
			got, _, done := df.add(&k, off, more, data, 17, maxDatagramPayload-20, 0, 0)
			if done != (whole != nil) {
				t.Fatalf("fragment %d (id %d, %d+%d, more %v): complete %v, model %v", i/4, id, off, len(data), more, done, whole != nil)
			}
			if done && !bytes.Equal(got, whole) {
				t.Fatalf("fragment %d: datagram\n% x\nmodel\n% x", i/4, got, whole)
			}

			// The packet decoder, over IPv4 and IPv6.
			ip4 := ipv4Header(17, len(data))
			binary.BigEndian.PutUint16(ip4[4:], uint16(id))
			fo := uint16(off / 8)
			if more {
				fo |= 0x2000
			}
			binary.BigEndian.PutUint16(ip4[6:], fo)
			fh := []byte{17, 0, 0, 0, 0, 0, 0, byte(id)}
			binary.BigEndian.PutUint16(fh[2:], uint16(off))
			if more {
				fh[3] |= 1
			}
			for _, c := range []struct {
				pd    *PacketDecoder
				frame []byte
			}{
				{pd4, cat(ethHeader(0x0800), ip4, data)},
				{pd6, cat(ethHeader(0x86dd), ipv6Header(44, 8+len(data)), fh, data)},
			} {
				meta := Packet{Frame: int64(i/4 + 1), Timestamp: fuzzTime, CaptureLength: len(c.frame), Length: len(c.frame)}
				if st, reason := c.pd.Decode(c.frame, layers.LinkTypeEthernet, &meta, discard{}); st == Failed && !strings.Contains(reason, "UDP") {
					t.Fatalf("fragment %d: status %d %q", i/4, st, reason)
				}
			}
		}
		for _, pd := range []*PacketDecoder{pd4, pd6} {
			if n := pd.Stats().Defragmented; n != int64(len(wantDone)) {
				t.Fatalf("packet decoder reassembled %d datagrams, the model %d", n, len(wantDone))
			}
			pd.Flush(discard{})
			if st := pd.Stats(); st.Defragmented+st.DefragTimedOut < int64(len(wantDone)+len(model)) || pd.defrag.held != 0 || len(pd.defrag.m) != 0 {
				t.Fatalf("after flush: %+v, %d bytes and %d datagrams held", st, pd.defrag.held, len(pd.defrag.m))
			}
		}
	})
}
