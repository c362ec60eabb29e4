package decoder

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// TestHeld follows what a decoder holds while a capture goes: an
// out-of-order TCP segment waits in the reassembler until the hole before
// it is filled, a first IP fragment waits in the defragmenter until its
// datagram is complete, and a flush leaves nothing.
func TestHeld(t *testing.T) {
	pd := NewPacketDecoder(func(types.Type) bool { return true })
	s := &recordSink{}
	base := time.Now().Add(-time.Hour).UnixNano()
	frame := int64(0)
	decode := func(data []byte, at time.Duration) {
		t.Helper()
		frame++
		ts := base + int64(at)
		pd.Tick(ts, s)
		meta := Packet{Frame: frame, Timestamp: ts, CaptureLength: len(data), Length: len(data)}
		if st, reason := pd.Decode(data, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("frame %d: %v %s", frame, st, reason)
		}
	}
	check := func(when string, want Held) {
		t.Helper()
		if got := pd.Held(); got != want {
			t.Errorf("%s: Held() = %+v, want %+v", when, got, want)
		}
	}
	check("at the start", Held{})

	for _, p := range handshake[:3] {
		decode(buildScript(t, p, false), p.at)
	}
	check("after the handshake", Held{Connections: 1})
	// Bytes 111..130 of the client's stream arrive before 101..110.
	decode(buildScript(t, pkt{10 * time.Millisecond, true, "PA", 111, 501, 20}, false), 10*time.Millisecond)
	// It is held as allocated: a heap slot and its copy (20 bytes take 24).
	check("after a segment beyond a hole", Held{StreamBytes: segmentSize + 24, Connections: 1})
	decode(buildScript(t, pkt{11 * time.Millisecond, true, "PA", 101, 501, 10}, false), 11*time.Millisecond)
	check("once the hole is filled", Held{Connections: 1})

	dg := fragDatagram(t, false, 200)
	decode(fragFrame(t, false, 9, dg, frag{off: 0, n: 96, more: true}), 20*time.Millisecond)
	// The datagram's flow starts when it is complete.
	// Its bytes, its datagram's bookkeeping and its piece.
	check("after a first fragment", Held{FragmentBytes: 96 + datagramSize + mapEntrySize + pieceSize, Connections: 1})
	decode(fragFrame(t, false, 9, dg, frag{off: 96, n: 104}), 21*time.Millisecond)
	check("after the last fragment", Held{Connections: 2})

	pd.Flush(s)
	check("after the flush", Held{})

	// The engine reads it after every batch: it must not allocate.
	if n := testing.AllocsPerRun(100, func() { _ = pd.Held() }); n != 0 {
		t.Errorf("Held allocates %v times a call", n)
	}
}
