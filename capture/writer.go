package capture

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/decoder"
	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	"github.com/netcap/netcap/types"
)

// chunkSize is how many bytes of records of one type are gathered into one
// part of that type's file. Each part of a gzip'd file becomes a gzip member
// of its own, compressed by whichever worker is free (see worker.compress), so
// that compression runs on as many cores as decoding does and a busy record
// type is no longer limited to one core. Deflate looks back 32 KiB only, so
// the parts cost next to nothing in file size.
const chunkSize = 256 << 10

// part is a chunk of one record file on its way to the disk.
type part struct {
	in   []byte        // length-delimited records (or CSV rows)
	n    int           // records in in
	out  []byte        // in as a gzip member, when the file is compressed
	done chan struct{} // signalled once out is ready
}

// typeFile is one record file. Its parts are compressed by the workers in any
// order and written by the file's own goroutine in the order they were cut.
type typeFile struct {
	w        PartWriter
	compress chan<- *part // the workers' queue; nil when not compressing
	cur      *part
	count    int64
	order    chan *part // parts in file order, for loop
	free     chan *part
	parts    int // parts made so far
	maxParts int
	partSize int // where parts are cut (writer.partSize)
	done     chan error
}

func (f *typeFile) loop() {
	var first error
	for p := range f.order {
		b := p.in
		if f.compress != nil {
			<-p.done
			b = p.out
		}
		if first == nil {
			first = f.w.WritePart(b, p.n)
		}
		p.in, p.n = p.in[:0], 0
		f.free <- p
	}
	if err := f.w.Close(); first == nil {
		first = err
	}
	f.done <- first
}

func newPart(size int) *part {
	return &part{in: make([]byte, 0, size), done: make(chan struct{}, 1)}
}

func (f *typeFile) flush() {
	p := f.cur
	if len(p.in) == 0 {
		return
	}
	f.order <- p
	if f.compress != nil {
		f.compress <- p
	}
	// Spare parts are made when first needed: a record type with few
	// records never pays for them.
	select {
	case f.cur = <-f.free:
	default:
		if f.parts < f.maxParts {
			f.parts++
			f.cur = newPart(f.partSize + 4096)
		} else {
			f.cur = <-f.free
		}
	}
}

// writer is the engine's Writer stage.
type writer struct {
	e             *engine
	next          uint64
	waiting       map[uint64]*batch
	byType        map[types.Type]*typeFile
	order         []types.Type
	unknownPcap   *pcapSink
	errorsPcap    *pcapSink
	unknownLayers map[string]int64
	errorReasons  map[string]int64
	err           error
	cursor        []int
	start         []int32
	pending       []pendingRec
	layerFlows    *decoder.LayerFlows
	scratch       []byte
	mc            *ncio.MemberCompressor // for the file headers
	partSize      int                    // cut a part at this many bytes
	lastFlush     time.Time              // for Config.Output.FlushEvery
}

// PartWriter receives the finished parts of one record type's output in
// order: each holds n length-delimited records, as one gzip member when
// Config.Output.Compress is set, else as plain bytes. The bytes are only
// valid during the call. Close is called once, after the last part.
// *ncio.MemberWriter is the PartWriter of record files.
type PartWriter interface {
	WritePart(b []byte, n int) error
	Close() error
}

// PathNamer is a PartWriter that writes a file on this machine, as the
// record files' *ncio.MemberWriter does. Summary.Files lists the paths of
// the PartWriters that implement it; parts sent elsewhere
// (Config.Output.Parts) have no path to list.
type PathNamer interface {
	// Path is the file's path as it was created.
	Path() string
}

// A renamed method would otherwise silently empty Summary.Files.
var (
	_ PathNamer  = (*ncio.MemberWriter)(nil)
	_ PathNamer  = (*ncparquet.Writer)(nil)
	_ PartWriter = (*ncparquet.Writer)(nil)
)

