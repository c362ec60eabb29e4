package util

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The record messages of the original netcap (github.com/dreadl0ck/netcap)
// that net util -upgrade converts, as that project's netcap.proto defined
// them at tag v0.4.7 and in the v0.6 line: names, numbers and types are its.
// They are read with dynamic messages built from these definitions, so the
// net binary carries no generated code for them.

const originalV047 = `
message PacketContext { string SrcIP = 1; string DstIP = 2; string SrcPort = 3; string DstPort = 4; }
message Flow {
  string TimestampFirst = 1; string LinkProto = 2; string NetworkProto = 3; string TransportProto = 4;
  string ApplicationProto = 5; string SrcMAC = 6; string DstMAC = 7; string SrcIP = 8; string SrcPort = 9;
  string DstIP = 10; string DstPort = 11; int32 TotalSize = 12; int32 AppPayloadSize = 13; int32 NumPackets = 14;
  string UID = 15; string TimestampLast = 16; int64 Duration = 17; }
message Connection {
  string TimestampFirst = 1; string LinkProto = 2; string NetworkProto = 3; string TransportProto = 4;
  string ApplicationProto = 5; string SrcMAC = 6; string DstMAC = 7; string SrcIP = 8; string SrcPort = 9;
  string DstIP = 10; string DstPort = 11; int32 TotalSize = 12; int32 AppPayloadSize = 13; int32 NumPackets = 14;
  string UID = 15; string TimestampLast = 16; int64 Duration = 17; }
message Ethernet { string Timestamp = 1; string SrcMAC = 2; string DstMAC = 3; int32 EthernetType = 4;
  double PayloadEntropy = 5; int32 PayloadSize = 6; }
message ARP { string Timestamp = 1; int32 AddrType = 2; int32 Protocol = 3; int32 HwAddressSize = 4;
  int32 ProtAddressSize = 5; int32 Operation = 6; bytes SrcHwAddress = 7; bytes SrcProtAddress = 8;
  bytes DstHwAddress = 9; bytes DstProtAddress = 10; }
message IPv4 { string Timestamp = 1; int32 Version = 2; int32 IHL = 3; int32 TOS = 4; int32 Length = 5;
  int32 Id = 6; int32 Flags = 7; int32 FragOffset = 8; int32 TTL = 9; int32 Protocol = 10; int32 Checksum = 11;
  string SrcIP = 12; string DstIP = 13; bytes Padding = 14; repeated IPv4Option Options = 15;
  double PayloadEntropy = 16; int32 PayloadSize = 17; PacketContext Context = 18; }
message IPv4Option { int32 OptionType = 1; int32 OptionLength = 2; bytes OptionData = 3; }
message IPv6 { string Timestamp = 1; int32 Version = 2; int32 TrafficClass = 3; uint32 FlowLabel = 4;
  int32 Length = 5; int32 NextHeader = 6; int32 HopLimit = 7; string SrcIP = 8; string DstIP = 9;
  double PayloadEntropy = 10; int32 PayloadSize = 11; IPv6HopByHop HopByHop = 12; PacketContext Context = 13; }
message IPv6HopByHop { string Timestamp = 1; repeated IPv6HopByHopOption Options = 2; PacketContext Context = 3; }
message IPv6HopByHopOption { int32 OptionType = 1; int32 OptionLength = 2; int32 ActualLength = 3;
  bytes OptionData = 4; IPv6HopByHopOptionAlignment OptionAlignment = 5; }
message IPv6HopByHopOptionAlignment { int32 One = 1; int32 Two = 2; }
message ICMPv4 { string Timestamp = 1; int32 TypeCode = 2; int32 Checksum = 3; int32 Id = 4; int32 Seq = 5;
  PacketContext Context = 6; }
message UDP { string Timestamp = 1; int32 SrcPort = 2; int32 DstPort = 3; int32 Length = 4; int32 Checksum = 5;
  double PayloadEntropy = 6; int32 PayloadSize = 7; bytes Payload = 8; PacketContext Context = 9; }
message TCP { string Timestamp = 1; int32 SrcPort = 2; int32 DstPort = 3; uint32 SeqNum = 4; uint32 AckNum = 5;
  int32 DataOffset = 6; bool FIN = 7; bool SYN = 8; bool RST = 9; bool PSH = 10; bool ACK = 11; bool URG = 12;
  bool ECE = 13; bool CWR = 14; bool NS = 15; int32 Window = 16; int32 Checksum = 17; int32 Urgent = 18;
  bytes Padding = 19; repeated TCPOption Options = 20; double PayloadEntropy = 21; int32 PayloadSize = 22;
  bytes Payload = 23; PacketContext Context = 24; }
message TCPOption { int32 OptionType = 1; int32 OptionLength = 2; bytes OptionData = 3; }
message DNS { string Timestamp = 1; int32 ID = 2; bool QR = 3; int32 OpCode = 4; bool AA = 5; bool TC = 6;
  bool RD = 7; bool RA = 8; int32 Z = 9; int32 ResponseCode = 10; int32 QDCount = 11; int32 ANCount = 12;
  int32 NSCount = 13; int32 ARCount = 14; repeated DNSQuestion Questions = 15;
  repeated DNSResourceRecord Answers = 16; repeated DNSResourceRecord Authorities = 17;
  repeated DNSResourceRecord Additionals = 18; PacketContext Context = 19; }
message DNSResourceRecord { bytes Name = 1; int32 Type = 2; int32 Class = 3; uint32 TTL = 4; int32 DataLength = 5;
  bytes Data = 6; string IP = 7; bytes NS = 8; bytes CNAME = 9; bytes PTR = 10; DNSSOA SOA = 11; DNSSRV SRV = 12;
  DNSMX MX = 13; repeated bytes TXTs = 14; }
message DNSSOA { bytes MName = 1; bytes RName = 2; uint32 Serial = 3; uint32 Refresh = 4; uint32 Retry = 5;
  uint32 Expire = 6; uint32 Minimum = 7; }
message DNSSRV { int32 Priority = 1; int32 Weight = 2; int32 Port = 3; bytes Name = 4; }
message DNSMX { int32 Preference = 1; bytes Name = 2; }
message DNSQuestion { bytes Name = 1; int32 Type = 2; int32 Class = 3; }
message HTTP { string Timestamp = 1; string Proto = 2; string Method = 3; string Host = 4; string UserAgent = 5;
  string Referer = 6; repeated string ReqCookies = 7; int32 ReqContentLength = 8; string URL = 9;
  int32 ResContentLength = 10; string ContentType = 11; int32 StatusCode = 12; string SrcIP = 13; string DstIP = 14;
  string ReqContentEncoding = 15; string ResContentEncoding = 16; string ServerName = 17;
  repeated string ResCookies = 18; string ResContentType = 19; int64 DoneAfter = 20; int64 DNSDoneAfter = 21;
  int64 FirstByteAfter = 22; int64 TLSDoneAfter = 23; }
message TLSClientHello { string Timestamp = 1; int32 Type = 2; int32 Version = 3; int32 MessageLen = 4;
  int32 HandshakeType = 5; uint32 HandshakeLen = 6; int32 HandshakeVersion = 7; bytes Random = 8;
  uint32 SessionIDLen = 9; bytes SessionID = 10; int32 CipherSuiteLen = 11; int32 ExtensionLen = 12; string SNI = 13;
  bool OSCP = 14; repeated int32 CipherSuites = 15; repeated int32 CompressMethods = 16;
  repeated int32 SignatureAlgs = 17; repeated int32 SupportedGroups = 18; repeated int32 SupportedPoints = 19;
  repeated string ALPNs = 20; string Ja3 = 21; string SrcIP = 22; string DstIP = 23; string SrcMAC = 24;
  string DstMAC = 25; int32 SrcPort = 26; int32 DstPort = 27; repeated int32 Extensions = 28; }
message Dot1Q { string Timestamp = 1; int32 Priority = 2; bool DropEligible = 3; int32 VLANIdentifier = 4; int32 Type = 5; }
message LLC { string Timestamp = 1; int32 DSAP = 2; bool IG = 3; int32 SSAP = 4; bool CR = 5; int32 Control = 6; }
message ICMPv6 { string Timestamp = 1; int32 TypeCode = 2; int32 Checksum = 3; PacketContext Context = 4; }
message ICMPv6Echo { string Timestamp = 1; int32 Identifier = 2; int32 SeqNumber = 3; PacketContext Context = 4; }
message SCTP { string Timestamp = 1; uint32 SrcPort = 2; uint32 DstPort = 3; uint32 VerificationTag = 4;
  uint32 Checksum = 5; PacketContext Context = 6; }
message NTP { string Timestamp = 1; int32 LeapIndicator = 2; int32 Version = 3; int32 Mode = 4; int32 Stratum = 5;
  int32 Poll = 6; int32 Precision = 7; uint32 RootDelay = 8; uint32 RootDispersion = 9; uint32 ReferenceID = 10;
  uint64 ReferenceTimestamp = 11; uint64 OriginTimestamp = 12; uint64 ReceiveTimestamp = 13;
  uint64 TransmitTimestamp = 14; bytes ExtensionBytes = 15; PacketContext Context = 16; }
message DHCPv4 { string Timestamp = 1; int32 Operation = 2; int32 HardwareType = 3; int32 HardwareLen = 4;
  int32 HardwareOpts = 5; uint32 Xid = 6; int32 Secs = 7; int32 Flags = 8; string ClientIP = 9;
  string YourClientIP = 10; string NextServerIP = 11; string RelayAgentIP = 12; string ClientHWAddr = 13;
  bytes ServerName = 14; bytes File = 15; repeated DHCPOption Options = 16; PacketContext Context = 17; }
message DHCPOption { int32 Type = 1; int32 Length = 2; bytes Data = 3; }
`

