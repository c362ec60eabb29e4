package metrics

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/types"
)

// gathered is every netcap_ series of e by name and labels (sorted by
// label name), histograms as their _sum and _count.
func gathered(t *testing.T, e *Exporter) map[string]float64 {
	t.Helper()
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "netcap_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			labels := "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()+labels] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()+labels] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_sum"+labels] = m.GetHistogram().GetSampleSum()
				out[mf.GetName()+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestWireMatchesUnmarshal feeds the records of real captures (loopback.pcap
// and, when there, every shared capture, one exporter each) to an exporter,
// which reads records from their wire bytes, and works out what it must
// count by unmarshalling every record instead: the series and the top-N
// lists agree.
func TestWireMatchesUnmarshal(t *testing.T) {
	paths := []string{loopback()}
	root := filepath.Join("..", "..", "shared", "pcaps")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && regexp.MustCompile(`\.(pcap|pcapng|cap)(\.gz)?$`).MatchString(d.Name()) {
			if src, err := capture.OpenFile(p); err == nil {
				src.Close()
				paths = append(paths, p)
			}
		}
		return nil
	})
	total := map[types.Type]int{}
	compared := 0
	for _, path := range paths {
		recs := recordsOf(t, path)
		e := New(Options{})
		want := map[string]float64{}
		var top [topKinds]map[string]float64
		for k := range top {
			top[k] = map[string]float64{}
		}
		kinds := map[types.Type]int{}
		for _, r := range recs {
			e.Record(r.t, r.rec)
			msg, _ := protowire.ConsumeBytes(r.rec)
			kinds[r.t]++
			switch r.t {
			case types.Type_NC_TCP:
				var m types.TCP
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				var set []string
				for _, f := range []struct {
					on   bool
					name string
				}{{m.SYN, "SYN"}, {m.FIN, "FIN"}, {m.RST, "RST"}, {m.PSH, "PSH"}, {m.ACK, "ACK"}, {m.URG, "URG"}, {m.ECE, "ECE"}, {m.CWR, "CWR"}, {m.NS, "NS"}} {
					if f.on {
						set = append(set, f.name)
					}
				}
				if len(set) == 0 {
					set = []string{"none"}
				}
				want[fmt.Sprintf("netcap_tcp_segments_total{flags=%q}", strings.Join(set, ","))]++
				want[`netcap_payload_size_bytes_count{layer="TCP"}`]++
				want[`netcap_payload_size_bytes_sum{layer="TCP"}`] += float64(m.PayloadSize)
				if m.PayloadSize > 0 && m.PayloadEntropy > 0 {
					want[`netcap_payload_entropy_count{layer="TCP"}`]++
					want[`netcap_payload_entropy_sum{layer="TCP"}`] += m.PayloadEntropy
				}
			case types.Type_NC_UDP:
				var m types.UDP
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				want[`netcap_payload_size_bytes_count{layer="UDP"}`]++
				want[`netcap_payload_size_bytes_sum{layer="UDP"}`] += float64(m.PayloadSize)
				if m.PayloadSize > 0 && m.PayloadEntropy > 0 {
					want[`netcap_payload_entropy_count{layer="UDP"}`]++
					want[`netcap_payload_entropy_sum{layer="UDP"}`] += m.PayloadEntropy
				}
			case types.Type_NC_Connection:
				var m types.Connection
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				app := m.ApplicationProto
				if app == "" {
					app = "unknown"
				}
				tr := transport(m.TransportProto)
				want[fmt.Sprintf("netcap_connections_total{app=%q,transport=%q}", app, tr)]++
				want[fmt.Sprintf("netcap_connection_duration_seconds_count{transport=%q}", tr)]++
				want[fmt.Sprintf("netcap_connection_duration_seconds_sum{transport=%q}", tr)] += float64(m.Duration) / 1e9
				want[fmt.Sprintf("netcap_connection_size_bytes_sum{transport=%q}", tr)] += float64(m.TotalSize)
				top[topDstIP][m.DstIP] += float64(m.TotalSize)
				top[topSrcIP][m.SrcIP] += float64(m.TotalSize)
			case types.Type_NC_DNS:
				var m types.DNS
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				dir := "query"
				if m.QR {
					dir = "response"
				} else {
					for _, q := range m.Questions {
						top[topDNS][strings.ToLower(q.Name)]++
					}
				}
				want[fmt.Sprintf("netcap_dns_messages_total{direction=%q,rcode=%q}", dir, rcodeName(m.ResponseCode))]++
			case types.Type_NC_HTTP:
				var m types.HTTP
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				want[fmt.Sprintf("netcap_http_requests_total{method=%q,status_class=%q}", httpMethod(m.Method), statusClass(m.StatusCode))]++
				if m.RequestSize > 0 {
					want[`netcap_http_message_size_bytes_count{direction="request"}`]++
					want[`netcap_http_message_size_bytes_sum{direction="request"}`] += float64(m.RequestSize)
				}
				if m.ResponseTimestamp > 0 {
					want[`netcap_http_message_size_bytes_count{direction="response"}`]++
					want[`netcap_http_message_size_bytes_sum{direction="response"}`] += float64(m.ResponseSize)
					if d := m.ResponseTimestamp - m.Timestamp; d >= 0 {
						want[`netcap_http_response_time_seconds_count{}`]++
						want[`netcap_http_response_time_seconds_sum{}`] += float64(d) / 1e9
					}
				}
				top[topHTTPHost][strings.ToLower(m.Host)]++
			case types.Type_NC_TLSClientHello:
				var m types.TLSClientHello
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				want[fmt.Sprintf("netcap_tls_hellos_total{side=\"client\",version=%q}", tlsVersion(m.HandshakeVersion))]++
				top[topSNI][strings.ToLower(m.SNI)]++
				top[topJA3][m.Ja3]++
			case types.Type_NC_TLSServerHello:
				var m types.TLSServerHello
				if err := proto.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				v := m.Version
				if m.SupportedVersion != 0 {
					v = m.SupportedVersion
				}
				want[fmt.Sprintf("netcap_tls_hellos_total{side=\"server\",version=%q}", tlsVersion(v))]++
			}
		}
		for typ, n := range kinds {
			total[typ] += n
		}
		e.Refresh()
		for k, counts := range top {
			delete(counts, "")
			var list []topEntry
			for key, v := range counts {
				list = append(list, topEntry{key, v})
			}
			sort.Slice(list, func(a, b int) bool {
				if list[a].v != list[b].v {
					return list[a].v > list[b].v
				}
				return list[a].key < list[b].key
			})
			list = list[:min(len(list), 20)]
			if fmt.Sprint(list) != fmt.Sprint(e.top.current[k]) {
				t.Errorf("%s: top list %d is %v, unmarshalling says %v", path, k, e.top.current[k], list)
			}
		}
		got := gathered(t, e)
		for series, w := range want {
			if g, ok := got[series]; !ok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: %s = %v (present: %v), unmarshalling says %v", path, series, g, ok, w)
			}
		}
		for series := range got {
			if strings.HasPrefix(series, "netcap_tcp_segments_total{") || strings.HasPrefix(series, "netcap_connections_total{") ||
				strings.HasPrefix(series, "netcap_dns_messages_total{") || strings.HasPrefix(series, "netcap_http_requests_total{") ||
				strings.HasPrefix(series, "netcap_tls_hellos_total{") {
				if _, ok := want[series]; !ok {
					t.Errorf("%s: %s, which unmarshalling does not find", path, series)
				}
			}
		}
		compared += len(want)
	}
	for _, typ := range []types.Type{types.Type_NC_TCP, types.Type_NC_UDP, types.Type_NC_Connection, types.Type_NC_DNS,
		types.Type_NC_HTTP, types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello} {
		if total[typ] == 0 {
			t.Errorf("no %v records to compare", typ)
		}
	}
	t.Logf("%d captures: %d TCP, %d UDP, %d Connection, %d DNS, %d HTTP, %d TLS client and %d server hello records; %d series and the top lists agree",
		len(paths), total[types.Type_NC_TCP], total[types.Type_NC_UDP], total[types.Type_NC_Connection], total[types.Type_NC_DNS],
		total[types.Type_NC_HTTP], total[types.Type_NC_TLSClientHello], total[types.Type_NC_TLSServerHello], compared)
}

