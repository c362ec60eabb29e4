package decoder

// The tshark oracle entry of the ISIS record (registered in isis_test.go).

import (
	"fmt"
	"strings"

	"github.com/netcap/netcap/types"
)

func init() { ourProtocols["isis"] = true }

var isisOracle = tsRecord{
	typ: types.Type_NC_ISIS, protos: []string{"isis"},
	fields: []tsField{
		{ours: "HeaderLength", tshark: "isis.len", want: tsNum("isis.len")},
		{ours: "Version", tshark: "isis.version", want: tsNum("isis.version")},
		{ours: "SystemIDLength", tshark: "isis.sysid_len", want: tsNum("isis.sysid_len")},
		{ours: "PDUType", tshark: "isis.type", want: tsNum("isis.type")},
		{ours: "MaxAreaAddresses", tshark: "isis.max_area_adr", want: tsNum("isis.max_area_adr")},
		{ours: "PDULength", tshark: "isis.{hello,lsp,csnp,psnp}.pdu_length",
			want: isisBodyNum("isis.hello.pdu_length", "isis.lsp.pdu_length", "isis.csnp.pdu_length", "isis.psnp.pdu_length")},
		{ours: "CircuitType", tshark: "isis.hello.circuit_type", want: isisBodyNum("isis.hello.circuit_type")},
		{ours: "SourceID", tshark: "isis.{hello,csnp,psnp}.source_id",
			want: isisBodyText("isis.hello.source_id", "isis.csnp.source_id", "isis.psnp.source_id")},
		{ours: "HoldingTime", tshark: "isis.hello.holding_timer", want: isisBodyNum("isis.hello.holding_timer")},
		{ours: "Priority", tshark: "isis.hello.priority", want: isisBodyNum("isis.hello.priority")},
		{ours: "LANID", tshark: "isis.hello.lan_id", want: isisBodyText("isis.hello.lan_id")},
		{ours: "LocalCircuitID", tshark: "isis.hello.local_circuit_id", want: isisBodyNum("isis.hello.local_circuit_id")},
		{ours: "RemainingLifetime", tshark: "isis.lsp.remaining_life", want: isisBodyNum("isis.lsp.remaining_life")},
		{ours: "LSPID", tshark: "isis.lsp.lsp_id", want: isisBodyText("isis.lsp.lsp_id")},
		{ours: "SequenceNumber", tshark: "isis.lsp.sequence_number", want: isisBodyNum("isis.lsp.sequence_number")},
		{ours: "Checksum", tshark: "isis.lsp.checksum", want: isisBodyNum("isis.lsp.checksum")},
		{ours: "StartLSPID", tshark: "isis.csnp.start_lsp_id", want: isisBodyText("isis.csnp.start_lsp_id")},
		{ours: "EndLSPID", tshark: "isis.csnp.end_lsp_id", want: isisBodyText("isis.csnp.end_lsp_id")},
		{ours: "AreaAddresses", tshark: "isis.{hello,lsp}.area_address without its length byte, as tcpdump writes it",
			want: isisBodyAll(tsISISArea, "isis.hello.area_address", "isis.lsp.area_address")},
		{ours: "TLVTypes", tshark: "isis.{hello,lsp,csnp,psnp}.clv.type",
			want: isisBodyAll(same, "isis.hello.clv.type", "isis.lsp.clv.type", "isis.csnp.clv.type", "isis.psnp.clv.type")},
	},
}

// isisBody is tshark's protocol of the PDU's body (isis.hello, isis.lsp,
// isis.csnp or isis.psnp), which tshark shows after the header protocol p
// rather than inside it.
func isisBody(k *tsPacket, p *tsNode) *tsNode {
	for i, q := range k.protos {
		if q == p && i+1 < len(k.protos) && strings.HasPrefix(k.protos[i+1].name, "isis.") {
			return k.protos[i+1]
		}
	}
	return nil
}

func isisBodyNum(names ...string) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		return tsFirstNum(names...)(k, isisBody(k, p))
	}
}

func isisBodyText(names ...string) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		return tsText(names...)(k, isisBody(k, p))
	}
}

// isisBodyAll joins every field of the body called one of names, in order;
// the empty list when the body has none. Not compared in malformed packets.
func isisBodyAll(conv func(string) string, names ...string) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		b := isisBody(k, p)
		if b == nil || k.malformed {
			// tshark stops listing at the TLV its exception happened in
			return "", false
		}
		var parts []string
		b.walk(func(f *tsNode) bool {
			for _, n := range names {
				if f.name == n && !f.proto {
					parts = append(parts, conv(f.show))
				}
			}
			return true
		})
		return strings.Join(parts, ","), true
	}
}

// tsISISArea turns tshark's area address, its length byte and the address as
// colon-separated hex (03:49:00:01), into tcpdump's form (49.0001).
func tsISISArea(s string) string {
	bs := strings.Split(s, ":")
	if len(bs) < 2 {
		return "" // only the length byte: an address of no bytes
	}
	var sb strings.Builder
	for i, x := range bs[1:] {
		fmt.Fprintf(&sb, "%s", strings.ToLower(x))
		if i%2 == 0 && i+2 < len(bs) {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}
