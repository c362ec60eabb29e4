package decoder

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// panicParser panics on every chunk after the first.
type panicParser struct{ fed int }

func (p *panicParser) Feed(c *Chunk, _ *ConnInfo, _ Sink) {
	p.fed++
	if p.fed > 1 {
		panic("parser bug")
	}
}

func (p *panicParser) Close(*ConnInfo, Sink) { panic("close bug") }

// TestParserPanicCounted: a stream parser or detector that panics does not
// bring the worker down, is counted, and stops that connection's parser; the
// connection's record is still made.
func TestParserPanicCounted(t *testing.T) {
	saved := streamProtocols
	defer func() { streamProtocols = saved }()
	var made int
	streamProtocols = []StreamProtocol{
		{Name: "detector-bug", Records: []types.Type{types.Type_NC_Connection},
			Detect: func(first []byte, _ bool, _ *ConnInfo) Detection {
				if len(first) == 7 {
					panic("detector bug")
				}
				return DetectNo
			}},
		{Name: "parser-bug", Records: []types.Type{types.Type_NC_Connection},
			Detect: func(first []byte, _ bool, _ *ConnInfo) Detection { return DetectYes },
			New:    func() StreamParser { made++; return &panicParser{} }},
	}
	script := append(append([]pkt(nil), handshake...),
		pkt{5 * time.Millisecond, true, "PA", 111, 501, 10},
		pkt{6 * time.Millisecond, true, "PA", 121, 501, 10},
		pkt{7 * time.Millisecond, true, "FA", 131, 501, 0},
		pkt{8 * time.Millisecond, false, "FA", 501, 132, 0},
		pkt{9 * time.Millisecond, true, "A", 132, 502, 0})
	d := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_Connection }, DefaultOptions())
	s := &recordSink{}
	base := time.Now().Add(-time.Hour).UnixNano()
	for i, p := range script {
		data := buildScript(t, p, false)
		d.Tick(base+int64(p.at), s)
		meta := Packet{Frame: int64(i + 1), Timestamp: base + int64(p.at), CaptureLength: len(data), Length: len(data)}
		if st, reason := d.Decode(data, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("packet %d: %v %s", i+1, st, reason)
		}
	}
	d.Flush(s)
	conns := s.connections()
	if len(conns) != 1 || conns[0].ApplicationProto != "parser-bug" {
		t.Fatalf("want one connection of parser-bug, got %v", conns)
	}
	// One panic in Feed (second chunk); the third chunk and Close are not
	// given to the stopped parser. No detector saw 7 bytes: no panic there.
	if got := d.Stats().Stream.Panics; got != 1 || made != 1 {
		t.Fatalf("panics %d, parsers made %d; want 1, 1", got, made)
	}
}

// TestDetectorPanicCounted: a detector that panics counts as one panic and
// as DetectNo.
func TestDetectorPanicCounted(t *testing.T) {
	saved := streamProtocols
	defer func() { streamProtocols = saved }()
	streamProtocols = []StreamProtocol{{Name: "detector-bug", Records: []types.Type{types.Type_NC_Connection},
		Detect: func([]byte, bool, *ConnInfo) Detection { panic("detector bug") }}}
	d := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_Connection }, DefaultOptions())
	s := &recordSink{}
	base := time.Now().Add(-time.Hour).UnixNano()
	for i, p := range handshake {
		data := buildScript(t, p, false)
		meta := Packet{Frame: int64(i + 1), Timestamp: base + int64(p.at), CaptureLength: len(data), Length: len(data)}
		d.Decode(data, layers.LinkTypeEthernet, &meta, s)
	}
	d.Flush(s)
	if c := s.connections(); len(c) != 1 || c[0].ApplicationProto != "" {
		t.Fatalf("connections %v", c)
	}
	if got := d.Stats().Stream.Panics; got != 1 {
		t.Fatalf("panics %d, want 1", got)
	}
}
