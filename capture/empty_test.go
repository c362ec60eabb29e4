package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

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

// TestCapLenAboveLength: a pcap record header whose capture length is above
// the frame's length (tcpdump's aoe-oobr-1 and icmp-icmp_print-oobr-2) is
// damaged, but its bytes are there; tshark reads such frames whole, and so
// must we, also when one is written to unknown.pcap.
func TestCapLenAboveLength(t *testing.T) {
	dir := t.TempDir()
	fr := testFrames(t)
	// An ethertype no decoder knows (local experimental), so the frame ends in
	// unknown.pcap.
	odd := append(append([]byte{}, fr[0][:12]...), 0x88, 0xb5, 1, 2, 3, 4, 5, 6, 7, 8)
	data := pcapBytes(t, layers.LinkTypeEthernet, false, [][]byte{fr[0], odd})
	// Lower each frame's length (offset 12 of its 16 byte record header) by
	// 2, below its capture length; the frames follow each other from byte 24.
	off := 24
	for _, f := range [][]byte{fr[0], odd} {
		binary.LittleEndian.PutUint32(data[off+12:], uint32(len(f)-2))
		off += 16 + len(f)
	}
	sum, out := runFile(t, writeFile(t, dir, "caplen.pcap", data), 2, false)
	if sum.Packets != 2 || sum.Errors != 0 || sum.Unknown != 1 || sum.Records["DNS"] != 1 {
		t.Fatalf("%d packets, %d errors %v, %d unknown, records %v; want 2 packets, 1 DNS record, 1 unknown", sum.Packets, sum.Errors, sum.ErrorReasons, sum.Unknown, sum.Records)
	}
	f, err := os.Open(filepath.Join(out, "unknown.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := r.ReadPacketData()
	if err != nil || !bytes.Equal(got, odd) {
		t.Errorf("unknown.pcap holds % x (%v); want the whole frame % x", got, err, odd)
	}
}
