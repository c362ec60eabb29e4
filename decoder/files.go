package decoder

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"

	"github.com/netcap/netcap/types"
)

// Files carried by application protocols (HTTP bodies so far) become File
// records: the content as the receiver's application sees it (de-chunked,
// gunzipped or inflated), its size, hashes and sniffed type, and whether
// every byte was captured. With a directory (net capture -files DIR) the
// contents are written there, named by their SHA-256, each up to
// MaxFileSize; beyond, the record says so and nothing is stored, but the
// hashes still cover the whole content up to that size.

// FileStore is where a worker's parsers put files; nil when File records
// are not selected.
type FileStore struct {
	// Dir receives the contents; empty: records only.
	Dir string
	// MaxSize bounds the content read of one file, in bytes (decoded):
	// a decompression bomb stops there, and the file is incomplete.
	MaxSize int64
	// Stored and Failed count the files written and those that could not
	// be (the disk), for the summary.
	Stored, Failed atomic.Int64
}

// DefaultMaxFileSize is the default of -max-file-size.
const DefaultMaxFileSize = 100 << 20

// fileBody reads one file's content as it arrives.
type fileBody struct {
	store *FileStore
	r     types.File
	h     *fileHashes // nil once finished
	sniff []byte      // the first bytes, in h.sniff
	// detected is the sniffed type of sniff[:detectedLen] when the HTTP
	// parser sniffed the same bytes for its record (see httpDir.sniffed).
	detected     string
	detectedLen  int
	n            int64
	tmp          *os.File
	over         bool   // content beyond MaxSize: no more is read
	reason       string // why the file is incomplete; "" while complete
	stopped      bool   // no more of the transfer is read
	decoder      *fileDecoder
	encodedBytes int64
	// While a decoder runs, the content fields (hashes, n, sniff, tmp,
	// over, r.Reason) belong to its goroutine; the parser reads them only
	// after decoder.close. reason and stopped are the parser's.
}

// fileHashes are what every file needs while it is read: the three hashes
// and the bytes kept for sniffing. They are pooled, reset, for the next
// file: an HTTP body is a file, and making them anew cost five allocations
// and 800 bytes a body.
type fileHashes struct {
	md5, sha1, sha256 hash.Hash
	sum               [sha256.Size]byte // where the hashes are summed
	sniff             [httpSniffLen]byte
}

var hashPool = sync.Pool{New: func() any {
	return &fileHashes{md5: md5.New(), sha1: sha1.New(), sha256: sha256.New()}
}}

// release resets the hashes and returns them to the pool; the file reads
// nothing more.
func (f *fileBody) release() {
	if h := f.h; h != nil {
		f.h, f.sniff = nil, nil
		h.md5.Reset()
		h.sha1.Reset()
		h.sha256.Reset()
		hashPool.Put(h)
	}
}

// newFileBody starts a file whose content arrives with the given content
// coding ("" or identity: none).
func newFileBody(store *FileStore, coding string) *fileBody {
	h := hashPool.Get().(*fileHashes)
	f := &fileBody{store: store, h: h, sniff: h.sniff[:0]}
	if store.Dir != "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		tmp, err := os.Create(filepath.Join(store.Dir, ".tmp-"+hex.EncodeToString(b[:])))
		if err != nil {
			store.Failed.Add(1)
			f.r.Reason = "not stored: " + err.Error()
		} else {
			f.tmp = tmp
		}
	}
	switch c := strings.ToLower(strings.TrimSpace(coding)); c {
	case "", "identity":
	case "gzip", "x-gzip", "deflate", "br":
		f.decoder = newFileDecoder(c, f)
	default:
		f.fail("content coding " + c + " not decoded")
	}
	return f
}

// write takes the next bytes of the transferred body (after de-chunking).
func (f *fileBody) write(b []byte) {
	if f.stopped || len(b) == 0 {
		return
	}
	if f.decoder != nil {
		f.encodedBytes += int64(len(b))
		f.decoder.write(b)
		return
	}
	f.content(b)
}

// content takes decoded bytes.
func (f *fileBody) content(b []byte) {
	if f.over || f.h == nil {
		return
	}
	if room := f.store.MaxSize - f.n; int64(len(b)) > room {
		b = b[:max(room, 0)]
		f.over = true
		if f.decoder == nil {
			f.stopped = true
		}
	}
	f.n += int64(len(b))
	f.h.md5.Write(b)
	f.h.sha1.Write(b)
	f.h.sha256.Write(b)
	if len(f.sniff) < httpSniffLen {
		f.sniff = append(f.sniff, b[:min(len(b), httpSniffLen-len(f.sniff))]...)
	}
	if f.tmp != nil {
		if _, err := f.tmp.Write(b); err != nil {
			f.store.Failed.Add(1)
			f.r.Reason = "not stored: " + err.Error()
			f.dropTmp()
		}
	}
}

// fail marks the file incomplete and stops reading it.
func (f *fileBody) fail(reason string) {
	if f.reason == "" {
		f.reason = reason
	}
	f.stopped = true
}

// missed marks bytes of the body as not captured: what came before is
// kept, nothing after is read (a hole is never patched).
func (f *fileBody) missed(n int) {
	f.fail(fmt.Sprintf("%d bytes not captured after byte %d of the transfer", n, f.encodedBytes+f.n))
}

func (f *fileBody) dropTmp() {
	if f.tmp != nil {
		name := f.tmp.Name()
		f.tmp.Close()
		os.Remove(name)
		f.tmp = nil
	}
}

