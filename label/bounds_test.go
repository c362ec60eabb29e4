package label

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// readLines runs a LineReader of limit max over data read in 16-byte
// chunks, and returns the lines ("<long>" for skipped ones).
func readLines(t testing.TB, data []byte, max int) []string {
	t.Helper()
	lr := NewLineReader(bufio.NewReaderSize(bytes.NewReader(data), 16), max)
	var out []string
	for {
		line, long, err := lr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if long {
			out = append(out, "<long>")
		} else {
			out = append(out, string(line))
		}
		if lr.Line() != len(out) {
			t.Fatalf("Line() %d after %d lines", lr.Line(), len(out))
		}
		if cap(lr.line) > 2*(max+2)+32 {
			t.Fatalf("line buffer of %d bytes for a limit of %d", cap(lr.line), max)
		}
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a\nbb\r\n\nccc", []string{"a", "bb", "", "ccc"}},
		{"12345678\n123456789\nok\n", []string{"12345678", "<long>", "ok"}},
		{strings.Repeat("x", 100) + "\r\n" + "y\n", []string{"<long>", "y"}},
		{"12345678\r\n", []string{"12345678"}},
		{strings.Repeat("z", 50), []string{"<long>"}},
	}
	for _, tc := range tests {
		got := readLines(t, []byte(tc.in), 8)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzLineReader compares the LineReader with splitting the whole input at
// "\n": same lines, lines over the limit skipped, the buffer bounded.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), 4)
	f.Add([]byte(strings.Repeat("x", 70)+"\nshort\n"), 8)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 || max > 256 {
			return
		}
		var want []string
		if len(data) > 0 {
			parts := strings.Split(string(data), "\n")
			if parts[len(parts)-1] == "" {
				parts = parts[:len(parts)-1]
			}
			for _, p := range parts {
				p = strings.TrimSuffix(p, "\r")
				if len(p) > max {
					p = "<long>"
				}
				want = append(want, p)
			}
		}
		got := readLines(t, data, max)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// repeatReader yields n bytes of c.
type repeatReader struct {
	c byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= k
	return k, nil
}

// TestLongLine puts a line of MaxLine+1 MiB between two alerts, in EVE and
// in fast.log: before, the run ended with "bufio.Scanner: token too long";
// now the line is counted as malformed and both alerts are read, with a
// bounded line buffer.
func TestLongLine(t *testing.T) {
	eve := `{"timestamp":"2026-05-01T07:41:45.000000+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":2,"proto":"TCP","alert":{"signature_id":1,"signature":"s","category":"c","severity":1}}` + "\n"
	fast := "05/01/2026-07:41:45.000000  [**] [1:2:3] sig [**] [Classification: c] [Priority: 1] {TCP} 10.0.0.1:1 -> 10.0.0.2:2\n"
	for _, tc := range []struct {
		name string
		line string
		read func(io.Reader) (*Alerts, error)
	}{
		{"EVE", eve, readEVE},
		{"fast.log", fast, func(r io.Reader) (*Alerts, error) { return readFastLog(r, time.UTC) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := io.MultiReader(strings.NewReader(tc.line), &repeatReader{c: '{', n: MaxLine + 1<<20}, strings.NewReader("\n"+tc.line))
			var as *Alerts
			var err error
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			as, err = tc.read(r)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("the run ends: %v", err)
			}
			if len(as.List) != 2 || as.Malformed != 1 || as.BadLines[0] != 2 || !strings.Contains(as.BadErrors[0], "longer than 64 MiB") {
				t.Fatalf("%d alerts, %d malformed (lines %v: %v); want 2 and line 2 too long", len(as.List), as.Malformed, as.BadLines, as.BadErrors)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*MaxLine {
				t.Errorf("allocated %d MB for one %d MB line", alloc>>20, (MaxLine+1<<20)>>20)
			}
		})
	}
}

// TestCut checks cut at the limit and on character boundaries.
func TestCut(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", 5000), strings.Repeat("é", 3000), strings.Repeat("€", 1000)} {
		c := cut(s, MaxLabel)
		if len(c) > MaxLabel || !utf8.ValidString(c) || !strings.HasSuffix(c, "…") {
			t.Errorf("cut of %d bytes: %d bytes, valid %v", len(s), len(c), utf8.ValidString(c))
		}
	}
	if cut("short", MaxLabel) != "short" {
		t.Error("a short label is changed")
	}
}

// TestLongSignature: an alert with a 10 MB signature labels its flow with
// -description; every label written is at most MaxLabel bytes. With
// -collect, 3,000 alerts of distinct signatures on one flow give one label
// of at most MaxLabel bytes too.
func TestLongSignature(t *testing.T) {
	recs := loopback(t)
	conns := readAll[types.Connection](t, filepath.Join(recs, "Connection.ncap.gz"))
	c := conns[0]
	line := func(sig string) string {
		return fmt.Sprintf(`{"timestamp":%q,"event_type":"alert","pcap_cnt":%d,"community_id":%q,"src_ip":%q,"src_port":%d,"dest_ip":%q,"dest_port":%d,"proto":%q,"alert":{"signature_id":1,"signature":%q,"category":"c","severity":1}}`+"\n",
			eveTS(c.TimestampFirst), c.FrameFirst, c.CommunityID, c.SrcIP, c.SrcPort, c.DstIP, c.DstPort, strings.ToUpper(c.TransportProto), sig)
	}
	big := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(big, []byte(line(strings.Repeat("S", 10<<20))), 0o644)
	var many strings.Builder
	for i := range 3000 {
		many.WriteString(line(fmt.Sprintf("signature %04d %s", i, strings.Repeat("m", 80))))
	}
	manyPath := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(manyPath, []byte(many.String()), 0o644)
	for _, tc := range []struct {
		alerts  string
		collect bool
	}{{big, false}, {manyPath, true}} {
		sum, out := run(t, recs, Config{Alerts: tc.alerts, Description: true, Collect: tc.collect})
		if len(sum.Unmatched) != 0 {
			t.Fatalf("the alerts match no flow: %v", sum.Unmatched[0])
		}
		tb := readTable(t, out, "Connection", ',')
		labelled := 0
		for _, row := range tb.rows {
			l := row[len(row)-1]
			if len(l) > MaxLabel {
				t.Fatalf("a label of %d bytes", len(l))
			}
			if l != Normal {
				labelled++
				if !strings.HasSuffix(l, "…") {
					t.Errorf("a cut label does not end in …: %q", l[len(l)-20:])
				}
			}
		}
		if labelled == 0 {
			t.Error("no Connection record labelled")
		}
	}
}

// TestAttackFileBound: an attack file over MaxAttackFile is refused with its
// name and the limit, without reading it all; a device is refused.
func TestAttackFileBound(t *testing.T) {
	p := filepath.Join(t.TempDir(), "attacks.yml")
	f, _ := os.Create(p)
	f.WriteString("timezone: UTC\nattacks:\n")
	f.Truncate(MaxAttackFile + 1)
	f.Close()
	_, err := ReadAttacks(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("got %v, want the file named and the 16 MiB limit", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := ReadAttacks("/dev/zero"); err == nil || !strings.Contains(err.Error(), "device") {
			t.Errorf("/dev/zero: got %v", err)
		}
		if _, err := ReadAlerts("/dev/zero", time.UTC); err == nil || !strings.Contains(err.Error(), "device") {
			t.Errorf("/dev/zero as alerts: got %v", err)
		}
	}
}

// TestDamagedRecordFile: a record file with the nested-group bomb, one cut
// in the middle, and a damaged Connection file stop labelling with an error
// that names the file and the record; nothing is left in -out.
func TestDamagedRecordFile(t *testing.T) {
	eve := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(eve, []byte(`{"event_type":"flow"}`+"\n"), 0o644)
	for _, tc := range []struct {
		name, file string
		damage     func(t *testing.T, path string)
		want       []string
	}{
		{"bomb", "TCP.ncap.gz", func(t *testing.T, path string) {
			w, err := ncio.Create(path, &types.Header{Type: types.Type_NC_TCP, Version: "test"}, true)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(&types.TCP{SrcPort: 1})
			w.WriteDelimited(protowire.AppendBytes(nil, wirecheck.NestedGroups(99, 10_000)), 1)
			w.Close()
		}, []string{"record 2 is damaged", fmt.Sprintf("nested more than %d deep", wirecheck.MaxDepth)}},
		{"cut", "UDP.ncap.gz", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b[:len(b)*2/3], 0o644)
		}, []string{"UDP.ncap.gz"}},
		{"connections", "Connection.ncap.gz", func(t *testing.T, path string) {
			w, _ := ncio.Create(path, &types.Header{Type: types.Type_NC_Connection, Version: "test"}, true)
			ans := protowire.AppendVarint(protowire.AppendTag(nil, 999, protowire.VarintType), 1)
			w.WriteDelimited(protowire.AppendBytes(nil, ans), 1)
			w.Close()
		}, []string{"record 1 is damaged", "field 999"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := loopback(t)
			path := filepath.Join(recs, tc.file)
			tc.damage(t, path)
			out := filepath.Join(t.TempDir(), "labeled")
			_, err := Run(&Config{Read: recs, Alerts: eve, Out: out})
			if err == nil {
				t.Fatal("the damaged file was labelled")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("-out was written")
			}
		})
	}
}

