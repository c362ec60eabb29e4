package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestFileFilterKeepsFrameNumbers filters testdata/loopback.pcap with -bpf
// "udp port 53" and checks that the DNS records carry the frame numbers that
// tshark gives the same packets in the unfiltered file.
func TestFileFilterKeepsFrameNumbers(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	const path = "../testdata/loopback.pcap"
	out, err := exec.Command("tshark", "-r", path, "-Y", "udp.port == 53", "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var want []int64
	for _, f := range strings.Fields(string(out)) {
		n, _ := strconv.ParseInt(f, 10, 64)
		want = append(want, n)
	}
	if len(want) == 0 {
		t.Fatal("tshark found no DNS over UDP in the test capture")
	}

	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.SetFilter("udp port 53"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := Run(context.Background(), src, Config{
		Input:    InputConfig{BatchSize: 4},
		Decoding: DecodeConfig{Workers: 2},
		Output:   OutputConfig{Dir: dir, Compress: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Packets != int64(len(want)) {
		t.Errorf("filtered run decoded %d packets; tshark counts %d DNS packets over UDP", sum.Packets, len(want))
	}
	recs := readRecords(t, dir)
	if _, ok := recs["TCP"]; ok {
		t.Errorf("udp port 53 filter let TCP packets through: %d TCP records", len(recs["TCP"]))
	}
	var got []int64
	for _, m := range recs["UDP"] {
		n, _ := int64Field(m, "FrameNumber")
		got = append(got, n)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if len(got) != len(want) {
		t.Fatalf("UDP record frame numbers %v; tshark says %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("UDP record frame numbers %v; tshark says %v", got, want)
		}
	}
}

func TestFileFilterBadExpression(t *testing.T) {
	src, err := OpenFile("../testdata/loopback.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	err = src.SetFilter("tcp port")
	if err == nil || !strings.Contains(err.Error(), `-bpf "tcp port" does not compile`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad filter: error %v; want one line naming the expression", err)
	}
}

// idleSource plays a file like a quiet live interface: after every few
// packets, and forever after the last, it reports ErrIdle.
type idleSource struct {
	*FileSource
	every, n int
	idle     bool
	eof      chan struct{}
}

func (s *idleSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if s.idle {
		s.idle = false
		time.Sleep(time.Millisecond)
		return nil, gopacket.CaptureInfo{}, s.link, ErrIdle
	}
	data, ci, link, err := s.FileSource.ReadPacket()
	if err == io.EOF {
		select {
		case <-s.eof:
		default:
			close(s.eof)
		}
		time.Sleep(time.Millisecond)
		return nil, ci, link, ErrIdle
	}
	s.n++
	s.idle = s.n%s.every == 0
	return data, ci, link, err
}

// TestLiveIdleAndStop runs the engine in live mode on a source that goes
// quiet every few packets and stays quiet at the end, stops it with the
// context, and checks the output is byte for byte that of reading the file.
func TestLiveIdleAndStop(t *testing.T) {
	const path = "../testdata/loopback.pcap"
	created := time.Unix(1700000000, 0)
	want, _ := runEngine(t, path, Config{Decoding: DecodeConfig{Workers: 2}})

	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := &idleSource{FileSource: f, every: 7, eof: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-src.eof
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	dir := t.TempDir()
	done := make(chan struct{})
	var sum *Summary
	go func() {
		defer close(done)
		sum, err = Run(ctx, src, Config{
			Input:    InputConfig{Live: true},
			Decoding: DecodeConfig{Workers: 2},
			Output: OutputConfig{
				Dir:      dir,
				Compress: true,
				Created:  created,
			},
		})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("live run did not stop within 20s of the context's cancel")
	}
	if err != nil {
		t.Fatal(err)
	}
	if sum.Behind != 0 || sum.KernelDrops != 0 || !sum.Live {
		t.Errorf("summary: live %v, behind %d, kernel %d; want live, no drops", sum.Live, sum.Behind, sum.KernelDrops)
	}
	a, b := readDir(t, want), readDir(t, dir)
	if len(a) != len(b) {
		t.Errorf("live run wrote %d files, file run %d", len(b), len(a))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between the live-mode run and the file run", name)
		}
	}
}

// TestOpenLiveErrors checks the one-line errors of a bad -iface or -bpf.
func TestOpenLiveErrors(t *testing.T) {
	_, err := OpenLive("nonexistent0", LiveOptions{})
	if err == nil || !strings.Contains(err.Error(), "-iface nonexistent0: no such interface") {
		t.Errorf("unknown interface: %v", err)
	}
	if os.Geteuid() != 0 {
		if !errors.Is(err, ErrPermission) && err != nil && strings.Contains(err.Error(), "permission") {
			t.Errorf("permission error does not wrap ErrPermission: %v", err)
		}
		t.Skip("not root: the filter check needs to open an interface")
	}
	_, err = OpenLive("lo", LiveOptions{BPF: "tcp port"})
	if err == nil || !strings.Contains(err.Error(), `-bpf "tcp port" does not compile`) {
		t.Errorf("bad filter: %v", err)
	}
}
