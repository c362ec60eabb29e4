package dump

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	ncio "github.com/netcap/netcap/io"
)

// openRecords opens a record file. When path is not one, the error says what
// it is instead (a folder, an empty file, a capture, a text file) and what to
// do; the int is the exit code for that error: 1 for a record file cut inside
// its header, 2 for everything else.
func openRecords(path string) (*ncio.Reader, int, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 2, fmt.Errorf("%s does not exist; give a record file written by net capture, e.g. traffic.net/TCP.ncap.gz", path)
		}
		return nil, 2, err
	}
	if st.IsDir() {
		return nil, 2, fmt.Errorf("%s is a folder; give one of its record files with -read%s", path, folderHint(path))
	}
	if st.Size() == 0 {
		return nil, 2, fmt.Errorf("%s is empty, not a netcap record file (a record file holds at least its header); give a <Type>.ncap.gz file written by net capture", path)
	}
	head, gzipped, err := peek(path)
	if err != nil {
		return nil, 2, err
	}
	if kind := captureKind(head); kind != "" {
		if gzipped {
			kind = "gzip'd " + kind
		}
		return nil, 2, fmt.Errorf("%s is a capture (%s), not a record file: run net capture -read %s first, then dump one of the <Type>.ncap.gz files it writes", path, kind, path)
	}
	r, err := ncio.Open(path)
	if err == nil {
		return r, 0, nil
	}
	if errors.Is(err, ncio.ErrOtherSchema) {
		return nil, 2, err // one line: the writer's version and what to do
	}
	if line, ok := textStart(head); ok {
		return nil, 2, fmt.Errorf("%s is a text file (it starts with %q), not a netcap record file; net dump reads the <Type>.ncap.gz files net capture writes (net capture -csv output is CSV already: read it with zcat)", path, line)
	}
	if gzipped && errors.Is(err, ncio.ErrTruncated) {
		return nil, 1, fmt.Errorf("%s is truncated inside its header record, so it holds no records (a killed net capture, a full disk or a partial copy)", path)
	}
	n := min(len(head), 8)
	return nil, 2, fmt.Errorf("%v (first bytes % x); net dump reads the <Type>.ncap.gz files net capture writes", err, head[:n])
}

// peek returns the first bytes of the file's content, gunzipped when the file
// is gzip, so that a gzip'd capture or CSV file is recognised too.
func peek(path string) (head []byte, gzipped bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gzipped = true
		gz, err := gzip.NewReader(br)
		if err != nil {
			// A cut or bad gzip header: let the record reader say so.
			return nil, true, nil
		}
		r = gz
	}
	buf := make([]byte, 256)
	n, _ := io.ReadFull(r, buf)
	return buf[:n], gzipped, nil
}

// captureKind names the capture format whose magic number starts head, or
// returns "" when head does not start a capture.
func captureKind(head []byte) string {
	if len(head) < 4 {
		return ""
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == 0xa1b2c3d4 || be == 0xa1b2c3d4:
		return "pcap"
	case le == 0xa1b23c4d || be == 0xa1b23c4d:
		return "pcap with nanosecond timestamps"
	case le == 0x0a0d0d0a:
		return "pcapng"
	}
	return ""
}

// textStart reports whether head is printable text, and returns its first line
// (cut at 40 characters) to quote in the error.
func textStart(head []byte) (string, bool) {
	if len(head) == 0 {
		return "", false
	}
	// head may end inside a multi-byte character; drop that tail.
	for i := 0; i < utf8.UTFMax && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if len(head) == 0 || !utf8.Valid(head) {
		return "", false
	}
	for _, r := range string(head) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			return "", false
		}
	}
	line, _, _ := strings.Cut(string(head), "\n")
	line = strings.TrimRight(line, "\r")
	if utf8.RuneCountInString(line) > 40 {
		line = string([]rune(line)[:40]) + "…"
	}
	return line, true
}

// folderHint names a record file in dir, if there is one, as an example.
func folderHint(dir string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.ncap*"))
	if len(matches) == 0 {
		return ", e.g. traffic.net/TCP.ncap.gz (this folder holds no .ncap files: run net capture -read <capture> -out " + dir + " first)"
	}
	return ", e.g. " + matches[0]
}