// TestFieldSet: the wire reader takes the picked fields, skips the others
// (nested, repeated, of any wire type) and refuses malformed bytes.
func TestFieldSet(t *testing.T) {
	m := &types.TCP{SrcPort: 80, SYN: true, ACK: true, PayloadSize: -5, PayloadEntropy: 7.25, SrcIP: "10.0.0.1",
		Options: []*types.TCPOption{{OptionType: 2, OptionData: []byte{5, 180}}}, Payload: []byte("x")}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f := newFieldSet(&types.TCP{}, "SYN", "FIN", "PayloadSize", "PayloadEntropy", "SrcIP")
	v := make([]wireVal, 5)
	if !f.read(b, v) {
		t.Fatal("read failed")
	}
	if v[0].n != 1 || v[1].n != 0 || int32(v[2].n) != -5 || math.Float64frombits(v[3].n) != 7.25 || string(v[4].b) != "10.0.0.1" {
		t.Errorf("read %+v", v)
	}
	for cut := 1; cut < len(b); cut++ {
		if f.read(b[:cut], v) {
			// Cutting between two fields leaves a valid message.
			if err := proto.Unmarshal(b[:cut], &types.TCP{}); err != nil {
				t.Errorf("read %d of %d bytes, which do not unmarshal", cut, len(b))
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("picking a repeated message field did not panic")
		}
	}()
	newFieldSet(&types.TCP{}, "Options")
}

// TestInvalidUTF8 feeds records whose strings are not UTF-8 (the decoders
// never write them; unmarshalling refused them): nothing panics at the
// scrape, the application protocol becomes other, and the top-N lists skip
// the values.
func TestInvalidUTF8(t *testing.T) {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	var conn []byte
	conn = str(conn, fieldNumber(&types.Connection{}, "TransportProto"), "TCP")
	conn = str(conn, fieldNumber(&types.Connection{}, "ApplicationProto"), "HT\xffTP")
	conn = str(conn, fieldNumber(&types.Connection{}, "SrcIP"), "10.0.0.\xfe")
	var hello []byte
	hello = str(hello, fieldNumber(&types.TLSClientHello{}, "SNI"), "bad\xc0.example")
	e := New(Options{})
	e.RecordMessage(types.Type_NC_Connection, conn)
	e.RecordMessage(types.Type_NC_TLSClientHello, hello)
	e.Refresh()
	body := scrape(t, e)
	if v := value(body, `netcap_connections_total{app="other",transport="TCP"} `); v != "1" {
		t.Errorf("connection with an application protocol that is not UTF-8: %q, want other 1\n%s", v, body)
	}
	for k, list := range e.top.current {
		if len(list) > 0 {
			t.Errorf("top list %d holds %v", k, list)
		}
	}
}

// FuzzRecord feeds arbitrary bytes as records of every type the exporter
// reads: nothing panics, at the record or at the scrape (label values must
// be UTF-8), and where the bytes unmarshal as a TCP record, the exporter
// counts what unmarshalling finds.
func FuzzRecord(f *testing.F) {
	for _, m := range []proto.Message{
		&types.TCP{SYN: true, ACK: true, PayloadSize: 10, PayloadEntropy: 3.5, SrcIP: "10.0.0.1"},
		&types.DNS{Questions: []*types.DNSQuestion{{Name: "Example.ORG"}}},
		&types.HTTP{Method: "GET", StatusCode: 404, Host: "a.example", ResponseTimestamp: 5, Timestamp: 2},
		&types.Connection{TransportProto: "UDP", ApplicationProto: "DNS", TotalSize: 99, SrcIP: "10.0.0.2"},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := New(Options{})
	kinds := []types.Type{types.Type_NC_TCP, types.Type_NC_UDP, types.Type_NC_DNS, types.Type_NC_HTTP,
		types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello, types.Type_NC_Connection}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range kinds {
			e.RecordMessage(k, b)
		}
		e.Refresh()
		if _, err := e.Registry().Gather(); err != nil {
			t.Fatal(err)
		}
		var m types.TCP
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		v := make([]wireVal, maxPicked)
		if !tcpWire.read(b, v) {
			t.Fatalf("%x unmarshals as TCP, the wire reader refuses it", b)
		}
		if int32(v[9].n) != m.PayloadSize || math.Float64bits(m.PayloadEntropy) != v[10].n || (v[0].n != 0) != m.SYN || (v[4].n != 0) != m.ACK {
			t.Fatalf("%x: wire reader %+v, unmarshalled %v", b, v, &m)
		}
	})
}

