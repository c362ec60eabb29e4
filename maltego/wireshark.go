package maltego

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netcap/netcap/capture"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// The Wireshark transforms cut the frames of one host or one connection out
// of the original capture. The records say which frames: every packet
// record carries the packet's 1-based frame number, the one Wireshark shows
// as frame.number, and the capture is read again only to copy those frames.
//
//   - A host's frames are those with an IP header (any of a tunnelled
//     packet's) from or to it, as in the IPv4 and IPv6 records, plus the ICMP
//     errors that quote a packet from or to it: Wireshark's ip.addr==X (or
//     ipv6.addr==X) matches the quoted header too. The records do not keep
//     the quoted header, so the ICMP error frames are checked in the capture.
//   - A connection's frames are those whose IP record carries the FlowID of a
//     Connection record with the entity's value ("TCP a:p -> b:q").
//
// The frames are written in capture order to a pcapng file (one interface
// per link type, nanosecond timestamps, so pcap and pcapng inputs both keep
// their frames exactly) in <record folder>/wireshark/, through a temporary
// file, and the file is handed to the opener command.

// Names of the Wireshark transforms.
const (
	openTrafficName    = "openTrafficInWireshark"
	openConnectionName = "openConnectionInWireshark"
)

// openTraffic is both Wireshark transforms: the value says whether it is a
// connection ("PROTO a:p -> b:q") or a host (an IP address, or the ip
// property).
func openTraffic(q *query) error {
	pcap, err := originalCapture(q.dir, q.args.Props)
	if err != nil {
		return err
	}
	var (
		sel   frameSet
		label string
	)
	if strings.Contains(q.args.Value, " -> ") {
		label = "connection " + q.args.Value
		if sel, err = q.connectionFrames(q.args.Value); err != nil {
			return err
		}
	} else {
		ip := net.ParseIP(q.ip)
		if ip == nil {
			return fmt.Errorf("%q is neither an IP address nor a connection (PROTO a:port -> b:port)", q.args.Value)
		}
		label = "host " + ip.String()
		if sel, err = q.hostFrames(ip); err != nil {
			return err
		}
	}
	if len(sel.frames) == 0 && len(sel.maybe) == 0 {
		q.msg.Inform(fmt.Sprintf("no frames of %s in the records of %s: nothing to open", label, q.dir))
		return nil
	}
	out, err := trafficFile(q.dir, label)
	if err != nil {
		return err
	}
	w, err := writeFrames(pcap, out, sel)
	if err != nil {
		if w.n == 0 {
			return err
		}
		q.msg.Warn(fmt.Sprintf("%v; the %d frames before it were written", err, w.n))
	}
	if w.n == 0 {
		q.msg.Inform(fmt.Sprintf("no frames of %s in %s: nothing to open", label, pcap))
		return nil
	}
	q.agg[out] = &item{count: w.n, first: w.first, last: w.last, typ: PCAP, extra: map[string]string{"path": out, "source": pcap}}
	q.open(out, w.n, label)
	return nil
}

// frameSet is what the records select: frames to copy, and ICMP error
// frames to copy when the header they quote is from or to host.
type frameSet struct {
	frames []int64 // sorted, unique
	maybe  []int64 // sorted, unique, none in frames
	host   net.IP
}

func (q *query) hostFrames(ip net.IP) (frameSet, error) {
	host := ip.String()
	seen := map[int64]bool{}
	sel := frameSet{host: ip}
	if recordFile(q.dir, types.Type_NC_IPv4) == "" && recordFile(q.dir, types.Type_NC_IPv6) == "" {
		return sel, fmt.Errorf("no IPv4 or IPv6 records in %s", q.dir)
	}
	for _, t := range []types.Type{types.Type_NC_IPv4, types.Type_NC_IPv6} {
		err := q.scanIfPresent(t, []string{"FrameNumber", "SrcIP", "DstIP"}, func(v []rawValue) {
			frame := int64(v[0].n)
			if (string(v[1].b) == host || string(v[2].b) == host) && frame > 0 && !seen[frame] {
				seen[frame] = true
				sel.frames = append(sel.frames, frame)
			}
		})
		if err != nil {
			return sel, err
		}
	}
	// ICMP errors: unreachable, source quench, redirect, time exceeded,
	// parameter problem (v4); unreachable, too big, time exceeded,
	// parameter problem (v6).
	maybe := map[int64]bool{}
	for _, icmp := range []struct {
		t      types.Type
		errors []int32
	}{
		{types.Type_NC_ICMPv4, []int32{3, 4, 5, 11, 12}},
		{types.Type_NC_ICMPv6, []int32{1, 2, 3, 4}},
	} {
		err := q.scanIfPresent(icmp.t, []string{"FrameNumber", "TypeCode"}, func(v []rawValue) {
			frame, typ := int64(v[0].n), int32(v[1].n)>>8
			if frame <= 0 || seen[frame] || maybe[frame] {
				return
			}
			for _, e := range icmp.errors {
				if typ == e {
					maybe[frame] = true
					sel.maybe = append(sel.maybe, frame)
				}
			}
		})
		if err != nil {
			return sel, err
		}
	}
	sortFrames(sel.frames)
	sortFrames(sel.maybe)
	return sel, nil
}

