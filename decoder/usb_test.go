package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("USB", protocolTest{
		cases: usbCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeUSB, rec: types.Type_NC_USB, link: linkTypeUSBLinux,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte { return [][]byte{usbSeed(false, true), usbSeed(false, false)} },
		},
	})
	addProtocolTest("USBRequestBlockSetup", protocolTest{
		cases: usbRequestBlockSetupCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeUSBRequestBlockSetup, rec: types.Type_NC_USBRequestBlockSetup, link: layers.LinkTypeLinuxUSB,
			below: []gopacket.LayerType{layerTypeUSBMmapped}, max: fuzzMax,
			// the fuzz bytes are the setup packet and what follows the header
			wrap: func(b []byte) []byte {
				h := usbSeed(true, true)[:64]
				copy(h[40:48], b)
				if len(b) > 8 {
					return cat(h, b[8:])
				}
				return h
			},
			built: func() [][]byte { return [][]byte{{0x80, 6, 0, 1, 0, 0, 0x12, 0}} },
		},
	})
}

func FuzzUSB(f *testing.F)                  { fuzzLayer(f, "USB") }
func FuzzUSBRequestBlockSetup(f *testing.F) { fuzzLayer(f, "USBRequestBlockSetup") }

// usbCases are packets of USB built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var usbCases = []packetCase{
	// tshark: host → 1.3.0 USB 48 GET DESCRIPTOR Request DEVICE
	{name: "GET DESCRIPTOR Request DEVICE", link: linkTypeUSBLinux,
		hex:  "405e1c3b0088ffff530280030100003c 00f153650000000040e201008dffffff 12000000000000008006000100001200",
		want: map[string]string{"ID": "18446612133305933376", "EventType": "83", "TransferType": "2", "EndpointNumber": "0", "DeviceAddress": "3", "BusID": "1", "TimestampSec": "1700000000", "TimestampUsec": "123456", "Status": "-115", "UrbLength": "18", "UrbDataLength": "0", "Setup": "1", "Data": "0"}},
	// tshark: 1.3.1 → host USB 52 URB_BULK in
	{name: "URB_BULK in", link: linkTypeUSBLinux,
		hex:  "405e1c3b0088ffff4303810301002d00 00f153650000000040e2010000000000 04000000040000000000000000000000 01020304",
		want: map[string]string{"EventType": "67", "TransferType": "3", "EndpointNumber": "1", "Status": "0", "UrbLength": "4", "UrbDataLength": "4", "Setup": "0", "Data": "1"}},
}

// usbRequestBlockSetupCases are packets of USBRequestBlockSetup built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var usbRequestBlockSetupCases = []packetCase{
	// tshark: host → 1.3.0 USB 64 GET DESCRIPTOR Request DEVICE
	{name: "GET DESCRIPTOR Request DEVICE", link: layers.LinkTypeLinuxUSB,
		hex:  "405e1c3b0088ffff530280030100003c 00f153650000000040e201008dffffff 12000000000000008006000100001200 00000000000000000002000000000000",
		want: map[string]string{"RequestType": "128", "Request": "6", "Value": "256", "Index": "0", "Length": "18"}},
	// tshark: host → 1.3.0 USB 48 GET DESCRIPTOR Request DEVICE
	{name: "GET DESCRIPTOR Request DEVICE", link: linkTypeUSBLinux,
		hex:  "405e1c3b0088ffff530280030100003c 00f153650000000040e201008dffffff 12000000000000008006000100001200",
		want: map[string]string{"RequestType": "128", "Request": "6", "Value": "256", "Index": "0", "Length": "18"}},
}

func TestUSBFields(t *testing.T) {
	for _, mm := range []bool{false, true} {
		link := linkTypeUSBLinux
		if mm {
			link = layers.LinkTypeLinuxUSB
		}
		recs := decodeOne(t, usbSeed(mm, true), link)
		u := one[*types.USB](t, recs, types.Type_NC_USB)
		if u.ID != 0xffff88003b1c5e40 || u.EventType != 'S' || u.TransferType != 2 || u.Direction != int32(layers.USBDirectionTypeIn) ||
			u.EndpointNumber != 0 || u.DeviceAddress != 3 || u.BusID != 1 || !u.Setup || u.Data || u.TimestampSec != 1700000000 ||
			u.TimestampUsec != 123456 || u.Status != -115 || u.UrbLength != 18 || u.UrbDataLength != 0 {
			t.Errorf("mmapped %v: %v", mm, u)
		}
		if mm && u.UrbCopyOfTransferFlags != 0x200 {
			t.Errorf("mmapped transfer flags %#x", u.UrbCopyOfTransferFlags)
		}
		s := one[*types.USBRequestBlockSetup](t, recs, types.Type_NC_USBRequestBlockSetup)
		if s.RequestType != 0x80 || s.Request != 6 || s.Value != 0x100 || s.Index != 0 || s.Length != 18 {
			t.Errorf("GET_DESCRIPTOR setup: %v", s)
		}
		recs = decodeOne(t, usbSeed(mm, false), link)
		u = one[*types.USB](t, recs, types.Type_NC_USB)
		if u.Setup || !u.Data || u.EndpointNumber != 1 || u.UrbDataLength != 4 || len(recs[types.Type_NC_USBRequestBlockSetup]) != 0 {
			t.Errorf("bulk completion, mmapped %v: %v", mm, u)
		}
	}
}

// usbSeed is a usbmon event: a control setup submission (with the setup
// packet GET_DESCRIPTOR) or a bulk completion with 4 bytes of data; the
// header is 48 bytes, or 64 with mmapped.
func usbSeed(mmapped, setup bool) []byte {
	n := 48
	if mmapped {
		n = 64
	}
	b := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint64(b, 0xffff88003b1c5e40)
	b[8], b[9], b[10], b[11] = 'S', 2, 0x80, 3
	le.PutUint16(b[12:], 1)
	b[14], b[15] = 0, '<'
	le.PutUint64(b[16:], 1700000000)
	le.PutUint32(b[24:], 123456)
	le.PutUint32(b[28:], 0xffffff8d) // -EINPROGRESS
	le.PutUint32(b[32:], 18)
	copy(b[40:], []byte{0x80, 6, 0, 1, 0, 0, 0x12, 0})
	if mmapped {
		le.PutUint32(b[48:], 0)
		le.PutUint32(b[56:], 0x200)
	}
	if !setup {
		b[8], b[9], b[10], b[14], b[15] = 'C', 3, 0x81, '-', 0
		le.PutUint32(b[28:], 0)
		le.PutUint32(b[32:], 4)
		le.PutUint32(b[36:], 4)
		clear(b[40:48])
		b = append(b, 1, 2, 3, 4)
	}
	return b
}