const originalV06 = `
message Connection {
  int64 TimestampFirst = 1; string LinkProto = 2; string NetworkProto = 3; string TransportProto = 4;
  string ApplicationProto = 5; string SrcMAC = 6; string DstMAC = 7; string SrcIP = 8; string SrcPort = 9;
  string DstIP = 10; string DstPort = 11; int32 TotalSize = 12; int32 AppPayloadSize = 13; int32 NumPackets = 14;
  string UID = 15; int64 TimestampLast = 16; int64 Duration = 17; int64 BytesServerToClient = 18;
  int64 BytesClientToServer = 19; int32 NumFINFlags = 20; int32 NumRSTFlags = 21; int32 NumACKFlags = 22;
  int32 NumSYNFlags = 23; int32 NumURGFlags = 24; int32 NumECEFlags = 25; int32 NumPSHFlags = 26;
  int32 NumCWRFlags = 27; int32 NumNSFlags = 28; int32 MeanWindowSize = 29; }
message Ethernet { int64 Timestamp = 1; string SrcMAC = 2; string DstMAC = 3; int32 EthernetType = 4;
  double PayloadEntropy = 5; int32 PayloadSize = 6; }
message ARP { int64 Timestamp = 1; int32 AddrType = 2; int32 Protocol = 3; int32 HwAddressSize = 4;
  int32 ProtocolAddressSize = 5; int32 Operation = 6; string SrcHwAddress = 7; string SrcProtocolAddress = 8;
  string DstHwAddress = 9; string DstProtocolAddress = 10; }
message IPv4 { int64 Timestamp = 1; int32 Version = 2; int32 IHL = 3; int32 TOS = 4; int32 Length = 5;
  int32 Id = 6; int32 Flags = 7; int32 FragOffset = 8; int32 TTL = 9; int32 Protocol = 10; int32 Checksum = 11;
  string SrcIP = 12; string DstIP = 13; bytes Padding = 14; repeated IPv4Option Options = 15;
  double PayloadEntropy = 16; int32 PayloadSize = 17; int32 SrcPort = 18; int32 DstPort = 19; }
message IPv4Option { int32 OptionType = 1; int32 OptionLength = 2; bytes OptionData = 3; }
message IPv6 { int64 Timestamp = 1; int32 Version = 2; int32 TrafficClass = 3; uint32 FlowLabel = 4;
  int32 Length = 5; int32 NextHeader = 6; int32 HopLimit = 7; string SrcIP = 8; string DstIP = 9;
  double PayloadEntropy = 10; int32 PayloadSize = 11; IPv6HopByHop HopByHop = 12; int32 SrcPort = 13;
  int32 DstPort = 14; }
message IPv6HopByHop { int64 Timestamp = 1; repeated IPv6HopByHopOption Options = 2; string SrcIP = 3;
  string DstIP = 4; }
message IPv6HopByHopOption { int32 OptionType = 1; int32 OptionLength = 2; int32 ActualLength = 3;
  bytes OptionData = 4; IPv6HopByHopOptionAlignment OptionAlignment = 5; }
message IPv6HopByHopOptionAlignment { int32 One = 1; int32 Two = 2; }
message ICMPv4 { int64 Timestamp = 1; int32 TypeCode = 2; int32 Checksum = 3; int32 Id = 4; int32 Seq = 5;
  string SrcIP = 6; string DstIP = 7; }
message UDP { int64 Timestamp = 1; int32 SrcPort = 2; int32 DstPort = 3; int32 Length = 4; int32 Checksum = 5;
  double PayloadEntropy = 6; int32 PayloadSize = 7; bytes Payload = 8; string SrcIP = 9; string DstIP = 10; }
message TCP { int64 Timestamp = 1; int32 SrcPort = 2; int32 DstPort = 3; uint32 SeqNum = 4; uint32 AckNum = 5;
  int32 DataOffset = 6; bool FIN = 7; bool SYN = 8; bool RST = 9; bool PSH = 10; bool ACK = 11; bool URG = 12;
  bool ECE = 13; bool CWR = 14; bool NS = 15; int32 Window = 16; int32 Checksum = 17; int32 Urgent = 18;
  bytes Padding = 19; repeated TCPOption Options = 20; double PayloadEntropy = 21; int32 PayloadSize = 22;
  bytes Payload = 23; string SrcIP = 24; string DstIP = 25; }
message TCPOption { int32 OptionType = 1; int32 OptionLength = 2; bytes OptionData = 3; }
message DNS { int64 Timestamp = 1; int32 ID = 2; bool QR = 3; int32 OpCode = 4; bool AA = 5; bool TC = 6;
  bool RD = 7; bool RA = 8; int32 Z = 9; int32 ResponseCode = 10; int32 QDCount = 11; int32 ANCount = 12;
  int32 NSCount = 13; int32 ARCount = 14; repeated DNSQuestion Questions = 15;
  repeated DNSResourceRecord Answers = 16; repeated DNSResourceRecord Authorities = 17;
  repeated DNSResourceRecord Additionals = 18; string SrcIP = 19; string DstIP = 20; int32 SrcPort = 21;
  int32 DstPort = 22; }
message DNSResourceRecord { string Name = 1; int32 Type = 2; int32 Class = 3; uint32 TTL = 4; int32 DataLength = 5;
  bytes Data = 6; string IP = 7; bytes NS = 8; bytes CNAME = 9; bytes PTR = 10; DNSSOA SOA = 11; DNSSRV SRV = 12;
  DNSMX MX = 13; repeated bytes TXTs = 14; }
message DNSSOA { bytes MName = 1; bytes RName = 2; uint32 Serial = 3; uint32 Refresh = 4; uint32 Retry = 5;
  uint32 Expire = 6; uint32 Minimum = 7; }
message DNSSRV { int32 Priority = 1; int32 Weight = 2; int32 Port = 3; bytes Name = 4; }
message DNSMX { int32 Preference = 1; string Name = 2; }
message DNSQuestion { string Name = 1; int32 Type = 2; int32 Class = 3; }
message HTTP { int64 Timestamp = 1; string Proto = 2; string Method = 3; string Host = 4; string UserAgent = 5;
  string Referer = 6; repeated HTTPCookie ReqCookies = 7; int32 ReqContentLength = 8; string URL = 9;
  int32 ResContentLength = 10; string ContentType = 11; int32 StatusCode = 12; string SrcIP = 13; string DstIP = 14;
  string ReqContentEncoding = 15; string ResContentEncoding = 16; string ServerName = 17;
  repeated HTTPCookie ResCookies = 18; string ResContentType = 19; int64 DoneAfter = 20; int64 DNSDoneAfter = 21;
  int64 FirstByteAfter = 22; int64 TLSDoneAfter = 23; string ContentTypeDetected = 24;
  string ResContentTypeDetected = 25; map<string, string> RequestHeader = 26;
  map<string, string> ResponseHeader = 27; map<string, string> Parameters = 28; bytes RequestBody = 29;
  bytes ResponseBody = 30; }
message HTTPCookie { string Name = 1; string Value = 2; string Path = 3; string Domain = 4; uint64 Expires = 5;
  int32 MaxAge = 6; bool Secure = 7; bool HttpOnly = 8; int32 SameSite = 9; }
message TLSClientHello { int64 Timestamp = 1; int32 Type = 2; int32 Version = 3; int32 MessageLen = 4;
  int32 HandshakeType = 5; uint32 HandshakeLen = 6; int32 HandshakeVersion = 7; bytes Random = 8;
  uint32 SessionIDLen = 9; bytes SessionID = 10; int32 CipherSuiteLen = 11; int32 ExtensionLen = 12; string SNI = 13;
  bool OSCP = 14; repeated int32 CipherSuites = 15; repeated int32 CompressMethods = 16;
  repeated int32 SignatureAlgs = 17; repeated int32 SupportedGroups = 18; repeated int32 SupportedPoints = 19;
  repeated string ALPNs = 20; string Ja3 = 21; string SrcIP = 22; string DstIP = 23; string SrcMAC = 24;
  string DstMAC = 25; int32 SrcPort = 26; int32 DstPort = 27; repeated int32 Extensions = 28; }
message Dot1Q { int64 Timestamp = 1; int32 Priority = 2; bool DropEligible = 3; int32 VLANIdentifier = 4; int32 Type = 5; }
message LLC { int64 Timestamp = 1; int32 DSAP = 2; bool IG = 3; int32 SSAP = 4; bool CR = 5; int32 Control = 6; }
message ICMPv6 { int64 Timestamp = 1; int32 TypeCode = 2; int32 Checksum = 3; string SrcIP = 4; string DstIP = 5; }
message ICMPv6Echo { int64 Timestamp = 1; int32 Identifier = 2; int32 SeqNumber = 3; string SrcIP = 4; string DstIP = 5; }
message SCTP { int64 Timestamp = 1; int32 SrcPort = 2; int32 DstPort = 3; uint32 VerificationTag = 4;
  uint32 Checksum = 5; string SrcIP = 6; string DstIP = 7; }
message NTP { int64 Timestamp = 1; int32 LeapIndicator = 2; int32 Version = 3; int32 Mode = 4; int32 Stratum = 5;
  int32 Poll = 6; int32 Precision = 7; uint32 RootDelay = 8; uint32 RootDispersion = 9; uint32 ReferenceID = 10;
  uint64 ReferenceTimestamp = 11; uint64 OriginTimestamp = 12; uint64 ReceiveTimestamp = 13;
  uint64 TransmitTimestamp = 14; bytes ExtensionBytes = 15; string SrcIP = 16; string DstIP = 17; int32 SrcPort = 18;
  int32 DstPort = 19; }
message DHCPv4 { int64 Timestamp = 1; int32 Operation = 2; int32 HardwareType = 3; int32 HardwareLen = 4;
  int32 HardwareOpts = 5; uint32 Xid = 6; int32 Secs = 7; int32 Flags = 8; string ClientIP = 9;
  string YourClientIP = 10; string NextServerIP = 11; string RelayAgentIP = 12; string ClientHWAddr = 13;
  bytes ServerName = 14; bytes File = 15; repeated DHCPOption Options = 16; string Fingerprint = 17; string SrcIP = 18;
  string DstIP = 19; int32 SrcPort = 20; int32 DstPort = 21; }
message DHCPOption { int32 Type = 1; int32 Length = 2; string Data = 3; }
`

