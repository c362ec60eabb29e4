package decoder_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// tsConv is one TCP or UDP conversation as tshark sees it: the packets of one
// tcp.stream or udp.stream index, which is what its conversation tables
// (-z conv,tcp / conv,udp) count.
type tsConv struct {
	proto                 string
	firstFrame, lastFrame int64
	aIP, bIP              string
	aPort, bPort          int32
	packetsAB, packetsBA  int64
	bytesAB, bytesBA      int64
	communityID           string
}

// tsharkConversations lists the TCP and UDP conversations of a capture.
//
// A frame can hold several conversations (a tunnel and the packet inside
// it), so every occurrence of the fields is read and frame.protocols says
// which IP header each TCP or UDP header belongs to: the last one before it.
// tshark gives one community-id per frame, that of the innermost flow; the
// outer conversations of a tunnel frame have none to compare.
func tsharkConversations(t *testing.T, path string) map[int64]*tsConv {
	t.Helper()
	cmd := exec.Command("tshark", "-r", path, "-n", "--enable-protocol", "communityid",
		"-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "frame.number", "-e", "frame.len", "-e", "frame.protocols",
		"-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
		"-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.stream", "-e", "udp.srcport", "-e", "udp.dstport",
		"-e", "communityid")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark on %s: %v", path, err)
	}
	convs := map[int64]*tsConv{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 14 {
			continue
		}
		list := func(i int) []string {
			if f[i] == "" {
				return nil
			}
			return strings.Split(f[i], ",")
		}
		frame, _ := strconv.ParseInt(f[0], 10, 64)
		size, _ := strconv.ParseInt(f[1], 10, 64)
		ip4s, ip4d, ip6s, ip6d := list(3), list(4), list(5), list(6)
		tcpStream, tcpS, tcpD := list(7), list(8), list(9)
		udpStream, udpS, udpD := list(10), list(11), list(12)
		type hdr struct {
			proto, stream, sp, dp, src, dst string
			ips                             int // IP headers before it
		}
		var hdrs []hdr
		var src, dst string
		var n4, n6, nt, nu int
		take := func(l []string, i int) string {
			if i < len(l) {
				return l[i]
			}
			return ""
		}
	walk:
		for _, p := range strings.Split(f[2], ":") {
			switch p {
			case "ip":
				src, dst = take(ip4s, n4), take(ip4d, n4)
				n4++
			case "ipv6":
				src, dst = take(ip6s, n6), take(ip6d, n6)
				n6++
			case "tcp":
				hdrs = append(hdrs, hdr{"TCP", take(tcpStream, nt), take(tcpS, nt), take(tcpD, nt), src, dst, n4 + n6})
				nt++
			case "udp":
				hdrs = append(hdrs, hdr{"UDP", take(udpStream, nu), take(udpS, nu), take(udpD, nu), src, dst, n4 + n6})
				nu++
			case "icmp", "icmpv6":
				// tshark files an ICMP error under the TCP or UDP
				// conversation of the header it quotes; netcap, like
				// Zeek, makes it an ICMP flow of its own.
				break walk
			}
		}
		for _, h := range hdrs {
			if h.stream == "" || h.src == "" {
				continue
			}
			id, _ := strconv.ParseInt(h.stream, 10, 64)
			key := id*2 + map[string]int64{"TCP": 0, "UDP": 1}[h.proto]
			sport, _ := strconv.Atoi(h.sp)
			dport, _ := strconv.Atoi(h.dp)
			c := convs[key]
			if c == nil {
				c = &tsConv{proto: h.proto, firstFrame: frame, aIP: h.src, bIP: h.dst, aPort: int32(sport), bPort: int32(dport)}
				if h.ips == n4+n6 { // no packet inside this one
					c.communityID = f[13]
				}
				convs[key] = c
			}
			c.lastFrame = frame
			if h.src == c.aIP && int32(sport) == c.aPort {
				c.packetsAB++
				c.bytesAB += size
			} else {
				c.packetsBA++
				c.bytesBA += size
			}
		}
	}
	return convs
}

