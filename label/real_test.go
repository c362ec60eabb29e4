package label

import (
	"bufio"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oracle is an alert as the test reads it from eve.json, independently of
// the package's reader.
type oracle struct {
	sig, proto, cid string
	frame           int64
	src, dst        netip.Addr
	sport, dport    int64
}

func readOracle(t *testing.T, path string) []oracle {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []oracle
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e["event_type"] != "alert" {
			continue
		}
		o := oracle{sig: e["alert"].(map[string]any)["signature"].(string), proto: e["proto"].(string)}
		o.cid, _ = e["community_id"].(string)
		o.frame = int64(e["pcap_cnt"].(float64))
		o.src = netip.MustParseAddr(e["src_ip"].(string)).Unmap()
		o.dst = netip.MustParseAddr(e["dest_ip"].(string)).Unmap()
		sp, _ := e["src_port"].(float64)
		dp, _ := e["dest_port"].(float64)
		o.sport, o.dport = int64(sp), int64(dp)
		out = append(out, o)
	}
	return out
}

// checkPackets checks that the rows of a packet record type carrying each
// signature are exactly the frames (pcap_cnt) of that signature's alerts
// kept by keep, and that every other row is normal.
func checkPackets(t *testing.T, out, typ string, alerts []oracle, keep func(oracle) bool) {
	t.Helper()
	tb := readTable(t, out, typ, ',')
	want := map[string]map[int64]bool{}
	all := map[int64]bool{}
	for _, a := range alerts {
		if !keep(a) {
			continue
		}
		if want[a.sig] == nil {
			want[a.sig] = map[int64]bool{}
		}
		want[a.sig][a.frame] = true
		all[a.frame] = true
	}
	got := map[string]map[int64]bool{}
	labelled := 0
	for _, row := range tb.rows {
		fr := tb.num(t, row, "FrameNumber")
		if row[len(row)-1] == Normal {
			if all[fr] {
				t.Errorf("%s frame %d: normal, but alerts were raised on it", typ, fr)
			}
			continue
		}
		labelled++
		for _, l := range tb.labels(row) {
			if got[l] == nil {
				got[l] = map[int64]bool{}
			}
			got[l][fr] = true
		}
	}
	for sig, frames := range want {
		if len(got[sig]) != len(frames) {
			t.Errorf("%s: %d frames labelled %q, want %d", typ, len(got[sig]), sig, len(frames))
		}
		for fr := range frames {
			if !got[sig][fr] {
				t.Errorf("%s frame %d: not labelled %q", typ, fr, sig)
			}
		}
	}
	for sig := range got {
		if want[sig] == nil {
			t.Errorf("%s: label %q on %d frames, but no such alert was kept", typ, sig, len(got[sig]))
		}
	}
	t.Logf("%s: %d of %d records labelled, %d alert frames", typ, labelled, len(tb.rows), len(all))
}

