package decoder

import (
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// Stream records (HTTP, TLS hellos) are made from the reassembled bytes of a
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
	// Detect looks at the first bytes a connection sends (either
	// direction, at most a few hundred) and the ports, and says whether
	// this parser should read the connection. It must not keep data.
	Detect func(first []byte, fromClient bool, clientPort, serverPort int32) bool
	// New makes the parser for one connection.
	New func() StreamParser
}

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
