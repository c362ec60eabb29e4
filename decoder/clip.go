package decoder

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Linux Classical IP over ATM (link type 106, RFC 2225 "CLIP"): the frames
// are IP packets, with an LLC/SNAP header before them when the virtual
// circuit uses LLC encapsulation (tcpdump looks for its AA AA 03 as here;
// tshark reads every frame as IP, so the two agree on frames without it).
// The header is no layer of its own: the link type starts at LLC or IP.
func init() {
	RegisterLink(Link{Type: linkTypeLinuxATMCLIP, Pick: clipFirst})
}

const linkTypeLinuxATMCLIP layers.LinkType = 106

// clipFirst reads an LLC header where the frame starts with AA AA 03 and
// IP otherwise, IPv4 or IPv6 by its version nibble.
func clipFirst(data []byte) gopacket.LayerType {
	if len(data) >= 3 && data[0] == 0xaa && data[1] == 0xaa && data[2] == 0x03 {
		return layers.LayerTypeLLC
	}
	return rawIP(data)
}
