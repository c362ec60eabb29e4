package decoder

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// Linux usbmon captures: link type 189 has a 48-byte header per URB event,
// link type 220 (memory-mapped usbmon) a 64-byte one with four more fields.
// The header is in the capturing host's byte order, little-endian on the
// hosts that write these captures. A URB submission of a control transfer
// carries an 8-byte setup packet, which is a USBRequestBlockSetup record.
func init() {
	Register(Protocol{
		Name: "USB", Layer: layers.LayerTypeUSB, Also: []gopacket.LayerType{layerTypeUSBMmapped},
		Records:     []types.Type{types.Type_NC_USB},
		Description: "Linux usbmon URB headers (link types 189 and 220)",
		Oracle:      "no shared capture holds usbmon: TestUSBFields checks built URBs of both header sizes",
		NewDecoder:  func() Decoder { return &usbDecoder{} },
	}, func() gopacket.DecodingLayer { return &usbLayer{} })
	RegisterLayer(layerTypeUSBMmapped, func() gopacket.DecodingLayer { return &usbLayer{mmapped: true} })
	RegisterLink(Link{Type: linkTypeUSBLinux, First: layers.LayerTypeUSB},
		Link{Type: layers.LinkTypeLinuxUSB, First: layerTypeUSBMmapped})
	Register(Protocol{
		Name: "USBRequestBlockSetup", Layer: layers.LayerTypeUSBRequestBlockSetup,
		Records:     []types.Type{types.Type_NC_USBRequestBlockSetup},
		Description: "USB control transfer setup packets",
		Oracle:      "no shared capture holds usbmon: TestUSBFields checks built setup packets",
		NewDecoder:  func() Decoder { return &usbSetupDecoder{} },
	}, func() gopacket.DecodingLayer { return &usbSetupLayer{} })
}

// linkTypeUSBLinux is LINKTYPE_USB_LINUX, the 48-byte usbmon header.
const linkTypeUSBLinux layers.LinkType = 189

// layerTypeUSBMmapped is a usbmon header of link type 220 (64 bytes).
var layerTypeUSBMmapped = gopacket.RegisterLayerType(2190, gopacket.LayerTypeMetadata{Name: "USBMmapped", Decoder: gopacket.DecodeFunc(func([]byte, gopacket.PacketBuilder) error {
	return fmt.Errorf("decoded only by netcap's decoder chain")
})})

type usbLayer struct {
	layers.USB
	mmapped bool
	data    []byte // the URB data after the header
}

func (u *usbLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	n := 48
	if u.mmapped {
		n = 64
	}
	u.USB = layers.USB{}
	if len(data) < n {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, a usbmon header has %d", len(data), n)
	}
	le := binary.LittleEndian
	u.ID = le.Uint64(data[0:8])
	u.EventType = layers.USBEventType(data[8])
	u.TransferType = layers.USBTransportType(data[9])
	u.EndpointNumber = data[10] & 0x7f
	u.Direction = layers.USBDirectionTypeOut
	if data[10]&0x80 != 0 {
		u.Direction = layers.USBDirectionTypeIn
	}
	u.DeviceAddress = data[11]
	u.BusID = le.Uint16(data[12:14])
	u.Setup = data[14] == 0 // the flags are 0 when the setup packet or data is there
	u.Data = data[15] == 0
	u.TimestampSec = int64(le.Uint64(data[16:24]))
	u.TimestampUsec = int32(le.Uint32(data[24:28]))
	u.Status = int32(le.Uint32(data[28:32]))
	u.UrbLength = le.Uint32(data[32:36])
	u.UrbDataLength = le.Uint32(data[36:40])
	if u.mmapped {
		u.UrbInterval = le.Uint32(data[48:52])
		u.UrbStartFrame = le.Uint32(data[52:56])
		u.UrbCopyOfTransferFlags = le.Uint32(data[56:60])
		u.IsoNumDesc = le.Uint32(data[60:64])
	}
	u.data = data[n:]
	u.Contents, u.Payload = data[:n], nil
	if u.Setup {
		u.Payload = data[40:48]
	}
	return nil
}

func (u *usbLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeUSB }

// NextLayerType: the setup packet when there is one; the URB data has no
// decoder (the USB record keeps it with -payload).
func (u *usbLayer) NextLayerType() gopacket.LayerType {
	if u.Setup {
		return layers.LayerTypeUSBRequestBlockSetup
	}
	return gopacket.LayerTypePayload
}

type usbSetupLayer struct{ layers.USBRequestBlockSetup }

func (u *usbSetupLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeUSBRequestBlockSetup }

type usbDecoder struct{ r types.USB }

func (d *usbDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	u := l.(*usbLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.ID = u.ID
	r.EventType = int32(u.EventType)
	r.TransferType = int32(u.TransferType)
	r.Direction = int32(u.Direction)
	r.EndpointNumber = int32(u.EndpointNumber)
	r.DeviceAddress = int32(u.DeviceAddress)
	r.BusID = int32(u.BusID)
	r.TimestampSec = u.TimestampSec
	r.TimestampUsec = u.TimestampUsec
	r.Setup = u.Setup
	r.Data = u.Data
	r.Status = u.Status
	r.UrbLength = u.UrbLength
	r.UrbDataLength = u.UrbDataLength
	r.UrbInterval = u.UrbInterval
	r.UrbStartFrame = u.UrbStartFrame
	r.UrbCopyOfTransferFlags = u.UrbCopyOfTransferFlags
	r.IsoNumDesc = u.IsoNumDesc
	r.Payload = payload(p, u.data)
	s.Emit(types.Type_NC_USB, r)
}

type usbSetupDecoder struct{ r types.USBRequestBlockSetup }

func (d *usbSetupDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	u := l.(*usbSetupLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.RequestType = int32(u.RequestType)
	r.Request = int32(u.Request)
	r.Value = int32(u.Value)
	r.Index = int32(u.Index)
	r.Length = int32(u.Length)
	s.Emit(types.Type_NC_USBRequestBlockSetup, r)
}
