package dump

import (
	"bufio"
	"bytes"
	"compress/gzip"
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
// it is instead (a folder, an empty file, a device, a capture, a text file)
// and what to do; the int is the exit code for that error: 1 for a record
// file cut inside its header, 2 for everything else. The file is opened once
// and read front to back, so a FIFO (net capture writing into mkfifo) is
// streamed as its records come; the returned closer closes it.
func openRecords(path string) (*ncio.Reader, io.Closer, int, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, 2, fmt.Errorf("%s does not exist; give a record file written by net capture, e.g. traffic.net/TCP.ncap.gz", path)
		}
		return nil, nil, 2, err
	}
	mode := st.Mode()
	fifo := mode&os.ModeNamedPipe != 0
	switch {
	case st.IsDir():
		return nil, nil, 2, fmt.Errorf("%s is a folder; give one of its record files with -read%s", path, folderHint(path))
	case !mode.IsRegular() && !fifo:
		return nil, nil, 2, fmt.Errorf("%s is a %s, not a record file; give a <Type>.ncap.gz file written by net capture (or a FIFO it writes into)", path, fileKind(mode))
	case !fifo && st.Size() == 0:
		return nil, nil, 2, fmt.Errorf("%s is empty, not a netcap record file (a record file holds at least its header); give a <Type>.ncap.gz file written by net capture", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 2, err
	}
	br := bufio.NewReaderSize(f, 256<<10)
	// One read fills the buffer: the whole head of a file, or what a FIFO's
	// writer has written so far. Nothing is consumed, so the record reader
	// starts at byte 0 without opening the file again.
	br.Peek(1)
	raw, _ := br.Peek(br.Buffered())
	if len(raw) == 0 && fifo {
		f.Close()
		return nil, nil, 2, fmt.Errorf("%s is a FIFO whose writer closed it without writing anything, not a record stream; start net dump first, then the writer (e.g. net capture -out into it)", path)
	}
	head, gzipped := peek(raw)
	fail := func(code int, err error) (*ncio.Reader, io.Closer, int, error) {
		f.Close()
		return nil, nil, code, err
	}
	if kind := ncio.CaptureKind(head); kind != "" {
		if gzipped {
			kind = "gzip'd " + kind
		}
		return fail(2, fmt.Errorf("%s is a capture (%s), not a record file: run net capture -read %s first, then dump one of the <Type>.ncap.gz files it writes", path, kind, path))
	}
	r, err := ncio.NewReader(br, path)
	if err == nil {
		return r, f, 0, nil
	}
	if errors.Is(err, ncio.ErrOtherSchema) {
		return fail(2, err) // one line: the writer's version and what to do
	}
	if line, ok := textStart(head); ok {
		return fail(2, fmt.Errorf("%s is a text file (it starts with %q), not a netcap record file; net dump reads the <Type>.ncap.gz files net capture writes (net capture -csv output is CSV already: read it with zcat)", path, line))
	}
	if gzipped && errors.Is(err, ncio.ErrTruncated) {
		return fail(1, fmt.Errorf("%s is truncated inside its header record, so it holds no records (a killed net capture, a full disk or a partial copy)", path))
	}
	n := min(len(head), 8)
	return fail(2, fmt.Errorf("%v (first bytes % x); net dump reads the <Type>.ncap.gz files net capture writes", err, head[:n]))
}

// fileKind names a file mode that is neither a regular file nor a FIFO.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeCharDevice != 0:
		return "character device (such as /dev/zero or a terminal)"
	case m&os.ModeDevice != 0:
		return "block device"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// peek returns the first bytes of the content of raw, the start of the file,
// gunzipped when it is gzip, so that a gzip'd capture or CSV file is
// recognised too.
func peek(raw []byte) (head []byte, gzipped bool) {
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		return raw[:min(len(raw), 256)], false
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		// A cut or bad gzip header: let the record reader say so.
		return nil, true
	}
	buf := make([]byte, 256)
	n, _ := io.ReadFull(gz, buf)
	return buf[:n], true
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
		// net collect writes <out>/<sensor>/<Type>.ncap.gz.
		matches, _ = filepath.Glob(filepath.Join(dir, "*", "*.ncap*"))
	}
	if len(matches) == 0 {
		return ", e.g. traffic.net/TCP.ncap.gz (this folder holds no .ncap files: run net capture -read <capture> -out " + dir + " first)"
	}
	return ", e.g. " + matches[0]
}
