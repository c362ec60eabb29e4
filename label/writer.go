package label

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	ncparquet "github.com/netcap/netcap/io/parquet"
	"github.com/netcap/netcap/types"
)

// Column is the name of the label column, the last of every row. It is lower
// case because MPLS records have a field named Label.
const Column = "label"

// Normal is the label of a record that nothing matched.
const Normal = "normal"

// kind says how a record type is matched.
type kind int

const (
	kindNone      kind = iota // no flow, no packet: always normal
	kindPacket                // one packet: its flow (FlowID) and frame or time
	kindConn                  // Connection: by UID
	kindFlow                  // Flow: by UID without its -0/-1 direction suffix
	kindFlowID                // stream records (HTTP, TLS hellos, SSH) and FlowFeatures: every record of the flow
	kindNetFlow               // NetworkFlow: IP pair and time window
	kindTransFlow             // TransportFlow: port pair, protocol and time window
	kindLinkFlow              // LinkFlow: MAC pair and time window
)

// fields are the descriptors of the fields matching reads.
type fields struct {
	kind                       kind
	ts, first, last, frame     protoreflect.FieldDescriptor
	flowID, uid                protoreflect.FieldDescriptor
	srcIP, dstIP, sport, dport protoreflect.FieldDescriptor
	srcMAC, dstMAC, proto      protoreflect.FieldDescriptor
}

func fieldsOf(t types.Type, md protoreflect.MessageDescriptor) *fields {
	by := func(n string) protoreflect.FieldDescriptor { return md.Fields().ByName(protoreflect.Name(n)) }
	f := &fields{ts: by("Timestamp"), first: by("TimestampFirst"), last: by("TimestampLast"), frame: by("FrameNumber"),
		flowID: by("FlowID"), uid: by("UID"), srcIP: by("SrcIP"), dstIP: by("DstIP"), sport: by("SrcPort"), dport: by("DstPort"),
		srcMAC: by("SrcMAC"), dstMAC: by("DstMAC"), proto: by("Proto")}
	switch {
	case t == types.Type_NC_Connection:
		f.kind = kindConn
	case t == types.Type_NC_Flow:
		f.kind = kindFlow
	case streamRecord(t), t == types.Type_NC_FlowFeatures:
		f.kind = kindFlowID
	case t == types.Type_NC_NetworkFlow:
		f.kind = kindNetFlow
	case t == types.Type_NC_TransportFlow:
		f.kind = kindTransFlow
	case t == types.Type_NC_LinkFlow:
		f.kind = kindLinkFlow
	case f.flowID != nil && f.frame != nil && f.ts != nil:
		f.kind = kindPacket
	}
	return f
}

// streamRecord says whether a stream parser makes records of type t: such a
// record stands for its connection, not for one packet.
func streamRecord(t types.Type) bool {
	for _, sp := range decoder.StreamProtocols() {
		if slices.Contains(sp.Records, t) {
			return true
		}
	}
	return false
}

// matcher labels records; one per file, not shared between goroutines.
type matcher struct {
	ix      *index
	attacks *attackIndex
	labels  []string // label of each alert
	cfg     *Config
	cands   []cand
	out     []string
	byConn  map[int32]string // label of each connection's flow records, see connLabel
}

type cand struct {
	label string
	sev   int
	order int
}

func (m *matcher) addAlert(id int32) {
	a := m.ix.alerts[id]
	m.cands = append(m.cands, cand{m.labels[id], a.Severity, int(id)})
}

func (m *matcher) addConn(ci int32) {
	for _, id := range m.ix.connAlerts[ci] {
		m.addAlert(id)
	}
}

func (m *matcher) addAttack(a *Attack) {
	m.cands = append(m.cands, cand{a.Label(m.cfg.Description), a.Severity, len(m.labels)})
}

func str(r protoreflect.Message, fd protoreflect.FieldDescriptor) string {
	if fd == nil {
		return ""
	}
	return r.Get(fd).String()
}

func num(r protoreflect.Message, fd protoreflect.FieldDescriptor) int64 {
	if fd == nil {
		return 0
	}
	return r.Get(fd).Int()
}

// label returns the label of record r.
func (m *matcher) label(f *fields, r protoreflect.Message) string {
	m.cands = m.cands[:0]
	first, last := num(r, f.first), num(r, f.last)
	if f.ts != nil {
		first = num(r, f.ts)
		last = first
	}
	if ix := m.ix; ix != nil {
		switch f.kind {
		case kindPacket:
			if ci, ok := ix.byUID[str(r, f.flowID)]; ok {
				for _, id := range ix.byFrame[num(r, f.frame)] {
					if ix.alerts[id].conn == ci {
						m.addAlert(id)
					}
				}
				for _, id := range ix.byPacket[pktKey{ci, first / 1000}] {
					m.addAlert(id)
				}
			}
		case kindConn, kindFlow, kindFlowID:
			uid, has := str(r, f.uid), true
			switch f.kind {
			case kindFlow: // the UID without its -0/-1 direction suffix
				i := strings.LastIndexByte(uid, '-')
				uid, has = uid[:max(i, 0)], i > 0
			case kindFlowID:
				uid = str(r, f.flowID)
			}
			ci, ok := ix.byUID[uid]
			ok = ok && has
			if ok && m.attacks == nil {
				return m.connLabel(ci)
			}
			if ok {
				m.addConn(ci)
			}
		case kindNetFlow:
			src, _ := parseAddr(str(r, f.srcIP))
			dst, _ := parseAddr(str(r, f.dstIP))
			inWindow(ix.byIPs[makePair(src, dst)], first, last, m.addAlert)
		case kindTransFlow:
			inWindow(ix.byPorts[makePorts(str(r, f.proto), int32(num(r, f.sport)), int32(num(r, f.dport)))], first, last, m.addAlert)
		case kindLinkFlow:
			inWindow(ix.byMACs[makeMACs(str(r, f.srcMAC), str(r, f.dstMAC))], first, last, m.addAlert)
		}
	}
	if m.attacks != nil && f.srcIP != nil && f.dstIP != nil && f.kind != kindNone {
		if src, err := parseAddr(str(r, f.srcIP)); err == nil {
			if dst, err := parseAddr(str(r, f.dstIP)); err == nil {
				m.attacks.match(src, dst, first, last, m.addAttack)
			}
		}
	}
	return m.choose()
}

