package decoder

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("NortelDiscovery", protocolTest{
		cases: nortelDiscoveryCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeNortelDiscovery, rec: types.Type_NC_NortelDiscovery, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC, layers.LayerTypeSNAP}, max: 1492,
			wrap:  overSNAP([]byte{0, 0, 0x81, 0x01, 0xa2}),
			built: func() [][]byte { return [][]byte{{192, 0, 2, 9, 0, 0, 1, 12, 2, 1, 0}} },
		},
	})
}

func FuzzNortelDiscovery(f *testing.F) { fuzzLayer(f, "NortelDiscovery") }

// nortelDiscoveryCases are packets of NortelDiscovery built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var nortelDiscoveryCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 NDP 33 Hello
	{name: "Hello", link: layers.LinkTypeEthernet,
		hex:  "0200000000020200000000010013aaaa 0300008101a2c00002090000010c0201 00",
		want: map[string]string{"IPAddress": "192.0.2.9", "SegmentID": "000001", "Chassis": "12", "Backplane": "2", "State": "1", "NumLinks": "0"}},
}
