package maltego

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// The shared pcapng capture with IPv4 and IPv6 hosts.
const pcapngPCAP = "../../shared/labels/menna-zeus/zeus.pcapng"

// frame is a packet as a capture file holds it.
type frame struct {
	ts     time.Time
	length int
	data   []byte
}

// readFrames reads every frame of a pcap or pcapng file with pcapgo, in
// order: frames[i] is frame number i+1.
func readFrames(t *testing.T, path string) []frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	var next func() ([]byte, gopacket.CaptureInfo, error)
	if len(magic) == 4 && binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		next = r.ReadPacketData
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		next = r.ReadPacketData
	}
	var out []frame
	for {
		data, ci, err := next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", path, len(out)+1, err)
		}
		out = append(out, frame{ci.Timestamp, ci.Length, data})
	}
}

// tsharkFrames is the frame numbers tshark's display filter selects.
func tsharkFrames(t *testing.T, pcap, filter string) []int {
	t.Helper()
	var nums []int
	for _, line := range tshark(t, "-r", pcap, "-Y", filter, "-T", "fields", "-e", "frame.number") {
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("tshark frame number %q", line)
		}
		nums = append(nums, n)
	}
	return nums
}

// checkWritten checks the answer of a Wireshark transform: one PCAP entity
// naming a file that holds exactly the frames wantNums of the original, with
// their timestamps, lengths and bytes, and the count, first and last to
// match.
func checkWritten(t *testing.T, m *Message, orig []frame, wantNums []int) string {
	t.Helper()
	got := checkAnswer(t, m, PCAP)
	if len(got) != 1 {
		t.Fatalf("%d entities, want the one written capture: %+v", len(got), m.Response)
	}
	e := &m.Response.Entities[0]
	if e.Field("path") != e.Value {
		t.Errorf("path %q, value %q", e.Field("path"), e.Value)
	}
	if !hasUIText(m, Inform, e.Value) {
		t.Errorf("no Inform message names %s: %+v", e.Value, m.Response.UIMessages)
	}
	written := readFrames(t, e.Value)
	if len(written) != len(wantNums) {
		t.Fatalf("%d frames written, tshark selects %d", len(written), len(wantNums))
	}
	if e.Weight != int64(len(wantNums)) {
		t.Errorf("weight %d for %d frames", e.Weight, len(wantNums))
	}
	for i, n := range wantNums {
		o, w := orig[n-1], written[i]
		if !o.ts.Equal(w.ts) || o.length != w.length || !bytes.Equal(o.data, w.data) {
			t.Fatalf("written frame %d is not frame %d: %v/%d/%d bytes, want %v/%d/%d bytes", i+1, n, w.ts, w.length, len(w.data), o.ts, o.length, len(o.data))
		}
	}
	if f := formatTime(orig[wantNums[0]-1].ts.UnixNano()); e.Field("first") != f {
		t.Errorf("first %q, want %q", e.Field("first"), f)
	}
	if l := formatTime(orig[wantNums[len(wantNums)-1]-1].ts.UnixNano()); e.Field("last") != l {
		t.Errorf("last %q, want %q", e.Field("last"), l)
	}
	return e.Value
}

// busiestHosts are the n addresses with the most IPv4 (or IPv6) records,
// counted through protoreflect.
func busiestHosts(t *testing.T, dir string, typ types.Type, n int) []string {
	count := map[string]int64{}
	for _, f := range []string{"SrcIP", "DstIP"} {
		for v, c := range expect(t, dir, spec{typ, func(m protoreflect.Message, _ string) []string { return nonEmpty(str(m, f)) }}, "") {
			count[v] += c
		}
	}
	var hosts []string
	for h := range count {
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool {
		if count[hosts[i]] != count[hosts[j]] {
			return count[hosts[i]] > count[hosts[j]]
		}
		return hosts[i] < hosts[j]
	})
	if len(hosts) > n {
		hosts = hosts[:n]
	}
	return hosts
}

