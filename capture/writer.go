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
	"github.com/netcap/netcap/types"
)

// chunkSize is how many bytes of records of one type are gathered before they
// go to that type's compressor goroutine. Compression runs in one goroutine
// per record file, so the busy types (Ethernet, IPv4, TCP) compress in parallel.
const chunkSize = 256 << 10

type chunk struct {
	b []byte
	n int
}

// typeFile is one record file and the goroutine that compresses into it.
type typeFile struct {
	w      *ncio.Writer
	buf    []byte
	n      int
	count  int64
	ch     chan chunk
	free   chan []byte
	spares int // spare buffers made so far
	done   chan error
}

func (f *typeFile) loop() {
	var first error
	for c := range f.ch {
		if first == nil {
			first = f.w.WriteDelimited(c.b, c.n)
		}
		f.free <- c.b[:0]
	}
	if err := f.w.Close(); first == nil {
		first = err
	}
	f.done <- first
}

func (f *typeFile) flush() {
	if len(f.buf) == 0 {
		return
	}
	f.ch <- chunk{f.buf, f.n}
	f.n = 0
	// Up to two spare chunk buffers, made when first needed: a record
	// type with few records never pays for them.
	select {
	case f.buf = <-f.free:
	default:
		if f.spares < 2 {
			f.spares++
			f.buf = make([]byte, 0, chunkSize+4096)
		} else {
			f.buf = <-f.free
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
}

func newWriter(e *engine) *writer {
	w := &writer{
		e:             e,
		next:          1,
		waiting:       map[uint64]*batch{},
		byType:        map[types.Type]*typeFile{},
		unknownPcap:   &pcapSink{dir: e.cfg.Out, name: "unknown", off: e.cfg.IgnoreUnknown},
		errorsPcap:    &pcapSink{dir: e.cfg.Out, name: "errors"},
		unknownLayers: map[string]int64{},
		errorReasons:  map[string]int64{},
	}
	w.layerFlows = decoder.NewLayerFlows(func(t types.Type) bool { return e.enabled[t] }, e.cfg.Decoder.FlowTimeout, w.emit)
	return w
}

// emit serializes a record made in the writer itself (the layer-flow models).
func (w *writer) emit(t types.Type, m proto.Message) {
	var err error
	if w.e.cfg.CSV {
		w.scratch = ncio.AppendCSVRow(w.scratch[:0], m.ProtoReflect(), &ncio.CaptureCSV)
	} else {
		w.scratch, err = ncio.AppendDelimited(w.scratch[:0], m)
	}
	if err != nil {
		w.keep(err)
		return
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
			w.e.pool <- nb
		}
	}
	for _, t := range w.order {
		f := w.byType[t]
		f.flush()
		close(f.ch)
	}
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
			break
		}
		p := &b.pkts[i]
		if w.layerFlows != nil {
			w.layerFlows.Packet(&p.ep, p.frame, p.ts, p.length)
		}
		switch p.status {
		case decoder.Unknown:
			w.e.unknown.Add(1)
			w.unknownLayers[p.reason]++
			w.keep(w.unknownPcap.write(b.data[p.off:p.off+p.capLen], p))
		case decoder.Failed:
			w.e.errs.Add(1)
			w.errorReasons[p.reason]++
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
	f.buf = append(f.buf, rec...)
	f.n++
	f.count++
	if len(f.buf) >= chunkSize {
		f.flush()
	}
}

// open creates a record file when its first record arrives, so that no file
// holds a header only.
func (w *writer) open(t types.Type) (*typeFile, error) {
	name := decoder.RecordName(t)
	var (
		nw  *ncio.Writer
		err error
	)
	ext := ".ncap"
	if w.e.cfg.CSV {
		ext = ".csv"
	}
	if w.e.cfg.Compress {
		ext += ".gz"
	}
	path := outPath(w.e.cfg.Out, name+ext)
	if w.e.cfg.CSV {
		nw, err = ncio.Create(path, nil, w.e.cfg.Compress)
		if err == nil {
			err = nw.WriteDelimited(ncio.CSVHeaderLine(t, &ncio.CaptureCSV), 0)
		}
	} else {
		nw, err = ncio.Create(path, &types.Header{
			Created:          w.e.cfg.Created.UnixNano(),
			InputSource:      w.e.src.Name(),
			Type:             t,
			Version:          w.e.cfg.Version,
			ContainsPayloads: w.e.cfg.Payloads,
		}, w.e.cfg.Compress)
	}
	if err != nil {
		return nil, err
	}
	// The first buffer starts small and grows with the records.
	f := &typeFile{w: nw, buf: make([]byte, 0, 16<<10), ch: make(chan chunk, 2), free: make(chan []byte, 3), done: make(chan error, 1)}
	go f.loop()
	w.byType[t] = f
	w.order = append(w.order, t)
	return f, nil
}

func (w *writer) counts() map[string]int64 {
	m := map[string]int64{}
	for t, f := range w.byType {
		m[decoder.RecordName(t)] = f.count
	}
	return m
}

func (w *writer) files() []string {
	var out []string
	for _, t := range w.order {
		out = append(out, w.byType[t].w.Path())
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
	return pf.w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, p.ts), CaptureLength: len(data), Length: p.length}, data)
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