// TestConnectionsMatchTsharkConversations runs the engine with no idle
// timeouts (tshark has none) and compares every TCP and UDP Connection record
// with tshark's conversation of the same first frame: count, packets and
// bytes each way, community-id.
func TestConnectionsMatchTsharkConversations(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	root := filepath.Join("..", "..", "shared")
	captures := []string{
		filepath.Join("..", "testdata", "loopback.pcap"),
		filepath.Join(root, "labels", "kareem-attack-scan", "attack_scan.pcap"),
		filepath.Join(root, "labels", "menna-zeus", "zeus.pcapng"),
	}
	// A deterministic sample of the shared corpus with TCP or UDP;
	// NETCAP_FULL=1 takes every Ethernet capture, and NETCAP_CONV_FILES=a,b
	// of those the ones whose names contain a or b.
	if cat, err := os.ReadFile(filepath.Join(root, "pcaps", "CATALOG.tsv")); err == nil {
		n := 0
		for i, line := range strings.Split(string(cat), "\n") {
			f := strings.Split(line, "\t")
			if i == 0 || len(f) < 6 || f[2] != "ether" {
				continue
			}
			if os.Getenv("NETCAP_FULL") != "" || strings.Contains(f[5], "http") || strings.Contains(f[5], "tls") || strings.Contains(f[5], "dns") {
				if n%4 == 0 || os.Getenv("NETCAP_FULL") != "" {
					captures = append(captures, filepath.Join(root, "pcaps", f[0]))
				}
				n++
			}
		}
	}
	// NETCAP_CONV_FILES=a,b takes the catalog's captures whose names contain
	// a or b instead.
	if sel := os.Getenv("NETCAP_CONV_FILES"); sel != "" {
		captures = nil
		if cat, err := os.ReadFile(filepath.Join(root, "pcaps", "CATALOG.tsv")); err == nil {
			for i, line := range strings.Split(string(cat), "\n") {
				f := strings.Split(line, "\t")
				if i == 0 || len(f) < 6 || f[2] != "ether" {
					continue
				}
				for _, s := range strings.Split(sel, ",") {
					if strings.Contains(f[0], s) {
						captures = append(captures, filepath.Join(root, "pcaps", f[0]))
						break
					}
				}
			}
		}
	}
	var files, compared, mismatches int
	for _, path := range captures {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if why := convSkip(path); why != "" {
			t.Logf("%s: not compared: %s", path, why)
			continue
		}
		files++
		want := tsharkConversations(t, path)
		got := connections(t, path)
		// Connections by first frame; a frame can start two (a tunnel and
		// the packet inside it), told apart by their endpoints.
		byFirst := map[int64][]*types.Connection{}
		for _, c := range got {
			if c.TransportProto == "TCP" || c.TransportProto == "UDP" {
				byFirst[c.FrameFirst] = append(byFirst[c.FrameFirst], c)
			}
		}
		for _, w := range want {
			compared++
			var c *types.Connection
			cands := byFirst[w.firstFrame]
			for i, cand := range cands {
				fwd := cand.SrcIP == w.aIP && cand.SrcPort == w.aPort && cand.DstIP == w.bIP && cand.DstPort == w.bPort
				rev := cand.SrcIP == w.bIP && cand.SrcPort == w.bPort && cand.DstIP == w.aIP && cand.DstPort == w.aPort
				if strings.EqualFold(cand.TransportProto, w.proto) && (fwd || rev) || i == len(cands)-1 && c == nil {
					c = cand
					byFirst[w.firstFrame] = append(cands[:i:i], cands[i+1:]...)
					break
				}
			}
			if c == nil {
				mismatches++
				t.Errorf("%s: tshark %s conversation starting at frame %d (%s:%d - %s:%d) has no Connection record", path, w.proto, w.firstFrame, w.aIP, w.aPort, w.bIP, w.bPort)
				continue
			}
			ab, ba := c.NumPacketsClientToServer, c.NumPacketsServerToClient
			bab, bba := c.BytesClientToServer, c.BytesServerToClient
			if c.SrcIP != w.aIP || c.SrcPort != w.aPort {
				ab, ba, bab, bba = ba, ab, bba, bab
			}
			if ab != w.packetsAB || ba != w.packetsBA || bab != w.bytesAB || bba != w.bytesBA || (w.communityID != "" && c.CommunityID != w.communityID) || c.FrameLast != w.lastFrame {
				mismatches++
				t.Errorf("%s: conversation at frame %d: packets %d/%d bytes %d/%d last %d cid %s, tshark %d/%d, %d/%d, last %d, cid %s",
					path, w.firstFrame, ab, ba, bab, bba, c.FrameLast, c.CommunityID, w.packetsAB, w.packetsBA, w.bytesAB, w.bytesBA, w.lastFrame, w.communityID)
			}
		}
		for f, cs := range byFirst {
			for _, c := range cs {
				mismatches++
				t.Errorf("%s: Connection at frame %d (%s %s:%d - %s:%d) is no tshark conversation", path, f, c.TransportProto, c.SrcIP, c.SrcPort, c.DstIP, c.DstPort)
			}
		}
	}
	if files == 0 {
		t.Skip("no capture found")
	}
	t.Logf("%d captures, %d tshark conversations compared, %d mismatches", files, compared, mismatches)
}