// openTrafficInWireshark writes exactly the frames tshark selects with
// ip.addr==X (ipv6.addr==X): classic pcap and pcapng input, IPv4 and IPv6
// hosts, ICMP errors quoting the host (8.8.8.8 in attack_scan).
func TestOpenHostTraffic(t *testing.T) {
	for _, src := range []string{sharedPCAP, pcapngPCAP} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			pcap, dir := recordsOf(t, src)
			orig := readFrames(t, pcap)
			hosts := busiestHosts(t, dir, types.Type_NC_IPv4, 4)
			if src == sharedPCAP && !strings.Contains(strings.Join(hosts, " "), "8.8.8.8") {
				t.Fatalf("8.8.8.8, quoted by ICMP errors, is not among %v", hosts)
			}
			hosts = append(hosts, busiestHosts(t, dir, types.Type_NC_IPv6, 1)...)
			for _, h := range hosts {
				filter := "ip.addr==" + h
				if strings.Contains(h, ":") {
					filter = "ipv6.addr==" + h
				}
				want := tsharkFrames(t, pcap, filter)
				if len(want) == 0 {
					t.Fatalf("tshark selects no frame with %s", filter)
				}
				m := runOpt(t, "openTrafficInWireshark", Args{Value: h, Props: map[string]string{"path": dir}}, Options{Opener: "none"})
				file := checkWritten(t, m, orig, want)
				t.Logf("%s: %d frames, as tshark -Y %q", h, len(want), filter)
				if e := m.Response.Entities[0]; e.Field("ip") != h || e.Field("source") != pcap {
					t.Errorf("%s: ip %q, source %q", h, e.Field("ip"), e.Field("source"))
				}
				if filepath.Dir(file) != filepath.Join(dir, "wireshark") {
					t.Errorf("written to %s, not under the record folder", file)
				}
			}
		})
	}
}

// openConnectionInWireshark writes the frames of a connection: those tshark
// gives the connection's tcp.stream (udp.stream), as many as its records'
// NumPackets.
func TestOpenConnectionTraffic(t *testing.T) {
	pcap, dir := records(t)
	orig := readFrames(t, pcap)
	// The connection with the most packets of each transport, from the
	// records through protoreflect.
	type conn struct {
		value          string
		packets, first int64
	}
	best := map[string]conn{}
	spec := spec{types.Type_NC_Connection, func(m protoreflect.Message, _ string) []string {
		c := conn{fmt.Sprintf("%s %s:%d -> %s:%d", str(m, "TransportProto"), str(m, "SrcIP"), field(m, "SrcPort").Int(), str(m, "DstIP"), field(m, "DstPort").Int()),
			field(m, "NumPackets").Int(), field(m, "FrameFirst").Int()}
		p := str(m, "TransportProto")
		if c.packets > best[p].packets {
			best[p] = c
		}
		return nil
	}}
	expect(t, dir, spec, "")
	if best["TCP"].value == "" || best["UDP"].value == "" {
		t.Fatalf("no TCP or UDP connection in the records: %v", best)
	}
	for _, p := range []string{"TCP", "UDP"} {
		c := best[p]
		stream := strings.ToLower(p) + ".stream"
		ids := tshark(t, "-r", pcap, "-Y", "frame.number=="+strconv.FormatInt(c.first, 10), "-T", "fields", "-e", stream)
		if len(ids) != 1 || ids[0] == "" {
			t.Fatalf("%s: tshark has no %s for frame %d", c.value, stream, c.first)
		}
		want := tsharkFrames(t, pcap, stream+"=="+ids[0])
		if int64(len(want)) != c.packets {
			t.Errorf("%s: tshark's %s %s has %d frames, the record %d packets", c.value, stream, ids[0], len(want), c.packets)
		}
		m := runOpt(t, "openConnectionInWireshark", Args{Value: c.value, Props: map[string]string{"path": dir, "ip": "10.9.9.9"}}, Options{Opener: "none"})
		checkWritten(t, m, orig, want)
		t.Logf("%s: %d frames, as tshark -Y %s==%s", c.value, len(want), stream, ids[0])
	}
}

