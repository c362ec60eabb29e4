package decoder

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	Register(Protocol{
		Name: "Modbus", Layer: layers.LayerTypeModbus, Records: []types.Type{types.Type_NC_Modbus},
		Description: "Modbus/TCP (port 502) application data units, one record per ADU of a segment",
		Oracle:      "no shared capture holds Modbus/TCP: the cases of modbus_test.go are compared with tshark",
		NewDecoder:  func() Decoder { return &modbusDecoder{} },
		Segments:    true,
	}, func() gopacket.DecodingLayer { return &modbusLayer{} })
}

// modbusLayer is gopacket's Modbus ADU (MBAP header, function code, data),
// which gopacket maps to TCP port 502, with what the chain needs: a segment
// may carry several ADUs, so another Modbus layer follows as long as a
// whole ADU is left; a protocol identifier other than 0 is not Modbus
// (tshark does not dissect it either).
type modbusLayer struct{ layers.Modbus }

func (m *modbusLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := m.Modbus.DecodeFromBytes(data, df); err != nil {
		return fmt.Errorf("Modbus/TCP: %v (%d bytes; a segment that continues an ADU is not decoded)", err, len(data))
	}
	if m.ProtocolID != 0 {
		return fmt.Errorf("Modbus/TCP: protocol identifier %d, 0 expected", m.ProtocolID)
	}
	return nil
}

func (m *modbusLayer) NextLayerType() gopacket.LayerType {
	if modbusWholeADU(m.Payload) {
		return layers.LayerTypeModbus
	}
	return gopacket.LayerTypePayload
}

// modbusWholeADU reports whether b starts with a complete ADU.
func modbusWholeADU(b []byte) bool {
	if len(b) < layers.MinModbusPacketLen || binary.BigEndian.Uint16(b[2:4]) != 0 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	return n >= 2 && 6+n <= len(b)
}

type modbusDecoder struct{ r types.Modbus }

// Decode splits the function code byte as tshark does: FunctionCode is the
// code without the exception bit, Exception says whether it was set.
func (d *modbusDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	m := &l.(*modbusLayer).Modbus
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.TransactionID = int32(m.TransactionID)
	r.ProtocolID = int32(m.ProtocolID)
	r.Length = int32(m.Length)
	r.UnitID = int32(m.UnitID)
	r.Exception = m.Exception
	r.FunctionCode = int32(m.FunctionCode & 0x7f)
	r.Payload = payload(p, m.ReqResp)
	s.Emit(types.Type_NC_Modbus, r)
}
