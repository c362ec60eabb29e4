package decoder

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/netcap/netcap/types"
)

// TestIPoIB decodes IP over InfiniBand frames (link type 242) built here.
func TestIPoIB(t *testing.T) {
	hdr := cat(ipoibAddr(0x48, "fe80::2"), ipoibAddr(0x49, "fe80::1"), u16b(0x0800), []byte{0, 0})
	runFrameCases(t, linkTypeIPoIB, []frameCase{
		{"IPv4 ICMP", cat(hdr, icmp4Echo(0x195f, 0)), Decoded, "", "192.0.2.1", types.Type_NC_ICMPv4, "ipoib:ip:icmp:data"},
		{"cut header", hdr[:26], Failed, "shorter than 44 bytes", "", 0, ""},
	})
}

// ipoibAddr is an InfiniBand hardware address: a queue pair number (its
// top byte reserved) and a port GID.
func ipoibAddr(qpn uint32, gid string) []byte {
	return cat(binary.BigEndian.AppendUint32(nil, qpn&0xffffff), net.ParseIP(gid).To16())
}
