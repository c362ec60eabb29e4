package types

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// topLevelRecords are the record types of the first contract, which get
// their own output file: the 60 top-level records of netcap v0.4.7 plus
// TLSServerHello. Records added later (enum values above 88 but 94) need
// not be listed: addedRecords finds them, and they are held to the same
// rules.
var topLevelRecords = []string{
	// flow models
	"Flow", "Connection", "LinkFlow", "NetworkFlow", "TransportFlow",
	// link layer
	"Ethernet", "ARP", "Dot1Q", "LLC", "SNAP",
	"LinkLayerDiscovery", "LinkLayerDiscoveryInfo", "EthernetCTP", "EthernetCTPReply",
	"CiscoDiscovery", "CiscoDiscoveryInfo", "NortelDiscovery", "FDDI",
	"USB", "USBRequestBlockSetup",
	// WiFi / 802.1X
	"Dot11", "EAP", "EAPOL", "EAPOLKey",
	// network layer
	"IPv4", "IPv6", "IPv6HopByHop", "IPv6Fragment",
	"ICMPv4", "ICMPv6", "ICMPv6Echo", "ICMPv6NeighborSolicitation",
	"ICMPv6NeighborAdvertisement", "ICMPv6RouterSolicitation", "ICMPv6RouterAdvertisement",
	"IGMP", "IPSecAH", "IPSecESP", "GRE", "MPLS", "OSPFv2", "OSPFv3",
	"VRRPv2", "Geneve", "VXLAN",
	// transport layer
	"TCP", "UDP", "SCTP",
	// application layer
	"DNS", "DHCPv4", "DHCPv6", "NTP", "SIP", "LCM", "BFD",
	"HTTP", "TLSClientHello", "TLSServerHello",
	// industrial
	"Modbus", "CIP", "ENIP",
}

// subMessageTypes are enum values that name sub-messages, which never get
// a file of their own.
var subMessageTypes = []string{
	"Dot11QOS", "Dot11HTControl", "Dot11HTControlVHT", "Dot11HTControlHT",
	"Dot11HTControlMFB", "Dot11LinkAdapationControl", "Dot11ASEL",
	"LLDPChassisID", "LLDPPortID", "LinkLayerDiscoveryValue",
	"LLDPSysCapabilities", "LLDPCapabilities", "LLDPMgmtAddress", "LLDPOrgSpecificTLV",
	"IPv4Option", "ICMPv6Option", "TCPOption",
	"DNSResourceRecord", "DNSSOA", "DNSSRV", "DNSMX", "DNSQuestion",
	"DHCPOption", "DHCPv6Option", "IGMPv3GroupRecord",
	"IPv6HopByHopOption", "IPv6HopByHopOptionAlignment",
}

// inventories are records that sum up many records of many flows (written
// at the end of a run): they carry no packet context.
var inventories = map[string]bool{"Software": true, "Service": true}

var flowModels = map[string]bool{
	"Flow": true, "Connection": true, "LinkFlow": true, "NetworkFlow": true, "TransportFlow": true, "FlowFeatures": true,
}

// packetContext lists the fields every single-packet record must carry.
var packetContext = []struct {
	name string
	kind protoreflect.Kind
}{
	{"FrameNumber", protoreflect.Int64Kind},
	{"SrcIP", protoreflect.StringKind},
	{"DstIP", protoreflect.StringKind},
	{"SrcPort", protoreflect.Int32Kind},
	{"DstPort", protoreflect.Int32Kind},
	{"FlowID", protoreflect.StringKind},
}

func message(t *testing.T, name string) protoreflect.MessageDescriptor {
	t.Helper()
	md := File_netcap_proto.Messages().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("message %s is missing from netcap.proto", name)
	}
	return md
}

