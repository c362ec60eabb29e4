package decoder

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// No shared capture holds Modbus/TCP: the cases below, segments written
// from the Modbus/TCP specification (MBAP header, then the PDU), are
// compared with tshark through the oracle entry.
func init() {
	addProtocolTest("Modbus", protocolTest{
		cases: modbusCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeModbus, rec: types.Type_NC_Modbus, link: layers.LinkTypeEthernet,
			below: tcp4Stack, wrap: overTCP4(40000, 502), max: fuzzMax,
			built: func() [][]byte {
				return [][]byte{
					{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2},                                  // read holding registers
					{0, 1, 0, 0, 0, 3, 1, 0x83, 2, 0, 2, 0, 0, 0, 5, 1, 4, 2, 0x12, 0x34}, // exception, then a response
				}
			},
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_Modbus, protos: []string{"mbtcp"},
				fields: []tsField{
					{ours: "TransactionID", tshark: "mbtcp.trans_id", want: tsNum("mbtcp.trans_id")},
					{ours: "ProtocolID", tshark: "mbtcp.prot_id", want: tsNum("mbtcp.prot_id")},
					{ours: "Length", tshark: "mbtcp.len", want: tsNum("mbtcp.len")},
					{ours: "UnitID", tshark: "mbtcp.unit_id", want: tsNum("mbtcp.unit_id")},
					{ours: "FunctionCode", tshark: "modbus.func_code (without the exception bit) of the PDU after the MBAP header",
						want: modbusPDU(tsNum("modbus.func_code"))},
					{ours: "Exception", tshark: "modbus.exception_code present", want: modbusPDU(modbusException)},
				},
				skip: map[string]string{"Payload": "the data after the function code, which tshark splits into fields per function"},
			},
		},
	})
}

func FuzzModbus(f *testing.F) { fuzzLayer(f, "Modbus") }

// modbusPDU evaluates w on the PDU that follows the MBAP header p: tshark
// shows them as two protocols, mbtcp and modbus.
func modbusPDU(w tsWant) tsWant {
	return func(k *tsPacket, p *tsNode) (string, bool) {
		for i, q := range k.protos {
			if q == p && i+1 < len(k.protos) && k.protos[i+1].name == "modbus" {
				return w(k, k.protos[i+1])
			}
		}
		return "", false
	}
}

// modbusException: tshark shows an exception code only in an exception
// response.
func modbusException(_ *tsPacket, pdu *tsNode) (string, bool) {
	if pdu.field("modbus.exception_code") != nil {
		return "1", true
	}
	return "0", true
}

// modbusCases are Modbus/TCP segments from client 10.0.0.1 to server
// 10.0.0.2 (port 502) and back, one or more ADUs each; the expected values
// are tshark's (tshark -T fields -e mbtcp.trans_id ...).
var modbusCases = []packetCase{
	// tshark: 10.0.0.1 → 10.0.0.2 Modbus/TCP 66 Query: Trans: 1; Unit: 1, Func: 3: Read Holding Registers
	{name: "read holding registers", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003400000000400666c20a0000010a00 00029c4001f6000003e8000013885018 0200e29f00000001000000060103006b 0003",
		want: map[string]string{"TransactionID": "1", "ProtocolID": "0", "Length": "6", "UnitID": "1", "FunctionCode": "3", "Exception": "0"}},
	// tshark: 10.0.0.2 → 10.0.0.1 Modbus/TCP 69 Response: Trans: 1; Unit: 1, Func: 3: Read Holding Registers
	{name: "read holding registers response", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003700000000400666bf0a0000020a00 000101f69c4000001388000003f45018 02004df9000000010000000901030602 2b00000064",
		want: map[string]string{"TransactionID": "1", "ProtocolID": "0", "Length": "9", "UnitID": "1", "FunctionCode": "3", "Exception": "0"}},
	// tshark: 10.0.0.2 → 10.0.0.1 Modbus/TCP 63 Response: Trans: 2; Unit: 1, Func: 3: Read Holding Registers. Exception returned
	{name: "exception response, illegal data address", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003100000000400666c50a0000020a00 000101f69c4000001397000003f45018 0200e0770000000200000003018302",
		want: map[string]string{"TransactionID": "2", "ProtocolID": "0", "Length": "3", "UnitID": "1", "FunctionCode": "3", "Exception": "1"}},
	// tshark: 10.0.0.1 → 10.0.0.2 Modbus/TCP 71 Query: Trans: 3; Unit: 1, Func: 16: Write Multiple Registers
	{name: "write multiple registers", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003900000000400666bd0a0000010a00 00029c4001f6000003f4000013a05018 0200d2cc000000030000000b01100001 000204000a0102",
		want: map[string]string{"TransactionID": "3", "ProtocolID": "0", "Length": "11", "UnitID": "1", "FunctionCode": "16", "Exception": "0"}},
	// tshark: 10.0.0.1 → 10.0.0.2 Modbus/TCP 78 Query: Trans: 5; Unit: 17, Func: 4: Read Input Registers
	{name: "two ADUs in one segment", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 004000000000400666b60a0000010a00 00029c4001f600000405000013a05018 0200c1a7000000040000000611030000 0001000500000006110400100002",
		want: map[string]string{"TransactionID": "4", "ProtocolID": "0", "Length": "6", "UnitID": "17", "FunctionCode": "3", "Exception": "0"}},
	// tshark: 10.0.0.1 → 10.0.0.2 Modbus/TCP 66 Query: Trans: 6; Unit: 255, Func: 1: Read Coils
	{name: "read coils, unit 255", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 003400000000400666c20a0000010a00 00029c4001f60000041d000013a05018 0200e4960000000600000006ff010013 0013",
		want: map[string]string{"TransactionID": "6", "ProtocolID": "0", "Length": "6", "UnitID": "255", "FunctionCode": "1", "Exception": "0"}},
}
