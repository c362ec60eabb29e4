package decoder

import (
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The records the connection table (conntrack.go) writes when a connection
// ends: Connection (both directions) and Flow (one per direction).

// endReason is why a connection's records were written: the EndReason
// field of its Connection and Flow records.
type endReason uint8

const (
	endFIN            endReason = iota // TCP: both FINs acknowledged (and the close delay over)
	endRST                             // TCP: a RST was seen (and the close delay over)
	endTimeout                         // idle longer than -conn-timeout or -flow-timeout
	endReused                          // a new SYN on the same addresses and ports
	endMaxConnections                  // ended early: the worker reached -max-connections
	endMemcap                          // ended early: the worker reached its share of -memcap
	endOfInput                         // still open when the input ended
)

var endReasonText = [...]string{endFIN: "fin", endRST: "rst", endTimeout: "timeout", endReused: "reused",
	endMaxConnections: "max-connections", endMemcap: "memcap", endOfInput: "end-of-input"}

// orderedSink turns every record into an ordered one with the key of the
// connection being ended: records made while a flow times out or at the end
// of input are not caused by the packet at hand.
type orderedSink struct {
	s   Sink
	key int64
}

func (o *orderedSink) Emit(t types.Type, m proto.Message) { o.EmitOrdered(t, m, o.key) }

func (o *orderedSink) EmitOrdered(t types.Type, m proto.Message, key int64) {
	if os, ok := o.s.(OrderedSink); ok {
		os.EmitOrdered(t, m, key)
		return
	}
	o.s.Emit(t, m)
}

// communityID is the connection's Community ID, from the client's view (it
// orders the endpoints itself); an ICMP flow's from its first packet's.
func (t *connTable) communityID(c *conn) string {
	cip, sip := c.ips()
	t.keyBuf = t.keyBuf[:0]
	if (c.key.proto == 1 || c.key.proto == 58) && !c.clientIsSrc {
		return communityID(t.keyBuf, sip, cip, c.key.proto, c.sport, c.cport)
	}
	return communityID(t.keyBuf, cip, sip, c.key.proto, c.cport, c.sport)
}

// endpoints returns the text of the client's and the server's address and
// MAC address ("" without an Ethernet layer).
func (t *connTable) endpoints(c *conn) (cip, sip, cmac, smac string) {
	a, b := c.ips()
	cip, sip = t.strs.IP(a), t.strs.IP(b)
	if c.hasMAC {
		cmac, smac = t.strs.MAC(c.clientMAC[:]), t.strs.MAC(c.serverMAC[:])
	}
	return cip, sip, cmac, smac
}

func (c *conn) linkName() string {
	if c.link == 0 {
		return ""
	}
	return gopacket.LayerType(c.link).String()
}

func (c *conn) network() string {
	if c.key.v6 {
		return "IPv6"
	}
	return "IPv4"
}

func transportName(proto uint8) string {
	switch proto {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 132:
		return "SCTP"
	case 1:
		return "ICMPv4"
	case 58:
		return "ICMPv6"
	}
	return layers.IPProtocol(proto).String()
}

// appName is the application protocol for the records: the detected
// one, and the one found inside it after an upgrade ("HTTP/TLS").
func (c *conn) appName() string {
	if c.st != nil {
		if u, ok := c.st.parser.(upgraded); ok {
			if inner := u.Inner(); inner != "" {
				return c.app + "/" + inner
			}
		}
	}
	return c.app
}

func (t *connTable) emitConnection(c *conn, cid, reason string, s *orderedSink) {
	r := &t.conn
	r.Reset()
	a, b := &c.dir[0], &c.dir[1]
	r.TimestampFirst, r.TimestampLast = c.first, c.last
	r.Duration = c.last - c.first
	r.LinkProto, r.NetworkProto, r.TransportProto, r.ApplicationProto = c.linkName(), c.network(), transportName(c.key.proto), c.appName()
	cip, sip, cmac, smac := t.endpoints(c)
	r.SrcMAC, r.DstMAC = cmac, smac
	r.SrcIP, r.SrcPort, r.DstIP, r.DstPort = cip, int32(c.cport), sip, int32(c.sport)
	if l := t.links[c]; l != nil {
		r.Parent = l.parent
	}
	r.TotalSize = a.bytes + b.bytes
	r.AppPayloadSize = a.payload + b.payload
	r.NumPackets = a.packets + b.packets
	r.UID, r.CommunityID = c.uid, cid
	r.NumPacketsClientToServer, r.NumPacketsServerToClient = a.packets, b.packets
	r.BytesClientToServer, r.BytesServerToClient = a.bytes, b.bytes
	r.PayloadBytesClientToServer, r.PayloadBytesServerToClient = a.payload, b.payload
	f := func(i int) int64 { return int64(a.flags[i]) + int64(b.flags[i]) }
	r.NumFINFlags, r.NumRSTFlags, r.NumACKFlags, r.NumSYNFlags = f(0), f(1), f(2), f(3)
	r.NumURGFlags, r.NumECEFlags, r.NumPSHFlags, r.NumCWRFlags, r.NumNSFlags = f(4), f(5), f(6), f(7), f(8)
	r.State = c.state()
	r.History = c.historyText()
	r.InitiatorKnown = c.initiatorKnown
	r.FrameFirst = t.frameFirst(c)
	r.FrameLast = max(a.frameLast, b.frameLast)
	r.EndReason = reason
	s.EmitOrdered(types.Type_NC_Connection, r, r.FrameFirst)
}

func (t *connTable) emitFlowRecord(c *conn, d int, cid, reason string, s Sink) {
	r := &t.flow
	r.Reset()
	dir := &c.dir[d]
	srcIP, dstIP, srcMAC, dstMAC := t.endpoints(c)
	sport, dport := int32(c.cport), int32(c.sport)
	if d == 1 {
		srcIP, dstIP, srcMAC, dstMAC, sport, dport = dstIP, srcIP, dstMAC, srcMAC, dport, sport
	}
	r.TimestampFirst, r.TimestampLast, r.Duration = dir.first, dir.last, dir.last-dir.first
	r.LinkProto, r.NetworkProto, r.TransportProto, r.ApplicationProto = c.linkName(), c.network(), transportName(c.key.proto), c.appName()
	r.SrcMAC, r.DstMAC = srcMAC, dstMAC
	r.SrcIP, r.SrcPort, r.DstIP, r.DstPort = srcIP, sport, dstIP, dport
	r.TotalSize, r.AppPayloadSize, r.NumPackets = dir.bytes, dir.payload, dir.packets
	r.UID = c.uid + "-" + strconv.Itoa(d)
	r.CommunityID = cid
	f := func(i int) int64 { return int64(dir.flags[i]) }
	r.NumFINFlags, r.NumRSTFlags, r.NumACKFlags, r.NumSYNFlags = f(0), f(1), f(2), f(3)
	r.NumURGFlags, r.NumECEFlags, r.NumPSHFlags, r.NumCWRFlags, r.NumNSFlags = f(4), f(5), f(6), f(7), f(8)
	r.FrameFirst, r.FrameLast = dir.frameFirst, dir.frameLast
	r.EndReason = reason
	t.ordered.s = s
	t.ordered.EmitOrdered(types.Type_NC_Flow, r, r.FrameFirst)
}