// connLabel returns the label of the flow records of connection ci when
// there is no attack timeline: it depends on the connection only, so it is
// chosen once per connection, not once per record (a connection with 20,000
// alerts and 20,000 HTTP records would cost 400 million candidates).
func (m *matcher) connLabel(ci int32) string {
	if l, ok := m.byConn[ci]; ok {
		return l
	}
	m.cands = m.cands[:0]
	m.addConn(ci)
	l := m.choose()
	if m.byConn == nil {
		m.byConn = map[int32]string{}
	}
	m.byConn[ci] = l
	return l
}

// choose picks the most severe candidate (lowest severity number, then the
// first read), or with -collect joins every distinct label in that order.
func (m *matcher) choose() string {
	switch len(m.cands) {
	case 0:
		return Normal
	case 1:
		return m.cands[0].label
	}
	before := func(a, b cand) bool {
		if a.sev != b.sev {
			return a.sev < b.sev
		}
		return a.order < b.order
	}
	if !m.cfg.Collect {
		best := m.cands[0]
		for _, c := range m.cands[1:] {
			if before(c, best) {
				best = c
			}
		}
		return best.label
	}
	sort.Slice(m.cands, func(i, j int) bool { return before(m.cands[i], m.cands[j]) })
	m.out = m.out[:0]
	size := 0
	for _, c := range m.cands {
		dup := false
		for _, o := range m.out {
			if o == c.label {
				dup = true
				break
			}
		}
		if !dup {
			m.out = append(m.out, c.label)
			// The join is cut at MaxLabel: no need to gather more.
			if size += len(c.label) + len(" | "); size > MaxLabel {
				break
			}
		}
	}
	return cut(strings.Join(m.out, " | "), MaxLabel)
}

// TypeResult is what labelling one record file gave.
type TypeResult struct {
	Type    string
	File    string // output file name
	Records int64
	Labels  map[string]int64
}

// labelFile labels every record of one record file into dir.
func (m *matcher) labelFile(in, dir string) (*TypeResult, error) {
	r, err := ncio.Open(in)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t := r.Header().Type
	name := types.Name(t)
	rec := r.New()
	md := rec.ProtoReflect().Descriptor()
	f := fieldsOf(t, md)
	cols := make([]protoreflect.FieldDescriptor, 0, md.Fields().Len()) // not nil: nil means every field
	for i := range md.Fields().Len() {
		if fd := md.Fields().Get(i); !slices.Contains(m.cfg.Drop, string(fd.Name())) {
			cols = append(cols, fd)
		}
	}
	format := ncio.Format{Sep: m.cfg.Sep, UTC: m.cfg.UTC, Fields: cols}
	sep := format.Sep
	if sep == "" {
		sep = ","
	}
	res := &TypeResult{Type: name, File: name + "_labeled.csv.gz", Labels: map[string]int64{}}
	if m.cfg.Parquet {
		res.File = name + "_labeled" + ncparquet.Ext
		return res, m.labelParquet(r, in, filepath.Join(dir, res.File), f, rec, res)
	}

	fh, err := os.Create(filepath.Join(dir, res.File))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	bw := bufio.NewWriterSize(fh, 1<<16)
	gz, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)

	hdr := ncio.AppendCSVHeader(nil, md, &format)
	hdr = append(hdr[:len(hdr)-1], sep...)
	hdr = append(hdr, Column+"\n"...)
	if _, err := gz.Write(hdr); err != nil {
		return nil, err
	}
	var buf []byte
	chk := wirecheck.NewChecker(md, wirecheck.Default)
	for {
		if err := nextRecord(r, chk, in, res.Records, rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		pr := rec.ProtoReflect()
		l := m.label(f, pr)
		res.Records++
		res.Labels[l]++
		buf = ncio.AppendCSVRow(buf[:0], pr, &format)
		buf = append(buf[:len(buf)-1], sep...)
		buf = ncio.AppendCSVValue(buf, l, &format)
		buf = append(buf, '\n')
		if _, err := gz.Write(buf); err != nil {
			return nil, err
		}
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return res, fh.Close()
}

// labelParquet writes the records of r with their label as a Parquet file:
// the record's columns as net capture -parquet writes them, then the label
// column; the record file's header becomes the file's metadata.
func (m *matcher) labelParquet(r *ncio.Reader, in, path string, f *fields, rec proto.Message, res *TypeResult) error {
	h := proto.Clone(r.Header()).(*types.Header)
	w, err := ncparquet.Create(path, h.Type, h, ncparquet.Options{Extra: []string{Column}, RowGroupRows: m.cfg.ParquetRows, Drop: m.cfg.Drop})
	if err != nil {
		return err
	}
	md := rec.ProtoReflect().Descriptor()
	chk := wirecheck.NewChecker(md, wirecheck.Default)
	for {
		if err := nextRecord(r, chk, in, res.Records, rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			w.Close()
			return err
		}
		l := m.label(f, rec.ProtoReflect())
		res.Records++
		res.Labels[l]++
		if err := w.WriteExtra(rec, l); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
