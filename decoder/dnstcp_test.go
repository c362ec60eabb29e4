package decoder

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The DNS-over-TCP framing is checked here against the UDP path: a message
// read from a stream, however it is cut into chunks, must give the record
// the UDP decoder gives for the same message bytes (whose fields the tshark
// oracle checks), with the frame of the chunk that completed it and the
// endpoints of its sender. tshark_test.go compares the records of whole
// captures with tshark's reassembled DNS.

var dnsTCPTestConn = ConnInfo{
	ClientIP: "10.0.0.1", ServerIP: "10.0.0.53", ClientPort: 40000, ServerPort: 53,
	ClientMAC: "02:00:00:00:00:01", ServerMAC: "02:00:00:00:00:02", FlowID: "flow-dns", Handshake: true,
}

// dnsTestMessage serializes a message; answers makes a response with that
// many A records and one TXT record of txt bytes.
func dnsTestMessage(t testing.TB, id uint16, name string, answers, txt int) []byte {
	t.Helper()
	m := &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	if answers > 0 || txt > 0 {
		m.QR, m.RA = true, true
		for i := range answers {
			m.Answers = append(m.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN,
				TTL: 300, IP: net.IPv4(192, 0, 2, byte(i+1)).To4()})
		}
		if txt > 0 {
			var txts [][]byte
			for n := txt; n > 0; n -= 255 {
				txts = append(txts, make([]byte, min(n, 255)))
			}
			m.Answers = append(m.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeTXT, Class: layers.DNSClassIN,
				TTL: 60, TXTs: txts})
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := m.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// dnsFrame puts the length prefix before a message.
func dnsFrame(m []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...)
}

// dnsUDPRecord is the record the UDP path makes for message m.
func dnsUDPRecord(t testing.TB, m []byte) *types.DNS {
	t.Helper()
	l := &layers.DNS{}
	if err := l.DecodeFromBytes(m, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("test message does not decode: %v", err)
	}
	return proto.Clone((&dnsDecoder{}).fill(l)).(*types.DNS)
}

type dnsSink struct{ recs []*types.DNS }

func (s *dnsSink) Emit(t types.Type, m proto.Message) {
	if t != types.Type_NC_DNS {
		panic(fmt.Sprintf("emitted %v", t))
	}
	s.recs = append(s.recs, proto.Clone(m).(*types.DNS))
}

// dnsRun feeds the chunks (frames numbered from 1) and returns the records
// and the counters.
func dnsRun(chunks []Chunk) ([]*types.DNS, StreamCounters) {
	var cnt StreamCounters
	conn := dnsTCPTestConn
	conn.Counters = &cnt
	p := &dnsTCPParser{}
	s := &dnsSink{}
	for i := range chunks {
		c := chunks[i]
		c.Frame, c.Timestamp = int64(i+1), int64(i+1)*1000
		p.Feed(&c, &conn, s)
	}
	p.Close(&conn, s)
	return s.recs, cnt
}

// dnsWant is the expected record: the UDP path's fields, the frame, and the
// sender's endpoints.
func dnsWant(t testing.TB, m []byte, frame int64, fromClient bool) *types.DNS {
	r := dnsUDPRecord(t, m)
	r.FrameNumber, r.Timestamp, r.FlowID = frame, frame*1000, dnsTCPTestConn.FlowID
	r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = dnsTCPTestConn.ClientIP, dnsTCPTestConn.ServerIP, 40000, 53
	if !fromClient {
		r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = r.DstIP, r.SrcIP, r.DstPort, r.SrcPort
	}
	return r
}

func dnsCompare(t *testing.T, what string, got, want []*types.DNS) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("%s: record %d:\n got %v\nwant %v", what, i, got[i], want[i])
		}
	}
}

// dnsCut cuts one direction's stream at the given offsets into chunks.
func dnsCut(stream []byte, fromClient bool, cuts []int) []Chunk {
	var out []Chunk
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		if c > prev {
			out = append(out, Chunk{FromClient: fromClient, Data: stream[prev:c]})
			prev = c
		}
	}
	return out
}

