package decoder

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// VSOCK is the socket family between virtual machines and their host. The
// Linux vsockmon device shows its packets (link type 271) behind a 32-byte
// monitor header, little endian (linux/vsockmon.h): source and destination
// context IDs and ports, the operation, the transport and the length of the
// transport's header that follows; for virtio that header (44 bytes,
// linux/virtio_vsock.h) repeats the addresses and adds the packet type, the
// operation and the credit counters. gopacket has no layer for it.
func init() {
	Register(Protocol{
		Name: "VSOCK", Layer: layerTypeVSOCK, Records: []types.Type{types.Type_NC_VSOCK},
		Description: "Linux vsock monitor headers and virtio vsock headers (link type 271)",
		NewDecoder:  func() Decoder { return &vsockDecoder{} },
	}, func() gopacket.DecodingLayer { return &vsockLayer{} })
	RegisterLink(Link{Type: linkTypeVSOCK, First: layerTypeVSOCK})
}

const linkTypeVSOCK layers.LinkType = 271

var layerTypeVSOCK = gopacket.RegisterLayerType(2271, gopacket.LayerTypeMetadata{Name: "VSOCK"})

var (
	errVSOCKShort  = errors.New("vsock monitor header cut short")
	errVirtioShort = errors.New("virtio vsock header cut short")
)

const (
	vsockHeaderLen  = 32
	virtioHeaderLen = 44
	vsockVirtio     = 2 // the monitor header's transport value for virtio
)

type vsockLayer struct {
	layers.BaseLayer
	SrcCID, DstCID           uint64
	SrcPort, DstPort         uint32
	Op, Transport, TransLen  uint16
	Virtio                   bool
	VType, VOp               uint16
	VLen, VFlags, VBuf, VFwd uint32
}

func (l *vsockLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	*l = vsockLayer{}
	if len(data) < vsockHeaderLen {
		df.SetTruncated()
		return errVSOCKShort
	}
	le := binary.LittleEndian
	l.SrcCID, l.DstCID = le.Uint64(data), le.Uint64(data[8:])
	l.SrcPort, l.DstPort = le.Uint32(data[16:]), le.Uint32(data[20:])
	l.Op, l.Transport, l.TransLen = le.Uint16(data[24:]), le.Uint16(data[26:]), le.Uint16(data[28:])
	end := vsockHeaderLen + int(l.TransLen)
	if len(data) < end {
		df.SetTruncated()
		return errVSOCKShort
	}
	if l.Transport == vsockVirtio {
		if l.TransLen < virtioHeaderLen {
			return errVirtioShort
		}
		v := data[vsockHeaderLen:]
		l.Virtio = true
		l.VLen, l.VType, l.VOp = le.Uint32(v[24:]), le.Uint16(v[28:]), le.Uint16(v[30:])
		l.VFlags, l.VBuf, l.VFwd = le.Uint32(v[32:]), le.Uint32(v[36:]), le.Uint32(v[40:])
	}
	l.Contents, l.Payload = data[:end], data[end:]
	return nil
}

func (l *vsockLayer) CanDecode() gopacket.LayerClass { return layerTypeVSOCK }

// NextLayerType: what a vsock connection carries is the application's own
// bytes (the record counts them).
func (l *vsockLayer) NextLayerType() gopacket.LayerType {
	if len(l.Payload) > 0 {
		return gopacket.LayerTypePayload
	}
	return gopacket.LayerTypeZero
}

type vsockDecoder struct{ r types.VSOCK }

func (d *vsockDecoder) Decode(dl gopacket.DecodingLayer, p *Packet, s Sink) {
	l := dl.(*vsockLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.SrcCID, r.DstCID, r.SrcVsockPort, r.DstVsockPort = l.SrcCID, l.DstCID, l.SrcPort, l.DstPort
	r.Op, r.Transport, r.TransportLength = int32(l.Op), int32(l.Transport), int32(l.TransLen)
	if l.Virtio {
		r.VirtioType, r.VirtioOp, r.VirtioFlags = int32(l.VType), int32(l.VOp), l.VFlags
		r.VirtioBufAlloc, r.VirtioFwdCount, r.VirtioLength = l.VBuf, l.VFwd, l.VLen
	}
	r.PayloadSize = int32(len(l.Payload))
	s.Emit(types.Type_NC_VSOCK, r)
}
