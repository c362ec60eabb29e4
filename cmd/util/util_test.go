package util

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/netcap/netcap/capture"
)

// decode runs the engine on testdata/loopback.pcap into a fresh folder.
func decode(t *testing.T, csv bool) (string, *capture.Summary) {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join("..", "..", "testdata", "loopback.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := t.TempDir()
	sum, err := capture.Run(context.Background(), src, capture.Config{
		Decoding: capture.DecodeConfig{Workers: 1},
		Output: capture.OutputConfig{
			Dir:           out,
			Compress:      true,
			CSV:           csv,
			IgnoreUnknown: true,
			Created:       time.Unix(1700000000, 0),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, sum
}

func check(t *testing.T, path string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run([]string{"-check", path}, &out, &errb)
	return code, out.String() + errb.String()
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeGzip(t *testing.T, path string, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(b)
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckValid(t *testing.T) {
	for _, csv := range []bool{false, true} {
		dir, sum := decode(t, csv)
		code, out := check(t, dir)
		if code != 0 {
			t.Fatalf("csv=%v: exit %d on valid files:\n%s", csv, code, out)
		}
		var total int64
		for name, n := range sum.Records {
			total += n
			ext := ".ncap.gz"
			if csv {
				ext = ".csv.gz"
			}
			line := "ok  " + filepath.Join(dir, name+ext) + ": " + name + ", "
			if !strings.Contains(out, line+itoa(n)+" records") {
				t.Errorf("csv=%v: no line %q%d records in\n%s", csv, line, n, out)
			}
		}
		if total == 0 || !strings.Contains(out, "0 damaged; "+itoa(total)+" records") {
			t.Errorf("csv=%v: total %d not reported:\n%s", csv, total, out)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCheckDamage builds each kind of damage from real record files and
// checks that it is found, named with file, record index and offset, and
// that the exit status is 1.
func TestCheckDamage(t *testing.T) {
	dir, sum := decode(t, false)
	tcp := filepath.Join(dir, "TCP.ncap.gz")
	tcpCount := sum.Records["TCP"]
	raw := gunzip(t, tcp)

	cases := []struct {
		name string
		make func(path string)
		want []string
	}{
		{"truncated gzip", func(p string) {
			b, _ := os.ReadFile(tcp)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, []string{"gzip stream is truncated or corrupt", "at file byte "}},
		{"corrupt gzip checksum", func(p string) {
			b, _ := os.ReadFile(tcp)
			b = append([]byte(nil), b...)
			b[len(b)-6] ^= 0xff // inside the CRC-32 of the last member
			os.WriteFile(p, b, 0o644)
		}, []string{"gzip stream is truncated or corrupt"}},
		{"record past the end", func(p string) {
			writeGzip(t, p, raw[:len(raw)-3])
		}, []string{"record " + itoa(tcpCount-1) + " at uncompressed byte ", "runs past the end of the data"}},
		{"header of another type", func(p string) {
			b, _ := os.ReadFile(filepath.Join(dir, "UDP.ncap.gz"))
			os.WriteFile(p, b, 0o644)
		}, []string{"header at uncompressed byte 0", "header is of type UDP but the file name says TCP"}},
		{"record of another type", func(p string) {
			// Splice the UDP file's records after the TCP header.
			udp := gunzip(t, filepath.Join(dir, "UDP.ncap.gz"))
			hdrLen := int(raw[0]) + 1
			udpHdr := int(udp[0]) + 1
			writeGzip(t, p, append(append([]byte(nil), raw[:hdrLen]...), udp[udpHdr:]...))
		}, []string{"record 0 at uncompressed byte ", "does not decode as TCP"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "TCP.ncap.gz")
			c.make(p)
			code, out := check(t, p)
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, out)
			}
			if !strings.Contains(out, "BAD "+p+": "+p+": ") {
				t.Errorf("file not named:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
		})
	}

	// The record past the end: its offset is where it starts.
	p := filepath.Join(t.TempDir(), "TCP.ncap.gz")
	writeGzip(t, p, raw[:len(raw)-3])
	res := CheckFile(p)
	d, ok := res.Err.(*Damage)
	if !ok || res.Records != tcpCount-1 {
		t.Fatalf("got %d records, %v", res.Records, res.Err)
	}
	// Walk the prefixes to find where the last record starts.
	off, n := int64(0), int64(-1)
	for n < tcpCount-1 {
		size, k := uvarint(raw[off:])
		off += int64(k) + int64(size)
		n++
	}
	if d.Offset != off || d.Record != tcpCount-1 {
		t.Errorf("damage at record %d offset %d, want record %d offset %d", d.Record, d.Offset, tcpCount-1, off)
	}
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

func TestCheckCSVColumns(t *testing.T) {
	dir, _ := decode(t, true)
	raw := gunzip(t, filepath.Join(dir, "TCP.csv.gz"))
	lines := bytes.SplitAfter(raw, []byte("\n"))
	// Row index 2 (the third record) gets one column more.
	lines[3] = append(bytes.TrimSuffix(lines[3], []byte("\n")), []byte(",extra\n")...)
	wantOff := len(lines[0]) + len(lines[1]) + len(lines[2])
	p := filepath.Join(t.TempDir(), "TCP.csv.gz")
	writeGzip(t, p, bytes.Join(lines, nil))
	code, out := check(t, p)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := p + ": record 2 at uncompressed byte " + itoa(int64(wantOff)) + ": row has "
	if !strings.Contains(out, want) || !strings.Contains(out, "columns, the header has") {
		t.Errorf("want %q in\n%s", want, out)
	}

	// A CSV header of another type.
	other := filepath.Join(t.TempDir(), "TCP.csv.gz")
	b, _ := os.ReadFile(filepath.Join(dir, "UDP.csv.gz"))
	os.WriteFile(other, b, 0o644)
	if code, out := check(t, other); code != 1 || !strings.Contains(out, "header line is not the TCP header") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestCheckUsage(t *testing.T) {
	if code, _ := check(t, filepath.Join(t.TempDir(), "missing")); code != 2 {
		t.Errorf("missing path: exit %d, want 2", code)
	}
	if code, out := check(t, t.TempDir()); code != 2 || !strings.Contains(out, "holds no record files") {
		t.Errorf("empty folder: exit %d: %s", code, out)
	}
	var o, e bytes.Buffer
	if code := run(nil, &o, &e); code != 2 {
		t.Errorf("no flags: exit %d", code)
	}
	if code := run([]string{"-h"}, &o, &e); code != 0 || !strings.Contains(e.String(), "Exit status: 0 only when every file is valid") {
		t.Errorf("-h: exit %d: %s", code, e.String())
	}
}

func TestTs2UTC(t *testing.T) {
	cases := map[string]string{
		"1700000000.123456":              "2023-11-14T22:13:20.123456Z",
		"1700000000.5":                   "2023-11-14T22:13:20.5Z",
		"1700000000":                     "2023-11-14T22:13:20Z",
		"1700000000123456789":            "2023-11-14T22:13:20.123456789Z",
		"2023-11-14T23:13:20.25+01:00":   "2023-11-14T22:13:20.25Z",
		"2023-11-14T22:13:20Z":           "2023-11-14T22:13:20Z",
		"-1.5":                           "1969-12-31T23:59:58.5Z",
		"1700000000.000001":              "2023-11-14T22:13:20.000001Z",
		" 1700000000123456789 ":          "2023-11-14T22:13:20.123456789Z",
		"0":                              "1970-01-01T00:00:00Z",
		"2023-11-14T22:13:20.123456789Z": "2023-11-14T22:13:20.123456789Z",
	}
	for in, want := range cases {
		var o, e bytes.Buffer
		if code := run([]string{"-ts2utc", in}, &o, &e); code != 0 || strings.TrimSpace(o.String()) != want {
			t.Errorf("%q: exit %d, got %q want %q (%s)", in, code, o.String(), want, e.String())
		}
	}
	for _, bad := range []string{"yesterday", "17000.", "1.1234567890", "2023-13-01T00:00:00Z", "+5", ""} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