func (q *query) connectionFrames(value string) (frameSet, error) {
	var sel frameSet
	if recordFile(q.dir, types.Type_NC_Connection) == "" {
		return sel, fmt.Errorf("no Connection records in %s", q.dir)
	}
	uids := map[string]bool{}
	// Most records differ from the value in their ports or source address:
	// compare those first, build the whole value only for the few left.
	sport, dport, ok := connPorts(value)
	if !ok {
		return sel, fmt.Errorf("%q is not a connection (PROTO a:port -> b:port)", value)
	}
	err := q.scanIfPresent(types.Type_NC_Connection, []string{"TransportProto", "SrcIP", "SrcPort", "DstIP", "DstPort", "UID"}, func(v []rawValue) {
		if int64(int32(v[2].n)) != sport || int64(int32(v[4].n)) != dport {
			return
		}
		q.key = appendConnOf(q.key[:0], v[0].b, v[1].b, sport, v[3].b, dport)
		if string(q.key) == value && len(v[5].b) > 0 {
			uids[string(v[5].b)] = true
		}
	})
	if err != nil {
		return sel, err
	}
	if len(uids) == 0 {
		return sel, fmt.Errorf("no connection %q in the Connection records of %s", value, q.dir)
	}
	seen := map[int64]bool{}
	for _, t := range []types.Type{types.Type_NC_IPv4, types.Type_NC_IPv6} {
		err := q.scanIfPresent(t, []string{"FrameNumber", "FlowID"}, func(v []rawValue) {
			frame := int64(v[0].n)
			if uids[string(v[1].b)] && frame > 0 && !seen[frame] {
				seen[frame] = true
				sel.frames = append(sel.frames, frame)
			}
		})
		if err != nil {
			return sel, err
		}
	}
	sortFrames(sel.frames)
	return sel, nil
}

// connPorts reads the ports of a connection value "PROTO a:p -> b:q".
func connPorts(value string) (sport, dport int64, ok bool) {
	src, dst, found := strings.Cut(value, " -> ")
	if !found {
		return 0, 0, false
	}
	port := func(hostPort string) (int64, bool) {
		i := strings.LastIndexByte(hostPort, ':')
		if i < 0 {
			return 0, false
		}
		p, err := strconv.ParseInt(hostPort[i+1:], 10, 32)
		return p, err == nil
	}
	sport, ok1 := port(src)
	dport, ok2 := port(dst)
	return sport, dport, ok1 && ok2
}

func sortFrames(f []int64) { sort.Slice(f, func(i, j int) bool { return f[i] < f[j] }) }