// TestLongLabels feeds the exporter 5,000 HTTP requests with distinct 60 KB
// Host headers, which were kept whole: label values
// are cut to MaxLabelBytes, the bytes a list keeps per interval are
// bounded, and the heap stays small.
func TestLongLabels(t *testing.T) {
	e := New(Options{TopN: 5})
	hostField := fieldNumber(&types.HTTP{}, "Host")
	host := []byte(strings.Repeat("é", 30<<10)) // 60 KB, 2 bytes a character
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var rec []byte
	for i := range 5000 {
		copy(host, fmt.Sprintf("%05d.", i))
		rec = protowire.AppendBytes(protowire.AppendTag(rec[:0], hostField, protowire.BytesType), host)
		e.RecordMessage(types.Type_NC_HTTP, rec)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Errorf("heap grew by %d bytes for 5,000 hosts of 60 KB, want at most 16 MiB", grown)
	}
	if n := e.top.bytes[topHTTPHost]; n > maxTrackedBytes {
		t.Errorf("the host list keeps %d bytes, want at most %d", n, maxTrackedBytes)
	}
	e.Refresh()
	list := e.top.current[topHTTPHost]
	if len(list) != 5 {
		t.Fatalf("%d hosts in the top list, want 5", len(list))
	}
	for _, en := range list {
		if len(en.key) > MaxLabelBytes || !strings.HasSuffix(en.key, "...") || !utf8.ValidString(en.key) || !strings.HasPrefix(en.key, "0000") {
			t.Errorf("label value of %d bytes %.20q...: want at most %d bytes of valid UTF-8 ending in ...", len(en.key), en.key, MaxLabelBytes)
		}
	}
	// Scraping it works (every label value valid).
	if body := scrape(t, e); !strings.Contains(string(body), "netcap_top_http_host_requests{host=\"0000") {
		t.Errorf("scrape lacks the cut host:\n%.2000s", body)
	}
}
