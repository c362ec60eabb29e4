package ncio

import "encoding/binary"

// CaptureKind names the capture format whose magic number starts head (the
// first bytes of a file, gunzipped if it was gzip), or returns "" when head
// does not start a capture. The tools use it to say "this is a capture"
// instead of reading a pcap header as a record length.
func CaptureKind(head []byte) string {
	if len(head) < 4 {
		return ""
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == 0xa1b2c3d4 || be == 0xa1b2c3d4:
		return "pcap"
	case le == 0xa1b23c4d || be == 0xa1b23c4d:
		return "pcap with nanosecond timestamps"
	case le == 0x0a0d0d0a:
		return "pcapng"
	}
	return ""
}
