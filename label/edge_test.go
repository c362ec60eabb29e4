package label

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
	"google.golang.org/protobuf/proto"
)

func loopback(t *testing.T) string {
	return capture(t, filepath.Join("..", "testdata", "loopback.pcap"))
}

func readAll[T any, P interface {
	*T
	proto.Message
}](t *testing.T, path string) []P {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []P
	for {
		m := P(new(T))
		if err := r.Next(m); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return out
		}
		out = append(out, m)
	}
}

func eveTS(ns int64) string {
	return time.Unix(0, ns).In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000000-0700")
}

func TestEdgeCases(t *testing.T) {
	recs := loopback(t)
	conns := readAll[types.Connection](t, filepath.Join(recs, "Connection.ncap.gz"))
	tcp := readAll[types.TCP](t, filepath.Join(recs, "TCP.ncap.gz"))
	// The TCP connection with the most packets, and its packets.
	var c *types.Connection
	for _, x := range conns {
		if x.TransportProto == "TCP" && (c == nil || x.NumPackets > c.NumPackets) {
			c = x
		}
	}
	var pkts []*types.TCP
	for _, p := range tcp {
		if p.FlowID == c.UID {
			pkts = append(pkts, p)
		}
	}
	if c == nil || len(pkts) < 4 {
		t.Fatalf("loopback.pcap: no TCP connection with 4 packets")
	}
	mid := pkts[len(pkts)/2]
	var udp *types.Connection
	for _, x := range conns {
		if x.TransportProto == "UDP" {
			udp = x
			break
		}
	}
	lines := []string{
		// 1: no community-id, no pcap_cnt, written server -> client: the
		// 5-tuple in the other direction and the time find the flow and
		// the packet.
		fmt.Sprintf(`{"timestamp":%q,"event_type":"alert","src_ip":%q,"src_port":%d,"dest_ip":%q,"dest_port":%d,"proto":"TCP","alert":{"signature_id":1,"signature":"sig one","category":"Attempted Admin","severity":2}}`,
			eveTS(mid.Timestamp), c.DstIP, c.DstPort, c.SrcIP, c.SrcPort),
		// 2: the same flow by community-id and pcap_cnt, more severe.
		fmt.Sprintf(`{"timestamp":%q,"event_type":"alert","pcap_cnt":%d,"community_id":%q,"src_ip":%q,"src_port":%d,"dest_ip":%q,"dest_port":%d,"proto":"TCP","alert":{"signature_id":2,"signature":"sig two","category":"Web Application Attack","severity":1}}`,
			eveTS(pkts[0].Timestamp), pkts[0].FrameNumber, c.CommunityID, c.SrcIP, c.SrcPort, c.DstIP, c.DstPort),
		// 3: a UDP flow's tuple an hour before it: outside any flow.
		fmt.Sprintf(`{"timestamp":%q,"event_type":"alert","src_ip":%q,"src_port":%d,"dest_ip":%q,"dest_port":%d,"proto":"UDP","alert":{"signature_id":3,"signature":"sig three","category":"Misc","severity":1}}`,
			eveTS(udp.TimestampFirst-int64(time.Hour)), udp.SrcIP, udp.SrcPort, udp.DstIP, udp.DstPort),
		// 4: malformed.
		`{"timestamp":"2026-01-01T00:00:00`,
		`{"event_type":"flow"}`,
	}
	eve := filepath.Join(t.TempDir(), "eve.json")
	if err := os.WriteFile(eve, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, collect := range []bool{true, false} {
		sum, out := run(t, recs, Config{Alerts: eve, Collect: collect})
		as := sum.Alerts
		if len(as.List) != 3 || as.Malformed != 1 || len(as.BadLines) != 1 || as.BadLines[0] != 4 || as.Other != 1 {
			t.Fatalf("read %d alerts, %d malformed (lines %v), %d other; want 3, 1 (line 4), 1", len(as.List), as.Malformed, as.BadLines, as.Other)
		}
		if len(sum.Unmatched) != 1 || sum.Unmatched[0].SID != 3 {
			t.Fatalf("unmatched %v, want only the alert of line 3", sum.Unmatched)
		}
		flowLabel := "Web Application Attack"
		if collect {
			flowLabel = "Web Application Attack | Attempted Admin"
		}
		for _, typ := range []string{"Connection", "Flow"} {
			tb := readTable(t, out, typ, ',')
			n := 0
			for _, row := range tb.rows {
				mine := strings.HasPrefix(tb.get(row, "UID"), c.UID)
				want := Normal
				if mine {
					want = flowLabel
					n++
				}
				if row[len(row)-1] != want {
					t.Errorf("collect=%v %s %s: %q, want %q", collect, typ, tb.get(row, "UID"), row[len(row)-1], want)
				}
			}
			if n == 0 {
				t.Errorf("%s: no record of the flow", typ)
			}
		}
		tb := readTable(t, out, "TCP", ',')
		for _, row := range tb.rows {
			fr := tb.num(t, row, "FrameNumber")
			want := Normal
			switch fr {
			case mid.FrameNumber:
				want = "Attempted Admin"
			case pkts[0].FrameNumber:
				want = "Web Application Attack"
			}
			if row[len(row)-1] != want {
				t.Errorf("collect=%v TCP frame %d: %q, want %q", collect, fr, row[len(row)-1], want)
			}
		}
		// The UDP flow of the alert outside any flow stays normal.
		for _, row := range readTable(t, out, "UDP", ',').rows {
			if row[len(row)-1] != Normal {
				t.Errorf("UDP record labelled %q by an alert outside its flow", row[len(row)-1])
			}
		}
	}
}

func TestAttacksYAML(t *testing.T) {
	recs := loopback(t)
	v6 := readAll[types.IPv6](t, filepath.Join(recs, "IPv6.ncap.gz"))
	if len(v6) < 10 {
		t.Fatal("loopback.pcap: too few IPv6 records")
	}
	// An attack over the middle third of the IPv6 packets' times, written
	// in UTC+02:00 local time.
	lo, hi := v6[len(v6)/3].Timestamp, v6[2*len(v6)/3].Timestamp
	zone := time.FixedZone("", 2*3600)
	layout := "2006-01-02 15:04:05.000000000"
	yml := fmt.Sprintf("timezone: \"+02:00\"\nattacks:\n  - name: loop attack\n    start: %s\n    end: %s\n    attackers: [\"0:0:0:0:0:0:0:1\"]\n    victims: [\"::1\"]\n    category: intrusion\n    mitre: T1071\n",
		time.Unix(0, lo).In(zone).Format(layout), time.Unix(0, hi).In(zone).Format(layout))
	path := filepath.Join(t.TempDir(), "attacks.yml")
	os.WriteFile(path, []byte(yml), 0o644)
	for _, desc := range []bool{false, true} {
		_, out := run(t, recs, Config{Attacks: path, Description: desc})
		label := "intrusion"
		if desc {
			label = "loop attack (T1071)"
		}
		tb := readTable(t, out, "IPv6", ',')
		want, got := 0, 0
		for i, row := range tb.rows {
			in := v6[i].Timestamp >= lo && v6[i].Timestamp <= hi
			if in {
				want++
			}
			if row[len(row)-1] == label {
				got++
			}
			if (row[len(row)-1] == label) != in {
				t.Errorf("IPv6 record %d (frame %d): %q", i, v6[i].FrameNumber, row[len(row)-1])
			}
		}
		if want == 0 || got != want {
			t.Errorf("%d IPv6 records labelled, want %d", got, want)
		}
		for _, row := range readTable(t, out, "IPv4", ',').rows {
			if row[len(row)-1] != Normal {
				t.Errorf("IPv4 record labelled %q by an IPv6 attack", row[len(row)-1])
			}
		}
	}
	// A timeline must state its zone.
	os.WriteFile(path, []byte("attacks:\n  - name: x\n    start: 2026-01-01 00:00:00\n    end: 2026-01-01 01:00:00\n    attackers: [\"::1\"]\n    category: c\n"), 0o644)
	if _, err := ReadAttacks(path); err == nil || !strings.Contains(err.Error(), "timezone") {
		t.Errorf("timeline without zone: %v, want an error naming timezone", err)
	}
}

func TestOutputAtomicAndRefused(t *testing.T) {
	recs := loopback(t)
	eve := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(eve, []byte(`{"event_type":"stats"}`+"\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	os.Mkdir(out, 0o755)
	if _, err := Run(&Config{Read: recs, Alerts: eve, Out: out}); err == nil {
		t.Error("an existing output folder was not refused")
	}
	if _, err := Run(&Config{Read: recs, Alerts: eve, Out: out, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("beside the output: %d entries, want only the output (no temporary folder left)", len(entries))
	}
	// A cut record file fails the run and leaves no output folder.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "Connection.ncap.gz"), []byte{0x1f, 0x8b, 8, 0, 0}, 0o644)
	out2 := filepath.Join(t.TempDir(), "out2")
	if _, err := Run(&Config{Read: bad, Alerts: eve, Out: out2}); err == nil {
		t.Error("a broken record file gave no error")
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a failed run left its output folder")
	}
	if e, _ := os.ReadDir(filepath.Dir(out2)); len(e) != 0 {
		t.Errorf("a failed run left %d entries", len(e))
	}
}
