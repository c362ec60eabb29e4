// Package decoder turns the layers of one packet into audit records.
//
// Each protocol lives in one file (tcp.go, dns.go, ...) that registers a
// Protocol: the gopacket layer it reads, the record types it makes, and a
// constructor for its per-worker state. A Worker owns one PacketDecoder, which
// holds one preallocated gopacket DecodingLayer per layer type (and per
// repetition of it in a packet, for VLAN stacks and tunnels) and reuses it for
// every packet: decoding allocates nothing per packet but the records' strings.
//
// Why not gopacket.NewPacket: it allocates every layer of every packet. Why not
// gopacket.DecodingLayerParser as is: it stops at the first layer it has no
// decoder for without saying which bytes it left, keeps one instance per layer
// type (so the inner IPv4 of a tunnel overwrites the outer one before the outer
// record is written), and recovers panics for the whole packet only. The loop in
// packet.go is the same DecodeFromBytes/NextLayerType/LayerPayload chain, with
// a recover around every single layer so that a panic inside gopacket costs one
// layer, is counted, and sends the packet to errors.pcap while the records of
// the layers below it are kept.
//
// To add a protocol: write <proto>.go with a Register call in init, a decoder
// type with a reusable record, and <proto>_test.go with a tshark comparison
// and a fuzz target.
package decoder
