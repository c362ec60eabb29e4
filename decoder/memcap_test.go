package decoder

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// synFrame builds an Ethernet/IPv4/TCP SYN from the i-th flooding source
// (10.x.y.z, port 1024+i%60000) to 192.0.2.1:80.
func synFrame(buf []byte, i int) []byte {
	b := append(buf[:0], make([]byte, 54)...)
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 1})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], 40)
	src := uint32(10<<24) | uint32(i/60000+1)
	binary.BigEndian.PutUint32(ip[12:], src)
	copy(ip[16:20], []byte{192, 0, 2, 1})
	var sum uint32
	for j := 0; j < 20; j += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[j:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	tcp := b[34:54]
	binary.BigEndian.PutUint16(tcp[0:], uint16(1024+i%60000))
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], uint32(i)*7919)
	tcp[12], tcp[13] = 5<<4, 0x02
	binary.BigEndian.PutUint16(tcp[14:], 1024)
	return b
}

// reasonSink counts records and remembers the end reasons of connections.
type reasonSink struct {
	conns   int
	reasons map[string]int
}

func (s *reasonSink) Emit(t types.Type, m proto.Message) { s.EmitOrdered(t, m, 0) }

func (s *reasonSink) EmitOrdered(t types.Type, m proto.Message, _ int64) {
	if c, ok := m.(*types.Connection); ok {
		s.conns++
		if s.reasons == nil {
			s.reasons = map[string]int{}
		}
		s.reasons[c.EndReason]++
	}
}

// heapNow is the live heap after a full collection.
func heapNow() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// synFlood decodes n SYNs, each opening a half-open connection, with every
// record type enabled (net capture's defaults).
func synFlood(t testing.TB, pd *PacketDecoder, n int, s Sink) {
	t.Helper()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var buf []byte
	for i := 0; i < n; i++ {
		buf = synFrame(buf, i)
		ts := base + int64(i)*int64(time.Microsecond)
		pd.Tick(ts, s)
		meta := Packet{Frame: int64(i + 1), Timestamp: ts, CaptureLength: len(buf), Length: len(buf)}
		if st, reason := pd.Decode(buf, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("SYN %d: %v %s", i, st, reason)
		}
	}
}

// maxHalfOpenBytes is what a half-open TCP connection may cost the
// connection table (the table's entry, the connection and its strings).
const maxHalfOpenBytes = 512

// TestHalfOpenSize measures the memory a SYN flood costs per half-open
// connection: heap after a collection, divided by the connections held.
func TestHalfOpenSize(t *testing.T) {
	const n = 200_000
	all := func(types.Type) bool { return true }
	s := &reasonSink{}
	before := heapNow()
	pd := NewPacketDecoder(all)
	synFlood(t, pd, n, s)
	after := heapNow()
	if got := pd.Held().Connections; got != n {
		t.Fatalf("%d connections held, want %d", got, n)
	}
	per := (after - before) / n
	t.Logf("%d half-open connections: %d bytes each (conn struct %d bytes)", n, per, connSize)
	if per > maxHalfOpenBytes {
		t.Errorf("a half-open connection costs %d bytes, want at most %d", per, maxHalfOpenBytes)
	}
	runtime.KeepAlive(pd)
}

var connSize = unsafe.Sizeof(conn{})

// maxLayerFlowBytes is what one layer-flow aggregate may cost.
const maxLayerFlowBytes = 256

// TestLayerFlowSize measures the memory of one LinkFlow, NetworkFlow and
// TransportFlow aggregate, each kind made by a flood of distinct endpoints.
func TestLayerFlowSize(t *testing.T) {
	const n = 100_000
	for _, c := range []struct {
		typ  types.Type
		fill func(e *Endpoints, i int)
	}{
		{types.Type_NC_LinkFlow, func(e *Endpoints, i int) {
			e.HasMAC = true
			binary.BigEndian.PutUint32(e.SrcMAC[2:], uint32(i))
			e.DstMAC = [6]byte{2, 0, 0, 0, 0, 1}
		}},
		{types.Type_NC_NetworkFlow, func(e *Endpoints, i int) {
			e.IPLen = 4
			binary.BigEndian.PutUint32(e.SrcIP[:], uint32(10<<24+i))
			copy(e.DstIP[:], []byte{192, 0, 2, 1})
		}},
		{types.Type_NC_TransportFlow, func(e *Endpoints, i int) {
			e.HasPorts, e.Proto = true, 6
			e.SrcPort, e.DstPort = uint16(1024+i%60000), uint16(80+i/60000)
		}},
	} {
		t.Run(c.typ.String(), func(t *testing.T) {
			written := 0
			before := heapNow()
			lf := NewLayerFlows(func(tt types.Type) bool { return tt == c.typ }, time.Minute, func(types.Type, proto.Message) { written++ })
			base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
			for i := 0; i < n; i++ {
				var e Endpoints
				c.fill(&e, i)
				lf.Packet(&e, int64(i+1), base+int64(i), 60)
			}
			after := heapNow()
			per := (after - before) / n
			t.Logf("%d aggregates: %d bytes each", n, per)
			if per > maxLayerFlowBytes {
				t.Errorf("an aggregate costs %d bytes, want at most %d", per, maxLayerFlowBytes)
			}
			lf.Flush()
			if written != n {
				t.Errorf("%d records written, want %d", written, n)
			}
		})
	}
}