// convSkip says why a capture cannot be compared with tshark's conversations.
func convSkip(path string) string {
	name := filepath.Base(path)
	switch {
	case strings.HasPrefix(name, "bigtcp-"):
		return "UDP length 0 (segmentation offload): tshark stops at the outer UDP header and counts no conversation"
	case name == "nsh-over-vxlan-gpe.pcap":
		return "VXLAN-GPE carrying NSH: netcap decodes neither"
	case name == "wccp_redirect_gre.pcap":
		return "a WCCP redirect header inside GRE: netcap does not decode it"
	}
	return ""
}

// connections decodes path with no idle timeouts and returns the Connection
// records.
func connections(t *testing.T, path string) []*types.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := t.TempDir()
	opts := decoder.DefaultOptions()
	opts.ConnTimeout, opts.FlowTimeout = 0, 0
	sum, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{
			Workers: 2,
			Options: opts,
			Enabled: func(tt types.Type) bool { return tt == types.Type_NC_Connection },
		},
		Output: capture.OutputConfig{Dir: out, Compress: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sum
	r, err := ncio.Open(filepath.Join(out, "Connection.ncap.gz"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var all []*types.Connection
	for {
		c := &types.Connection{}
		if err := r.Next(c); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].FrameFirst < all[j].FrameFirst })
	return all
}

// TestLayerFlowsMatchTshark compares LinkFlow, NetworkFlow and TransportFlow
// (timeouts off) with totals per MAC pair, outer IP pair and (protocol, port
// pair) computed from tshark's per-frame fields.
func TestLayerFlowsMatchTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	captures := []string{
		filepath.Join("..", "testdata", "loopback.pcap"),
		filepath.Join("..", "..", "shared", "labels", "kareem-attack-scan", "attack_scan.pcap"),
		filepath.Join("..", "..", "shared", "labels", "menna-zeus", "zeus.pcapng"),
	}
	pair := func(a, b string) string {
		if a > b {
			a, b = b, a
		}
		return a + " " + b
	}
	compared := 0
	for _, path := range captures {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		cmd := exec.Command("tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
			"-e", "frame.len", "-e", "eth.src", "-e", "eth.dst", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
			"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "ip.proto", "-e", "ipv6.nxt")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]int64{}
		add := func(k string, size int64) {
			v := want[k]
			v[0]++
			v[1] += size
			want[k] = v
		}
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 13 {
				continue
			}
			size, _ := strconv.ParseInt(f[0], 10, 64)
			if f[1] != "" {
				add("link "+pair(f[1], f[2]), size)
			}
			src, dst := f[3], f[4]
			if src == "" {
				src, dst = f[5], f[6]
			}
			if src != "" {
				add("net "+pair(src, dst), size)
			}
			// Ports of the outer transport header only (not ones quoted in ICMP errors).
			outer := f[11] + f[12]
			if outer == "6" && f[7] != "" {
				add("TCP "+pair(f[7], f[8]), size)
			} else if outer == "17" && f[9] != "" {
				add("UDP "+pair(f[9], f[10]), size)
			}
		}
		dir := t.TempDir()
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		opts := decoder.DefaultOptions()
		opts.ConnTimeout, opts.FlowTimeout = 0, 0
		if _, err := capture.Run(context.Background(), src, capture.Config{
			Decoding: capture.DecodeConfig{Workers: 2, Options: opts},
			Output:   capture.OutputConfig{Dir: dir, Compress: true},
		}); err != nil {
			t.Fatal(err)
		}
		src.Close()
		got := map[string][2]int64{}
		readAll(t, filepath.Join(dir, "LinkFlow.ncap.gz"), &types.LinkFlow{}, func(m *types.LinkFlow) {
			got["link "+pair(m.SrcMAC, m.DstMAC)] = [2]int64{m.NumPackets, m.TotalSize}
		})
		readAll(t, filepath.Join(dir, "NetworkFlow.ncap.gz"), &types.NetworkFlow{}, func(m *types.NetworkFlow) {
			got["net "+pair(m.SrcIP, m.DstIP)] = [2]int64{m.NumPackets, m.TotalSize}
		})
		readAll(t, filepath.Join(dir, "TransportFlow.ncap.gz"), &types.TransportFlow{}, func(m *types.TransportFlow) {
			if m.Proto == "TCP" || m.Proto == "UDP" {
				got[m.Proto+" "+pair(strconv.Itoa(int(m.SrcPort)), strconv.Itoa(int(m.DstPort)))] = [2]int64{m.NumPackets, m.TotalSize}
			}
		})
		for k, w := range want {
			compared++
			if got[k] != w {
				t.Errorf("%s: %s: %v (packets, bytes), tshark %v", filepath.Base(path), k, got[k], w)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %s is not in tshark's totals", filepath.Base(path), k)
			}
		}
	}
	t.Logf("%d MAC, IP and port pairs compared", compared)
}

func readAll[M proto.Message](t *testing.T, path string, m M, each func(M)) {
	t.Helper()
	r, err := ncio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		if err := r.Next(m); err == io.EOF {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		each(m)
	}
}
