package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Linux netfilter NFLOG captures (link type 239): a 4-byte header (address
// family, version, resource id), then type-length-value attributes, each
// padded to 4 bytes, with lengths and types in the byte order of the host
// that captured (little-endian on the machines that write these files, as
// tshark assumes). The packet is the payload attribute (type 9), an IP
// packet of the header's family (2 IPv4, 10 IPv6). No record of the header;
// the decoder walks through it. gopacket has no layer for it.
func init() {
	RegisterLayer(layerTypeNFLog, func() gopacket.DecodingLayer { return &nflogLayer{} })
	RegisterLink(Link{Type: linkTypeNFLog, First: layerTypeNFLog})
}

const linkTypeNFLog layers.LinkType = 239

var layerTypeNFLog = gopacket.RegisterLayerType(2239, gopacket.LayerTypeMetadata{Name: "NFLOG"})

var (
	errNFLogShort     = errors.New("NFLOG header or attribute cut short")
	errNFLogNoPayload = errors.New("NFLOG message without a payload attribute")
)

type nflogLayer struct {
	layers.BaseLayer
	Family uint8
}

// nflogPayload is the attribute type that holds the packet.
const nflogPayload = 9

func (l *nflogLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errNFLogShort
	}
	l.Family = data[0]
	off := 4
	for off+4 <= len(data) {
		n := int(binary.LittleEndian.Uint16(data[off:]))
		typ := binary.LittleEndian.Uint16(data[off+2:]) & 0x7fff // without the nested flag
		if n < 4 || off+n > len(data) {
			df.SetTruncated()
			return errNFLogShort
		}
		if typ == nflogPayload {
			l.Contents, l.Payload = data[:off+4], data[off+4:off+n]
			return nil
		}
		off += (n + 3) &^ 3
	}
	return errNFLogNoPayload
}

func (l *nflogLayer) CanDecode() gopacket.LayerClass { return layerTypeNFLog }

func (l *nflogLayer) NextLayerType() gopacket.LayerType {
	switch l.Family {
	case 2:
		return layers.LayerTypeIPv4
	case 10:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

func (l *nflogLayer) unknownReason() string { return fmt.Sprintf("NFLOG address family %d", l.Family) }
