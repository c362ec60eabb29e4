package decoder

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// SLARP packets in Cisco HDLC frames, built here, with the record each
// must give; TestProtocolCases compares the cases below with tshark's
// slarp.* fields.
var slarpFrames = []struct {
	name  string
	frame []byte
	want  *types.SLARP
}{
	// tshark: SLARP 24 Line keepalive, outgoing sequence 1, returned sequence 0
	{"keepalive", slarpFrame(slarpKeepaliveMsg(1, 0, 0xffff), 6),
		&types.SLARP{PacketType: 2, MySequence: 1, YourSequence: 0, Reliability: 0xffff}},
	// tshark: SLARP 24 Request, from 0.0.0.0, mask 0.0.0.0
	{"request", slarpFrame(slarpAddressMsg(slarpRequest, "0.0.0.0", "0.0.0.0"), 8),
		&types.SLARP{PacketType: 0, Address: "0.0.0.0", Netmask: "0.0.0.0"}},
	// tshark: SLARP 24 Reply, from 192.0.2.1, mask 255.255.255.252
	{"reply", slarpFrame(slarpAddressMsg(slarpReply, "192.0.2.1", "255.255.255.252"), 8),
		&types.SLARP{PacketType: 1, Address: "192.0.2.1", Netmask: "255.255.255.252"}},
}

// slarpKeepaliveMsg is a SLARP keepalive: type 2, the sender's and the
// last received sequence numbers, the reliability.
func slarpKeepaliveMsg(my, your uint32, reliability uint16) []byte {
	b := binary.BigEndian.AppendUint32(nil, slarpKeepalive)
	b = binary.BigEndian.AppendUint32(b, my)
	b = binary.BigEndian.AppendUint32(b, your)
	return binary.BigEndian.AppendUint16(b, reliability)
}

// slarpAddressMsg is a SLARP request or reply: the type, an address and
// its mask.
func slarpAddressMsg(typ uint32, addr, mask string) []byte {
	return cat(binary.BigEndian.AppendUint32(nil, typ), net.ParseIP(addr).To4(), net.ParseIP(mask).To4())
}

// slarpFrame is msg in a Cisco HDLC frame (multicast address, protocol
// 0x8035) with pad zero bytes after it, as a line pads it to the 24
// bytes of a minimum SLARP frame.
func slarpFrame(msg []byte, pad int) []byte {
	return cat(chdlcHeader(chdlcMulticast, 0x8035), msg, make([]byte, pad))
}

func TestSLARP(t *testing.T) {
	for _, tc := range slarpFrames {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.frame
			d := NewPacketDecoder(func(types.Type) bool { return true }, DefaultOptions())
			s := &recordSink{}
			meta := Packet{Frame: 1, CaptureLength: len(data), Length: len(data)}
			if st, reason := d.Decode(data, layers.LinkTypeC_HDLC, &meta, s); st != Decoded {
				t.Fatalf("status %v %q", st, reason)
			}
			if len(s.recs) != 1 {
				t.Fatalf("%d records, want 1 SLARP", len(s.recs))
			}
			got, ok := s.recs[0].(*types.SLARP)
			w := tc.want
			if !ok || got.PacketType != w.PacketType || got.Address != w.Address || got.Netmask != w.Netmask ||
				got.MySequence != w.MySequence || got.YourSequence != w.YourSequence || got.Reliability != w.Reliability {
				t.Errorf("got  %v\nwant %v", s.recs[0], w)
			}
		})
	}
	var frames [][]byte
	var names, want []string
	for _, f := range slarpFrames {
		frames, names, want = append(frames, f.frame), append(names, f.name), append(want, "chdlc:slarp")
	}
	t.Run("tshark", func(t *testing.T) {
		checkTsharkProtocols(t, layers.LinkTypeC_HDLC, frames, want, names)
		checkTsharkField(t, layers.LinkTypeC_HDLC, frames, "slarp.ptype", []string{"2", "0", "1"}, names)
	})
	keepalive := slarpFrame(slarpKeepaliveMsg(854577, 7, 0xff04), 0)
	reply := slarpFrames[2].frame
	runFrameCases(t, layers.LinkTypeC_HDLC, []frameCase{
		// a keepalive that ends with its reliability field, without padding
		{"short keepalive", keepalive, Decoded, "", "", types.Type_NC_SLARP, "chdlc:slarp"},
		{"keepalive cut", keepalive[:len(keepalive)-2], Failed, "SLARP packet cut short", "", 0, ""},
		{"reply cut", reply[:14], Failed, "SLARP packet cut short", "", 0, ""},
		{"type cut", reply[:6], Failed, "SLARP packet cut short", "", 0, ""},
		{"unknown type", slarpFrame([]byte{0, 0, 0, 7}, 0), Decoded, "", "", types.Type_NC_SLARP, "chdlc:slarp"},
	})
}

// The test entry: SLARP packets in Cisco HDLC frames for the fuzzer, the
// frames above as cases with tshark's values.
func init() {
	addProtocolTest("SLARP", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypeSLARP, rec: types.Type_NC_SLARP, link: layers.LinkTypeC_HDLC,
			below: []gopacket.LayerType{layerTypeCHDLC},
			wrap:  func(b []byte) []byte { return cat([]byte{0x8f, 0x00, 0x80, 0x35}, b) },
			max:   fuzzMax,
			built: func() [][]byte {
				var out [][]byte
				for _, f := range slarpFrames {
					out = append(out, f.frame[4:])
				}
				return out
			},
		},
		oracle: slarpOracle,
		cases: []packetCase{
			// tshark: SLARP 24 Line keepalive, outgoing sequence 1, returned sequence 0
			{name: "Line keepalive", link: layers.LinkTypeC_HDLC, frame: slarpFrames[0].frame,
				want: map[string]string{"PacketType": "2", "MySequence": "1", "YourSequence": "0", "Reliability": "65535"}},
			// tshark: SLARP 24 Reply, from 192.0.2.1, mask 255.255.255.252
			{name: "Reply", link: layers.LinkTypeC_HDLC, frame: slarpFrames[2].frame,
				want: map[string]string{"PacketType": "1", "Address": "192.0.2.1", "Netmask": "255.255.255.252"}},
		},
	})
}

func FuzzSLARP(f *testing.F) { fuzzLayer(f, "SLARP") }
