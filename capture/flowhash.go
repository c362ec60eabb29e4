package capture

import (
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/internal/flowhash"
)

// FlowHash returns a hash of the packet's flow that is the same for both
// directions (A->B and B->A), so that the engine can send every packet of a
// flow to the same worker and stateful decoders need no lock: the IP pair,
// protocol and ports (internal/flowhash says exactly what and why). An IP
// fragment hashes without ports; the engine hands fragments to every worker,
// and the decoder gives the reassembled datagram to the worker of its ports
// (decoder/defrag.go).
func FlowHash(data []byte, link layers.LinkType) uint64 {
	h, _ := flowhash.Packet(data, link)
	return h
}
