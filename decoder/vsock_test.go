package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/netcap/netcap/types"
)

// vsockHeader is a vsock monitor header (linux/vsockmon.h, little endian)
// followed by trans, the transport's header.
func vsockHeader(src, dst uint64, sport, dport uint32, op, transport uint16, trans []byte) []byte {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, src)
	b = le.AppendUint64(b, dst)
	b = le.AppendUint32(b, sport)
	b = le.AppendUint32(b, dport)
	b = le.AppendUint16(b, op)
	b = le.AppendUint16(b, transport)
	b = le.AppendUint16(b, uint16(len(trans)))
	return append(append(b, 0, 0), trans...)
}

// virtioHeader is a virtio vsock header (linux/virtio_vsock.h).
func virtioHeader(src, dst uint64, sport, dport, length uint32, typ, op uint16, flags, buf, fwd uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, src)
	b = le.AppendUint64(b, dst)
	b = le.AppendUint32(b, sport)
	b = le.AppendUint32(b, dport)
	b = le.AppendUint32(b, length)
	b = le.AppendUint16(b, typ)
	b = le.AppendUint16(b, op)
	b = le.AppendUint32(b, flags)
	b = le.AppendUint32(b, buf)
	return le.AppendUint32(b, fwd)
}

// vsockFrames are a guest's connection to the host as vsockmon shows it:
// request, response, a payload of 5 bytes, a shutdown.
var vsockFrames = [][]byte{
	vsockHeader(3, 2, 1024, 1234, 1, 2, virtioHeader(3, 2, 1024, 1234, 0, 1, 1, 0, 262144, 0)),
	vsockHeader(2, 3, 1234, 1024, 1, 2, virtioHeader(2, 3, 1234, 1024, 0, 1, 2, 0, 262144, 0)),
	append(vsockHeader(3, 2, 1024, 1234, 4, 2, virtioHeader(3, 2, 1024, 1234, 5, 1, 5, 0, 262144, 0)), "hello"...),
	vsockHeader(3, 2, 1024, 1234, 2, 2, virtioHeader(3, 2, 1024, 1234, 0, 1, 4, 3, 262144, 5)),
}

func TestVSOCK(t *testing.T) {
	var names, protos []string
	for range vsockFrames {
		names, protos = append(names, "frame"), append(protos, "vsock")
	}
	t.Run("tshark", func(t *testing.T) {
		checkTsharkProtocols(t, linkTypeVSOCK, vsockFrames, protos, names)
		checkTsharkField(t, linkTypeVSOCK, vsockFrames, "vsock.virtio.op", []string{"1", "2", "5", "4"}, names)
	})
	full := vsockFrames[2]
	runFrameCases(t, linkTypeVSOCK, []frameCase{
		{"payload", full, Decoded, "", "", types.Type_NC_VSOCK, "vsock"},
		{"monitor header cut", full[:20], Failed, "vsock monitor header cut short", "", 0, ""},
		{"virtio header cut", full[:50], Failed, "vsock monitor header cut short", "", 0, ""},
		{"virtio header too short", vsockHeader(3, 2, 1, 2, 4, 2, make([]byte, 10)), Failed, "virtio vsock header cut short", "", 0, ""},
		{"no transport header", vsockHeader(3, 2, 1, 2, 3, 1, nil), Decoded, "", "", types.Type_NC_VSOCK, "vsock"},
	})
}

func init() {
	addProtocolTest("VSOCK", protocolTest{
		fuzz: &fuzzTarget{
			layer: layerTypeVSOCK, rec: types.Type_NC_VSOCK, link: linkTypeVSOCK,
			wrap: func(b []byte) []byte { return b }, max: fuzzMax,
			built: func() [][]byte { return vsockFrames },
		},
		oracle: vsockOracle,
		cases: []packetCase{
			// tshark: vSocket 76 Op: Connect, Transport: Virtio
			{name: "Request", link: linkTypeVSOCK, frame: vsockFrames[0],
				want: map[string]string{"SrcCID": "3", "DstCID": "2", "SrcVsockPort": "1024", "DstVsockPort": "1234", "Op": "1",
					"Transport": "2", "TransportLength": "44", "VirtioType": "1", "VirtioOp": "1", "VirtioBufAlloc": "262144"}},
			// tshark: vSocket 81 Op: Payload, Transport: Virtio
			{name: "Payload", link: linkTypeVSOCK, frame: vsockFrames[2],
				want: map[string]string{"Op": "4", "VirtioOp": "5", "VirtioLength": "5", "PayloadSize": "5"}},
			// tshark: vSocket 76 Op: Disconnect, Transport: Virtio
			{name: "Shutdown", link: linkTypeVSOCK, frame: vsockFrames[3],
				want: map[string]string{"Op": "2", "VirtioOp": "4", "VirtioFlags": "3", "VirtioFwdCount": "5"}},
		},
	})
}

var vsockOracle = []tsRecord{{
	typ: types.Type_NC_VSOCK, protos: []string{"vsock"},
	fields: []tsField{
		{ours: "SrcCID", tshark: "vsock.src_cid", want: tsNum("vsock.src_cid")},
		{ours: "DstCID", tshark: "vsock.dst_cid", want: tsNum("vsock.dst_cid")},
		{ours: "SrcVsockPort", tshark: "vsock.src_port", want: tsNum("vsock.src_port")},
		{ours: "DstVsockPort", tshark: "vsock.dst_port", want: tsNum("vsock.dst_port")},
		{ours: "Op", tshark: "vsock.op", want: tsNum("vsock.op")},
		{ours: "Transport", tshark: "vsock.trans", want: tsNum("vsock.trans")},
		{ours: "TransportLength", tshark: "vsock.trans_len", want: tsNum("vsock.trans_len")},
		{ours: "VirtioType", tshark: "vsock.virtio.type", want: tsNum("vsock.virtio.type")},
		{ours: "VirtioOp", tshark: "vsock.virtio.op", want: tsNum("vsock.virtio.op")},
		{ours: "VirtioFlags", tshark: "vsock.virtio.flags", want: tsNum("vsock.virtio.flags")},
		{ours: "VirtioBufAlloc", tshark: "vsock.virtio.buf_alloc", want: tsNum("vsock.virtio.buf_alloc")},
		{ours: "VirtioFwdCount", tshark: "vsock.virtio.fwd_cnt", want: tsNum("vsock.virtio.fwd_cnt")},
		{ours: "VirtioLength", tshark: "vsock.virtio.len", want: tsNum("vsock.virtio.len")},
	},
	skip: map[string]string{"PayloadSize": "tshark shows the payload (vsock.payload) only for some operations; the cases check it"},
}}

func FuzzVSOCK(f *testing.F) { fuzzLayer(f, "VSOCK") }
