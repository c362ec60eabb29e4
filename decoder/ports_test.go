package decoder

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestPortClaims: no two registered protocols claim a port without saying
// which wins, and the tables route every claim.
func TestPortClaims(t *testing.T) {
	table, errs := buildPorts()
	for _, err := range errs {
		t.Error(err)
	}
	for _, c := range claims() {
		var got = table.udp[c.Number]
		switch {
		case c.Transport == TCP && c.First:
			got = table.tcpFirst[c.Number]
		case c.Transport == TCP:
			got = table.tcp[c.Number]
		case c.First:
			got = table.udpFirst[c.Number]
		}
		if got != c.Layer {
			t.Errorf("%s's claim of %v routes to %v, want %v", c.by, c.Port, got, c.Layer)
		}
	}
	if len(claims()) < 10 {
		t.Errorf("only %d port claims: the registry lost some", len(claims()))
	}
}

// TestPortConflict: two claims of one port are an error naming both, unless
// exactly one of them says it wins.
func TestPortConflict(t *testing.T) {
	saved := protocols
	defer func() { protocols = saved }()
	for _, tc := range []struct {
		name         string
		first        [2]bool
		wantConflict bool
	}{
		{"neither first", [2]bool{false, false}, true},
		{"both first", [2]bool{true, true}, true},
		{"one first", [2]bool{true, false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			protocols = append(saved[:len(saved):len(saved)],
				Protocol{Name: "Alpha", Layer: layers.LayerTypeDNS, Ports: []Port{{Transport: UDP, Number: 9, First: tc.first[0]}}},
				Protocol{Name: "Beta", Layer: layers.LayerTypeNTP, Ports: []Port{{Transport: UDP, Number: 9, First: tc.first[1]}}})
			_, errs := buildPorts()
			var text []string
			for _, e := range errs {
				text = append(text, e.Error())
			}
			all := strings.Join(text, "; ")
			conflict := strings.Contains(all, "Alpha") && strings.Contains(all, "Beta")
			if conflict != tc.wantConflict {
				t.Fatalf("errors %q; want a conflict naming both: %v", all, tc.wantConflict)
			}
		})
	}
}

// TestPortRouting: packets reach the layers the declarations name (a
// protocol's claim, a claim that wins over gopacket, a layer without a
// record).
func TestPortRouting(t *testing.T) {
	p := ports()
	payload := gopacket.LayerTypePayload
	for _, tc := range []struct {
		name string
		got  func() any
		want any
	}{
		{"mDNS", func() any { return p.afterUDP(&layers.UDP{SrcPort: 5353, DstPort: 5353}, payload) }, layers.LayerTypeDNS},
		{"BFD multihop", func() any { return p.afterUDP(&layers.UDP{SrcPort: 49152, DstPort: 4784}, payload) }, layers.LayerTypeBFD},
		{"Teredo", func() any { return p.afterUDP(&layers.UDP{SrcPort: 3544, DstPort: 50000}, payload) }, layerTypeTeredo},
		{"ENIP implicit I/O wins over gopacket", func() any { return p.afterUDP(&layers.UDP{SrcPort: 2222, DstPort: 2222}, layers.LayerTypeENIP) }, layerTypeCIPIO},
		{"SIP over TCP", func() any { return p.afterTCP(&layers.TCP{SrcPort: 40000, DstPort: 5060}, payload) }, layers.LayerTypeSIP},
		{"Modbus from segments", func() any { return p.afterTCP(&layers.TCP{SrcPort: 502, DstPort: 40000}, layers.LayerTypeModbus) }, layers.LayerTypeModbus},
		{"HTTP only from the stream", func() any { return p.afterTCP(&layers.TCP{SrcPort: 40000, DstPort: 80}, payload) }, payload},
	} {
		if got := tc.got(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
