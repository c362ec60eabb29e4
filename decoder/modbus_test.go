package decoder

import (
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netcap/netcap/types"
)

// modbusSegments are Modbus/TCP segments (MBAP header and PDU), one or
// more ADUs each, client to server unless the name says response.
var modbusSegments = []struct {
	name     string
	response bool
	adus     string // hex
}{
	{"read holding registers", false, "0001000000060103006b0003"},
	{"read holding registers response", true, "000100000009010306022b00000064"},
	{"exception response, illegal data address", true, "0002000000030183" + "02"},
	{"write multiple registers", false, "0003000000 0b01100001000204000a0102"},
	{"two ADUs in one segment", false, "000400000006110300000001" + "000500000006110400100002"},
	{"read coils, unit 255", false, "00060000000 6ff0100130013"},
}

// TestModbus decodes built Modbus/TCP segments and compares each record
// with what tshark shows for the same segment: transaction id, protocol id,
// length, unit id, function code and the exception bit.
func TestModbus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modbus.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	d := NewPacketDecoder(func(tt types.Type) bool { return tt == types.Type_NC_Modbus }, DefaultOptions())
	var ours [][]string // per frame: one line per ADU
	seq := [2]uint32{1000, 5000}
	for i, seg := range modbusSegments {
		adus, err := hex.DecodeString(strings.ReplaceAll(seg.adus, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", seg.name, err)
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}, Protocol: layers.IPProtocolTCP}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 502, Seq: seq[0], Ack: seq[1], ACK: true, PSH: true, Window: 512}
		side := 0
		if seg.response {
			ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
			tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack = 502, 40000, seq[1], seq[0]
			side = 1
		}
		seq[side] += uint32(len(adus))
		tcp.SetNetworkLayerForChecksum(ip)
		frame := buildPacket(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, tcp, gopacket.Payload(adus))
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
		s := &recordSink{}
		meta := Packet{Frame: int64(i + 1), Timestamp: ci.Timestamp.UnixNano(), CaptureLength: len(frame), Length: len(frame)}
		if st, reason := d.Decode(frame, layers.LinkTypeEthernet, &meta, s); st != Decoded {
			t.Fatalf("%s: %v %s", seg.name, st, reason)
		}
		var lines []string
		for _, r := range s.recs {
			m := r.(*types.Modbus)
			lines = append(lines, strings.Join([]string{itoa(m.TransactionID), itoa(m.ProtocolID), itoa(m.Length), itoa(m.UnitID),
				itoa(m.FunctionCode), strconv.FormatBool(m.Exception)}, " "))
		}
		ours = append(ours, lines)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: the records were made, but not compared")
	}
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "mbtcp.trans_id", "-e", "mbtcp.prot_id", "-e", "mbtcp.len", "-e", "mbtcp.unit_id", "-e", "modbus.func_code",
		"-e", "modbus.exception_code").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	rows := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(rows) != len(modbusSegments) {
		t.Fatalf("tshark shows %d frames, want %d:\n%s", len(rows), len(modbusSegments), out)
	}
	for i, row := range rows {
		// tshark shows the function code without the exception bit
		// and, for an exception, the exception code; one value per ADU.
		cols := strings.Split(row, "\t")
		var want []string
		for j := range strings.Split(cols[0], ",") {
			var v []string
			for _, c := range cols[:5] {
				vals := strings.Split(c, ",")
				v = append(v, vals[min(j, len(vals)-1)])
			}
			want = append(want, strings.Join(append(v, strconv.FormatBool(cols[5] != "")), " "))
		}
		if got := strings.Join(ours[i], "; "); got != strings.Join(want, "; ") {
			t.Errorf("%s: ours %q, tshark %q", modbusSegments[i].name, got, strings.Join(want, "; "))
		}
	}
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

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
	})
}

func FuzzModbus(f *testing.F) { fuzzLayer(f, "Modbus") }

// modbusCases are packets of Modbus built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var modbusCases = []packetCase{
	// tshark: 192.0.2.1 → 198.51.100.7 Modbus/TCP 66 Query: Trans: 1; Unit: 1, Func: 3: Read Holding Registers
	{name: "Query: Trans: 1; Unit: 1, Func: 3: Read Holding Registers", link: layers.LinkTypeEthernet,
		hex:  "02000000000202000000000108004500 00341234000040067c54c0000201c633 64079c4001f6000003e8000007d05018 20000000000000010000000601030000 0002",
		want: map[string]string{"TransactionID": "1", "ProtocolID": "0", "Length": "6", "UnitID": "1", "FunctionCode": "3"}},
}
