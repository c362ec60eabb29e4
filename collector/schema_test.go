package collector

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/cmd/util"
	"github.com/netcap/netcap/internal/wirecheck"
	"github.com/netcap/netcap/types"
)

// TestSchemaDeadLetters is a hostile sensor that publishes parts whose
// records are well-formed protobuf (proto.Unmarshal takes them) but do not
// fit their type: an unknown field, a known field with another wire type,
// GRE source routes nested deeper than wirecheck.MaxDepth. Each such part
// goes to the dead letters with a line naming sensor, run, part and what is
// wrong; the sensor's valid parts around them are stored, and net util
// -check calls the output folder valid.
func TestSchemaDeadLetters(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	flow := func(port int32) []byte {
		b, err := proto.Marshal(&types.Flow{TimestampFirst: 1_700_000_000_000_000_000, SrcIP: "10.0.0.1", DstIP: "10.0.0.2", SrcPort: port, NumPackets: 3})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gre := func(depth int) []byte {
		var r *types.GRERouting
		for range depth {
			r = &types.GRERouting{SRELength: 4, Next: r}
		}
		b, err := proto.Marshal(&types.GRE{Timestamp: 1, RoutingPresent: r != nil, Routing: r})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srcIP := (&types.Flow{}).ProtoReflect().Descriptor().Fields().ByName("SrcIP").Number()
	parts := []struct {
		typ, name string
		seq       int
		recs      [][]byte
		bad       string // what the dead letter line says; "" for a valid part
	}{
		{"Flow", "valid", 1, [][]byte{flow(1), flow(2)}, ""},
		{"Flow", "unknown field", 2, [][]byte{flow(3), protowire.AppendVarint(protowire.AppendTag(flow(4), 99, protowire.VarintType), 1)}, "field 99 (wire type 0) that Flow does not have"},
		{"Flow", "wrong wire type", 3, [][]byte{protowire.AppendVarint(protowire.AppendTag(flow(5), srcIP, protowire.VarintType), 7)}, "but SrcIP is string"},
		{"Flow", "valid after", 4, [][]byte{flow(6)}, ""},
		{"GRE", "deep nesting", 1, [][]byte{gre(wirecheck.MaxDepth + 16)}, fmt.Sprintf("nested more than %d deep", wirecheck.MaxDepth)},
		{"GRE", "valid", 2, [][]byte{gre(3)}, ""},
	}
	var wantRecs int64
	for _, p := range parts {
		var data []byte
		for _, r := range p.recs {
			if !unmarshals(t, byName[p.typ], r) {
				t.Fatalf("%s: a record does not unmarshal: the attack is one proto.Unmarshal refuses anyway", p.name)
			}
			data = protowire.AppendBytes(data, r)
		}
		m := nats.NewMsg("netcap.lab." + p.typ)
		m.Data = data
		m.Header.Set(HdrEncoding, "none")
		m.Header.Set(HdrRecords, fmt.Sprint(len(p.recs)))
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("lab.%s.run1.%d", p.typ, p.seq))
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if p.bad == "" {
			wantRecs += int64(len(p.recs))
		}
	}
	out := t.TempDir()
	var log bytes.Buffer
	c := collectWith(t, js, CollectorConfig{Out: out, Fetch: 8, Version: "test", Log: &log}, func(c *Collector) bool {
		dealt := c.Batches.Load()
		for _, n := range c.Dead() {
			dealt += n
		}
		return dealt >= int64(len(parts))
	})
	if c.Records.Load() != wantRecs || c.Batches.Load() != 3 {
		t.Errorf("stored %d records in %d parts, want %d in 3 (dead letters %v)", c.Records.Load(), c.Batches.Load(), wantRecs, c.Dead())
	}
	if d := c.Dead(); len(d) != 1 || d["bad-schema"] != 3 {
		t.Errorf("dead letters %v, want bad-schema 3", d)
	}
	t.Logf("collector log:\n%s", log.String())
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	for _, p := range parts {
		if p.bad == "" {
			continue
		}
		who := fmt.Sprintf("sensor lab, %s, run \"run1\", part %d", p.typ, p.seq)
		found := false
		for _, l := range lines {
			found = found || (strings.Contains(l, "bad-schema") && strings.Contains(l, who) && strings.Contains(l, p.bad))
		}
		if !found {
			t.Errorf("%s: no dead letter line with %q and %q in:\n%s", p.name, who, p.bad, log.String())
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "lab", "*.ncap.gz"))
	if len(files) != 2 {
		t.Errorf("output files %v, want Flow and GRE", files)
	}
	for _, f := range files {
		if res := util.CheckFile(f); res.Err != nil {
			t.Errorf("net util -check: %v", res.Err)
		}
	}
	if code := util.Run([]string{"-check", out}); code != 0 {
		t.Errorf("net util -check %s: exit status %d, want 0", out, code)
	}
}

// TestHostileDeadLetters publishes a part for each kind of hostile record
// the collector's former hand-written wire walk and schema check refused
// (hostileRecords), each after a valid record of its type: every such part
// goes to the dead letters with its reason and a line saying what is wrong,
// nothing of it is stored, and a valid part sent after them all is.
func TestHostileDeadLetters(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	valid, err := proto.Marshal(&types.Flow{TimestampFirst: 1, SrcIP: "10.0.0.1", DstIP: "10.0.0.2", NumPackets: 1})
	if err != nil {
		t.Fatal(err)
	}
	hostile := hostileRecords(t)
	seqs := map[types.Type]int{} // part numbers count per type
	publish := func(typ types.Type, recs ...[]byte) int {
		seqs[typ]++
		var data []byte
		for _, r := range recs {
			data = protowire.AppendBytes(data, r)
		}
		m := nats.NewMsg("netcap.lab." + types.Name(typ))
		m.Data = data
		m.Header.Set(HdrEncoding, "none")
		m.Header.Set(HdrRecords, fmt.Sprint(len(recs)))
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("lab.%s.run1.%d", types.Name(typ), seqs[typ]))
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		return seqs[typ]
	}
	want := map[string]int64{}
	part := make([]int, len(hostile))
	for i, h := range hostile {
		// An empty record is a valid one of any type.
		part[i] = publish(h.typ, nil, h.rec)
		want[h.reason]++
	}
	publish(types.Type_NC_Flow, valid, valid)
	var log bytes.Buffer
	c := collectWith(t, js, CollectorConfig{Out: t.TempDir(), Fetch: 8, Version: "test", Log: &log}, func(c *Collector) bool {
		dealt := c.Batches.Load()
		for _, n := range c.Dead() {
			dealt += n
		}
		return dealt >= int64(len(hostile)+1)
	})
	if c.Records.Load() != 2 || c.Batches.Load() != 1 {
		t.Errorf("stored %d records in %d parts, want the 2 of the valid part (dead letters %v)", c.Records.Load(), c.Batches.Load(), c.Dead())
	}
	if d := c.Dead(); len(d) != len(want) || d["bad-record"] != want["bad-record"] || d["bad-schema"] != want["bad-schema"] {
		t.Errorf("dead letters %v, want %v", d, want)
	}
	lines := strings.Split(log.String(), "\n")
	for i, h := range hostile {
		who := fmt.Sprintf("sensor lab, %s, run \"run1\", part %d: record 1", types.Name(h.typ), part[i])
		found := false
		for _, l := range lines {
			found = found || (strings.Contains(l, h.reason) && strings.Contains(l, who) && strings.Contains(l, h.says))
		}
		if !found {
			t.Errorf("%s: no %s line with %q and %q in:\n%s", h.name, h.reason, who, h.says, log.String())
		}
	}
}
