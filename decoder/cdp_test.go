package decoder

import (
	"encoding/hex"
	"slices"
	"testing"

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
