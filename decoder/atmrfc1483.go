package decoder

import (
	"github.com/gopacket/gopacket/layers"
)

// LLC-encapsulated ATM (link type 100, RFC 1483/2684): each frame is an
// AAL5 payload that starts with an 802.2 LLC header (an LLC/SNAP header
// for routed and bridged protocols), as tshark and tcpdump read it. The
// link type has no header of its own: it starts at LLC.
func init() {
	RegisterLink(Link{Type: layers.LinkTypeATM_RFC1483, First: layers.LayerTypeLLC})
}