// Output makes the PartWriter of one record type when its first record
// arrives; h is the header a record file of that type would start with.
type Output func(t types.Type, h *types.Header) (PartWriter, error)

func newWriter(e *engine) *writer {
	w := &writer{
		e:             e,
		next:          1,
		waiting:       map[uint64]*batch{},
		byType:        map[types.Type]*typeFile{},
		unknownPcap:   &pcapSink{dir: e.cfg.Output.Dir, name: "unknown", off: e.cfg.Output.IgnoreUnknown},
		errorsPcap:    &pcapSink{dir: e.cfg.Output.Dir, name: "errors"},
		unknownLayers: map[string]int64{},
		errorReasons:  map[string]int64{},
		mc:            ncio.NewMemberCompressor(),
		partSize:      chunkSize,
		lastFlush:     time.Now(),
	}
	if e.cfg.Output.PartSize > 0 {
		w.partSize = e.cfg.Output.PartSize
	}
	if e.cfg.Output.Parts != nil {
		// Records go elsewhere: no packet files either.
		w.unknownPcap.off, w.errorsPcap.off = true, true
	}
	w.layerFlows = decoder.NewLayerFlows(func(t types.Type) bool { return e.enabled[t] }, e.cfg.Decoding.Options.FlowTimeout, w.emit)
	if w.layerFlows != nil && e.cfg.Decoding.MemCap > 0 {
		w.layerFlows.SetMemCap(MemCapShare(e.cfg.Decoding.MemCap, e.workers))
	}
	return w
}

// emit serializes a record made in the writer itself (the layer-flow models).
func (w *writer) emit(t types.Type, m proto.Message) {
	var err error
	if w.e.cfg.Output.CSV {
		w.scratch = ncio.AppendCSVRow(w.scratch[:0], m.ProtoReflect(), &ncio.CaptureCSV)
	} else {
		w.scratch, err = ncio.AppendDelimited(w.scratch[:0], m)
	}
	if err != nil {
		// As in the workers' sink: counted, neither written nor passed.
		w.e.unencodable.Add(1)
		return
	}
	if hook := w.e.cfg.Hooks.OnRecord; hook != nil {
		hook(w.e.workers, t, m, len(w.scratch))
	}
	w.append(t, w.scratch)
}

func (w *writer) keep(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) run() error {
	for b := range w.e.done {
		w.waiting[b.seq] = b
		for {
			nb, ok := w.waiting[w.next]
			if !ok {
				break
			}
			delete(w.waiting, w.next)
			w.next++
			w.write(nb)
			w.e.gauges.writing.Add(-1)
			w.e.pool <- nb
		}
		if every := w.e.cfg.Output.FlushEvery; every > 0 && time.Since(w.lastFlush) >= every {
			// Hand on what the quiet types have gathered, so that
			// they are not held back until the end.
			for _, t := range w.order {
				w.byType[t].flush()
			}
			w.lastFlush = time.Now()
		}
	}
	for _, t := range w.order {
		f := w.byType[t]
		f.flush()
		close(f.order)
	}
	// Every part is queued: the workers may stop once they are compressed.
	close(w.e.compress)
	for _, t := range w.order {
		w.keep(<-w.byType[t].done)
	}
	w.keep(w.unknownPcap.close())
	w.keep(w.errorsPcap.close())
	return w.err
}

