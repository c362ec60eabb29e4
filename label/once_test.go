package label

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// TestExactlyOnce: every record of every type is written once, for captures
// with many record types, with alerts and with a tab separator.
func TestExactlyOnce(t *testing.T) {
	caps := []string{filepath.Join("..", "testdata", "loopback.pcap")}
	for _, rel := range []string{"labels/kareem-attack-scan/attack_scan.pcap", "labels/menna-zeus/zeus.pcapng", "pcaps/tcpdump/afs.pcap", "pcaps/tcpdump/pim-packet-assortment.pcap"} {
		p := filepath.Join("..", "..", "shared", rel)
		if _, err := os.Stat(p); err == nil {
			caps = append(caps, p)
		} else {
			t.Logf("%s absent, not checked", rel)
		}
	}
	eve := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(eve, []byte(`{"timestamp":"2026-05-01T07:41:45.873775+0000","event_type":"alert","src_ip":"172.25.100.9","dest_ip":"8.8.8.8","proto":"ICMP","alert":{"signature":"s","category":"c","severity":1}}`+"\n"), 0o644)
	for _, c := range caps {
		recs := capture(t, c)
		in := countRecords(t, recs)
		sum, out := run(t, recs, Config{Alerts: eve, Sep: "\t", Collect: true})
		if len(sum.Types) != len(in) {
			t.Errorf("%s: %d types out, %d in", filepath.Base(c), len(sum.Types), len(in))
		}
		total := 0
		for typ, n := range in {
			tb := readTable(t, out, typ, '\t')
			if len(tb.rows) != n {
				t.Errorf("%s %s: %d records in, %d rows out", filepath.Base(c), typ, n, len(tb.rows))
			}
			total += n
		}
		t.Logf("%s: %d records of %d types in, each once out", filepath.Base(c), total, len(in))
	}
}

// BenchmarkLabel labels 1,000,000 TCP packet records of 100,000 connections
// (plus the connections) against 10,000 alerts.
func BenchmarkLabel(b *testing.B) {
	const conns, perConn, alerts = 100_000, 10, 10_000
	dir := filepath.Join(b.TempDir(), "records")
	os.Mkdir(dir, 0o755)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	cw, err := ncio.Create(filepath.Join(dir, "Connection.ncap.gz"), &types.Header{Type: types.Type_NC_Connection}, true)
	if err != nil {
		b.Fatal(err)
	}
	tw, err := ncio.Create(filepath.Join(dir, "TCP.ncap.gz"), &types.Header{Type: types.Type_NC_TCP}, true)
	if err != nil {
		b.Fatal(err)
	}
	ip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	frame := int64(0)
	for i := 0; i < conns; i++ {
		first := base + int64(i)*int64(time.Millisecond)
		c := &types.Connection{UID: fmt.Sprintf("c%d", i), TransportProto: "TCP", SrcIP: ip(i), DstIP: "192.0.2.1", SrcPort: int32(1024 + i%60000), DstPort: 80,
			TimestampFirst: first, TimestampLast: first + perConn*1000, FrameFirst: frame + 1, FrameLast: frame + perConn}
		for j := 0; j < perConn; j++ {
			frame++
			p := &types.TCP{Timestamp: first + int64(j)*1000, FrameNumber: frame, SrcIP: c.SrcIP, DstIP: c.DstIP, SrcPort: c.SrcPort, DstPort: 80, FlowID: c.UID, SeqNum: uint32(j)}
			if err := tw.Write(p); err != nil {
				b.Fatal(err)
			}
		}
		if err := cw.Write(c); err != nil {
			b.Fatal(err)
		}
	}
	cw.Close()
	tw.Close()
	eve := filepath.Join(b.TempDir(), "eve.json")
	f, _ := os.Create(eve)
	w := bufio.NewWriter(f)
	for k := 0; k < alerts; k++ {
		i := k * (conns / alerts)
		ts := time.Unix(0, base+int64(i)*int64(time.Millisecond)+3000).UTC().Format("2006-01-02T15:04:05.000000-0700")
		fmt.Fprintf(w, `{"timestamp":%q,"event_type":"alert","src_ip":%q,"src_port":%d,"dest_ip":"192.0.2.1","dest_port":80,"proto":"TCP","alert":{"signature":"s%d","category":"cat%d","severity":%d}}`+"\n",
			ts, ip(i), 1024+i%60000, k%7, k%5, 1+k%3)
	}
	w.Flush()
	f.Close()
	records := int64(conns + conns*perConn)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		cfg := Config{Read: dir, Alerts: eve, Out: filepath.Join(b.TempDir(), "out")}
		start := time.Now()
		sum, err := Run(&cfg)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Records != records || len(sum.Unmatched) != 0 {
			b.Fatalf("%d records, %d unmatched alerts", sum.Records, len(sum.Unmatched))
		}
		labelled := int64(0)
		for _, tr := range sum.Types {
			labelled += tr.Records - tr.Labels[Normal]
		}
		if labelled != 2*alerts { // each alert: its connection and its packet
			b.Fatalf("%d records labelled, want %d", labelled, 2*alerts)
		}
		b.ReportMetric(float64(records)/time.Since(start).Seconds(), "records/s")
	}
}