// dnsExpect gives, for messages laid out back to back in one direction's
// stream and cut into chunks, the expected records: each with the frame of
// the chunk holding its last byte.
func dnsExpect(t testing.TB, msgs [][]byte, chunks []Chunk, fromClient bool, firstFrame int64) []*types.DNS {
	var want []*types.DNS
	end := 0
	for _, m := range msgs {
		end += 2 + len(m)
		pos, frame := 0, firstFrame
		for _, c := range chunks {
			pos += len(c.Data)
			if pos >= end {
				break
			}
			frame++
		}
		want = append(want, dnsWant(t, m, frame, fromClient))
	}
	return want
}

// TestDNSTCPSplitEverywhere reads pipelined messages cut at every offset,
// at every pair of offsets, byte by byte and at random places.
func TestDNSTCPSplitEverywhere(t *testing.T) {
	msgs := [][]byte{
		dnsTestMessage(t, 1, "a.example", 0, 0),
		dnsTestMessage(t, 2, "b.example", 3, 0),
		dnsTestMessage(t, 3, "c.example", 1, 600),
	}
	var stream []byte
	for _, m := range msgs {
		stream = append(stream, dnsFrame(m)...)
	}
	check := func(what string, cuts []int, fromClient bool) {
		chunks := dnsCut(stream, fromClient, cuts)
		got, cnt := dnsRun(chunks)
		dnsCompare(t, what, got, dnsExpect(t, msgs, chunks, fromClient, 1))
		if cnt != (StreamCounters{}) {
			t.Fatalf("%s: counters %+v", what, cnt)
		}
	}
	check("whole", nil, false)
	check("whole, client", nil, true)
	for i := 1; i < len(stream); i++ {
		check(fmt.Sprintf("cut at %d", i), []int{i}, false)
	}
	for i := 1; i < 60; i++ {
		for j := i + 1; j < len(stream); j += 7 {
			check(fmt.Sprintf("cut at %d and %d", i, j), []int{i, j}, true)
		}
	}
	var every []int
	for i := 1; i < len(stream); i++ {
		every = append(every, i)
	}
	check("byte-wise", every, false)
	rng := rand.New(rand.NewSource(1))
	for range 200 {
		var cuts []int
		for at := rng.Intn(40); at < len(stream); at += 1 + rng.Intn(80) {
			cuts = append(cuts, at)
		}
		check(fmt.Sprintf("cuts %v", cuts), cuts, rng.Intn(2) == 0)
	}
}

// TestDNSTCPBothDirections interleaves queries and responses.
func TestDNSTCPBothDirections(t *testing.T) {
	q1, q2 := dnsTestMessage(t, 7, "q1.example", 0, 0), dnsTestMessage(t, 8, "q2.example", 0, 0)
	r1, r2 := dnsTestMessage(t, 7, "q1.example", 2, 0), dnsTestMessage(t, 8, "q2.example", 0, 300)
	fr1, fr2 := dnsFrame(r1), dnsFrame(r2)
	chunks := []Chunk{
		{FromClient: true, Data: append(dnsFrame(q1), dnsFrame(q2)[:1]...)}, // 1
		{Data: fr1[:5]}, // 2
		{FromClient: true, Data: dnsFrame(q2)[1:]}, // 3: completes q2
		{Data: append(fr1[5:], fr2[:1]...)},        // 4: completes r1
		{Data: fr2[1:]},                            // 5: completes r2
	}
	got, _ := dnsRun(chunks)
	dnsCompare(t, "interleaved", got, []*types.DNS{
		dnsWant(t, q1, 1, true), dnsWant(t, q2, 3, true), dnsWant(t, r1, 4, false), dnsWant(t, r2, 5, false),
	})
}

