package capture

import (
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/types"
)

// Config holds what the engine needs to know, grouped by the concern each
// part serves: how the Reader takes packets in, how the Workers decode them,
// where the Writer puts the records, and what the caller is told while the
// run goes. Output.Dir (or Output.Parts) must be set; every other field's
// zero value is a usable default. The capture, agent and export commands
// fill it from their flags (internal/engineflags fills the input and
// decoding groups for all three).
type Config struct {
	Input    InputConfig
	Decoding DecodeConfig
	Output   OutputConfig
	Hooks    Hooks
}

// InputConfig is how the Reader takes packets from the Source and hands
// them on in batches. A batch is handed over at BatchSize packets or
// BatchBytes bytes, whichever comes first.
type InputConfig struct {
	// Live is set for a live capture: when every batch is still with the
	// workers for longer than liveWait, the reader drops packets (counted
	// in Summary.Behind) instead of waiting on, so that the kernel buffer
	// keeps draining. A source may return ErrIdle. Files never drop.
	Live bool
	// BatchSize is the most packets in one batch; 0 means 256. Larger
	// batches cost fewer hand-overs, smaller ones less latency.
	BatchSize int
	// BatchBytes is the most packet bytes in one batch, so that jumbo or
	// offloaded frames do not make the pool huge; 0 means
	// DefaultBatchBytes.
	BatchBytes int
}

// DecodeConfig is what the Workers decode and with which limits.
type DecodeConfig struct {
	// Workers is the number of decoding goroutines, which also gzip the
	// record files; the packets of one flow always go to the same worker.
	// 0 means runtime.NumCPU().
	Workers int
	// Enabled tells which record types to make; nil means all. A type it
	// refuses is not decoded into a record at all, which saves the work.
	Enabled func(types.Type) bool
	// Payloads fills the Payload fields (TCP, UDP) and marks the file
	// headers ContainsPayloads. Off by default: payloads make the files
	// much larger and may hold personal data.
	Payloads bool
	// Entropy computes PayloadEntropy (Shannon entropy, bits per byte) for
	// every layer; it costs a pass over each payload.
	Entropy bool
	// Options are the flow timeouts and stream limits of each worker's
	// decoder; the zero value means decoder.DefaultOptions(). The engine
	// sets Worker and Workers itself.
	Options decoder.Options
	// MemCap bounds the flow, reassembly and defragmentation state of the
	// whole run, in bytes (the commands' -memcap). It is split in
	// Workers+1 equal shares: one per worker (Options.MemCap; a flow lives
	// in one worker, so no lock is shared) and one for the layer flows of
	// the Writer. 0 leaves Options.MemCap as it is and the layer flows
	// unbounded.
	MemCap int64
}

// OutputConfig is where and how the Writer puts the records: into record
// files in Dir, or, when Parts is set, to Parts instead.
type OutputConfig struct {
	// Dir is the output folder, created if missing. It also receives
	// unknown.pcap and errors.pcap. Unused when Parts is set.
	Dir string
	// CSV writes <Type>.csv rows instead of <Type>.ncap records.
	CSV bool
	// Compress gzips the record files (<Type>.ncap.gz), as parts that the
	// workers compress in parallel.
	Compress bool
	// Parquet writes <Type>.parquet files (package ncparquet) instead of
	// record files; CSV and Compress are then ignored (Parquet compresses
	// its own columns with zstd). Each type's file is encoded by that
	// type's own goroutine, so different types encode in parallel.
	Parquet bool
	// ParquetRows is the most rows of one Parquet row group; 0 means
	// ncparquet.DefaultRowGroupRows. Each open file holds up to one group.
	ParquetRows int
	// IgnoreUnknown leaves out unknown.pcap; such packets are still
	// counted in Summary.Unknown and UnknownLayers.
	IgnoreUnknown bool
	// Version is the netcap version that the file headers name.
	Version string
	// Created is the creation time that the file headers give; zero means
	// the time Run starts. Tests set it for files that are the same byte
	// for byte in every run.
	Created time.Time
	// Parts, when set, receives the records instead of files in Dir (and
	// there is no unknown.pcap or errors.pcap either); see PartWriter.
	// net agent sends them to the collector this way.
	Parts Output
	// PartSize is where a record type's output is cut into parts, in
	// bytes; 0 means 256 KiB. Each part becomes one gzip member, and with
	// Parts one message.
	PartSize int
	// FlushEvery, when set, also hands on parts that are not full yet,
	// about this often, so that low-volume record types are not held back
	// until the end of a live capture.
	FlushEvery time.Duration
}

// Hooks are what the caller is told while the run goes. Every hook may be
// nil. A slow hook slows the stage that calls it.
type Hooks struct {
	// OnRecord is called with every record the run writes, where the
	// record is made: by each worker on its own goroutine, right after
	// marshalling the record into the batch, with worker its number (0 to
	// Workers-1, Workers as the run resolves it); and by the Writer, with
	// worker == Workers, for the records it makes itself (the layer-flow
	// models). size is the record's bytes as they go into the file (length
	// prefix included, or the CSV row). Calls with different worker
	// numbers run at the same time and in no set order (the files keep
	// capture order; the hook does not see it); calls with the same number
	// never overlap, so state kept per worker number needs no lock. m is
	// valid only during the call. A record that cannot be marshalled is
	// neither written nor passed, and is counted in Summary.Unencodable.
	// Used by net export for its metrics.
	OnRecord func(worker int, t types.Type, m proto.Message, size int)
	// OnPacket is called by the Writer for every packet that goes to
	// unknown.pcap (failed false) or errors.pcap (failed true), with the
	// reason, in capture order.
	OnPacket func(failed bool, reason string)
	// Progress is called about once a second while the run goes, from a
	// goroutine of its own.
	Progress func(Stats)
	// Monitor, when set, is attached to the run, so that another goroutine
	// can read its gauges (queues, reassembly memory) while it goes.
	Monitor *Monitor
}
