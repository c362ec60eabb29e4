package decoder

import (
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// Stream records (HTTP, TLS hellos, DNS over TCP) are made from the reassembled bytes of a
// TCP connection rather than from single packets. The reassembler (one per
// worker, so one connection is always fed by one goroutine, in capture order)
// hands each direction's bytes, in order, to one StreamParser per connection.

// ConnInfo describes the TCP connection a parser reads. Client is the side
// that sent the first SYN (or, when the handshake was not captured, the side
// whose port is the higher one, as Zeek and tshark guess).
type ConnInfo struct {
	ClientIP, ServerIP     string
	ClientPort, ServerPort int32
	ClientMAC, ServerMAC   string
	// FlowID is the connection's UID, the join key every record of the
	// connection carries.
	FlowID string
	// Handshake is true when the client's SYN and the server's SYN-ACK
	// were captured: Client and Server are known rather than guessed, and
	// each direction's bytes start at the first byte that side sent. It
	// can turn true after the parser was made (a SYN-ACK captured after
	// a Fast Open SYN's data), never false again.
	Handshake bool
	// Counters are the worker's stream counters (never nil for a parser
	// the engine runs; tests may leave it nil).
	Counters *StreamCounters
	// Files is where parsers put the files they find; nil when File
	// records are not selected.
	Files *FileStore
	// Payloads: parsers keep message bodies in their records (-payload:
	// HTTP's RequestBody and ResponseBody).
	Payloads bool
}

// StreamCounters are what stream parsers count, summed in Stats.
type StreamCounters struct {
	// Resyncs: after missed bytes, a parser found the next message
	// boundary again with certainty (it knew the length of the message
	// the bytes were lost in).
	Resyncs int64
	// GaveUp: after missed bytes, a parser could not tell where the next
	// message starts and stopped reading that direction.
	GaveUp int64
	// Unpaired: HTTP requests recorded without their response because
	// missed (or unparsable) bytes made the pairing uncertain.
	Unpaired int64
	// Malformed: messages whose framing was sound but whose content did
	// not decode (DNS over TCP); no record is made for them.
	Malformed int64
	// Panics: a detector or parser panicked (a bug in netcap on this
	// input). The connection's parser is stopped there: the rest of its
	// bytes are not read, and its records so far are kept.
	Panics int64
}

func (c *StreamCounters) add(o StreamCounters) {
	c.Resyncs += o.Resyncs
	c.GaveUp += o.GaveUp
	c.Unpaired += o.Unpaired
	c.Malformed += o.Malformed
	c.Panics += o.Panics
}

// count returns the counters to add to; a throwaway set when the
// connection has none (only tests run parsers so).
func (c *ConnInfo) count() *StreamCounters {
	if c == nil || c.Counters == nil {
		return new(StreamCounters)
	}
	return c.Counters
}

// Chunk is a piece of one direction of a connection, in stream order.
type Chunk struct {
	// FromClient is true for client-to-server bytes.
	FromClient bool
	// Data holds contiguous stream bytes. It is only valid during the call:
	// a parser that needs bytes later must copy them.
	Data []byte
	// Missed is the number of bytes lost just before Data (segments never
	// captured). A parser must resynchronize or give up on that direction;
	// it must never treat the bytes after a gap as if they followed on.
	Missed int
	// Timestamp and Frame are those of the packet that carried Data's
	// first byte.
	Timestamp int64
	Frame     int64
	// ArrivalTimestamp and ArrivalFrame are those of the packet whose
	// arrival delivered Data: later than Frame for a segment that waited
	// for an earlier one (out of order) or for detection, and the
	// connection's last packet for bytes delivered when it ends. A message
	// completed by Data was complete at ArrivalFrame, where tshark shows a
	// reassembled message.
	ArrivalTimestamp int64
	ArrivalFrame     int64
}

// arrival returns ArrivalTimestamp and ArrivalFrame, or Timestamp and
// Frame when they are not set (a chunk made by a test).
func (c *Chunk) arrival() (ts, frame int64) {
	if c.ArrivalFrame == 0 {
		return c.Timestamp, c.Frame
	}
	return c.ArrivalTimestamp, c.ArrivalFrame
}

// StreamParser reads one application protocol on one connection. One
// instance per connection: it may keep per-connection state. It must bound
// what it buffers (a hostile peer can send gigabytes without a line break)
// and never panic on any input.
type StreamParser interface {
	// Feed gives the parser the next bytes of one direction. Records
	// complete at this point are emitted to s.
	Feed(c *Chunk, conn *ConnInfo, s Sink)
	// Close is called once when the connection ends (FIN/RST, timeout, end
	// of input); the parser emits what it still holds (e.g. a request that
	// got no response) and drops its state.
	Close(conn *ConnInfo, s Sink)
}

// StreamProtocol registers a stream parser.
type StreamProtocol struct {
	// Name is the application protocol ("HTTP", "TLS"), also used as the
	// Connection record's ApplicationProto when Detect accepts.
	Name    string
	Records []types.Type
	// Detect looks at the first bytes one direction of a connection sent
	// (at least one) and the connection, and says whether this parser
	// should read it: DetectYes, DetectNo, or DetectMore when the bytes
	// so far match the start of the protocol but are too few to tell.
	// After DetectMore the engine calls Detect again with more bytes,
	// while they are fewer than StreamDetectMax (a first segment can hold
	// up to StreamDetectLimit); beyond, DetectMore counts as DetectNo.
	// It must not keep data.
	Detect func(first []byte, fromClient bool, conn *ConnInfo) Detection
	// New makes the parser for one connection.
	New func() StreamParser
}

// Detection is the answer of StreamProtocol.Detect.
type Detection uint8

const (
	DetectNo Detection = iota
	// DetectMore: the bytes match so far; more are needed to decide.
	DetectMore
	DetectYes
)

const (
	// StreamDetectMax bounds the bytes the engine holds per direction
	// while a detector answers DetectMore (first segments of 1 to a few
	// bytes: a TLS record header or a request line split by the sender).
	StreamDetectMax = 64
	// StreamDetectLimit bounds the bytes Detect is shown.
	StreamDetectLimit = 512
)

var streamProtocols []StreamProtocol

// RegisterStream adds a stream parser; it is called from init functions.
func RegisterStream(p StreamProtocol) { streamProtocols = append(streamProtocols, p) }

// StreamProtocols returns the registered stream parsers.
func StreamProtocols() []StreamProtocol { return append([]StreamProtocol(nil), streamProtocols...) }

// OrderedSink is implemented by the engine's sink. Records that are not
// caused by the packet being decoded (a flow that timed out, what is flushed
// at the end of input) are emitted with EmitOrdered and a key, the first
// frame number of the flow they describe, and the engine writes records with
// keys in key order, so the output does not depend on which worker held the
// flow. Records emitted while a packet is decoded use Emit.
type OrderedSink interface {
	Sink
	EmitOrdered(t types.Type, m proto.Message, key int64)
}
