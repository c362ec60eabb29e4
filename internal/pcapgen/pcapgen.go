// Package pcapgen writes synthetic captures for tests and benchmarks: traffic
// whose shape (how many flows, how long) is known exactly.
package pcapgen

import (
	"bufio"
	"encoding/binary"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ManyFlows writes n UDP exchanges (a request and a reply), each between
// its own pair of hosts, one packet per millisecond from start.
func ManyFlows(path string, n int, start time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	for i := 0; i < n; i++ {
		a, b := host(10, i), host(172, i)
		for d := 0; d < 2; d++ {
			src, dst := a, b
			sp, dp := layers.UDPPort(1024+i%60000), layers.UDPPort(53)
			if d == 1 {
				src, dst, sp, dp = b, a, dp, sp
			}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
			udp := &layers.UDP{SrcPort: sp, DstPort: dp}
			if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
				return err
			}
			if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload("0123456789")); err != nil {
				return err
			}
			ts := start.Add(time.Duration(2*i+d) * time.Millisecond)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// host returns the i-th address in first.0.0.0/8.
func host(first byte, i int) []byte {
	ip := []byte{first, byte(i >> 16), 0, 0}
	binary.BigEndian.PutUint16(ip[2:], uint16(i))
	return ip
}