// The opener gets the written file as its last argument and runs on its
// own; an opener that does not start leaves the file and says so.
func TestOpenTrafficOpener(t *testing.T) {
	_, dir := records(t)
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "opened")
	script := filepath.Join(tmp, "fake-wireshark")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" > "+marker+".tmp && mv "+marker+".tmp "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := Args{Value: "8.8.8.8", Props: map[string]string{"path": dir}}
	m := runOpt(t, "openTrafficInWireshark", a, Options{Opener: script + " -k"})
	if len(m.Response.Entities) != 1 {
		t.Fatalf("entities: %+v", m.Response)
	}
	file := m.Response.Entities[0].Value
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(marker); err == nil {
			got = b
			break
		}
	}
	if want := "-k " + file + "\n"; string(got) != want {
		t.Errorf("the opener got %q, want %q", got, want)
	}
	if !hasUIText(m, Inform, "opened with "+script) {
		t.Errorf("no message says it was opened: %+v", m.Response.UIMessages)
	}

	// $NETCAP_WIRESHARK names the opener when the option does not.
	os.Remove(marker)
	t.Setenv(OpenerEnv, script)
	runOpt(t, "openTrafficInWireshark", a, Options{})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
	}
	if b, _ := os.ReadFile(marker); string(b) != file+"\n" {
		t.Errorf("opener from $%s got %q", OpenerEnv, b)
	}

	m = runOpt(t, "openTrafficInWireshark", a, Options{Opener: filepath.Join(tmp, "no-such-program")})
	if len(m.Response.Entities) != 1 || !hasUIText(m, PartialError, "did not start") {
		t.Errorf("missing opener: %+v", m.Response)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("the file is gone: %v", err)
	}
}

// Every failure is a UI message in valid XML, with no entity.
func TestOpenTrafficErrors(t *testing.T) {
	pcap, dir := records(t)
	tmp := t.TempDir()
	none := func(name string, a Args, typ, text string) *Message {
		t.Helper()
		m := runOpt(t, name, a, Options{Opener: "none"})
		if len(m.Response.Entities) != 0 {
			t.Errorf("%s %q: entities %+v", name, a.Value, m.Response.Entities)
		}
		if !hasUIText(m, typ, text) {
			t.Errorf("%s %q: no %s saying %q: %+v", name, a.Value, typ, text, m.Response.UIMessages)
		}
		return m
	}
	props := func(kv ...string) map[string]string {
		p := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	none("openTrafficInWireshark", Args{Value: "no host", Props: props("path", dir)}, PartialError, "neither an IP address nor a connection")
	none("openTrafficInWireshark", Args{Value: "192.0.2.99", Props: props("path", dir)}, Inform, "no frames of host 192.0.2.99")
	none("openConnectionInWireshark", Args{Value: "TCP 192.0.2.1:1 -> 192.0.2.2:2", Props: props("path", dir)}, PartialError, "no connection")
	none("openTrafficInWireshark", Args{Value: "8.8.8.8", Props: props("path", dir, "pcap", filepath.Join(tmp, "gone.pcap"))}, PartialError, "is not a file")
	none("openTrafficInWireshark", Args{Value: "8.8.8.8", Props: props("path", filepath.Join(tmp, "no-records"))}, PartialError, "missing")

	// Records copied to a folder not named <pcap>.net: the capture is
	// found through the records' header.
	copied := filepath.Join(tmp, "records")
	os.Mkdir(copied, 0o755)
	for _, name := range []string{"IPv4.ncap.gz", "ICMPv4.ncap.gz"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(copied, name), b, 0o644)
	}
	m := runOpt(t, "openTrafficInWireshark", Args{Value: "8.8.8.8", Props: props("path", copied)}, Options{Opener: "none"})
	if len(m.Response.Entities) != 1 || m.Response.Entities[0].Field("source") != pcap {
		t.Errorf("capture not found through the header: %+v", m.Response)
	}

	// A capture cut short: the frames before the cut, and a PartialError.
	b, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "cut.pcap")
	os.WriteFile(cut, b[:len(b)/2+7], 0o644)
	m = runOpt(t, "openTrafficInWireshark", Args{Value: "8.8.8.8", Props: props("path", dir, "pcap", cut)}, Options{Opener: "none"})
	if len(m.Response.Entities) != 1 || !hasUIText(m, PartialError, "truncated") {
		t.Errorf("cut capture: %+v", m.Response)
	} else if n := m.Response.Entities[0].Weight; n == 0 || n >= int64(len(tsharkFrames(t, pcap, "ip.addr==8.8.8.8"))) {
		t.Errorf("cut capture: %d frames", n)
	}
}