func TestTypeEnum(t *testing.T) {
	ed := File_netcap_proto.Enums().ByName("Type")
	if ed == nil {
		t.Fatal("enum Type is missing")
	}
	values := ed.Values()
	added := addedRecords()
	if got, want := values.Len(), 90+len(added); got != want {
		t.Errorf("enum Type has %d values, want %d (0..88, 94 and %d added records)", got, want, len(added))
	}
	for i := 0; i <= 88; i++ {
		if values.ByNumber(protoreflect.EnumNumber(i)) == nil {
			t.Errorf("enum Type has no value %d", i)
		}
	}
	if v := values.ByName("NC_TLSServerHello"); v == nil || v.Number() != 94 {
		t.Errorf("NC_TLSServerHello must be 94")
	}
	fixed := map[string]protoreflect.EnumNumber{
		"NC_Header": 0, "NC_Batch": 1, "NC_Flow": 2, "NC_Ethernet": 7,
		"NC_Dot11LinkAdapationControl": 16, "NC_IPv4": 29, "NC_TCP": 38,
		"NC_HTTP": 63, "NC_TLSClientHello": 64, "NC_ENIP": 88,
	}
	for name, num := range fixed {
		if v := values.ByName(protoreflect.Name(name)); v == nil || v.Number() != num {
			t.Errorf("%s must be %d", name, num)
		}
	}

	// every enum value names a message, and the records and sub-messages
	// partition the enum apart from Header and Batch
	known := map[string]bool{"Header": true, "Batch": true}
	for _, n := range topLevelRecords {
		known[n] = true
	}
	for _, n := range subMessageTypes {
		known[n] = true
	}
	for _, n := range added {
		known[n] = true
	}
	for i := 0; i < values.Len(); i++ {
		name := string(values.Get(i).Name())
		if !strings.HasPrefix(name, "NC_") {
			t.Errorf("enum value %s lacks the NC_ prefix", name)
			continue
		}
		rec := strings.TrimPrefix(name, "NC_")
		if !known[rec] {
			t.Errorf("enum value %s is neither a record nor a known sub-message", name)
		}
		message(t, rec)
	}
	if got, want := len(topLevelRecords), 61; got != want {
		t.Errorf("test lists %d top-level records, want %d", got, want)
	}
	if got, want := len(topLevelRecords)+len(subMessageTypes)+len(added)+2, values.Len(); got != want {
		t.Errorf("records + sub-messages + meta = %d, enum has %d values", got, want)
	}
}

// addedRecords are the records added after the first contract: enum values
// above 88, but TLSServerHello's 94, each naming a top-level message.
func addedRecords() []string {
	var out []string
	values := File_netcap_proto.Enums().ByName("Type").Values()
	for i := 0; i < values.Len(); i++ {
		if v := values.Get(i); v.Number() > 88 && v.Number() != 94 {
			out = append(out, strings.TrimPrefix(string(v.Name()), "NC_"))
		}
	}
	return out
}

func TestRecords(t *testing.T) {
	for _, name := range append(append([]string(nil), topLevelRecords...), addedRecords()...) {
		md := message(t, name)
		if ed := File_netcap_proto.Enums().ByName("Type"); ed.Values().ByName(protoreflect.Name("NC_"+name)) == nil {
			t.Errorf("record %s has no enum value NC_%s", name, name)
		}

		first := "Timestamp"
		if flowModels[name] {
			first = "TimestampFirst"
		}
		f1 := md.Fields().ByNumber(1)
		if f1 == nil || string(f1.Name()) != first || f1.Kind() != protoreflect.Int64Kind || f1.Cardinality() == protoreflect.Repeated {
			t.Errorf("%s: field 1 must be int64 %s", name, first)
		}
		if flowModels[name] {
			for _, f := range []string{"TimestampLast", "Duration"} {
				fd := md.Fields().ByName(protoreflect.Name(f))
				if fd == nil || fd.Kind() != protoreflect.Int64Kind {
					t.Errorf("%s: %s must be int64", name, f)
				}
			}
			continue
		}
		if name == "HTTP" || inventories[name] {
			continue
		}
		for _, pc := range packetContext {
			fd := md.Fields().ByName(protoreflect.Name(pc.name))
			if fd == nil {
				t.Errorf("%s: missing packet context field %s", name, pc.name)
				continue
			}
			if fd.Kind() != pc.kind || fd.Cardinality() == protoreflect.Repeated {
				t.Errorf("%s.%s: kind %v, want singular %v", name, pc.name, fd.Kind(), pc.kind)
			}
		}
		if md.Fields().ByName("Context") != nil {
			t.Errorf("%s still has the original Context field", name)
		}
	}
	if File_netcap_proto.Messages().ByName("PacketContext") != nil {
		t.Error("PacketContext must not exist: the context is flattened into the records")
	}
}

