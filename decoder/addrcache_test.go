package decoder

import (
	"math/rand/v2"
	"net"
	"testing"
)

// TestAddrStrings checks that the cache always answers what rendering the
// address directly answers, also when addresses collide in a slot and when
// a MAC and an IP share their bytes.
func TestAddrStrings(t *testing.T) {
	var c AddrStrings
	r := rand.New(rand.NewPCG(1, 2))
	var addrs [][]byte
	for i := 0; i < 3*addrCacheSize; i++ {
		n := []int{4, 6, 16}[i%3]
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		addrs = append(addrs, b)
	}
	// Same bytes, different kinds and lengths.
	addrs = append(addrs, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 1, 0, 0}, make([]byte, 16), make([]byte, 4))
	for round := 0; round < 3; round++ {
		for _, b := range addrs {
			if len(b) != 6 {
				if got, want := c.IP(net.IP(b)), ipText(b); got != want {
					t.Fatalf("IP(% x) = %q, want %q", b, got, want)
				}
			}
			if got, want := c.MAC(net.HardwareAddr(b)), macText(b); got != want {
				t.Fatalf("MAC(% x) = %q, want %q", b, got, want)
			}
		}
	}
}

// BenchmarkAddrStrings looks up the addresses of a busy worker: 64 hosts
// seen again and again.
func BenchmarkAddrStrings(b *testing.B) {
	var c AddrStrings
	ips := make([]net.IP, 64)
	for i := range ips {
		ips[i] = net.IPv4(10, 1, byte(i/8), byte(i)).To4()
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = c.IP(ips[i&63])
	}
}
