package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestCHDLC decodes Cisco HDLC frames (link type 104) built here.
func TestCHDLC(t *testing.T) {
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		{"IPv4 TCP", cat(chdlcHeader(chdlcUnicast, 0x0800), tcp4(49152, 80, nil)),
			Decoded, "", "192.0.2.1", types.Type_NC_TCP, "chdlc:ip:tcp"},
		{"SLARP keepalive", cat(chdlcHeader(chdlcMulticast, 0x8035), slarpKeepaliveMsg(5, 2, 0xffff)),
			Decoded, "", "", types.Type_NC_SLARP, "chdlc:slarp"},
		{"cut header", chdlcHeader(chdlcUnicast, 0x0800)[:2], Failed, "Cisco HDLC header shorter than 4 bytes", "", 0, ""},
	})
}

// Cisco HDLC address bytes.
const (
	chdlcUnicast   = 0x0f
	chdlcMulticast = 0x8f
)

// chdlcHeader is a Cisco HDLC header: address, control 0, protocol (an
// EtherType, 0x8035 for SLARP, 0xfefe for OSI).
func chdlcHeader(addr byte, proto uint16) []byte {
	return binary.BigEndian.AppendUint16([]byte{addr, 0}, proto)
}