func TestFieldTypes(t *testing.T) {
	type want struct {
		msg, field string
		kind       protoreflect.Kind
		repeated   bool
	}
	for _, w := range []want{
		{"Header", "Created", protoreflect.Int64Kind, false},
		{"Header", "Type", protoreflect.EnumKind, false},
		{"Batch", "MessageType", protoreflect.EnumKind, false},
		{"ARP", "SrcProtocolAddress", protoreflect.StringKind, false},
		{"ARP", "DstHwAddress", protoreflect.StringKind, false},
		{"ARP", "ProtocolAddressSize", protoreflect.Int32Kind, false},
		{"SCTP", "SrcPort", protoreflect.Int32Kind, false},
		{"DNSQuestion", "Name", protoreflect.StringKind, false},
		{"DNSResourceRecord", "Name", protoreflect.StringKind, false},
		{"DNSMX", "Name", protoreflect.StringKind, false},
		{"DHCPOption", "Data", protoreflect.BytesKind, false},
		{"DHCPv6Option", "Data", protoreflect.BytesKind, false},
		{"TCP", "Payload", protoreflect.BytesKind, false},
		{"UDP", "Payload", protoreflect.BytesKind, false},
		{"TLSClientHello", "Random", protoreflect.BytesKind, false},
		{"TLSClientHello", "SessionID", protoreflect.BytesKind, false},
		{"TLSClientHello", "Ja3", protoreflect.StringKind, false},
		{"TLSClientHello", "Ja3Full", protoreflect.StringKind, false},
		{"TLSClientHello", "Ja4", protoreflect.StringKind, false},
		{"TLSClientHello", "SupportedVersions", protoreflect.Int32Kind, true},
		{"TLSClientHello", "Extensions", protoreflect.Int32Kind, true},
		{"TLSClientHello", "SignatureAlgs", protoreflect.Int32Kind, true},
		{"TLSServerHello", "Ja3s", protoreflect.StringKind, false},
		{"TLSServerHello", "Ja3sFull", protoreflect.StringKind, false},
		{"TLSServerHello", "Random", protoreflect.BytesKind, false},
		{"HTTP", "ReqCookies", protoreflect.StringKind, true},
		{"HTTP", "ResCookies", protoreflect.StringKind, true},
		{"HTTP", "ResponseTimestamp", protoreflect.Int64Kind, false},
		{"HTTP", "RequestSize", protoreflect.Int64Kind, false},
		{"HTTP", "ResponseSize", protoreflect.Int64Kind, false},
		{"HTTP", "SrcPort", protoreflect.Int32Kind, false},
		{"HTTP", "DstPort", protoreflect.Int32Kind, false},
		{"HTTP", "ProxyName", protoreflect.StringKind, false},
		{"HTTP", "ConnectDoneAfter", protoreflect.Int64Kind, false},
		{"HTTP", "FrameNumber", protoreflect.Int64Kind, false},
		{"HTTP", "FlowID", protoreflect.StringKind, false},
		{"Connection", "CommunityID", protoreflect.StringKind, false},
		{"Connection", "BytesClientToServer", protoreflect.Int64Kind, false},
		{"Connection", "PayloadBytesServerToClient", protoreflect.Int64Kind, false},
		{"Connection", "NumSYNFlags", protoreflect.Int64Kind, false},
		{"Connection", "InitiatorKnown", protoreflect.BoolKind, false},
		{"Connection", "State", protoreflect.StringKind, false},
		{"Connection", "History", protoreflect.StringKind, false},
		{"Connection", "FrameFirst", protoreflect.Int64Kind, false},
		{"Flow", "SrcPort", protoreflect.Int32Kind, false},
		{"Flow", "UID", protoreflect.StringKind, false},
		{"Flow", "NumNSFlags", protoreflect.Int64Kind, false},
		{"Flow", "FrameLast", protoreflect.Int64Kind, false},
		{"LinkFlow", "UID", protoreflect.StringKind, false},
		{"TransportFlow", "SrcPort", protoreflect.Int32Kind, false},
		{"GRERouting", "Next", protoreflect.MessageKind, false},
	} {
		fd := message(t, w.msg).Fields().ByName(protoreflect.Name(w.field))
		if fd == nil {
			t.Errorf("%s.%s is missing", w.msg, w.field)
			continue
		}
		if fd.Kind() != w.kind || (fd.Cardinality() == protoreflect.Repeated) != w.repeated {
			t.Errorf("%s.%s: kind %v repeated %v, want %v repeated %v",
				w.msg, w.field, fd.Kind(), fd.Cardinality() == protoreflect.Repeated, w.kind, w.repeated)
		}
	}
}