// originalCapture finds the capture the records were made from: the "pcap"
// property, else the file whose <file>.net the folder is (what
// toAuditRecords makes), else the input source in the records' header.
func originalCapture(dir string, props map[string]string) (string, error) {
	isFile := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && !st.IsDir()
	}
	if p := props["pcap"]; p != "" {
		if !isFile(p) {
			return "", fmt.Errorf("capture %s (pcap property) is not a file", p)
		}
		return p, nil
	}
	if p := strings.TrimSuffix(dir, ".net"); p != dir && isFile(p) {
		return p, nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ncap*"))
	for _, f := range files {
		r, err := ncio.Open(f)
		if err != nil {
			continue
		}
		src := r.Header().InputSource
		r.Close()
		for _, p := range []string{src, filepath.Join(filepath.Dir(dir), src)} {
			if src != "" && isFile(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("the capture the records of %s were made from is not found: set the entity's pcap property to it", dir)
}

// trafficFile is where the frames of label go: <dir>/wireshark/ when it can
// be made, else the system's temporary folder. The name is the label with
// "->" as "to" and every byte but letters, digits, '.' and '-' as '_':
// host_8.8.8.8.pcapng, connection_TCP_10.0.0.1_5353_to_10.0.0.2_53.pcapng.
func trafficFile(dir, label string) (string, error) {
	name := []byte(strings.ReplaceAll(label, " -> ", " to "))
	for i, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			name[i] = '_'
		}
	}
	base := string(name) + ".pcapng"
	for _, d := range []string{filepath.Join(dir, "wireshark"), filepath.Join(os.TempDir(), "netcap-wireshark")} {
		if err := os.MkdirAll(d, 0o755); err == nil {
			return filepath.Join(d, base), nil
		}
	}
	return "", fmt.Errorf("no folder to write %s to", base)
}

// written is what writeFrames copied: the number of frames and the
// timestamps (Unix ns) of the first and last.
type written struct {
	n, first, last int64
}

// writeFrames copies the selected frames of pcap, in order, to a pcapng file
// at out. It reads the capture only up to the last selected frame. A capture
// cut short ends the copy with an error; the frames before the cut stay.
func writeFrames(pcap, out string, sel frameSet) (written, error) {
	var w written
	src, err := capture.OpenFile(pcap)
	if err != nil {
		return w, err
	}
	defer src.Close()
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	f, err := os.Create(tmp)
	if err != nil {
		return w, err
	}
	defer os.Remove(tmp) // after the rename there is nothing to remove
	var (
		ng     *pcapgo.NgWriter
		ifaces = map[layers.LinkType]int{}
		end    int64
	)
	if n := len(sel.frames); n > 0 {
		end = sel.frames[n-1]
	}
	if n := len(sel.maybe); n > 0 && sel.maybe[n-1] > end {
		end = sel.maybe[n-1]
	}
	fi, mi := 0, 0
	var readErr error
	for {
		data, ci, link, err := src.ReadPacket()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		frame := src.Frame()
		for fi < len(sel.frames) && sel.frames[fi] < frame {
			fi++
		}
		for mi < len(sel.maybe) && sel.maybe[mi] < frame {
			mi++
		}
		want := fi < len(sel.frames) && sel.frames[fi] == frame
		if !want && mi < len(sel.maybe) && sel.maybe[mi] == frame {
			want = quotesHost(data, link, sel.host)
		}
		if want {
			if ng == nil {
				intf := pcapgo.DefaultNgInterface
				intf.LinkType, intf.Name, intf.SnapLength = link, link.String(), 0
				opts := pcapgo.DefaultNgWriterOptions
				opts.SectionInfo.Application = "netcap"
				if ng, err = pcapgo.NewNgWriterInterface(f, intf, opts); err != nil {
					f.Close()
					return w, err
				}
				ifaces[link] = 0
			}
			id, ok := ifaces[link]
			if !ok {
				intf := pcapgo.DefaultNgInterface
				intf.LinkType, intf.Name, intf.SnapLength = link, link.String(), 0
				if id, err = ng.AddInterface(intf); err != nil {
					f.Close()
					return w, err
				}
				ifaces[link] = id
			}
			ci.InterfaceIndex = id
			ci.CaptureLength = len(data)
			if ci.Length < ci.CaptureLength {
				ci.Length = ci.CaptureLength // pcapng cannot say less was on the wire than was captured
			}
			ci.AncillaryData = nil
			if err := ng.WritePacket(ci, data); err != nil {
				f.Close()
				return w, fmt.Errorf("%s: %v", out, err)
			}
			ts := ci.Timestamp.UnixNano()
			if w.n == 0 {
				w.first = ts
			}
			w.n++
			if ts > w.last {
				w.last = ts
			}
			if ts < w.first {
				w.first = ts
			}
		}
		if frame >= end {
			break
		}
	}
	if ng != nil {
		if err := ng.Flush(); err != nil {
			f.Close()
			return w, err
		}
	}
	if err := f.Close(); err != nil {
		return w, err
	}
	if w.n == 0 {
		return w, readErr
	}
	if err := os.Rename(tmp, out); err != nil {
		return w, err
	}
	return w, readErr
}

// quotesHost reports whether the frame is an ICMP error whose quoted IP
// header is from or to host.
func quotesHost(data []byte, link layers.LinkType, host net.IP) bool {
	p := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var quoted []byte
	if l, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
		quoted = l.Payload
	} else if l, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok && len(l.Payload) >= 4 {
		quoted = l.Payload[4:] // unused or MTU or pointer field first
	}
	if len(quoted) == 0 {
		return false
	}
	switch quoted[0] >> 4 {
	case 4:
		if len(quoted) >= 20 && host.To4() != nil {
			h := host.To4()
			return net.IP(quoted[12:16]).Equal(h) || net.IP(quoted[16:20]).Equal(h)
		}
	case 6:
		if len(quoted) >= 40 {
			return net.IP(quoted[8:24]).Equal(host) || net.IP(quoted[24:40]).Equal(host)
		}
	}
	return false
}

// opener is the command the written capture is opened with (its fields, the
// file is appended), nil for none.
func opener(opt string) []string {
	cmd := opt
	if cmd == "" {
		cmd = os.Getenv(OpenerEnv)
	}
	if cmd == "" {
		if _, err := exec.LookPath("wireshark"); err == nil {
			cmd = "wireshark"
		}
	}
	if cmd == "" || cmd == "none" {
		return nil
	}
	return strings.Fields(cmd)
}

// open starts the opener on the file and does not wait for it: Maltego
// waits for the transform, not for Wireshark. The opener's output goes
// nowhere, never to stdout, which carries the answer.
func (q *query) open(file string, frames int64, label string) {
	args := opener(q.opt.Opener)
	if args == nil {
		why := "Wireshark is not on the PATH; -wireshark or $" + OpenerEnv + " names the command that opens it"
		if q.opt.Opener == "none" || q.opt.Opener == "" && os.Getenv(OpenerEnv) == "none" {
			why = "not opened: the opener is none"
		}
		q.msg.Inform(fmt.Sprintf("%d frames of %s written to %s (%s)", frames, label, file, why))
		return
	}
	cmd := exec.Command(args[0], append(args[1:], file)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		q.msg.Warn(fmt.Sprintf("%d frames of %s written to %s, but %s did not start: %v", frames, label, file, args[0], err))
		return
	}
	go cmd.Wait() // reaps the opener if it ends while this process still runs
	q.msg.Inform(fmt.Sprintf("%d frames of %s written to %s and opened with %s", frames, label, file, args[0]))
}
