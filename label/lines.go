package label

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxLine is the longest alert file line read. A longer line is skipped to
// its end and counted as malformed, so one huge line (an EVE event with a
// megabyte payload dump) does not end the run and is never held whole.
const MaxLine = 64 << 20

// keepLine is the largest line buffer kept from one line to the next.
const keepLine = 1 << 20

// LineReader reads lines of at most max bytes from an alert file.
type LineReader struct {
	br   *bufio.Reader
	max  int
	n    int // number of the line last returned, 1-based
	line []byte
}

// NewLineReader reads lines of at most max bytes from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &LineReader{br: br, max: max}
}

// Next returns the next line without its line break ("\n" or "\r\n"),
// valid until the next call. long is true, and line nil, for a line over
// the limit: it was read to its end and dropped. err is io.EOF after the
// last line, or the read error.
func (r *LineReader) Next() (line []byte, long bool, err error) {
	if cap(r.line) > keepLine {
		r.line = nil // do not keep the buffer of a long line for the rest of the file
	}
	r.line = r.line[:0]
	read := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !long {
			if len(r.line)+len(chunk) > r.max+2 { // +2: the line break is not counted
				long = true
				r.line = r.line[:0]
			} else {
				if len(r.line)+len(chunk) > cap(r.line) {
					// Doubling: a long line is copied fewer times
					// than append's 1.25 growth copies it.
					r.line = append(make([]byte, 0, max(2*cap(r.line), len(r.line)+len(chunk))), r.line...)
				}
				r.line = append(r.line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		if err == io.EOF && !read {
			return nil, false, io.EOF
		}
		break
	}
	r.n++
	if long {
		return nil, true, nil
	}
	l := r.line
	l = bytes.TrimSuffix(l, []byte{'\n'})
	l = bytes.TrimSuffix(l, []byte{'\r'}) // also on a last line without "\n", as bufio.ScanLines does
	if len(l) > r.max {
		return nil, true, nil
	}
	return l, false, nil
}

// Line returns the number of the line Next returned last, 1-based.
func (r *LineReader) Line() int { return r.n }
