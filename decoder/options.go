package decoder

import "time"

// Options are the knobs of the stateful decoders (flows, TCP streams).
type Options struct {
	// Payloads: stream parsers keep message bodies in their records
	// (-payload; the engine sets it from its Payloads, which also fills
	// the packet records' Payload fields).
	Payloads bool
	// Files receives the files stream parsers find (HTTP bodies) when File
	// records are selected; nil: no File records. Shared by the workers.
	Files *FileStore
	// ConnTimeout ends a TCP connection idle for this long (packet time).
	// Default 5 minutes, Zeek's tcp_inactivity_timeout. 0 means never.
	ConnTimeout time.Duration
	// FlowTimeout ends a UDP, ICMP or other flow idle for this long.
	// Default 1 minute, Zeek's udp/icmp_inactivity_timeout. 0 means never.
	FlowTimeout time.Duration
	// CloseDelay is how long a TCP connection that was closed (both FINs
	// acknowledged, or a RST) still takes its trailing packets (the last
	// ACK, retransmitted FINs) before its record is written. Default 5 s,
	// Zeek's tcp_close_delay. A new SYN on the same ports ends it at once.
	CloseDelay time.Duration
	// ActivityTimeout is the gap between two packets of a connection that
	// ends an active period and makes an idle one in its FlowFeatures
	// record. Default 5 s, CICFlowMeter's activity timeout. 0: no idle
	// periods, the connection is one active period.
	ActivityTimeout time.Duration
	// StreamMemory bounds the memory one worker holds for out-of-order
	// TCP segments, counted as allocated: their data and the bookkeeping
	// that orders them;
	// StreamMemoryPerConn bounds one direction of one connection. When a
	// bound is hit, the oldest hole is given up and counted as missed bytes.
	StreamMemory        int64
	StreamMemoryPerConn int
	// MaxConnections bounds the connections one worker tracks; when full,
	// the least recently active one is ended early (and counted).
	MaxConnections int
	// MemCap bounds, in bytes, the flow, stream and fragment state one
	// worker holds, as Suricata's memcaps do: connections at ConnBytes
	// each (StreamStateBytes more once they carry payload for a stream
	// parser), out-of-order TCP bytes and IP fragments. When a new
	// connection would go beyond it, the connections idle longest are
	// ended early (emergency eviction; their records say "memcap", Stats
	// count them). It also lowers StreamMemory to MemCap/2 and
	// DefragMemory to MemCap/8, so that connections keep a quarter at
	// least. 0: no bound.
	MemCap int64
	// NoDefrag turns IP defragmentation off: a first fragment's payload is
	// then decoded as if it were the whole datagram, later fragments not
	// at all (tshark with ip.defragment and ipv6.defragment off).
	NoDefrag bool
	// DefragTimeout drops a fragmented IP datagram not complete this long
	// (packet time) after its first fragment. Default 30 s, Linux's
	// ipfrag_time and Suricata's defrag timeout. 0 means never.
	DefragTimeout time.Duration
	// DefragMaxDatagrams and DefragMemory bound the incomplete datagrams
	// one worker holds and their memory, counted as allocated: fragment
	// data and bookkeeping; beyond, the oldest datagram is dropped
	// (counted in Stats.DefragEvicted). 0: no bound.
	DefragMaxDatagrams int
	DefragMemory       int64
	// MaxExpected bounds the FTP data connections announced and not yet
	// ended that the engine's reader keeps (ftpdata.go); beyond, the one
	// idle longest is dropped (counted in Stats.ExpectedDropped) and its
	// connection is not tied to its control. 0: DefaultMaxExpected.
	MaxExpected int
	// Worker and Workers place the decoder in the engine: it is worker
	// number Worker (from 0) of Workers. The engine hands every IP fragment
	// to every worker; a reassembled datagram is decoded only by the worker
	// its flow hashes to (decoder/defrag.go). Workers 0 or 1: the decoder
	// owns every flow, as a decoder used on its own must.
	Worker, Workers int
}