// TestManyAlertsOneFlow builds 20,000 alerts on one connection and 20,000
// HTTP records of it, with -collect. Each flow record's candidates were
// gathered and sorted anew (400 million candidates, minutes); the label is
// now chosen once per connection.
func TestManyAlertsOneFlow(t *testing.T) {
	const n = 20_000
	dir := filepath.Join(t.TempDir(), "records")
	os.Mkdir(dir, 0o755)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	c := &types.Connection{UID: "c1", TransportProto: "TCP", SrcIP: "10.0.0.1", DstIP: "10.0.0.2", SrcPort: 1234, DstPort: 80,
		TimestampFirst: base, TimestampLast: base + int64(time.Hour), FrameFirst: 1, FrameLast: n}
	cw, _ := ncio.Create(filepath.Join(dir, "Connection.ncap.gz"), &types.Header{Type: types.Type_NC_Connection}, true)
	cw.Write(c)
	cw.Close()
	hw, _ := ncio.Create(filepath.Join(dir, "HTTP.ncap.gz"), &types.Header{Type: types.Type_NC_HTTP}, true)
	for i := range n {
		hw.Write(&types.HTTP{Timestamp: base + int64(i), FlowID: c.UID, SrcIP: c.SrcIP, DstIP: c.DstIP})
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	var eve strings.Builder
	for i := range n {
		fmt.Fprintf(&eve, `{"timestamp":%q,"event_type":"alert","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","alert":{"signature":"s","category":"cat%d","severity":%d}}`+"\n",
			eveTS(base+int64(i)*1000), i, 1+i%3)
	}
	alerts := filepath.Join(t.TempDir(), "eve.json")
	os.WriteFile(alerts, []byte(eve.String()), 0o644)
	start := time.Now()
	sum, out := run(t, dir, Config{Alerts: alerts, Collect: true})
	took := time.Since(start)
	t.Logf("%d alerts, %d records: %v", n, sum.Records, took)
	if len(sum.Unmatched) != 0 {
		t.Fatalf("%d alerts unmatched", len(sum.Unmatched))
	}
	tb := readTable(t, out, "HTTP", ',')
	for _, row := range tb.rows {
		if l := row[len(row)-1]; !strings.HasPrefix(l, "cat0 | cat3 | ") || len(l) > MaxLabel {
			t.Fatalf("label %q: want the most severe first, at most %d bytes", l, MaxLabel)
		}
	}
	if took > 30*time.Second {
		t.Errorf("labelling took %v", took)
	}
}