// TestSYNFloodMemcap floods a decoder with SYNs from distinct sources under
// a small memory cap: the heap stays near the cap, the connections idle
// longest are ended early with the reason memcap, counted, and every
// connection still gets its record.
func TestSYNFloodMemcap(t *testing.T) {
	const n = 300_000
	for _, c := range []struct {
		memcap  int64
		evicted bool
	}{
		{32 << 20, true},
		{0, false}, // the same flood unbounded, for comparison
	} {
		all := func(types.Type) bool { return true }
		opts := DefaultOptions()
		opts.MemCap = c.memcap
		s := &reasonSink{}
		before := heapNow()
		pd := NewPacketDecoder(all, opts)
		synFlood(t, pd, n, s)
		grown := heapNow() - before
		st := pd.Stats()
		t.Logf("memcap %d MiB: heap grew %.1f MiB, %d connections held, %d evicted (memcap)",
			c.memcap>>20, float64(grown)/(1<<20), pd.Held().Connections, st.EvictedMemcap)
		if c.memcap > 0 && grown > c.memcap+c.memcap/4 {
			t.Errorf("memcap %d MiB: heap grew %d MiB, want at most %d", c.memcap>>20, grown>>20, (c.memcap+c.memcap/4)>>20)
		}
		if got := st.EvictedMemcap > 0; got != c.evicted {
			t.Errorf("memcap %d MiB: %d connections evicted", c.memcap>>20, st.EvictedMemcap)
		}
		if int64(s.reasons["memcap"]) != st.EvictedMemcap {
			t.Errorf("%d records say memcap, Stats.EvictedMemcap is %d", s.reasons["memcap"], st.EvictedMemcap)
		}
		pd.Flush(s)
		if s.conns != n {
			t.Errorf("%d connection records, want %d (one per SYN)", s.conns, n)
		}
		if got := int64(s.reasons["memcap"] + s.reasons["end-of-input"]); got != n {
			t.Errorf("end reasons %v, want memcap and end-of-input only", s.reasons)
		}
	}
}

// TestLayerFlowsMemcap floods the layer flows with distinct IP pairs under a
// small cap: the aggregates idle longest are written early and counted, and
// every aggregate still gets its record.
func TestLayerFlowsMemcap(t *testing.T) {
	const n, memcap = 200_000, 4 << 20
	written := 0
	lf := NewLayerFlows(func(tt types.Type) bool { return tt == types.Type_NC_NetworkFlow }, 0, func(types.Type, proto.Message) { written++ })
	lf.SetMemCap(memcap)
	before := heapNow()
	most := 0
	for i := 0; i < n; i++ {
		e := Endpoints{IPLen: 4}
		binary.BigEndian.PutUint32(e.SrcIP[:], uint32(10<<24+i))
		copy(e.DstIP[:], []byte{192, 0, 2, 1})
		lf.Packet(&e, int64(i+1), int64(i), 60)
		most = max(most, len(lf.network.m))
	}
	grown := heapNow() - before
	t.Logf("memcap 4 MiB: heap grew %d KiB, at most %d aggregates, %d evicted", grown>>10, most, lf.Evicted())
	if most*LayerFlowBytes > memcap {
		t.Errorf("%d aggregates held, more than %d bytes at %d each", most, memcap, LayerFlowBytes)
	}
	if grown > memcap {
		t.Errorf("heap grew %d bytes, want at most %d", grown, memcap)
	}
	if int(lf.Evicted())+most != n {
		t.Errorf("%d evicted and %d held, want %d in all", lf.Evicted(), most, n)
	}
	lf.Flush()
	if written != n {
		t.Errorf("%d records written, want %d", written, n)
	}
}

// TestMaxConnections: beyond MaxConnections a worker ends the connection
// idle longest, writes its record with EndReason "max-connections" and
// counts it; it never tracks more.
func TestMaxConnections(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxConnections = 100
	pd := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_Connection }, opts)
	s := &reasonSink{}
	synFlood(t, pd, 1000, s)
	if n := len(pd.conns.m); n > 100 {
		t.Fatalf("%d connections tracked, bound 100", n)
	}
	st := pd.Stats()
	if st.Evicted != 900 || s.reasons["max-connections"] != 900 {
		t.Fatalf("evicted %d, records with EndReason max-connections %d; want 900", st.Evicted, s.reasons["max-connections"])
	}
	pd.Flush(s)
	if s.conns != 1000 || s.reasons["end-of-input"] != 100 {
		t.Fatalf("%d connection records (%v), want 1000 with 100 ended by the input", s.conns, s.reasons)
	}
}
