package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// Helpers of the protocols' tests that decode one built frame and look at
// its records (TestUSBFields, TestLCMFields, ... in the protocols' files).

type collectSink struct {
	recs map[types.Type][]proto.Message
}

func (s *collectSink) Emit(t types.Type, m proto.Message) {
	s.recs[t] = append(s.recs[t], proto.Clone(m))
}

func decodeOne(t *testing.T, frame []byte, link layers.LinkType) map[types.Type][]proto.Message {
	t.Helper()
	s := &collectSink{recs: map[types.Type][]proto.Message{}}
	pd := NewPacketDecoder(packetRecords)
	st, reason := pd.Decode(frame, link, &Packet{Frame: 1, Timestamp: 5}, s)
	if st != Decoded {
		t.Fatalf("status %d (%s), layers %v", st, reason, pd.Layers())
	}
	return s.recs
}

func one[T proto.Message](t *testing.T, recs map[types.Type][]proto.Message, typ types.Type) T {
	t.Helper()
	if len(recs[typ]) != 1 {
		t.Fatalf("%d %v records, want 1", len(recs[typ]), typ)
	}
	return recs[typ][0].(T)
}
