package types

//go:generate go run ../tools/gencontext -out context.go

// PacketContext is the packet context every record made from a single
// packet ends with (netcap.proto, "Conventions"): the frame number, the
// addresses and ports of the packet's network and transport layers, and
// the FlowID that joins the record to its Flow and Connection. The decoder
// sets it in one place, when a record is emitted, rather than in every
// protocol's code, so that no protocol can forget a field or fill it
// differently.
type PacketContext struct {
	FrameNumber      int64
	SrcIP, DstIP     string
	SrcPort, DstPort int32
	FlowID           string
}

// ContextFields is a set of the fields of PacketContext.
type ContextFields uint8

// The fields of PacketContext, one bit each.
const (
	ContextFrameNumber ContextFields = 1 << iota
	ContextSrcIP
	ContextDstIP
	ContextSrcPort
	ContextDstPort
	ContextFlowID

	// ContextIPs are the addresses, which an IP header record takes from
	// its own header.
	ContextIPs = ContextSrcIP | ContextDstIP
	// ContextPorts are the ports, which a transport header record takes
	// from its own header.
	ContextPorts = ContextSrcPort | ContextDstPort
)

// PacketRecord is a record that carries the packet context: every message
// of netcap.proto with a FrameNumber field. Its SetPacket method is
// generated (context.go, by tools/gencontext) from the messages'
// descriptors, so a new record gets it from `make proto` alone.
type PacketRecord interface {
	// SetPacket sets the record's context fields from c, except those in
	// keep, which the record's decoder has filled from its own layer.
	SetPacket(c *PacketContext, keep ContextFields)
}
