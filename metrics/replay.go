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
		c := &cursor{r: r, t: r.Header().Type, path: path,
			chk: wirecheck.NewChecker(r.New().ProtoReflect().Descriptor(), wirecheck.Default)}
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
		e.RecordMessage(c.t, c.rec)
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
	path string
	r    *ncio.Reader
	chk  *wirecheck.Checker
	t    types.Type
	rec  []byte
	ts   int64
	n    int64 // records read so far
}

// advance reads the next record. Each is walked against its type first, as
// net dump does: the exporter reads only the fields it counts, and would
// count a damaged record's surviving fields as if it were whole.
func (c *cursor) advance() error {
	b, err := c.r.NextRaw()
	if err != nil {
		return err
	}
	c.n++
	if err := c.chk.Check(b); err != nil {
		return fmt.Errorf("record %d is damaged: %v; net util -check %s tells more", c.n, err, c.path)
	}
	c.rec = append(c.rec[:0], b...)
	c.ts = timestamp(c.rec)
	return nil
}

// timestamp reads field 1 (a varint: Timestamp or TimestampFirst) of a
// record; 0 when absent.
func timestamp(b []byte) int64 {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return 0
			}
			return int64(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return 0
		}
		b = b[m:]
	}
	return 0
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