// write appends the batch's records and packets in capture order. At each
// packet position the owner's own records come first, in the order it
// emitted them; then the ordered records (flows that ended there, or the
// final flush) of every worker, sorted by key and type, so that the output
// does not depend on which worker held which flow.
func (w *writer) write(b *batch) {
	if len(w.cursor) < len(b.out) {
		w.cursor, w.start = make([]int, len(b.out)), make([]int32, len(b.out))
	}
	cursor, start := w.cursor[:len(b.out)], w.start[:len(b.out)]
	clear(cursor)
	clear(start)
	n := len(b.pkts)
	if b.final {
		n = 1
	}
	for i := 0; i < n; i++ {
		w.pending = w.pending[:0]
		for wi := range b.out {
			o := &b.out[wi]
			for cursor[wi] < len(o.recs) && o.recs[cursor[wi]].pkt == int32(i) {
				r := o.recs[cursor[wi]]
				rec := o.arena[start[wi]:r.end]
				start[wi] = r.end
				cursor[wi]++
				if r.ordered {
					w.pending = append(w.pending, pendingRec{key: r.key, typ: r.typ, rec: rec})
				} else {
					w.append(r.typ, rec)
				}
			}
		}
		if len(w.pending) > 0 {
			sort.SliceStable(w.pending, func(a, c int) bool {
				if w.pending[a].key != w.pending[c].key {
					return w.pending[a].key < w.pending[c].key
				}
				return w.pending[a].typ < w.pending[c].typ
			})
			for _, r := range w.pending {
				w.append(r.typ, r.rec)
			}
		}
		if b.final {
			if w.layerFlows != nil {
				w.layerFlows.Flush()
			}
			if inv := w.e.inventory; inv != nil {
				// Every worker has flushed: the inventory is complete.
				inv.Records(w.emit)
			}
			break
		}
		p := &b.pkts[i]
		if w.layerFlows != nil {
			w.layerFlows.Packet(&p.ep, p.frame, p.ts, p.length)
		}
		switch p.status {
		case decoder.Unknown:
			w.e.unknown.Add(1)
			countReason(w.unknownLayers, p.reason)
			if hook := w.e.cfg.Hooks.OnPacket; hook != nil {
				hook(false, p.reason)
			}
			w.keep(w.unknownPcap.write(b.data[p.off:p.off+p.capLen], p))
		case decoder.Failed:
			w.e.errs.Add(1)
			countReason(w.errorReasons, p.reason)
			if hook := w.e.cfg.Hooks.OnPacket; hook != nil {
				hook(true, p.reason)
			}
			w.keep(w.errorsPcap.write(b.data[p.off:p.off+p.capLen], p))
		}
	}
}

type pendingRec struct {
	key int64
	typ types.Type
	rec []byte
}

func (w *writer) append(t types.Type, rec []byte) {
	f := w.byType[t]
	if f == nil {
		var err error
		if f, err = w.open(t); err != nil {
			w.keep(err)
			return
		}
	}
	p := f.cur
	p.in = append(p.in, rec...)
	p.n++
	f.count++
	if len(p.in) >= w.partSize {
		f.flush()
	}
}

// open creates a record file when its first record arrives, so that no file
// holds a header only.
func (w *writer) open(t types.Type) (*typeFile, error) {
	name := types.Name(t)
	ext := ".ncap"
	if w.e.cfg.Output.CSV {
		ext = ".csv"
	}
	if w.e.cfg.Output.Compress {
		ext += ".gz"
	}
	if w.e.cfg.Output.Parquet {
		ext = ncparquet.Ext
	}
	var (
		head []byte
		err  error
	)
	h := &types.Header{ // the file's header record, or a Parquet file's metadata
		Created:          w.e.cfg.Output.Created.UnixNano(),
		InputSource:      w.e.src.Name(),
		Type:             t,
		Version:          w.e.cfg.Output.Version,
		ContainsPayloads: w.e.cfg.Decoding.Payloads,
	}
	if w.e.cfg.Output.CSV {
		head = ncio.CSVHeaderLine(t, &ncio.CaptureCSV)
	} else if head, err = ncio.HeaderBytes(h); err != nil {
		return nil, err
	}
	var nw PartWriter
	if w.e.cfg.Output.Parquet {
		nw, err = ncparquet.Create(outPath(w.e.cfg.Output.Dir, name+ext), t, h, ncparquet.Options{RowGroupRows: w.e.cfg.Output.ParquetRows})
	} else if w.e.cfg.Output.Parts != nil {
		nw, err = w.e.cfg.Output.Parts(t, h)
	} else {
		nw, err = ncio.CreateMembers(outPath(w.e.cfg.Output.Dir, name+ext), head, w.e.cfg.Output.Compress, w.mc)
	}
	if err != nil {
		return nil, err
	}
	// Enough parts in flight to keep every worker compressing one part of
	// a busy type while the next fills; the first part starts small and
	// grows with the records.
	maxParts := w.e.workers + 2
	f := &typeFile{
		w:        nw,
		cur:      newPart(16 << 10),
		parts:    1,
		maxParts: maxParts,
		partSize: w.partSize,
		order:    make(chan *part, maxParts),
		free:     make(chan *part, maxParts),
		done:     make(chan error, 1),
	}
	if w.e.cfg.Output.Compress {
		f.compress = w.e.compress
	}
	go f.loop()
	w.byType[t] = f
	w.order = append(w.order, t)
	return f, nil
}

