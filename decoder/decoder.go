package decoder

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// Packet is what a decoder knows of the packet being decoded: its place in the
// capture and its context (addresses and ports of its network and transport
// layers), which every packet record carries so that records of different
// types can be joined.
type Packet struct {
	Frame         int64 // 1-based frame number, as Wireshark's frame.number
	Timestamp     int64 // Unix nanoseconds
	CaptureLength int
	Length        int
	SrcIP, DstIP  string
	SrcPort       int32
	DstPort       int32
	FlowID        string
	Payloads      bool // fill Payload fields (-payload)
	// Strings renders addresses with a per-worker cache; decoders should use
	// p.Strings.IP and p.Strings.MAC rather than String() on the address.
	Strings *AddrStrings
	// Endpoints is filled by Decode for the layer-flow models.
	Endpoints Endpoints
	Entropy   bool // compute PayloadEntropy (-entropy)
	// Shared is set by the engine for a packet whose first IP header is a
	// fragment: it hands such packets to every worker, so that every
	// worker's defragmenter sees every fragment. NotOwner is set for the
	// workers the packet's hash does not name. Decode then decides who
	// makes the packet's records (see Skipped).
	Shared, NotOwner bool
	// Skipped is set by Decode when another worker makes the records of
	// this packet: Decode emitted nothing, and its status, reason and
	// Endpoints are not this packet's.
	Skipped bool
	// Expected is set by the engine's reader for a packet of a data
	// connection a control connection announced (ftpdata.go): the
	// control's endpoints. The engine routes such packets to the
	// control's worker.
	Expected *Expected
}

// Sink receives the records a decoder makes. The record may be reused by the
// decoder as soon as Emit returns: the sink must serialize it right away.
type Sink interface {
	Emit(t types.Type, m proto.Message)
}

// Decoder turns one decoded layer into records. One instance per worker, so it
// may keep reusable records in its fields. The sink Decode is given sets the
// packet context of every record as it is emitted; the decoder fills only
// the context fields its Protocol.Own names.
type Decoder interface {
	Decode(l gopacket.DecodingLayer, p *Packet, s Sink)
}

// Protocol binds a gopacket layer to the decoder that makes records from it.
type Protocol struct {
	// Name is the record name users pass to -include/-exclude ("TCP").
	Name string
	// Layer is the gopacket layer the decoder reads.
	Layer gopacket.LayerType
	// Also are further layer types the same decoder reads: variants of the
	// layer that the chain must tell apart (802.11 with and without a frame
	// check sequence, the two usbmon header sizes).
	Also []gopacket.LayerType
	// Records are the record types the decoder may emit.
	Records []types.Type
	// Own are the packet context fields that the decoder fills itself, from
	// its own layer, in every record it emits: an IP header's record holds
	// its header's addresses, a transport header's its ports. The decoder
	// sets no other context field: Decode sets the rest from the Packet
	// when the record is emitted (see stampSink), and leaves these as the
	// decoder filled them.
	Own types.ContextFields
	// NewDecoder makes the per-worker decoder state.
	NewDecoder func() Decoder
	// Description says in a few words what the record is.
	Description string
	// Ports are the ports the protocol claims beyond gopacket's own
	// mapping (see Port); TestPortClaims fails when two claims of a port
	// do not say which wins.
	Ports []Port
	// Oracle is empty when the tshark oracle table (decoder/tshark_test.go)
	// compares every field of the records with tshark on the shared
	// captures; otherwise it says where else they are checked, or why
	// tshark cannot check them. TestOracleTableCoversEveryField holds the
	// protocols to it.
	Oracle string
	// Segments says the protocol is decoded from single TCP segments (a
	// message per segment, as tshark does for Modbus/TCP); TCP payloads of
	// other protocols are read from the reassembled stream only.
	Segments bool
}

var (
	protocols []Protocol
	// layerFactories makes the gopacket DecodingLayer for a layer type; the
	// chain can only walk through layers listed here.
	layerFactories = map[gopacket.LayerType]func() gopacket.DecodingLayer{}
)

// ownContext holds, by record type, the context fields of Protocol.Own:
// the packet context stamp looks them up once per record.
var ownContext []types.ContextFields

