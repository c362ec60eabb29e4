package capture

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/decoder"
)

// TestEmptyFrames: a frame of capture length 0 is an error packet, so that
// every frame is a record, an unknown or an error packet; a gzip bomb of
// them is counted whole.
func TestEmptyFrames(t *testing.T) {
	dir := t.TempDir()
	fr := testFrames(t)
	data := pcapBytes(t, layers.LinkTypeEthernet, false, [][]byte{fr[0], {}, fr[1], {}})
	sum, _ := runFile(t, writeFile(t, dir, "empty.pcap", data), 2, true)
	if sum.Packets != 4 || sum.Errors != 2 || sum.ErrorReasons[decoder.EmptyFrame] != 2 || sum.Records["DNS"] != 1 {
		t.Errorf("%d packets, %d errors %v, records %v; want 4 packets, 2 empty frames, 1 DNS record", sum.Packets, sum.Errors, sum.ErrorReasons, sum.Records)
	}
	// A bomb: 1 million 16 byte record headers of empty frames.
	const n = 1 << 20
	bomb := append(pcapBytes(t, layers.LinkTypeEthernet, false, nil), make([]byte, 16*n)...)
	sum, _ = runFile(t, writeFile(t, dir, "bomb.pcap.gz", gzipBytes(t, bomb)), 2, true)
	if sum.Packets != n || sum.Errors != n || sum.Unknown != 0 {
		t.Errorf("bomb: %d packets, %d errors, %d unknown; want %d errors of %d packets", sum.Packets, sum.Errors, sum.Unknown, n, n)
	}
}