// TestDNSTCPGaps: a gap inside a message of known length loses that
// message only; any other gap ends the direction; malformed messages are
// skipped by their length.
func TestDNSTCPGaps(t *testing.T) {
	m1, m2, m3 := dnsTestMessage(t, 1, "one.example", 1, 0), dnsTestMessage(t, 2, "two.example", 2, 0), dnsTestMessage(t, 3, "three.example", 1, 0)
	f1, f2, f3 := dnsFrame(m1), dnsFrame(m2), dnsFrame(m3)
	bad := dnsFrame([]byte("\x00\x09\x01\x00\x00\x05\x00\x00\x00\x00\x00\x00garbage")) // 5 questions that are not there
	type ev struct {
		data   []byte
		missed int
	}
	for _, c := range []struct {
		name    string
		evs     []ev
		want    []int // indexes into m1..m3 of the records, with the frame of the event
		frames  []int64
		counter StreamCounters
	}{
		{"gap inside the second message", []ev{{f1, 0}, {f2[:4], 0}, {f2[10:], 6}, {f3, 0}},
			[]int{0, 2}, []int64{1, 4}, StreamCounters{Resyncs: 1}},
		{"two gaps inside one message", []ev{{f1, 0}, {f2[:4], 0}, {f2[8:10], 4}, {append(f2[12:], f3...), 2}},
			[]int{0, 2}, []int64{1, 4}, StreamCounters{Resyncs: 1}},
		{"gap ending exactly at the message end", []ev{{f1, 0}, {f2[:4], 0}, {f3, len(f2) - 4}},
			[]int{0, 2}, []int64{1, 3}, StreamCounters{Resyncs: 1}},
		{"gap past the message end", []ev{{f1, 0}, {f2[:4], 0}, {f3[3:], len(f2) - 4 + 3}, {f3, 0}},
			[]int{0}, []int64{1}, StreamCounters{GaveUp: 1}},
		{"gap at a message boundary", []ev{{f1, 0}, {f3, len(f2)}},
			[]int{0}, []int64{1}, StreamCounters{GaveUp: 1}},
		{"gap inside the length", []ev{{append(f1, f2[0]), 0}, {f2[2:], 1}, {f3, 0}},
			[]int{0}, []int64{1}, StreamCounters{GaveUp: 1}},
		{"gap before anything", []ev{{f1, 3}, {f2, 0}}, nil, nil, StreamCounters{GaveUp: 1}},
		{"too short for a header", []ev{{append([]byte{0, 3, 1, 2, 3}, f1...), 0}},
			[]int{0}, []int64{1}, StreamCounters{Malformed: 1}},
		{"zero length", []ev{{append([]byte{0, 0}, f1...), 0}},
			[]int{0}, []int64{1}, StreamCounters{Malformed: 1}},
		{"content does not decode", []ev{{bad, 0}, {f3, 0}},
			[]int{2}, []int64{2}, StreamCounters{Malformed: 1}},
	} {
		var chunks []Chunk
		for _, e := range c.evs {
			chunks = append(chunks, Chunk{Data: e.data, Missed: e.missed})
		}
		got, cnt := dnsRun(chunks)
		var want []*types.DNS
		for i, k := range c.want {
			want = append(want, dnsWant(t, [][]byte{m1, m2, m3}[k], c.frames[i], false))
		}
		t.Run(c.name, func(t *testing.T) {
			dnsCompare(t, c.name, got, want)
			if cnt != c.counter {
				t.Errorf("counters %+v, want %+v", cnt, c.counter)
			}
		})
	}
}

