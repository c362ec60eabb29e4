package decoder

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// packetCase is a packet of a protocol, built by the test (never copied
// from a public capture), with what its record must hold. The protocol's
// test file writes tshark's one-line summary of the frame (tshark -r) in a
// comment above each case; TestProtocolCases compares the records with
// tshark's dissection of the frame.
type packetCase struct {
	name  string
	link  layers.LinkType
	hex   string     // the whole frame; spaces are ignored
	frame []byte     // the whole frame, where hex is ""
	rec   types.Type // the record checked; 0: the protocol's first record type
	// want are fields of the first such record, by dotted path, as the
	// oracle renders them (render in tshark_test.go).
	want map[string]string
}

// caseTime is the capture time of every case frame (whole microseconds,
// which a pcap file holds exactly).
var caseTime = time.Unix(1700000000, 250000000)

// decodedCase is a case frame with the records the decoder made of it.
type decodedCase struct {
	proto string
	c     packetCase
	frame []byte
	recs  frameRecords
}

// TestProtocolCases decodes every protocol's cases and checks the expected
// fields. Where tshark is installed, it also writes the cases to a capture
// per link type and compares every record with tshark's dissection through
// the oracle table the corpus test uses (a layer tshark shows without a
// record of ours fails too, unlike in the corpus test), so that the
// expected values are checked independently of the decoder.
func TestProtocolCases(t *testing.T) {
	var decoded []decodedCase
	for _, p := range Protocols() {
		pt := protocolTests[p.Name]
		if pt == nil {
			continue // TestEveryProtocolTested reports it
		}
		for _, c := range pt.cases {
			frame := c.frame
			if c.hex != "" {
				var err error
				if frame, err = hex.DecodeString(strings.Join(strings.Fields(c.hex), "")); err != nil {
					t.Errorf("%s/%s: hex: %v", p.Name, c.name, err)
					continue
				}
			}
			rec := c.rec
			if rec == 0 {
				rec = p.Records[0]
			}
			recs, err := decodeCase(frame, c.link)
			if err != nil {
				t.Errorf("%s/%s: %v", p.Name, c.name, err)
				continue
			}
			decoded = append(decoded, decodedCase{p.Name, c, frame, recs})
			if len(recs[rec]) == 0 {
				t.Errorf("%s/%s: no %v record", p.Name, c.name, rec)
				continue
			}
			for _, path := range sortedKeys(c.want) {
				if got := render(recs[rec][0], path); got != c.want[path] {
					t.Errorf("%s/%s: %s.%s is %q, want %q", p.Name, c.name, types.Name(rec), path, got, c.want[path])
				}
			}
		}
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed: the expected fields were checked, the records not compared with tshark")
	}
	byLink := map[layers.LinkType][]decodedCase{}
	for _, d := range decoded {
		byLink[d.c.link] = append(byLink[d.c.link], d)
	}
	for link, ds := range byLink {
		res, err := compareCases(t.TempDir(), tshark, link, ds)
		if err != nil {
			t.Errorf("link type %v: %v", link, err)
			continue
		}
		for _, k := range sortedKeys(res.stats) {
			if s := res.stats[k]; s.mismatched > 0 {
				t.Errorf("%s: %d of %d differ from tshark, e.g. %s", k, s.mismatched, s.compared, s.example)
			}
		}
		for _, k := range sortedKeys(res.extra) {
			t.Errorf("%s: a record where tshark shows no such layer: %s", k, res.extra[k].example)
		}
		for _, k := range sortedKeys(res.missing) {
			t.Errorf("%s: tshark shows a layer of which there is no record: %s", k, res.missing[k].example)
		}
		if res.records == 0 && slices.ContainsFunc(ds, func(d decodedCase) bool { return hasOracle(d.recs) }) {
			t.Errorf("link type %v: no record compared with tshark", link)
		}
	}
}

// hasOracle reports whether any of the records has an oracle entry.
func hasOracle(fr frameRecords) bool {
	for _, rt := range oracleRecords {
		if len(fr[rt.typ]) > 0 {
			return true
		}
	}
	return false
}

// decodeCase decodes one frame with every packet record enabled.
func decodeCase(frame []byte, link layers.LinkType) (frameRecords, error) {
	o := DefaultOptions()
	o.NoDefrag = true
	pd := NewPacketDecoder(packetRecords, o)
	s := &caseSink{recs: frameRecords{}}
	meta := Packet{Frame: 1, Timestamp: caseTime.UnixNano(), CaptureLength: len(frame), Length: len(frame)}
	if st, reason := pd.Decode(frame, link, &meta, s); st != Decoded {
		return nil, fmt.Errorf("status %d: %s", st, reason)
	}
	return s.recs, nil
}

// caseSink keeps a copy of every record by type.
type caseSink struct{ recs frameRecords }

func (s *caseSink) Emit(t types.Type, m proto.Message) {
	s.recs[t] = append(s.recs[t], proto.Clone(m).ProtoReflect())
}

// compareCases writes the frames of one link type to a capture, has tshark
// dissect it, and compares the records with the oracle table.
func compareCases(dir, tshark string, link layers.LinkType, ds []decodedCase) (*oracleResult, error) {
	path := filepath.Join(dir, fmt.Sprintf("cases-%d.pcap", link))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, link); err != nil {
		f.Close()
		return nil, err
	}
	recs := map[int64]frameRecords{}
	for i, d := range ds {
		ci := gopacket.CaptureInfo{Timestamp: caseTime, CaptureLength: len(d.frame), Length: len(d.frame)}
		if err := w.WritePacket(ci, d.frame); err != nil {
			f.Close()
			return nil, err
		}
		recs[int64(i+1)] = d.recs
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	// The cases of one link type share a capture, and built TCP segments
	// share addresses, ports and sequence numbers: without sequence
	// analysis tshark dissects each as the single segment it is, rather
	// than as a retransmission of an earlier case.
	args := append(append([]string{}, tsharkPrefs...), "-o", "tcp.analyze_sequence_numbers:FALSE", "-r", path, "-T", "pdml")
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %v", err)
	}
	res := newOracleResult()
	seen := 0
	err = readPDML(strings.NewReader(string(out)), func(k *tsPacket) {
		if fr, ok := recs[k.frame]; ok {
			seen++
			d := ds[k.frame-1]
			res.comparePacket(oracleRecords, d.proto+"/"+d.c.name, k, fr)
		}
	})
	if err != nil {
		return nil, err
	}
	if seen != len(ds) {
		return nil, fmt.Errorf("tshark shows %d of the %d frames", seen, len(ds))
	}
	return res, nil
}
