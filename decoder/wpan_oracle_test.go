package decoder

// The tshark oracle entry of the WPAN record (IEEE 802.15.4; registered in
// wpan_test.go).

import "github.com/netcap/netcap/types"

func init() { ourProtocols["wpan"] = true }

var wpanOracle = []tsRecord{{
	typ: types.Type_NC_WPAN, protos: []string{"wpan"},
	fields: []tsField{
		{ours: "FrameType", tshark: "wpan.frame_type", want: tsNum("wpan.frame_type")},
		{ours: "SecurityEnabled", tshark: "wpan.security", want: tsNum("wpan.security")},
		{ours: "FramePending", tshark: "wpan.pending", want: tsNum("wpan.pending")},
		{ours: "AckRequest", tshark: "wpan.ack_request", want: tsNum("wpan.ack_request")},
		{ours: "PANIDCompression", tshark: "wpan.pan_id_compression", want: tsNum("wpan.pan_id_compression")},
		{ours: "SequenceNumberSuppression", tshark: "wpan.seqno_suppression", want: tsNum("wpan.seqno_suppression")},
		{ours: "IEPresent", tshark: "wpan.ie_present", want: tsNum("wpan.ie_present")},
		{ours: "DstAddrMode", tshark: "wpan.dst_addr_mode", want: tsNum("wpan.dst_addr_mode")},
		{ours: "FrameVersion", tshark: "wpan.version", want: tsNum("wpan.version")},
		{ours: "SrcAddrMode", tshark: "wpan.src_addr_mode", want: tsNum("wpan.src_addr_mode")},
		{ours: "SequenceNumber", tshark: "wpan.seq_no", want: tsNum("wpan.seq_no")},
		{ours: "DstPANID", tshark: "wpan.dst_pan", want: tsNum("wpan.dst_pan")},
		{ours: "DstAddr", tshark: "wpan.dst16 / wpan.dst64", want: tsText("wpan.dst16", "wpan.dst64")},
		{ours: "SrcPANID", tshark: "wpan.src_pan", want: tsNum("wpan.src_pan")},
		{ours: "SrcAddr", tshark: "wpan.src16 / wpan.src64", want: tsText("wpan.src16", "wpan.src64")},
	},
}}
