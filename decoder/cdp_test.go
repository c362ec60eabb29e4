package decoder

import (
	"encoding/binary"
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
	// a CDPv2 frame built here: the address TLV (2) and the management
	// address TLV (0x16), each one IPv4 address
	addr := cat([]byte{0, 0, 0, 1, 1, 1, 0xcc, 0, 4}, ip4A.To4())
	frame := overSNAP([]byte{0, 0, 0x0c, 0x20, 0x00})(cat([]byte{2, 180, 0, 0},
		cdpTLV(1, []byte("Switch")), cdpTLV(5, []byte("IOS 15.2")), cdpTLV(6, []byte("cisco WS-C3560G-24PS")),
		cdpTLV(2, addr), cdpTLV(3, []byte("GigabitEthernet0/5")), cdpTLV(4, []byte{0, 0, 0, 0x28}),
		cdpTLV(0x0a, []byte{0, 1}), cdpTLV(0x16, addr)))
	t.Run("tshark", func(t *testing.T) {
		checkTsharkProtocols(t, layers.LinkTypeEthernet, [][]byte{frame}, []string{"eth:llc:cdp"}, []string{"CDPv2"})
		checkTsharkField(t, layers.LinkTypeEthernet, [][]byte{frame}, "cdp.nrgyz.ip_address", []string{"192.0.2.1,192.0.2.1"}, []string{"CDPv2"})
	})
	pd := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_CiscoDiscoveryInfo })
	s := &cdpSink{}
	pd.Decode(frame, layers.LinkTypeEthernet, &Packet{Frame: 1, Timestamp: 1}, s)
	if s.info == nil {
		t.Fatal("no CiscoDiscoveryInfo record")
	}
	want := []string{"192.0.2.1"}
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