// binaryNames are field names that hold raw bytes from the wire wherever they
// appear; a string there would drop records that are not valid UTF-8.
var binaryNames = map[string]bool{
	"Payload": true, "Data": true, "Random": true, "SessionID": true,
	"Padding": true, "Nonce": true, "IV": true, "MIC": true, "Cookie": true,
	"Value": true, "Info": true, "ID": true, "OrganizationalCode": true,
	"SegmentID": true, "SenderContext": true, "TransactionID": true,
	"SecureRenegotiation": true, "Scts": true, "TXTs": true, "OUI": true,
	"RoutingInformation": true, "AddressPrefix": true, "LinkLocalAddress": true,
	"ForwardingAddress": true, "ExtensionBytes": true,
}

// binaryInMessage are names that are binary only in one message.
var binaryInMessage = map[string]bool{
	"DHCPv4.ServerName": true, "DHCPv4.File": true,
}

// textInMessage are fields whose generic name says binary but which hold
// text: a cookie value is ASCII (RFC 6265 cookie-octet).
var textInMessage = map[string]bool{"HTTPCookie.Value": true, "FTPTransfer.Reply": true}

func isBinaryName(msg, field string) bool {
	if textInMessage[msg+"."+field] {
		return false
	}
	return binaryNames[field] || binaryInMessage[msg+"."+field] ||
		strings.HasSuffix(field, "Data") || strings.HasSuffix(field, "Payload") ||
		strings.HasSuffix(field, "Bytes") || strings.HasPrefix(field, "Reply")
}

func TestNoStringBinaryFields(t *testing.T) {
	msgs := File_netcap_proto.Messages()
	checked := 0
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		fields := md.Fields()
		for j := 0; j < fields.Len(); j++ {
			fd := fields.Get(j)
			if fd.Kind() != protoreflect.StringKind {
				continue
			}
			checked++
			if isBinaryName(string(md.Name()), string(fd.Name())) {
				t.Errorf("%s.%s holds binary data but is a string", md.Name(), fd.Name())
			}
		}
	}
	if checked == 0 {
		t.Fatal("no string fields checked")
	}
}

// TestCommentedMessages checks that every message of netcap.proto has a
// comment line right above it (the generated descriptor carries no comments,
// so the .proto source is read).
func TestCommentedMessages(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "netcap.proto"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	seen := 0
	for i, line := range lines {
		if !strings.HasPrefix(line, "message ") {
			continue
		}
		seen++
		if i == 0 || !strings.HasPrefix(lines[i-1], "// ") {
			t.Errorf("no comment above %q", line)
		}
	}
	if got, want := seen, File_netcap_proto.Messages().Len(); got != want {
		t.Errorf("found %d top-level messages in netcap.proto, descriptor has %d", got, want)
	}
}
