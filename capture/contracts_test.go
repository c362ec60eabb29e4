package capture

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// The tests of the optional contracts a Source or a PartWriter may offer:
// for each, that the engine uses it when it is there and works when it is
// not.

const contractsCapture = "../testdata/loopback.pcap"

// oddFrames hands on the odd frames of a file only, as a filter would, and
// numbers them as the file does: the embedded FileSource's Frame.
type oddFrames struct{ *FileSource }

func (s oddFrames) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	for {
		data, ci, link, err := s.FileSource.ReadPacket()
		if err != nil || s.Frame()%2 == 1 {
			return data, ci, link, err
		}
	}
}

// hidden offers a Source's methods and nothing more, whatever the source
// underneath offers.
type hidden struct{ Source }

// frameNumbers runs src and returns the FrameNumber of every record that has
// one, sorted, and the packets decoded.
func frameNumbers(t *testing.T, src Source) ([]int64, int64) {
	t.Helper()
	dir := t.TempDir()
	sum, err := Run(context.Background(), src, Config{Decoding: DecodeConfig{Workers: 2}, Output: OutputConfig{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	var frames []int64
	for _, recs := range readRecords(t, dir) {
		for _, m := range recs {
			if n, ok := int64Field(m, "FrameNumber"); ok {
				frames = append(frames, n)
			}
		}
	}
	if len(frames) == 0 {
		t.Fatal("no record with a FrameNumber")
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	return frames, sum.Packets
}

func TestFrameNumbererUsed(t *testing.T) {
	f, err := OpenFile(contractsCapture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src Source = oddFrames{f}
	if _, ok := src.(FrameNumberer); !ok {
		t.Fatal("oddFrames does not offer FrameNumberer")
	}
	frames, packets := frameNumbers(t, src)
	for _, n := range frames {
		if n%2 == 0 {
			t.Fatalf("a record has frame %d; only the odd frames of the file were handed on, numbered as in the file", n)
		}
	}
	if last := frames[len(frames)-1]; last <= packets {
		t.Errorf("highest frame %d of %d packets: the file's numbers should reach about twice the packets", last, packets)
	}
}

func TestFrameNumbererAbsent(t *testing.T) {
	f, err := OpenFile(contractsCapture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src Source = hidden{oddFrames{f}}
	if _, ok := src.(FrameNumberer); ok {
		t.Fatal("hidden offers FrameNumberer")
	}
	// The engine counts the packets it reads: 1 to packets, even ones
	// included.
	frames, packets := frameNumbers(t, src)
	even := false
	for _, n := range frames {
		if n < 1 || n > packets {
			t.Fatalf("a record has frame %d; the engine read %d packets", n, packets)
		}
		even = even || n%2 == 0
	}
	if !even {
		t.Error("no record has an even frame number: the engine did not count the packets itself")
	}
}

// dropping says it lost a fixed number of packets.
type dropping struct {
	Source
	lost int64
}

func (s dropping) KernelDrops() int64 { return s.lost }

func TestDropCounter(t *testing.T) {
	for _, c := range []struct {
		name string
		wrap func(Source) Source
		want int64
	}{
		{"offered", func(s Source) Source { return dropping{s, 42} }, 42},
		{"absent", func(s Source) Source { return hidden{s} }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := OpenFile(contractsCapture)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			src := c.wrap(f)
			if _, ok := src.(DropCounter); ok != (c.want != 0) {
				t.Fatalf("source offers DropCounter: %v", ok)
			}
			sum, err := Run(context.Background(), src, Config{Decoding: DecodeConfig{Workers: 1}, Output: OutputConfig{Dir: t.TempDir()}})
			if err != nil {
				t.Fatal(err)
			}
			if sum.KernelDrops != c.want || sum.Packets == 0 {
				t.Errorf("summary: %d kernel drops of %d packets; want %d drops", sum.KernelDrops, sum.Packets, c.want)
			}
		})
	}
}

// memParts keeps parts in memory; named says whether it offers PathNamer.
type memParts struct{ n int }

func (m *memParts) WritePart(b []byte, n int) error { m.n += n; return nil }
func (m *memParts) Close() error                    { return nil }

type namedParts struct {
	memParts
	path string
}

func (m *namedParts) Path() string { return m.path }

func TestPathNamer(t *testing.T) {
	run := func(t *testing.T, out OutputConfig) *Summary {
		t.Helper()
		f, err := OpenFile(contractsCapture)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out.IgnoreUnknown = true
		sum, err := Run(context.Background(), f, Config{Decoding: DecodeConfig{Workers: 1}, Output: out})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Records) == 0 {
			t.Fatal("no records")
		}
		return sum
	}
	t.Run("files", func(t *testing.T) {
		// The record files' writers name their paths: Files lists
		// what is in the folder.
		dir := t.TempDir()
		sum := run(t, OutputConfig{Dir: dir, Compress: true})
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, e := range entries {
			want = append(want, filepath.Join(dir, e.Name()))
		}
		got := append([]string(nil), sum.Files...)
		sort.Strings(got)
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("Files %v; the folder holds %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("Files %v; the folder holds %v", got, want)
			}
		}
	})
	t.Run("offered", func(t *testing.T) {
		sum := run(t, OutputConfig{Parts: func(typ types.Type, _ *types.Header) (PartWriter, error) {
			return &namedParts{path: "sent/" + types.Name(typ)}, nil
		}})
		if len(sum.Files) != len(sum.Records) {
			t.Errorf("Files %v for %d record types; want one path each", sum.Files, len(sum.Records))
		}
		for _, p := range sum.Files {
			if _, ok := sum.Records[filepath.Base(p)]; !ok {
				t.Errorf("Files lists %s, which no PartWriter named", p)
			}
		}
	})
	t.Run("absent", func(t *testing.T) {
		sum := run(t, OutputConfig{Parts: func(types.Type, *types.Header) (PartWriter, error) { return &memParts{}, nil }})
		if len(sum.Files) != 0 {
			t.Errorf("Files %v; no PartWriter has a path", sum.Files)
		}
	})
}