// finish ends the content and fills the record; ended says the body ended
// as its framing said (not cut by the end of the connection). An empty
// body that ended so is no file: nil.
func (f *fileBody) finish(ended bool) *types.File {
	if f.decoder != nil {
		if err := f.decoder.close(); err != nil && f.reason == "" {
			f.reason = err.Error()
		}
	}
	if f.n == 0 && f.encodedBytes == 0 && f.reason == "" && !f.over && ended {
		f.dropTmp()
		f.release()
		return nil
	}
	if f.over && f.reason == "" {
		f.reason = fmt.Sprintf("larger than -max-file-size (%d bytes): read up to it", f.store.MaxSize)
	}
	if !ended && f.reason == "" {
		f.reason = "the connection ended before the body did"
	}
	r := &f.r
	r.Length = f.n
	// The three hashes in hex are made as one string and cut into three:
	// one allocation instead of three.
	h := f.h
	var x [2 * (md5.Size + sha1.Size + sha256.Size)]byte
	hex.Encode(x[:], h.md5.Sum(h.sum[:0]))
	hex.Encode(x[2*md5.Size:], h.sha1.Sum(h.sum[:0]))
	hex.Encode(x[2*(md5.Size+sha1.Size):], h.sha256.Sum(h.sum[:0]))
	sums := string(x[:])
	r.MD5, r.SHA1, r.SHA256 = sums[:2*md5.Size], sums[2*md5.Size:2*(md5.Size+sha1.Size)], sums[2*(md5.Size+sha1.Size):]
	if len(f.sniff) > 0 {
		if f.detected != "" && f.detectedLen == len(f.sniff) {
			r.ContentTypeDetected = f.detected
		} else {
			r.ContentTypeDetected = http.DetectContentType(f.sniff)
		}
	}
	f.release()
	r.Complete = f.reason == ""
	if f.reason != "" {
		r.Reason = strings.TrimPrefix(r.Reason+"; ", "; ") + f.reason
	}
	if f.over {
		f.dropTmp() // part of a file is not the file
	}
	if f.tmp != nil {
		name := f.tmp.Name()
		err := f.tmp.Close()
		f.tmp = nil
		final := filepath.Join(f.store.Dir, r.SHA256)
		if err == nil {
			err = os.Rename(name, final)
		}
		if err != nil {
			os.Remove(name)
			f.store.Failed.Add(1)
			r.Reason = strings.TrimPrefix(r.Reason+"; ", "; ") + "not stored: " + err.Error()
		} else {
			f.store.Stored.Add(1)
			r.Location = r.SHA256
		}
	}
	return r
}

// fileDecoder inflates a gzip'd or deflated body. The inflaters read from
// an io.Reader, the body arrives in pushes: a goroutine runs the inflater
// on a pipe, and write hands each push over synchronously, so the content
// is hashed in order and nothing is buffered beyond the inflater's window.
type fileDecoder struct {
	pw   *io.PipeWriter
	done chan error
}

func newFileDecoder(coding string, f *fileBody) *fileDecoder {
	pr, pw := io.Pipe()
	d := &fileDecoder{pw: pw, done: make(chan error, 1)}
	go func() {
		d.done <- inflate(coding, pr, f)
		pr.Close() // a write after an error returns at once
	}()
	return d
}

// inflate runs in the decoder's goroutine; f.content is called from there,
// while the parser waits in write.
func inflate(coding string, r io.Reader, f *fileBody) error {
	var zr io.Reader
	switch coding {
	case "br":
		// andybalholm/brotli reports "excessive input" at the end of a
		// stream it was given in very short reads (one segment's bytes at
		// a time): it is given full reads.
		zr = brotli.NewReader(fullReader{r})
	case "deflate":
		// RFC 9110: zlib-wrapped; some servers send raw deflate. Which
		// one is seen from the first two bytes (a zlib header's check).
		br := &peekReader{r: r}
		if h, err := br.peek(2); err == nil && (int(h[0])<<8|int(h[1]))%31 == 0 && h[0]&0x0f == 8 {
			z, err := zlib.NewReader(br)
			if err != nil {
				return fmt.Errorf("deflate: %v", err)
			}
			zr = z
		} else {
			zr = flate.NewReader(br)
		}
	default:
		z, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("gzip: %v", err)
		}
		zr = z
	}
	buf := make([]byte, 32<<10)
	for !f.over {
		n, err := zr.Read(buf)
		f.content(buf[:n])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", coding, err)
		}
	}
	return nil
}

func (d *fileDecoder) write(b []byte) { _, _ = d.pw.Write(b) }

// close ends the input and waits for the inflater.
func (d *fileDecoder) close() error {
	d.pw.Close()
	return <-d.done
}

// peekReader lets inflate look at the first bytes of the stream.
type peekReader struct {
	r    io.Reader
	head []byte
}

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.head) < n {
		b := make([]byte, n-len(p.head))
		k, err := p.r.Read(b)
		p.head = append(p.head, b[:k]...)
		if err != nil {
			return p.head, err
		}
	}
	return p.head[:n], nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// fullReader fills each read as far as the input goes.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(b []byte) (int, error) {
	n, err := io.ReadFull(f.r, b)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// emitFiles hands out the File records a parser gathered.
func emitFiles(files *[]*types.File, s Sink) {
	for _, f := range *files {
		s.Emit(types.Type_NC_File, f)
	}
	clear(*files)
	*files = (*files)[:0]
}
