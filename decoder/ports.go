package decoder

import (
	"fmt"
	"sort"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Transport says which transport a port claim is for.
type Transport uint8

const (
	TCP Transport = iota + 1
	UDP
)

func (t Transport) String() string {
	switch t {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return fmt.Sprintf("transport %d", uint8(t))
}

// Port is a port a protocol claims in its declaration, beyond gopacket's own
// port mapping. The tables that route packets to layers are built from
// these claims; no file writes another's table.
type Port struct {
	Transport Transport
	Number    uint16
	// Layer is what is decoded there; zero means the declaring protocol's
	// Layer.
	Layer gopacket.LayerType
	// First makes the claim win over gopacket's own mapping of the port,
	// for a port where gopacket would read the wrong protocol. Without it
	// the claim applies only where gopacket maps nothing.
	First bool
}

func (p Port) String() string {
	s := fmt.Sprintf("%v %d", p.Transport, p.Number)
	if p.First {
		s += " (first)"
	}
	return s
}

// portTable routes transport payloads to layers by port. The tables are
// ours, not gopacket's global port registry, so that other users of
// gopacket in the same process are not affected.
type portTable struct {
	tcp, tcpFirst, udp, udpFirst map[uint16]gopacket.LayerType
	// segments are the application layers decoded from single TCP
	// segments (Protocol.Segments); others need the stream.
	segments map[gopacket.LayerType]bool
}

// portClaim is a claim with who made it, for the conflict report.
type portClaim struct {
	Port
	by string
}

// claims lists every port claim of the registered protocols and layers.
func claims() []portClaim {
	var out []portClaim
	for _, p := range protocols {
		for _, c := range p.Ports {
			if c.Layer == 0 {
				c.Layer = p.Layer
			}
			out = append(out, portClaim{c, p.Name})
		}
	}
	for _, l := range layerPorts {
		out = append(out, l)
	}
	return out
}

// buildPorts makes the routing tables from the claims. Two claims of one
// port that do not say which wins (both First, or neither) are conflicts:
// the first registered is kept, and TestPortClaims fails on any.
func buildPorts() (*portTable, []error) {
	t := &portTable{
		tcp: map[uint16]gopacket.LayerType{}, tcpFirst: map[uint16]gopacket.LayerType{}, udp: map[uint16]gopacket.LayerType{},
		udpFirst: map[uint16]gopacket.LayerType{}, segments: map[gopacket.LayerType]bool{},
	}
	for _, p := range protocols {
		if p.Segments {
			t.segments[p.Layer] = true
		}
	}
	type key struct {
		tr    Transport
		n     uint16
		first bool
	}
	seen := map[key]portClaim{}
	var errs []error
	for _, c := range claims() {
		k := key{c.Transport, c.Number, c.First}
		if prev, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("%v is claimed by %s and by %s: mark the one that wins First", c.Port, prev.by, c.by))
			continue
		}
		seen[k] = c
		switch {
		case c.Transport == TCP && c.First:
			t.tcpFirst[c.Number] = c.Layer
		case c.Transport == TCP:
			t.tcp[c.Number] = c.Layer
		case c.First:
			t.udpFirst[c.Number] = c.Layer
		default:
			t.udp[c.Number] = c.Layer
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return t, errs
}

// ports is built once, after every init has registered.
var ports = sync.OnceValue(func() *portTable {
	t, _ := buildPorts()
	return t
})

// afterTCP picks the application layer decoded from a single segment.
func (t *portTable) afterTCP(tcp *layers.TCP, next gopacket.LayerType) gopacket.LayerType {
	if lt, ok := t.tcpFirst[uint16(tcp.DstPort)]; ok {
		next = lt
	} else if lt, ok := t.tcpFirst[uint16(tcp.SrcPort)]; ok {
		next = lt
	} else if next == gopacket.LayerTypePayload {
		if lt, ok := t.tcp[uint16(tcp.DstPort)]; ok {
			next = lt
		} else if lt, ok := t.tcp[uint16(tcp.SrcPort)]; ok {
			next = lt
		}
	}
	if !t.segments[next] {
		return gopacket.LayerTypePayload
	}
	return next
}

// afterUDP picks the application layer by port, preferring the destination
// port as gopacket does.
func (t *portTable) afterUDP(u *layers.UDP, next gopacket.LayerType) gopacket.LayerType {
	if lt, ok := t.udpFirst[uint16(u.DstPort)]; ok {
		return lt
	}
	if lt, ok := t.udpFirst[uint16(u.SrcPort)]; ok {
		return lt
	}
	if next != gopacket.LayerTypePayload {
		return next
	}
	if lt, ok := t.udp[uint16(u.DstPort)]; ok {
		return lt
	}
	if lt, ok := t.udp[uint16(u.SrcPort)]; ok {
		return lt
	}
	return next
}
