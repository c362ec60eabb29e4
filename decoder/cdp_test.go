package decoder

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

type cdpSink struct{ info *types.CiscoDiscoveryInfo }

func (s *cdpSink) Emit(t types.Type, m proto.Message) {
	if t == types.Type_NC_CiscoDiscoveryInfo {
		s.info = proto.Clone(m).(*types.CiscoDiscoveryInfo)
	}
}

// CDP carries IPv4 addresses (protocol type NLPID 0xcc); they are written
// as a.b.c.d, as tshark shows them (cdp.nrgyz.ip_address), not as
// IPv4-mapped IPv6.
func TestCDPAddresses(t *testing.T) {
	// tcpdump's 3560_CDP.pcap, frame 1:
	// Cisco_ea:b8:85 → CDP/VTP/DTP/PAgP/UDLD CDP 400 Device ID: Switch  Port ID: GigabitEthernet0/5
	frame, err := hex.DecodeString(
		"01000ccccccc001906eab8850182aaaa0300000c200002b4b0bd0001000a537769746368000500c4436973636f20494f" +
			"5320536f6674776172652c20433335363020536f667477617265202843333536302d414456495053455256494345534b" +
			"392d4d292c2056657273696f6e2031322e3228323529534542342c2052454c4541534520534f46545741524520286663" +
			"31290a436f707972696768742028632920313938362d3230303520627920436973636f2053797374656d732c20496e63" +
			"2e0a436f6d70696c6564205475652033302d4175672d30352031373a35362062792079656e616e680006001863697363" +
			"6f2057532d4333353630472d3234505300020011000000010101cc0004c0a80001000300164769676162697445746865" +
			"726e6574302f3500040008000000280008002400000c011200000000ffffffff010221ff000000000000001906eab880" +
			"ff0000000900074c6162000a00060001000b0005010012000500001300050000160011000000010101cc0004c0a80001" +
			"001a00100000000100000000ffffffff")
	if err != nil {
		t.Fatal(err)
	}
	pd := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_CiscoDiscoveryInfo })
	s := &cdpSink{}
	pd.Decode(frame, layers.LinkTypeEthernet, &Packet{Frame: 1, Timestamp: 1}, s)
	if s.info == nil {
		t.Fatal("no CiscoDiscoveryInfo record")
	}
	want := []string{"192.168.0.1"}
	if !slices.Equal(s.info.Addresses, want) || !slices.Equal(s.info.MgmtAddresses, want) {
		t.Errorf("Addresses %q, MgmtAddresses %q; tshark: %q", s.info.Addresses, s.info.MgmtAddresses, want)
	}
	if s.info.DeviceID != "Switch" || s.info.PortID != "GigabitEthernet0/5" {
		t.Errorf("DeviceID %q, PortID %q", s.info.DeviceID, s.info.PortID)
	}
}

func init() {
	addProtocolTest("CiscoDiscovery", protocolTest{
		cases: ciscoDiscoveryCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeCiscoDiscovery, rec: types.Type_NC_CiscoDiscovery, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLLC, layers.LayerTypeSNAP}, max: 1492,
			wrap:  overSNAP([]byte{0, 0, 0x0c, 0x20, 0x00}),
			built: func() [][]byte { return [][]byte{cdpSeed()} },
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_CiscoDiscovery, protos: []string{"cdp"},
				fields: []tsField{
					{ours: "Version", tshark: "cdp.version", want: tsNum("cdp.version")},
					{ours: "TTL", tshark: "cdp.ttl", want: tsNum("cdp.ttl")},
					{ours: "Checksum", tshark: "cdp.checksum", want: tsNum("cdp.checksum")},
					{ours: "Values.Type", tshark: "cdp.tlv.type", want: tsList("cdp.tlv.type", childNum("cdp.tlv.type"))},
					{ours: "Values.Length", tshark: "cdp.tlv.len", want: tsList("cdp.tlv.type", childNum("cdp.tlv.len"))},
					{ours: "Values.Value", tshark: "TLV bytes after the header", want: tsList("cdp.tlv.type", rawFrom(4))},
				},
			},
			{
				typ: types.Type_NC_CiscoDiscoveryInfo, protos: []string{"cdp"},
				partial: "the TLVs decoded into fields; every TLV's bytes are compared whole in CiscoDiscovery.Values, " +
					"the addresses by TestCDPAddresses",
				fields: []tsField{
					{ours: "DeviceID", tshark: "cdp.deviceid", want: rawTextOr("cdp.deviceid")},
					{ours: "PortID", tshark: "cdp.portid", want: rawTextOr("cdp.portid")},
					{ours: "Platform", tshark: "cdp.platform", want: rawTextOr("cdp.platform")},
					{ours: "NativeVLAN", tshark: "cdp.native_vlan", want: numOr("cdp.native_vlan", "0")},
				},
			},
		},
	})
}

func FuzzCiscoDiscovery(f *testing.F) { fuzzLayer(f, "CiscoDiscovery") }

// ciscoDiscoveryCases are packets of CiscoDiscovery built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var ciscoDiscoveryCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 CDP 124 Device ID: S1 Port ID: FastEthernet0/1
	{name: "Device ID: S1 Port ID: FastEthernet0/1", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001006eaaaa 0300000c200002b40000000100065331 00020011000000010101cc0004c00002 01000300134661737445746865726e65 74302f3100040008000000280005000c 494f532031322e320006001263697363 6f2057532d4333353630000900077674 70000a00060001000b000501",
		want: map[string]string{"Checksum": "0", "TTL": "180", "Values.Length": "6,17,19,8,12,18,7,6,5", "Values.Type": "1,2,3,4,5,6,9,10,11", "Version": "2"}},
}

// cdpSeed is a CDPv2 frame with the common TLVs.
func cdpSeed() []byte {
	return cat([]byte{2, 180, 0, 0},
		cdpTLV(1, []byte("S1")),
		cdpTLV(2, cat([]byte{0, 0, 0, 1, 1, 1, 0xcc, 0, 4}, ip4A.To4())),
		cdpTLV(3, []byte("FastEthernet0/1")),
		cdpTLV(4, []byte{0, 0, 0, 0x28}),
		cdpTLV(5, []byte("IOS 12.2")),
		cdpTLV(6, []byte("cisco WS-C3560")),
		cdpTLV(9, []byte("vtp")),
		cdpTLV(10, []byte{0, 1}),
		cdpTLV(11, []byte{1}),
	)
}

// cdpTLV is a CDP TLV; its length counts the 4-byte header.
func cdpTLV(typ uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v))
	binary.BigEndian.PutUint16(b, typ)
	binary.BigEndian.PutUint16(b[2:], uint16(4+len(v)))
	return append(b, v...)
}