func canon(proto string, a, b netip.Addr, pa, pb int64) string {
	p := strings.ToUpper(proto)
	if p != "TCP" && p != "UDP" {
		pa, pb = 0, 0
	}
	if a.Compare(b) > 0 || a == b && pa > pb {
		a, b, pa, pb = b, a, pb, pa
	}
	return strings.Join([]string{a.String(), b.String(), itoa(pa), itoa(pb)}, "|")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// checkConnections checks that every alert's connection (same endpoints in
// either direction, its frame inside the connection's frames) carries its
// signature, and that every Connection row carrying a signature holds an
// alert of it: records of other flows stay unlabelled.
func checkConnections(t *testing.T, out string, alerts []oracle) {
	t.Helper()
	tb := readTable(t, out, "Connection", ',')
	labelled := 0
	for _, row := range tb.rows {
		src, dst := netip.MustParseAddr(tb.get(row, "SrcIP")), netip.MustParseAddr(tb.get(row, "DstIP"))
		key := canon(tb.get(row, "TransportProto"), src, dst, tb.num(t, row, "SrcPort"), tb.num(t, row, "DstPort"))
		ff, fl := tb.num(t, row, "FrameFirst"), tb.num(t, row, "FrameLast")
		want := map[string]bool{}
		for _, a := range alerts {
			if a.frame < ff || a.frame > fl {
				continue
			}
			// An alert's flow: its community-id when it has one (ICMP
			// flows of one address pair differ by type only there), else
			// its endpoints in either direction.
			if a.cid != "" && a.cid == tb.get(row, "CommunityID") || a.cid == "" && canon(a.proto, a.src, a.dst, a.sport, a.dport) == key {
				want[a.sig] = true
			}
		}
		var got []string
		if row[len(row)-1] != Normal {
			got = tb.labels(row)
			labelled++
		}
		var w []string
		for s := range want {
			w = append(w, s)
		}
		sort.Strings(w)
		sort.Strings(got)
		if strings.Join(w, "|") != strings.Join(got, "|") {
			t.Errorf("connection %s (%s, frames %d-%d): labels %q, want %q", tb.get(row, "UID"), key, ff, fl, got, w)
		}
	}
	t.Logf("Connection: %d of %d labelled", labelled, len(tb.rows))
}

func TestKareemEVE(t *testing.T) {
	dir := shared(t, "labels/kareem-attack-scan")
	eve := filepath.Join(dir, "eve.json")
	recs := capture(t, filepath.Join(dir, "attack_scan.pcap"))
	sum, out := run(t, recs, Config{Alerts: eve, Collect: true, Description: true})
	alerts := readOracle(t, eve)
	if len(sum.Alerts.List) != len(alerts) || len(alerts) != 437 {
		t.Fatalf("read %d alerts, oracle %d, README says 437", len(sum.Alerts.List), len(alerts))
	}
	if len(sum.Unmatched) != 0 {
		t.Errorf("%d alerts matched nothing, first: %s", len(sum.Unmatched), sum.Unmatched[0])
	}
	any := func(oracle) bool { return true }
	checkPackets(t, out, "Ethernet", alerts, any)
	checkPackets(t, out, "IPv4", alerts, any)
	checkPackets(t, out, "TCP", alerts, func(a oracle) bool { return a.proto == "TCP" })
	checkPackets(t, out, "ICMPv4", alerts, func(a oracle) bool { return a.proto == "ICMP" })
	checkConnections(t, out, alerts)
	checkFeatures(t, out)

	// The community-ids of the labelled connections are those of the alerts.
	tb := readTable(t, out, "Connection", ',')
	for _, sig := range []string{"OUTBOUND HTTPS Connection Detected", "TCP Port Scan Detected", "ICMP Ping Detected"} {
		want, got := map[string]bool{}, map[string]bool{}
		for _, a := range alerts {
			if a.sig == sig {
				want[a.cid] = true
			}
		}
		for _, row := range tb.rows {
			if tb.has(row, sig) {
				got[tb.get(row, "CommunityID")] = true
			}
		}
		if len(got) != len(want) {
			t.Errorf("%q: labelled connections have %d community-ids, alerts %d", sig, len(got), len(want))
		}
		for c := range want {
			if !got[c] {
				t.Errorf("%q: no labelled connection with community-id %s", sig, c)
			}
		}
	}
}

func TestZeusEVEAndFastLog(t *testing.T) {
	dir := shared(t, "labels/menna-zeus")
	eve := filepath.Join(dir, "eve.json")
	fast := filepath.Join(dir, "fast.log")
	recs := capture(t, filepath.Join(dir, "zeus.pcapng"))
	sum, out := run(t, recs, Config{Alerts: eve, Collect: true, Description: true})
	alerts := readOracle(t, eve)
	if len(sum.Alerts.List) != 656 || len(alerts) != 656 || sum.Alerts.Other != 869-656 {
		t.Fatalf("read %d alerts and %d other events, oracle %d; README: 656 of 869", len(sum.Alerts.List), sum.Alerts.Other, len(alerts))
	}
	if len(sum.Unmatched) != 0 {
		t.Errorf("%d alerts matched nothing, first: %s", len(sum.Unmatched), sum.Unmatched[0])
	}
	checkPackets(t, out, "Ethernet", alerts, func(oracle) bool { return true })
	checkPackets(t, out, "IPv4", alerts, func(a oracle) bool { return a.src.Is4() })
	checkPackets(t, out, "IPv6", alerts, func(a oracle) bool { return a.src.Is6() })
	checkPackets(t, out, "UDP", alerts, func(a oracle) bool { return a.proto == "UDP" })
	checkPackets(t, out, "IGMP", alerts, func(a oracle) bool { return a.proto == "IGMP" })
	checkConnections(t, out, alerts)

	// Without -collect one label per record: the most severe (all are
	// severity 3 here, so the first alert of the packet in the file).
	_, single := run(t, recs, Config{Alerts: eve, Description: true})
	tb := readTable(t, single, "UDP", ',')
	first := map[int64]string{}
	for _, a := range alerts {
		if _, ok := first[a.frame]; !ok && a.proto == "UDP" {
			first[a.frame] = a.sig
		}
	}
	for _, row := range tb.rows {
		fr := tb.num(t, row, "FrameNumber")
		want := Normal
		if s, ok := first[fr]; ok {
			want = s
		}
		if row[len(row)-1] != want {
			t.Errorf("UDP frame %d without -collect: %q, want %q", fr, row[len(row)-1], want)
		}
	}

	// fast.log: no time zone is an error; the wrong zone matches nothing; the
	// right one labels every record as eve.json does.
	if _, err := Run(&Config{Read: recs, Alerts: fast, Out: filepath.Join(t.TempDir(), "x")}); err == nil || !strings.Contains(err.Error(), "-tz") {
		t.Errorf("fast.log without -tz: error %v, want one that asks for -tz", err)
	}
	utcSum, _ := run(t, recs, Config{Alerts: fast, Zone: time.UTC})
	if len(utcSum.Unmatched) != 656 {
		t.Errorf("fast.log read as UTC (it is UTC-5): %d alerts unmatched, want all 656", len(utcSum.Unmatched))
	}
	fastSum, fastOut := run(t, recs, Config{Alerts: fast, Zone: time.FixedZone("-0500", -5*3600), Collect: true, Description: true})
	if len(fastSum.Unmatched) != 0 || len(fastSum.Alerts.List) != 656 {
		t.Errorf("fast.log -tz -05:00: %d alerts, %d unmatched", len(fastSum.Alerts.List), len(fastSum.Unmatched))
	}
	for _, typ := range []string{"Connection", "Flow", "UDP", "IPv4", "IPv6", "IGMP", "Ethernet", "NetworkFlow"} {
		a, b := readTable(t, out, typ, ','), readTable(t, fastOut, typ, ',')
		diff := 0
		for i := range a.rows {
			la, lb := a.labels(a.rows[i]), b.labels(b.rows[i])
			sort.Strings(la)
			sort.Strings(lb)
			if strings.Join(la, "|") != strings.Join(lb, "|") {
				diff++
			}
		}
		if diff != 0 {
			t.Errorf("%s: %d of %d rows labelled differently from fast.log and eve.json", typ, diff, len(a.rows))
		}
	}
}

// checkFeatures checks that every FlowFeatures row carries the labels of
// its Connection (FlowID = UID), and that some are labelled.
func checkFeatures(t *testing.T, out string) {
	t.Helper()
	conns := readTable(t, out, "Connection", ',')
	byUID := map[string]string{}
	for _, row := range conns.rows {
		byUID[conns.get(row, "UID")] = row[len(row)-1]
	}
	ff := readTable(t, out, "FlowFeatures", ',')
	labelled := 0
	for _, row := range ff.rows {
		want, ok := byUID[ff.get(row, "FlowID")]
		if got := row[len(row)-1]; !ok || got != want {
			t.Errorf("FlowFeatures of %s: %q, its Connection %q", ff.get(row, "FlowID"), got, want)
		}
		if want != Normal {
			labelled++
		}
	}
	if len(ff.rows) != len(conns.rows) || labelled == 0 {
		t.Errorf("%d FlowFeatures rows for %d Connection rows, %d labelled", len(ff.rows), len(conns.rows), labelled)
	}
	t.Logf("FlowFeatures: %d of %d labelled as their Connection", labelled, len(ff.rows))
}