func (w *writer) counts() map[string]int64 {
	m := map[string]int64{}
	for t, f := range w.byType {
		m[types.Name(t)] = f.count
	}
	return m
}

func (w *writer) files() []string {
	var out []string
	for _, t := range w.order {
		if p, ok := w.byType[t].w.(PathNamer); ok {
			out = append(out, p.Path())
		}
	}
	out = append(out, w.unknownPcap.paths()...)
	return append(out, w.errorsPcap.paths()...)
}

// pcapSink writes packets to <name>.pcap, keeping their link type: packets of
// a second link type (a pcapng file with mixed interfaces) go to
// <name>-linktype-<N>.pcap. Snap length 262144 and nanosecond timestamps, so
// nothing of the packet is lost.
type pcapSink struct {
	dir, name string
	off       bool
	first     layers.LinkType
	outs      map[layers.LinkType]*pcapFile
}

type pcapFile struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	w    *pcapgo.Writer
}

func (s *pcapSink) write(data []byte, p *pktInfo) error {
	if s.off {
		return nil
	}
	if s.outs == nil {
		s.outs = map[layers.LinkType]*pcapFile{}
		s.first = p.link
	}
	pf := s.outs[p.link]
	if pf == nil {
		path := outPath(s.dir, s.name+".pcap")
		if p.link != s.first {
			path = outPath(s.dir, fmt.Sprintf("%s-linktype-%d.pcap", s.name, p.link))
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		pw := pcapgo.NewWriterNanos(bw)
		if err := pw.WriteFileHeader(262144, p.link); err != nil {
			f.Close()
			return err
		}
		pf = &pcapFile{path: path, f: f, bw: bw, w: pw}
		s.outs[p.link] = pf
	}
	// pcapgo refuses a frame length below the capture length, which a
	// damaged input header may carry; the frame is kept whole.
	return pf.w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, p.ts), CaptureLength: len(data), Length: max(p.length, len(data))}, data)
}

func (s *pcapSink) paths() []string {
	var out []string
	for _, pf := range s.outs {
		out = append(out, pf.path)
	}
	return out
}

func (s *pcapSink) close() error {
	var first error
	for _, pf := range s.outs {
		if err := pf.bw.Flush(); err != nil && first == nil {
			first = err
		}
		if err := pf.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// MaxReasons bounds the distinct reasons the summary counts for unknown and
// failed packets: an error text can quote values from the packet, so a
// hostile capture could make one per frame. Beyond it, packets are counted
// under OtherReasons.
const MaxReasons = 1000

// OtherReasons counts the packets whose reason came after MaxReasons others.
const OtherReasons = "other reasons"

func countReason(m map[string]int64, reason string) {
	if _, ok := m[reason]; !ok && len(m) >= MaxReasons {
		reason = OtherReasons
	}
	m[reason]++
}