func TestDNSTCPDetect(t *testing.T) {
	q := dnsFrame(dnsTestMessage(t, 1, "x.example", 0, 0))
	r := dnsFrame(dnsTestMessage(t, 1, "x.example", 2, 0))
	mid := dnsTCPTestConn
	mid.Handshake = false
	other := dnsTCPTestConn
	other.ServerPort = 5353
	badOp := append([]byte(nil), q...)
	badOp[4] |= 3 << 3 // opcode 3 is unassigned
	tooMany := append([]byte(nil), q...)
	tooMany[9] = 40 // 40 answers cannot fit
	for _, c := range []struct {
		name   string
		first  []byte
		client bool
		conn   *ConnInfo
		want   Detection
	}{
		{"query", q, true, &dnsTCPTestConn, DetectYes},
		{"response", r, false, &dnsTCPTestConn, DetectYes},
		{"one byte", q[:1], true, &dnsTCPTestConn, DetectMore},
		{"length only", q[:2], true, &dnsTCPTestConn, DetectMore},
		{"header cut", q[:13], true, &dnsTCPTestConn, DetectMore},
		{"header complete", q[:14], true, &dnsTCPTestConn, DetectYes},
		{"length below a header", []byte{0, 11}, true, &dnsTCPTestConn, DetectNo},
		{"not port 53", q, true, &other, DetectNo},
		{"unassigned opcode", badOp, true, &dnsTCPTestConn, DetectNo},
		{"counts do not fit", tooMany, true, &dnsTCPTestConn, DetectNo},
		{"mid-stream query to 53", q, true, &mid, DetectYes},
		{"mid-stream response from 53", r, false, &mid, DetectYes},
		{"mid-stream response toward 53", r, true, &mid, DetectNo},
		{"mid-stream query from 53", q, false, &mid, DetectNo},
		{"handshake seen: QR not checked", r, true, &dnsTCPTestConn, DetectYes},
		{"HTTP on 53", []byte("GET / HTTP/1.1\r\n\r\n"), true, &dnsTCPTestConn, DetectNo},
		{"nil conn", q, true, nil, DetectNo},
	} {
		if got := detectDNSTCP(c.first, c.client, c.conn); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzDNSTCP feeds chunks (the encoding of httpFuzzChunks: a control byte
// with direction, loss and length, then the data) and checks that the
// parser neither panics nor holds more than one message per direction, and
// that the records are those of the same bytes in one chunk per run.
func FuzzDNSTCP(f *testing.F) {
	m1 := dnsFrame(dnsTestMessage(f, 1, "a.example", 0, 0))
	m2 := dnsFrame(dnsTestMessage(f, 2, "b.example", 4, 100))
	f.Add(httpFuzzEncode([]httpEv{{client: true, data: string(m1)}, {data: string(m2)}}))
	f.Add(httpFuzzEncode(httpByteWise([]httpEv{{client: true, data: string(m1) + string(m1)}, {data: string(m2)}})))
	f.Add(httpFuzzEncode([]httpEv{{data: string(m2[:20])}, {data: string(m2[30:]), missed: 10}, {data: string(m1)}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		run := func(chunks []Chunk) []*types.DNS {
			var cnt StreamCounters
			conn := dnsTCPTestConn
			conn.Counters = &cnt
			p := &dnsTCPParser{}
			s := &dnsSink{}
			for i := range chunks {
				p.Feed(&chunks[i], &conn, s)
				for _, d := range p.dir {
					if len(d.buf) > 0xffff || d.skip > 0xffff {
						t.Fatalf("holds %d bytes, skips %d", len(d.buf), d.skip)
					}
				}
			}
			p.Close(&conn, s)
			for _, r := range s.recs {
				if _, err := proto.Marshal(r); err != nil {
					t.Fatal(err)
				}
			}
			return s.recs
		}
		recs := run(httpFuzzChunks(b))
		merged := run(httpMergeRuns(httpFuzzChunks(b)))
		if len(recs) != len(merged) {
			t.Fatalf("%d records, %d when the chunks of a direction are joined", len(recs), len(merged))
		}
		for i := range recs {
			a, b := proto.Clone(recs[i]).(*types.DNS), proto.Clone(merged[i]).(*types.DNS)
			a.FrameNumber, a.Timestamp, b.FrameNumber, b.Timestamp = 0, 0, 0, 0
			if !proto.Equal(a, b) {
				t.Fatalf("record %d differs when the chunks are joined:\n%v\n%v", i, a, b)
			}
		}
	})
}