// Register adds a protocol decoder; it is called from init functions.
func Register(p Protocol, newLayer func() gopacket.DecodingLayer) {
	for _, q := range protocols {
		for _, t := range p.Records {
			if q.Own != p.Own && slices.Contains(q.Records, t) {
				panic(fmt.Sprintf("decoder: %s and %s emit %v with different own context fields", q.Name, p.Name, t))
			}
		}
	}
	protocols = append(protocols, p)
	for _, t := range p.Records {
		for int(t) >= len(ownContext) {
			ownContext = append(ownContext, 0)
		}
		ownContext[t] = p.Own
	}
	if newLayer != nil {
		RegisterLayer(p.Layer, newLayer)
	}
}

// RegisterLayer makes the chain able to walk through a layer that has no
// record of its own (Linux cooked headers, BSD loopback, Teredo), reached
// by gopacket's mapping or by the ports it claims.
func RegisterLayer(t gopacket.LayerType, newLayer func() gopacket.DecodingLayer, claims ...Port) {
	if _, dup := layerFactories[t]; dup {
		panic(fmt.Sprintf("decoder: layer %v registered twice", t))
	}
	layerFactories[t] = newLayer
	for _, c := range claims {
		if c.Layer == 0 {
			c.Layer = t
		}
		layerPorts = append(layerPorts, portClaim{c, t.String()})
	}
}

// layerPorts are the port claims of layers without a record.
var layerPorts []portClaim

// Link declares a capture link type (a pcap LINKTYPE_ value) and the layer
// its frames start with. The file of that layer declares it.
type Link struct {
	Type  layers.LinkType
	First gopacket.LayerType
	// Pick, when set, chooses the first layer from the frame's bytes
	// instead (raw IP: version 4 or 6).
	Pick func(data []byte) gopacket.LayerType
}

// links are the declared link types, by type.
var links = map[layers.LinkType]Link{}

// RegisterLink declares link types; it is called from init functions.
// A link type declared twice is a programming error.
func RegisterLink(ls ...Link) {
	for _, l := range ls {
		if _, dup := links[l.Type]; dup {
			panic(fmt.Sprintf("decoder: link type %v declared twice", l.Type))
		}
		links[l.Type] = l
	}
}

// Links returns the declared link types, sorted by number.
func Links() []Link {
	out := make([]Link, 0, len(links))
	for _, l := range links {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Protocols returns the registered protocols sorted by name.
func Protocols() []Protocol {
	out := append([]Protocol(nil), protocols...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FlowRecords are the records the connection table makes, with what they are.
var FlowRecords = map[types.Type]string{
	types.Type_NC_Connection:    "bidirectional flows: both directions of a TCP connection, UDP or ICMP exchange",
	types.Type_NC_Flow:          "unidirectional flows: one record per direction of each connection",
	types.Type_NC_FlowFeatures:  "statistical features of each connection (CICFlowMeter's), one record per Connection",
	types.Type_NC_LinkFlow:      "traffic between two MAC addresses, both directions",
	types.Type_NC_NetworkFlow:   "traffic between two IP addresses, both directions",
	types.Type_NC_TransportFlow: "traffic between two ports (per transport protocol), both directions",
}

// RecordTypes returns every record type a registered decoder can emit.
func RecordTypes() []types.Type {
	seen := map[types.Type]bool{}
	var out []types.Type
	var all [][]types.Type
	for _, p := range protocols {
		all = append(all, p.Records)
	}
	for _, p := range streamProtocols {
		all = append(all, p.Records)
	}
	for t := range FlowRecords {
		all = append(all, []types.Type{t})
	}
	for t := range InventoryRecords {
		all = append(all, []types.Type{t})
	}
	for _, records := range all {
		for _, t := range records {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseRecordType maps a record name ("TCP", case-insensitive) to its type.
func ParseRecordType(name string) (types.Type, bool) {
	for v, n := range types.Type_name {
		if strings.EqualFold(strings.TrimPrefix(n, "NC_"), strings.TrimSpace(name)) {
			return types.Type(v), true
		}
	}
	return 0, false
}