// DefaultOptions returns the defaults documented on Options.
func DefaultOptions() Options {
	return Options{
		ConnTimeout:         5 * time.Minute,
		FlowTimeout:         time.Minute,
		CloseDelay:          5 * time.Second,
		ActivityTimeout:     5 * time.Second,
		StreamMemory:        256 << 20,
		StreamMemoryPerConn: 4 << 20,
		MaxConnections:      1 << 20,
		DefragTimeout:       30 * time.Second,
		DefragMaxDatagrams:  16384,
		DefragMemory:        64 << 20,
	}
}

// Stats are the counters of the stateful decoders, summed over workers.
type Stats struct {
	Connections   int64 // connection records made
	TimedOut      int64 // ended by an idle timeout
	Evicted       int64 // ended early because MaxConnections was reached
	EvictedMemcap int64 // ended early because MemCap was reached
	// LayerFlowsEvicted are layer-flow aggregates written early because
	// their memory cap was reached (capture.Config.Decoding.MemCap).
	LayerFlowsEvicted int64
	// InventoryDropped are software and services not recorded because the
	// inventory was full (InventoryMax).
	InventoryDropped int64
	StreamBytes      int64 // TCP bytes handed to stream parsers in order
	MissedBytes      int64 // TCP bytes never captured (holes given up)
	OverlapBytes     int64 // TCP bytes seen more than once
	OutOfOrder       int64 // TCP segments that arrived after a hole
	MemoryLimitHits  int64 // times a stream memory bound forced a hole to be given up
	StreamMemoryPeak int64 // most out-of-order stream memory (data and bookkeeping, as allocated) one worker held at once
	ConnectionsPeak  int64 // most connections one worker tracked at once
	Defragmented     int64 // IP datagrams reassembled from fragments
	DefragTimedOut   int64 // fragmented datagrams never completed (timed out, or pending at the end)
	ExpectedDropped  int64 // announced FTP data connections dropped at the MaxExpected bound
	DefragEvicted    int64 // fragmented datagrams dropped at a DefragMaxDatagrams or DefragMemory bound
	DefragOversize   int64 // fragments that would make a datagram longer than 65535 bytes
	DefragPeak       int64 // most incomplete datagrams one worker held at once
	Stream           StreamCounters
}

// Add sums o into s (peaks take the maximum).
func (s *Stats) Add(o Stats) {
	s.Connections += o.Connections
	s.TimedOut += o.TimedOut
	s.Evicted += o.Evicted
	s.EvictedMemcap += o.EvictedMemcap
	s.LayerFlowsEvicted += o.LayerFlowsEvicted
	s.InventoryDropped += o.InventoryDropped
	s.StreamBytes += o.StreamBytes
	s.MissedBytes += o.MissedBytes
	s.OverlapBytes += o.OverlapBytes
	s.OutOfOrder += o.OutOfOrder
	s.MemoryLimitHits += o.MemoryLimitHits
	s.StreamMemoryPeak = max(s.StreamMemoryPeak, o.StreamMemoryPeak)
	s.ConnectionsPeak = max(s.ConnectionsPeak, o.ConnectionsPeak)
	s.Defragmented += o.Defragmented
	s.DefragTimedOut += o.DefragTimedOut
	s.DefragEvicted += o.DefragEvicted
	s.ExpectedDropped += o.ExpectedDropped
	s.DefragOversize += o.DefragOversize
	s.DefragPeak = max(s.DefragPeak, o.DefragPeak)
	s.Stream.add(o.Stream)
}

// ConnBytes is what MemCap counts for a connection: a half-open TCP
// connection costs about 470 bytes (TestHalfOpenSize measures it and
// asserts it stays within this).
const ConnBytes = 512

// StreamStateBytes is what MemCap counts more for a connection whose payload
// goes to the stream parsers: its reassemblers, the bytes held while the
// protocol is detected, and a parser.
const StreamStateBytes = 2048

// capped applies MemCap to the reassembly and defragmentation bounds.
func (o Options) capped() Options {
	if o.MemCap <= 0 {
		return o
	}
	if o.StreamMemory <= 0 || o.StreamMemory > o.MemCap/2 {
		o.StreamMemory = o.MemCap / 2
	}
	if o.DefragMemory <= 0 || o.DefragMemory > o.MemCap/8 {
		o.DefragMemory = o.MemCap / 8
	}
	return o
}
