package metrics

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// ReplayStats says what a replay did.
type ReplayStats struct {
	Files   int
	Records int64
	Span    time.Duration // from the first record's timestamp to the last's
}

// Replay feeds the records of every .ncap/.ncap.gz file in dir to e in
// timestamp order (field 1 of every record type is its Unix-ns timestamp),
// at speed times their original pace; speed 0 replays as fast as possible.
// It stops early when ctx is cancelled.
func Replay(ctx context.Context, dir string, speed float64, e *Exporter) (ReplayStats, error) {
	var st ReplayStats
	entries, err := os.ReadDir(dir)
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	h := &replayHeap{}
	defer func() {
		for _, c := range *h {
			c.r.Close()
		}
	}()
	for _, en := range entries {
		name := en.Name()
		if en.IsDir() || !(strings.HasSuffix(name, ".ncap") || strings.HasSuffix(name, ".ncap.gz")) {
			continue
		}
		path := filepath.Join(dir, name)
		r, err := ncio.Open(path)
		if err != nil {
			return st, fmt.Errorf("replay: %w", named(path, err))
		}
		msg := r.New()
		c := &cursor{r: r, t: r.Header().Type, path: path, msg: msg, tsField: timestampField(msg),
			chk: wirecheck.NewChecker(msg.ProtoReflect().Descriptor(), wirecheck.Default)}
		st.Files++
		if err := c.advance(); err == io.EOF {
			r.Close()
			continue
		} else if err != nil {
			r.Close()
			return st, fmt.Errorf("replay: %w", named(path, err))
		}
		heap.Push(h, c)
	}
	if st.Files == 0 {
		return st, fmt.Errorf("replay: %s holds no .ncap or .ncap.gz files (CSV files cannot be replayed)", dir)
	}
	var first, last int64
	start := time.Now()
	for h.Len() > 0 {
		c := (*h)[0]
		if st.Records == 0 {
			first = c.ts
		}
		if speed > 0 && c.ts > first {
			due := start.Add(time.Duration(float64(c.ts-first) / speed))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return st, nil
				case <-time.After(d):
				}
			}
		} else if ctx.Err() != nil {
			return st, nil
		}
		e.Record(0, c.t, c.msg, c.size)
		st.Records++
		if c.ts > last {
			last = c.ts
		}
		if err := c.advance(); err == io.EOF {
			heap.Pop(h)
			c.r.Close()
		} else if err != nil {
			return st, fmt.Errorf("replay: %w; %d records replayed before", named(c.path, err), st.Records)
		} else {
			heap.Fix(h, 0)
		}
	}
	st.Span = time.Duration(last - first)
	e.Refresh()
	return st, nil
}

// named makes err name the file it is about: the io package returns
// ErrTruncated bare.
func named(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

type cursor struct {
	path    string
	r       *ncio.Reader
	chk     *wirecheck.Checker
	t       types.Type
	msg     proto.Message // the current record; one message for the file
	tsField protoreflect.FieldDescriptor
	size    int // of the current record, length prefix included
	ts      int64
	n       int64 // records read so far
}

// advance reads the next record. Each is walked against its type first, as
// net dump does, so that a damaged record stops the replay with its place
// named rather than being counted as whatever unmarshalling makes of it.
func (c *cursor) advance() error {
	b, err := c.r.NextRaw()
	if err != nil {
		return err
	}
	c.n++
	if err := c.chk.Check(b); err != nil {
		return fmt.Errorf("record %d is damaged: %v; net util -check %s tells more", c.n, err, c.path)
	}
	if err := proto.Unmarshal(b, c.msg); err != nil {
		return fmt.Errorf("record %d is damaged: %v; net util -check %s tells more", c.n, err, c.path)
	}
	c.size = protowire.SizeBytes(len(b))
	c.ts = 0
	if c.tsField != nil {
		c.ts = c.msg.ProtoReflect().Get(c.tsField).Int()
	}
	return nil
}

// timestampField is field 1 of m's type (Timestamp or TimestampFirst), or
// nil when it is not an int64.
func timestampField(m proto.Message) protoreflect.FieldDescriptor {
	fd := m.ProtoReflect().Descriptor().Fields().ByNumber(1)
	if fd == nil || fd.Kind() != protoreflect.Int64Kind || fd.IsList() {
		return nil
	}
	return fd
}

type replayHeap []*cursor

func (h replayHeap) Len() int { return len(h) }
func (h replayHeap) Less(i, j int) bool {
	if h[i].ts != h[j].ts {
		return h[i].ts < h[j].ts
	}
	return h[i].t < h[j].t
}
func (h replayHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *replayHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *replayHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