var scalarTypes = map[string]descriptorpb.FieldDescriptorProto_Type{
	"string": descriptorpb.FieldDescriptorProto_TYPE_STRING,
	"bytes":  descriptorpb.FieldDescriptorProto_TYPE_BYTES,
	"bool":   descriptorpb.FieldDescriptorProto_TYPE_BOOL,
	"int32":  descriptorpb.FieldDescriptorProto_TYPE_INT32,
	"int64":  descriptorpb.FieldDescriptorProto_TYPE_INT64,
	"uint32": descriptorpb.FieldDescriptorProto_TYPE_UINT32,
	"uint64": descriptorpb.FieldDescriptorProto_TYPE_UINT64,
	"double": descriptorpb.FieldDescriptorProto_TYPE_DOUBLE,
}

// parseSchema turns the message definitions above (a subset of proto3:
// messages of scalar, message, repeated and map<string, string> fields) into
// a file descriptor of package pkg.
func parseSchema(pkg, src string) (protoreflect.FileDescriptor, error) {
	r := strings.NewReplacer("{", " { ", "}", " } ", ";", " ; ", "=", " = ", "<", " < ", ">", " > ", ",", " , ")
	tok := strings.Fields(r.Replace(src))
	fd := &descriptorpb.FileDescriptorProto{Name: proto.String(pkg + ".proto"), Package: proto.String(pkg), Syntax: proto.String("proto3")}
	next := func() string {
		if len(tok) == 0 {
			return ""
		}
		t := tok[0]
		tok = tok[1:]
		return t
	}
	expect := func(want string) error {
		if got := next(); got != want {
			return fmt.Errorf("schema %s: %q where %q belongs", pkg, got, want)
		}
		return nil
	}
	for len(tok) > 0 {
		if err := expect("message"); err != nil {
			return nil, err
		}
		msg := &descriptorpb.DescriptorProto{Name: proto.String(next())}
		if err := expect("{"); err != nil {
			return nil, err
		}
		for len(tok) > 0 && tok[0] != "}" {
			f := &descriptorpb.FieldDescriptorProto{Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
			typ := next()
			if typ == "repeated" {
				f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
				typ = next()
			}
			var entry *descriptorpb.DescriptorProto
			if typ == "map" {
				for _, want := range []string{"<", "string", ",", "string", ">"} {
					if err := expect(want); err != nil {
						return nil, err
					}
				}
				f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
				entry = &descriptorpb.DescriptorProto{Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}}
				for i, n := range []string{"key", "value"} {
					entry.Field = append(entry.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String(n), JsonName: proto.String(n),
						Number: proto.Int32(int32(i + 1)), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
						Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()})
				}
			}
			f.Name = proto.String(next())
			f.JsonName = f.Name
			if err := expect("="); err != nil {
				return nil, err
			}
			num, err := strconv.Atoi(next())
			if err != nil {
				return nil, fmt.Errorf("schema %s: field %s: bad number", pkg, f.GetName())
			}
			f.Number = proto.Int32(int32(num))
			if err := expect(";"); err != nil {
				return nil, err
			}
			switch {
			case entry != nil:
				entry.Name = proto.String(f.GetName() + "Entry")
				msg.NestedType = append(msg.NestedType, entry)
				f.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
				f.TypeName = proto.String("." + pkg + "." + msg.GetName() + "." + entry.GetName())
			case scalarTypes[typ] != 0:
				f.Type = scalarTypes[typ].Enum()
			default:
				f.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
				f.TypeName = proto.String("." + pkg + "." + typ)
			}
			msg.Field = append(msg.Field, f)
		}
		if err := expect("}"); err != nil {
			return nil, err
		}
		fd.MessageType = append(fd.MessageType, msg)
	}
	return protodesc.NewFile(fd, &protoregistry.Files{})
}
