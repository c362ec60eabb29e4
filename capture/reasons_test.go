package capture

import (
	"strconv"
	"testing"
)

// TestReasonsBounded: 100,000 distinct error texts (a hostile capture whose
// every frame fails with its own numbers) keep at most MaxReasons+1 entries,
// and no packet goes uncounted.
func TestReasonsBounded(t *testing.T) {
	m := map[string]int64{}
	const n = 100_000
	for i := range n {
		countReason(m, "IPv4: bad length "+strconv.Itoa(i))
	}
	countReason(m, "IPv4: bad length 7") // an early reason keeps its own entry
	if len(m) != MaxReasons+1 {
		t.Fatalf("%d entries, want %d", len(m), MaxReasons+1)
	}
	var total int64
	for _, c := range m {
		total += c
	}
	if total != n+1 || m["IPv4: bad length 7"] != 2 || m[OtherReasons] != n-MaxReasons {
		t.Fatalf("total %d, early %d, other %d", total, m["IPv4: bad length 7"], m[OtherReasons])
	}
}
