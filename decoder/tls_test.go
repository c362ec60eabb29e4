package decoder

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The TLS hello parser is tested three ways: on hellos built in code (every
// field, every way of cutting a hello into TCP chunks and TLS records,
// GREASE, HelloRetryRequest, the limits), on the JA4 specification's worked
// example, and against tshark on every TLS connection of the shared
// captures: tshark's follow gives each connection's reassembled bytes, which
// are fed as chunks, and the records are compared with tshark's JA3, JA3S,
// SNI, cipher suites and extensions for each hello (TestTLSMatchesTshark).
// FuzzTLS feeds random bytes cut at random points.

// ---------------------------------------------------------------------------
// Hellos built in code

type tlsTestExt struct {
	typ  uint16
	data []byte
}

// tlsTestHello is a ClientHello to build.
type tlsTestHello struct {
	version uint16
	random  []byte // 32 bytes; zeros when nil
	sid     []byte
	ciphers []uint16
	comp    []byte
	exts    []tlsTestExt
	noExts  bool // no extension block at all (as SSL 3.0 clients send)
}

func tlsU16(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }

func (h *tlsTestHello) message() []byte {
	b := tlsU16(nil, int(h.version))
	b = append(b, tlsTestRandom(h.random)...)
	b = append(b, byte(len(h.sid)))
	b = append(b, h.sid...)
	b = tlsU16(b, 2*len(h.ciphers))
	for _, c := range h.ciphers {
		b = tlsU16(b, int(c))
	}
	b = append(b, byte(len(h.comp)))
	b = append(b, h.comp...)
	if !h.noExts {
		b = tlsTestExts(b, h.exts)
	}
	return tlsTestHandshake(tlsClientHello, b)
}

func tlsTestRandom(r []byte) []byte {
	if r == nil {
		return make([]byte, 32)
	}
	return r
}

// tlsTestServerHello builds a ServerHello message.
func tlsTestServerHello(version, cipher uint16, random, sid []byte, exts []tlsTestExt) []byte {
	b := tlsU16(nil, int(version))
	b = append(b, tlsTestRandom(random)...)
	b = append(b, byte(len(sid)))
	b = append(b, sid...)
	b = tlsU16(b, int(cipher))
	b = append(b, 0)
	if exts != nil {
		b = tlsTestExts(b, exts)
	}
	return tlsTestHandshake(tlsServerHello, b)
}

func tlsTestExts(b []byte, exts []tlsTestExt) []byte {
	var all []byte
	for _, e := range exts {
		all = tlsU16(all, int(e.typ))
		all = tlsU16(all, len(e.data))
		all = append(all, e.data...)
	}
	b = tlsU16(b, len(all))
	return append(b, all...)
}

func tlsTestHandshake(typ byte, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func tlsTestRecord(typ byte, ver uint16, body []byte) []byte {
	return append(tlsU16([]byte{typ}, int(ver)), append(tlsU16(nil, len(body)), body...)...)
}

// tlsTestRecords puts a handshake message into records whose bodies have
// the given sizes; the last record takes the rest.
func tlsTestRecords(msg []byte, sizes ...int) []byte {
	var out []byte
	for _, n := range sizes {
		out = append(out, tlsTestRecord(tlsRecordHandshake, 0x0303, msg[:n])...)
		msg = msg[n:]
	}
	return append(out, tlsTestRecord(tlsRecordHandshake, 0x0303, msg)...)
}

func tlsSNI(name string) tlsTestExt {
	entry := tlsU16([]byte{0}, len(name))
	entry = append(entry, name...)
	return tlsTestExt{tlsExtServerName, append(tlsU16(nil, len(entry)), entry...)}
}

func tlsALPN(names ...string) tlsTestExt {
	var list []byte
	for _, n := range names {
		list = append(list, byte(len(n)))
		list = append(list, n...)
	}
	return tlsTestExt{tlsExtALPN, append(tlsU16(nil, len(list)), list...)}
}

// extU16s is an extension holding a list of 16-bit values with a two byte
// length (supported groups, signature algorithms).
func tlsU16List(typ uint16, vals ...uint16) tlsTestExt {
	b := tlsU16(nil, 2*len(vals))
	for _, v := range vals {
		b = tlsU16(b, int(v))
	}
	return tlsTestExt{typ, b}
}

func tlsVersions(vals ...uint16) tlsTestExt {
	b := []byte{byte(2 * len(vals))}
	for _, v := range vals {
		b = tlsU16(b, int(v))
	}
	return tlsTestExt{tlsExtSupportedVersions, b}
}

func tlsPoints(vals ...byte) tlsTestExt {
	return tlsTestExt{tlsExtECPointFormats, append([]byte{byte(len(vals))}, vals...)}
}

func tlsExtRaw(typ uint16, data ...byte) tlsTestExt { return tlsTestExt{typ, data} }

// ---------------------------------------------------------------------------
// Running the parser

var tlsTestConn = ConnInfo{
	ClientIP: "192.0.2.1", ServerIP: "198.51.100.7", ClientPort: 50000, ServerPort: 443,
	ClientMAC: "02:00:00:00:00:01", ServerMAC: "02:00:00:00:00:02", FlowID: "flow-1",
}

// tlsSink keeps copies of the records, checking that each marshals.
type tlsSink struct {
	t    testing.TB
	recs []proto.Message
}

func (s *tlsSink) Emit(typ types.Type, m proto.Message) {
	s.t.Helper()
	want := "netcap." + types.Name(typ)
	if got := string(m.ProtoReflect().Descriptor().FullName()); got != want {
		s.t.Fatalf("record emitted as %v is a %s", typ, got)
	}
	if _, err := proto.Marshal(m); err != nil {
		s.t.Fatalf("%v record does not marshal: %v", typ, err)
	}
	s.recs = append(s.recs, proto.Clone(m))
}

func (s *tlsSink) clientHellos() []*types.TLSClientHello {
	var out []*types.TLSClientHello
	for _, m := range s.recs {
		if h, ok := m.(*types.TLSClientHello); ok {
			out = append(out, h)
		}
	}
	return out
}

func (s *tlsSink) serverHellos() []*types.TLSServerHello {
	var out []*types.TLSServerHello
	for _, m := range s.recs {
		if h, ok := m.(*types.TLSServerHello); ok {
			out = append(out, h)
		}
	}
	return out
}

// newTLSParser returns the registered TLS parser.
func newTLSParser(t testing.TB) StreamParser {
	for _, p := range StreamProtocols() {
		if p.Name == "TLS" {
			return p.New()
		}
	}
	t.Fatal("no stream parser registered as TLS")
	return nil
}

// tlsFeed feeds the chunks to a new parser, closes it and returns the
// records.
func tlsFeed(t testing.TB, chunks ...Chunk) *tlsSink {
	t.Helper()
	p := newTLSParser(t)
	s := &tlsSink{t: t}
	for i := range chunks {
		p.Feed(&chunks[i], &tlsTestConn, s)
	}
	p.Close(&tlsTestConn, s)
	return s
}

// tlsFeedDetected feeds the chunks to the parser the detectors choose, as
// the engine does, so that TLS inside another protocol (an HTTP CONNECT
// tunnel, STARTTLS) is found as it is in a capture; it returns the TLS
// records.
func tlsFeedDetected(t testing.TB, chunks ...Chunk) *tlsSink {
	t.Helper()
	u := &Upgrade{}
	all := &tlsSink{t: t}
	for i := range chunks {
		u.Feed(&chunks[i], &tlsTestConn, all)
	}
	u.Close(&tlsTestConn, all)
	s := &tlsSink{t: t}
	for _, m := range all.recs {
		switch m.(type) {
		case *types.TLSClientHello, *types.TLSServerHello:
			s.recs = append(s.recs, m)
		}
	}
	return s
}

// client and server make chunks of one direction.
func tlsClient(frame int64, b []byte) Chunk {
	return Chunk{FromClient: true, Data: b, Frame: frame, Timestamp: frame * 1000}
}

func tlsServer(frame int64, b []byte) Chunk {
	return Chunk{Data: b, Frame: frame, Timestamp: frame * 1000}
}

func tlsOne[T any](t testing.TB, recs []T) T {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	return recs[0]
}

// ---------------------------------------------------------------------------
// Unit tests

// chromeLike is a ClientHello with GREASE values in every list that can
// hold them, as Chrome sends.
func tlsChromeLike() *tlsTestHello {
	random := make([]byte, 32)
	for i := range random {
		random[i] = byte(i)
	}
	return &tlsTestHello{
		version: 0x0303,
		random:  random,
		sid:     bytes.Repeat([]byte{0xaa}, 32),
		ciphers: []uint16{0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x00ff},
		comp:    []byte{0},
		exts: []tlsTestExt{
			tlsExtRaw(0x1a1a),
			tlsSNI("example.com"),
			tlsExtRaw(tlsExtExtendedMaster),
			tlsExtRaw(tlsExtRenegotiationInfo, 0),
			tlsU16List(tlsExtSupportedGroups, 0x2a2a, 29, 23, 24),
			tlsPoints(0),
			tlsExtRaw(tlsExtSessionTicket),
			tlsALPN("h2", "http/1.1"),
			tlsExtRaw(tlsExtStatusRequest, 1, 0, 0, 0, 0),
			tlsU16List(tlsExtSignatureAlgs, 0x0403, 0x0804, 0x0401),
			tlsExtRaw(tlsExtKeyShare, 0, 6, 0x3a, 0x3a, 0, 1, 0, 0),
			tlsVersions(0x3a3a, 0x0304, 0x0303),
			tlsExtRaw(45, 1, 1),
			tlsExtRaw(0xfafa, 0),
		},
	}
}

func tlsHash12(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

func TestTLSClientHelloFields(t *testing.T) {
	h := tlsChromeLike()
	msg := h.message()
	r := tlsOne(t, tlsFeed(t, tlsClient(7, tlsTestRecord(tlsRecordHandshake, 0x0301, msg))).clientHellos())
	want := &types.TLSClientHello{
		Timestamp: 7000, Type: 22, Version: 0x0301, MessageLen: int32(len(msg)),
		HandshakeType: 1, HandshakeLen: uint32(len(msg) - 4), HandshakeVersion: 0x0303,
		Random: h.random, SessionIDLen: 32, SessionID: h.sid,
		CipherSuiteLen: 14, ExtensionLen: int32(len(tlsTestExts(nil, h.exts)) - 2),
		SNI: "example.com", OSCP: true,
		CipherSuites:      []int32{0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x00ff},
		CompressMethods:   []int32{0},
		SignatureAlgs:     []int32{0x0403, 0x0804, 0x0401},
		SupportedGroups:   []int32{0x2a2a, 29, 23, 24},
		SupportedPoints:   []int32{0},
		ALPNs:             []string{"h2", "http/1.1"},
		Extensions:        []int32{0x1a1a, 0, 23, 65281, 10, 11, 35, 16, 5, 13, 51, 43, 45, 0xfafa},
		SupportedVersions: []int32{0x3a3a, 0x0304, 0x0303},
		Ja3Full:           "771,4865-4866-4867-49195-49199-255,0-23-65281-10-11-35-16-5-13-51-43-45,29-23-24,0",
		// The JA4 hashes of the hand-written sorted lists.
		Ja4: "t13d0612h2_" + tlsHash12("00ff,1301,1302,1303,c02b,c02f") + "_" +
			tlsHash12("0005,000a,000b,000d,0017,0023,002b,002d,0033,ff01_0403,0804,0401"),
		SrcIP: "192.0.2.1", DstIP: "198.51.100.7", SrcMAC: "02:00:00:00:00:01", DstMAC: "02:00:00:00:00:02",
		SrcPort: 50000, DstPort: 443, FrameNumber: 7, FlowID: "flow-1",
	}
	sum := fmt.Sprintf("%x", tlsMD5Sum(want.Ja3Full))
	want.Ja3 = sum
	if !proto.Equal(r, want) {
		t.Errorf("ClientHello record:\n got %v\nwant %v", r, want)
	}
}

func TestTLSServerHelloFields(t *testing.T) {
	random := bytes.Repeat([]byte{0x42}, 32)
	sct := []byte{0, 5, 1, 2, 3, 4, 5}
	exts := []tlsTestExt{
		tlsExtRaw(tlsExtRenegotiationInfo, 2, 0xab, 0xcd),
		tlsExtRaw(tlsExtExtendedMaster),
		tlsExtRaw(tlsExtSessionTicket),
		tlsALPN("h2"),
		tlsExtRaw(tlsExtStatusRequest),
		{tlsExtSCT, append(tlsU16(nil, len(sct)), sct...)},
		{tlsExtNPN, []byte{2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}},
		tlsExtRaw(tlsExtSupportedVersions, 3, 4),
		tlsExtRaw(tlsExtPreSharedKey, 0, 1),
		tlsExtRaw(tlsExtKeyShare, 0, 29, 0, 2, 9, 9),
		tlsExtRaw(tlsExtCookie, 0, 2, 7, 7),
	}
	msg := tlsTestServerHello(0x0303, 0xc02f, random, []byte{1, 2, 3}, exts)
	r := tlsOne(t, tlsFeed(t, tlsServer(3, tlsTestRecord(tlsRecordHandshake, 0x0303, msg))).serverHellos())
	want := &types.TLSServerHello{
		Timestamp: 3000, Version: 0x0303, Random: random, SessionID: []byte{1, 2, 3},
		CipherSuite: 0xc02f, NextProtoNeg: true, NextProtos: []string{"h2", "http/1.1"},
		OCSPStapling: true, TicketSupported: true, SecureRenegotiationSupported: true,
		SecureRenegotiation: []byte{0xab, 0xcd}, AlpnProtocol: "h2", Ems: true,
		Scts: [][]byte{{1, 2, 3, 4, 5}}, SupportedVersion: 0x0304, SelectedIdentityPresent: true,
		SelectedIdentity: 1, Cookie: []byte{7, 7}, SelectedGroup: 29,
		Extensions: []int32{65281, 23, 35, 16, 5, 18, 13172, 43, 41, 51, 44},
		SrcIP:      "198.51.100.7", DstIP: "192.0.2.1", SrcMAC: "02:00:00:00:00:02", DstMAC: "02:00:00:00:00:01",
		SrcPort: 443, DstPort: 50000, FrameNumber: 3, FlowID: "flow-1",
		Ja3SFull: "771,49199,65281-23-35-16-5-18-13172-43-41-51-44",
	}
	want.Ja3S = fmt.Sprintf("%x", tlsMD5Sum(want.Ja3SFull))
	if !proto.Equal(r, want) {
		t.Errorf("ServerHello record:\n got %v\nwant %v", r, want)
	}

	// Without extensions JA3S keeps its last comma.
	msg = tlsTestServerHello(0x0303, 0xc02f, nil, nil, nil)
	r = tlsOne(t, tlsFeed(t, tlsServer(1, tlsTestRecord(tlsRecordHandshake, 0x0303, msg))).serverHellos())
	if r.Ja3SFull != "771,49199," {
		t.Errorf("JA3S without extensions = %q, want %q", r.Ja3SFull, "771,49199,")
	}
}

// A hello is the same record wherever the TCP segments cut it.
func TestTLSSplitAtEveryOffset(t *testing.T) {
	stream := tlsTestRecord(tlsRecordHandshake, 0x0301, tlsChromeLike().message())
	want := tlsOne(t, tlsFeed(t, tlsClient(1, stream)).clientHellos())
	for i := 1; i < len(stream); i++ {
		got := tlsOne(t, tlsFeed(t, tlsClient(1, stream[:i]), tlsClient(2, stream[i:])).clientHellos())
		w := proto.Clone(want).(*types.TLSClientHello)
		if i <= 5 { // the message starts in the second chunk
			w.FrameNumber, w.Timestamp = 2, 2000
		}
		if !proto.Equal(got, w) {
			t.Fatalf("split at %d:\n got %v\nwant %v", i, got, w)
		}
	}
	// Three pieces, every pair of cuts.
	for i := 1; i < len(stream); i++ {
		for j := i + 1; j < len(stream); j++ {
			s := tlsFeed(t, tlsClient(1, stream[:i]), tlsClient(1, stream[i:j]), tlsClient(1, stream[j:]))
			if got := tlsOne(t, s.clientHellos()); !proto.Equal(got, want) {
				t.Fatalf("split at %d and %d:\n got %v\nwant %v", i, j, got, want)
			}
		}
	}
	// One byte per chunk.
	var chunks []Chunk
	for i := range stream {
		chunks = append(chunks, tlsClient(1, stream[i:i+1]))
	}
	if got := tlsOne(t, tlsFeed(t, chunks...).clientHellos()); !proto.Equal(got, want) {
		t.Fatalf("one byte per chunk:\n got %v\nwant %v", got, want)
	}
}

// A hello is the same record however the TLS records cut it, down to
// records of one byte.
func TestTLSSplitAcrossRecords(t *testing.T) {
	msg := tlsChromeLike().message()
	want := tlsOne(t, tlsFeed(t, tlsClient(1, tlsTestRecords(msg))).clientHellos())
	for i := 1; i < len(msg); i++ {
		got := tlsOne(t, tlsFeed(t, tlsClient(1, tlsTestRecords(msg, i))).clientHellos())
		w := proto.Clone(want).(*types.TLSClientHello)
		w.MessageLen = int32(i) // the record the message starts in
		if !proto.Equal(got, w) {
			t.Fatalf("records cut at %d:\n got %v\nwant %v", i, got, w)
		}
	}
	ones := make([]int, len(msg)-1)
	for i := range ones {
		ones[i] = 1
	}
	stream := tlsTestRecords(msg, ones...)
	w := proto.Clone(want).(*types.TLSClientHello)
	w.MessageLen = 1
	for _, cut := range []int{len(stream), 1, 7} {
		var chunks []Chunk
		for b := stream; len(b) > 0; b = b[min(cut, len(b)):] {
			chunks = append(chunks, tlsClient(1, b[:min(cut, len(b))]))
		}
		if got := tlsOne(t, tlsFeed(t, chunks...).clientHellos()); !proto.Equal(got, w) {
			t.Fatalf("one-byte records in chunks of %d:\n got %v\nwant %v", cut, got, w)
		}
	}
	// A zero-length record in between changes nothing.
	stream = append(tlsTestRecord(tlsRecordHandshake, 0x0303, msg[:10]), tlsTestRecord(tlsRecordHandshake, 0x0303, nil)...)
	stream = append(stream, tlsTestRecord(tlsRecordHandshake, 0x0303, msg[10:])...)
	w.MessageLen = 10
	if got := tlsOne(t, tlsFeed(t, tlsClient(1, stream)).clientHellos()); !proto.Equal(got, w) {
		t.Fatalf("empty record in between:\n got %v\nwant %v", got, w)
	}
}

// A ClientHello bigger than a TCP segment and than a TLS record (as with
// post-quantum key shares) is reassembled.
func TestTLSLargeClientHello(t *testing.T) {
	h := tlsChromeLike()
	h.exts = append(h.exts, tlsExtRaw(tlsExtKeyShare, bytes.Repeat([]byte{0x11}, 20000)...))
	msg := h.message()
	stream := tlsTestRecords(msg, 1<<14)
	var chunks []Chunk
	for i := 0; i < len(stream); i += 1448 {
		chunks = append(chunks, tlsClient(int64(1+i/1448), stream[i:min(i+1448, len(stream))]))
	}
	r := tlsOne(t, tlsFeed(t, chunks...).clientHellos())
	if r.SNI != "example.com" || r.HandshakeLen != uint32(len(msg)-4) || r.MessageLen != 1<<14 || r.FrameNumber != 1 {
		t.Errorf("large hello: SNI %q HandshakeLen %d MessageLen %d FrameNumber %d", r.SNI, r.HandshakeLen, r.MessageLen, r.FrameNumber)
	}
}

func TestTLSGREASE(t *testing.T) {
	var grease []uint16
	for v := range 1 << 16 {
		if IsGREASE(uint16(v)) {
			grease = append(grease, uint16(v))
		}
	}
	want := []uint16{0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
		0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa}
	if !slices.Equal(grease, want) {
		t.Fatalf("GREASE values %04x, want %04x", grease, want)
	}
	// Every GREASE value in ciphers, extensions and groups is left out of
	// JA3; point formats keep every value.
	var exts []tlsTestExt
	for _, g := range grease {
		exts = append(exts, tlsExtRaw(g))
	}
	exts = append(exts, tlsU16List(tlsExtSupportedGroups, append(slices.Clone(grease), 29)...), tlsPoints(0, 0x0a))
	h := &tlsTestHello{version: 0x0303, ciphers: append(slices.Clone(grease), 0x1301), exts: exts}
	r := tlsOne(t, tlsFeed(t, tlsClient(1, tlsTestRecord(22, 0x0303, h.message()))).clientHellos())
	if want := "771,4865,10-11,29,0-10"; r.Ja3Full != want {
		t.Errorf("JA3 = %q, want %q", r.Ja3Full, want)
	}
	if len(r.CipherSuites) != 17 || len(r.Extensions) != 18 {
		t.Errorf("the record's lists must keep GREASE values: %d ciphers, %d extensions", len(r.CipherSuites), len(r.Extensions))
	}
	if !strings.HasPrefix(r.Ja4, "t12i0102") {
		t.Errorf("JA4 = %q, want GREASE left out of the counts (t12i0102...)", r.Ja4)
	}
}

func TestTLSEmptyExtensions(t *testing.T) {
	for _, h := range []*tlsTestHello{
		{version: 0x0303, ciphers: []uint16{0x1301, 0x1302}, noExts: true},
		{version: 0x0303, ciphers: []uint16{0x1301, 0x1302}},
		{version: 0x0303, ciphers: []uint16{0x0a0a, 0x1301, 0x1302}, exts: []tlsTestExt{tlsExtRaw(0x2a2a)}},
	} {
		r := tlsOne(t, tlsFeed(t, tlsClient(1, tlsTestRecord(22, 0x0303, h.message()))).clientHellos())
		if r.Ja3Full != "771,4865-4866,,," {
			t.Errorf("JA3 = %q, want %q", r.Ja3Full, "771,4865-4866,,,")
		}
		if r.Ja3 != fmt.Sprintf("%x", tlsMD5Sum("771,4865-4866,,,")) {
			t.Errorf("JA3 hash %q is not the MD5 of its string", r.Ja3)
		}
	}
}

// The JA4 specification's example: the values of its worked example, in
// the order it lists them, give its fingerprint.
func TestJA4SpecExample(t *testing.T) {
	ciphers := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
		0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	sigs := []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	extOrder := []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
		0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015}
	build := func(grease bool, sigs []uint16) *tlsTestHello {
		h := &tlsTestHello{version: 0x0303, ciphers: slices.Clone(ciphers), comp: []byte{0}}
		versions := []uint16{0x0304, 0x0303}
		if grease {
			h.ciphers = append([]uint16{0x8a8a}, h.ciphers...)
			h.exts = append(h.exts, tlsExtRaw(0xdada))
			versions = append([]uint16{0x6a6a}, versions...)
		}
		for _, e := range extOrder {
			switch e {
			case tlsExtServerName:
				h.exts = append(h.exts, tlsSNI("example.org"))
			case tlsExtALPN:
				h.exts = append(h.exts, tlsALPN("h2", "http/1.1"))
			case tlsExtSignatureAlgs:
				h.exts = append(h.exts, tlsU16List(e, sigs...))
			case tlsExtSupportedVersions:
				h.exts = append(h.exts, tlsVersions(versions...))
			case tlsExtSupportedGroups:
				h.exts = append(h.exts, tlsU16List(e, 29, 23, 24))
			case tlsExtECPointFormats:
				h.exts = append(h.exts, tlsPoints(0))
			default:
				h.exts = append(h.exts, tlsExtRaw(e))
			}
		}
		if grease {
			h.exts = append(h.exts, tlsExtRaw(0x1a1a, 0))
		}
		return h
	}
	for _, c := range []struct {
		name  string
		hello *tlsTestHello
		want  string
	}{
		{"example", build(false, sigs), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{"example with GREASE", build(true, sigs), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		// "If there are no signature algorithms in the hello packet,
		// then the string ends without an underscore and is hashed."
		{"no signature algorithms", build(false, nil), "t13d1516h2_8daaf6152771_6d807ffa2a79"},
		{"nothing", &tlsTestHello{version: 0x0303, noExts: true}, "t12i000000_000000000000_000000000000"},
	} {
		r := tlsOne(t, tlsFeed(t, tlsClient(1, tlsTestRecord(22, 0x0301, c.hello.message()))).clientHellos())
		if r.Ja4 != c.want {
			t.Errorf("%s: JA4 = %s, want %s", c.name, r.Ja4, c.want)
		}
	}
}

func TestJA4Fields(t *testing.T) {
	// The ALPN examples of the specification.
	for _, c := range []struct {
		alpn []byte
		want string
	}{
		{[]byte("h2"), "h2"}, {[]byte("http/1.1"), "h1"}, {[]byte("h"), "hh"}, {nil, "00"},
		{[]byte{0xab}, "ab"}, {[]byte{0xab, 0xcd}, "ad"}, {[]byte{0x30, 0xab}, "3b"},
		{[]byte{0x30, 0x31, 0xab, 0xcd}, "3d"}, {[]byte{0x30, 0xab, 0xcd, 0x31}, "01"},
	} {
		if got := string(ja4ALPN(nil, c.alpn)); got != c.want {
			t.Errorf("ALPN %x: %q, want %q", c.alpn, got, c.want)
		}
	}
	// Versions: supported_versions wins over the legacy version, GREASE
	// ignored; an unknown version is "00".
	for _, c := range []struct {
		legacy   int32
		versions []int32
		want     string
	}{
		{0x0303, nil, "12"}, {0x0301, nil, "10"}, {0x0300, nil, "s3"}, {0x0303, []int32{0x0a0a, 0x0304, 0x0303}, "13"},
		{0x0303, []int32{0x0302, 0x0301}, "11"}, {0x0303, []int32{0x0a0a}, "12"}, {0x0305, nil, "00"},
		{0xfefd, nil, "d2"},
	} {
		if got := ja4Version(&types.TLSClientHello{HandshakeVersion: c.legacy, SupportedVersions: c.versions}); got != c.want {
			t.Errorf("version %04x %04x: %q, want %q", c.legacy, c.versions, got, c.want)
		}
	}
	// Counts stop at 99.
	many := make([]uint16, 120)
	for i := range many {
		many[i] = uint16(0x0100 + i)
	}
	h := &tlsTestHello{version: 0x0303, ciphers: many}
	for _, v := range many {
		h.exts = append(h.exts, tlsExtRaw(v))
	}
	r := tlsOne(t, tlsFeed(t, tlsClient(1, tlsTestRecords(h.message()))).clientHellos())
	if !strings.HasPrefix(r.Ja4, "t12i999900_") {
		t.Errorf("JA4 with 120 ciphers and extensions = %q, want t12i999900_...", r.Ja4)
	}
}

// A HelloRetryRequest, the second ClientHello and the real ServerHello are
// all recorded; the middlebox-compatibility ChangeCipherSpec records in
// between are skipped.
func TestTLSHelloRetryRequest(t *testing.T) {
	ccs := tlsTestRecord(tlsRecordChangeCipherSpec, 0x0303, []byte{1})
	ch1 := &tlsTestHello{version: 0x0303, ciphers: []uint16{0x1301}, exts: []tlsTestExt{tlsSNI("a.example"), tlsVersions(0x0304)}}
	ch2 := &tlsTestHello{version: 0x0303, ciphers: []uint16{0x1301}, exts: []tlsTestExt{tlsSNI("a.example"), tlsVersions(0x0304), tlsExtRaw(tlsExtCookie, 0, 1, 9)}}
	hrr := tlsTestServerHello(0x0303, 0x1301, tlsRetryRandom[:], nil, []tlsTestExt{tlsExtRaw(tlsExtSupportedVersions, 3, 4), tlsExtRaw(tlsExtKeyShare, 0, 23), tlsExtRaw(tlsExtCookie, 0, 1, 9)})
	sh := tlsTestServerHello(0x0303, 0x1301, nil, nil, []tlsTestExt{tlsExtRaw(tlsExtSupportedVersions, 3, 4), tlsExtRaw(tlsExtKeyShare, 0, 23, 0, 1, 5)})
	app := tlsTestRecord(23, 0x0303, []byte{1, 2, 3})
	s := tlsFeed(t,
		tlsClient(1, tlsTestRecord(22, 0x0301, ch1.message())),
		tlsServer(2, append(tlsTestRecord(22, 0x0303, hrr), ccs...)),
		tlsClient(3, append(ccs, tlsTestRecord(22, 0x0303, ch2.message())...)),
		tlsServer(4, append(append(tlsTestRecord(22, 0x0303, sh), ccs...), app...)),
		tlsClient(5, app),
	)
	chs, shs := s.clientHellos(), s.serverHellos()
	if len(chs) != 2 || len(shs) != 2 {
		t.Fatalf("got %d ClientHellos and %d ServerHellos, want 2 and 2", len(chs), len(shs))
	}
	if chs[1].FrameNumber != 3 || !slices.Contains(chs[1].Extensions, tlsExtCookie) {
		t.Errorf("second ClientHello: frame %d, extensions %v", chs[1].FrameNumber, chs[1].Extensions)
	}
	if !bytes.Equal(shs[0].Random, tlsRetryRandom[:]) || shs[0].SelectedGroup != 23 || !bytes.Equal(shs[0].Cookie, []byte{9}) {
		t.Errorf("retry request: %v", shs[0])
	}
	if shs[1].FrameNumber != 4 || shs[1].SelectedGroup != 23 || shs[1].SupportedVersion != 0x0304 {
		t.Errorf("real ServerHello: %v", shs[1])
	}

	// Without a retry request, a second ClientHello is not read.
	s = tlsFeed(t,
		tlsClient(1, tlsTestRecord(22, 0x0301, ch1.message())),
		tlsServer(2, tlsTestRecord(22, 0x0303, sh)),
		tlsClient(3, tlsTestRecord(22, 0x0303, ch2.message())),
	)
	if n := len(s.clientHellos()); n != 1 {
		t.Errorf("second ClientHello without a retry request: %d records, want 1", n)
	}

	// The retry request of TLS 1.3 drafts (its own message type) is
	// skipped, and the hellos around it recorded.
	draftHRR := tlsTestHandshake(tlsHelloRetryDraft, []byte{0x7f, 0x12, 0, 0})
	s = tlsFeed(t,
		tlsClient(1, tlsTestRecord(22, 0x0301, ch1.message())),
		tlsServer(2, tlsTestRecord(22, 0x0303, draftHRR)),
		tlsClient(3, tlsTestRecord(22, 0x0303, ch2.message())),
		tlsServer(4, tlsTestRecord(22, 0x0303, sh)),
	)
	if len(s.clientHellos()) != 2 || len(s.serverHellos()) != 1 {
		t.Errorf("draft retry: %d ClientHellos and %d ServerHellos, want 2 and 1", len(s.clientHellos()), len(s.serverHellos()))
	}
}

// After the ServerHello the server direction is done, even when later
// messages share its record.
func TestTLSServerHelloThenCertificate(t *testing.T) {
	sh := tlsTestServerHello(0x0303, 0xc02f, nil, nil, []tlsTestExt{tlsExtRaw(tlsExtExtendedMaster)})
	cert := tlsTestHandshake(11, bytes.Repeat([]byte{0x30}, 100))
	s := tlsFeed(t, tlsServer(1, tlsTestRecord(22, 0x0303, append(sh, cert...))), tlsServer(2, tlsTestRecord(22, 0x0303, sh)))
	if r := tlsOne(t, s.serverHellos()); r.Ja3SFull != "771,49199,23" {
		t.Errorf("JA3S = %q", r.Ja3SFull)
	}
}

// A TLS 1.3 draft ServerHello (before draft 22) has no session id and no
// compression method.
func TestTLSDraftServerHello(t *testing.T) {
	b := tlsU16(nil, 0x7f12)
	b = append(b, make([]byte, 32)...)
	b = tlsU16(b, 0x1301)
	b = tlsTestExts(b, []tlsTestExt{tlsExtRaw(tlsExtKeyShareDraft, 0, 29, 0, 1, 1)})
	r := tlsOne(t, tlsFeed(t, tlsServer(1, tlsTestRecord(22, 0x0301, tlsTestHandshake(2, b)))).serverHellos())
	if r.Ja3SFull != "32530,4865,40" || r.SelectedGroup != 29 {
		t.Errorf("draft ServerHello: JA3S %q, group %d", r.Ja3SFull, r.SelectedGroup)
	}
}

// The earliest TLS 1.3 drafts (14) call themselves 0x0304 in a ServerHello
// with the draft layout (tls__tls13_draft14.pcap of suricata-verify).
func TestTLSDraft14ServerHello(t *testing.T) {
	b := tlsU16(nil, 0x0304)
	b = append(b, make([]byte, 32)...)
	b = tlsU16(b, 0xc02b)
	b = tlsTestExts(b, []tlsTestExt{tlsExtRaw(tlsExtKeyShareDraft, 0, 23, 0, 2, 4, 4)})
	r := tlsOne(t, tlsFeed(t, tlsServer(1, tlsTestRecord(22, 0x0301, tlsTestHandshake(2, b)))).serverHellos())
	if r.Ja3SFull != "772,49195,40" || r.SelectedGroup != 23 {
		t.Errorf("draft-14 ServerHello: JA3S %q, group %d", r.Ja3SFull, r.SelectedGroup)
	}
}

// What ends a direction without a record.
func TestTLSGivesUp(t *testing.T) {
	msg := tlsChromeLike().message()
	stream := tlsTestRecord(22, 0x0301, msg)
	huge := tlsTestRecord(22, 0x0301, []byte{1, 0x01, 0x00, 0x01}) // a 65537-byte ClientHello
	for _, c := range []struct {
		name   string
		chunks []Chunk
	}{
		{"gap", []Chunk{tlsClient(1, stream[:50]), {FromClient: true, Data: stream[60:], Missed: 10}}},
		{"gap first", []Chunk{{FromClient: true, Data: stream, Missed: 1}}},
		{"cut off", []Chunk{tlsClient(1, stream[:len(stream)-1])}},
		{"application data first", []Chunk{tlsClient(1, tlsTestRecord(23, 0x0303, []byte{1})), tlsClient(2, stream)}},
		{"alert first", []Chunk{tlsClient(1, tlsTestRecord(21, 0x0303, []byte{2, 40})), tlsClient(2, stream)}},
		{"change cipher spec first", []Chunk{tlsClient(1, tlsTestRecord(20, 0x0303, []byte{1})), tlsClient(2, stream)}},
		{"not TLS", []Chunk{tlsClient(1, []byte("GET / HTTP/1.1\r\n\r\n")), tlsClient(2, stream)}},
		{"record too long", []Chunk{tlsClient(1, []byte{22, 3, 1, 0x48, 0x01})}},
		{"other handshake first", []Chunk{tlsClient(1, tlsTestRecord(22, 0x0303, tlsTestHandshake(11, nil))), tlsClient(2, stream)}},
		{"hello over 64 KiB", []Chunk{tlsClient(1, huge)}},
		{"cipher list past the end", []Chunk{tlsClient(1, tlsTestRecord(22, 0x0301, tlsTestHandshake(1, []byte{3, 3})))}},
		{"extension block past the end", []Chunk{tlsClient(1, tlsTestRecord(22, 0x0301, tlsBadExtensions(1)))}},
		{"extension block with a stray byte", []Chunk{tlsClient(1, tlsTestRecord(22, 0x0301, tlsBadExtensions(0)))}},
	} {
		if s := tlsFeed(t, c.chunks...); len(s.recs) != 0 {
			t.Errorf("%s: %d records, want none", c.name, len(s.recs))
		}
	}
	// The oversized hello is refused from its header: nothing buffered.
	p := newTLSParser(t).(*tlsParser)
	p.Feed(&Chunk{FromClient: true, Data: huge}, &tlsTestConn, &tlsSink{t: t})
	if d := p.dir[0]; !d.done || d.msg != nil {
		t.Errorf("oversized hello: done %v, %d bytes buffered", d.done, cap(d.msg))
	}
}

// tlsBadExtensions is a ClientHello with one byte after its last
// extension, counted in the extension block's length (grow 0) or not
// (grow 1: the block claims one byte more than there is).
func tlsBadExtensions(grow int) []byte {
	h := tlsChromeLike()
	msg := append(h.message(), 0)
	at := 4 + 2 + 32 + 1 + len(h.sid) + 2 + 2*len(h.ciphers) + 1 + len(h.comp)
	n := int(binary.BigEndian.Uint16(msg[at:])) + 1 - grow
	binary.BigEndian.PutUint16(msg[at:], uint16(n+grow))
	body := len(msg) - 4
	msg[1], msg[2], msg[3] = byte(body>>16), byte(body>>8), byte(body)
	return msg
}

func TestTLSDetect(t *testing.T) {
	ch := tlsTestRecord(22, 0x0301, tlsChromeLike().message())
	sh := tlsTestRecord(22, 0x0303, tlsTestServerHello(0x0303, 0xc02f, nil, nil, nil))
	for _, c := range []struct {
		first      []byte
		fromClient bool
		want       Detection
	}{
		{ch, true, DetectYes}, {ch[:1], true, DetectMore}, {ch[:2], true, DetectMore}, {ch[:3], true, DetectMore},
		{ch[:5], true, DetectMore}, {ch[:6], true, DetectYes}, {ch, false, DetectNo},
		{sh, false, DetectYes}, {sh, true, DetectNo}, {sh[:4], false, DetectMore},
		{[]byte{22, 3, 1, 0, 0, 1}, true, DetectNo}, {[]byte{22, 2, 0, 0, 5, 1}, true, DetectNo},
		{[]byte{22, 2}, true, DetectNo}, {[]byte{22, 3, 5}, true, DetectNo}, {[]byte{22, 3, 1, 0, 0}, true, DetectNo},
		{[]byte{23, 3, 3, 0, 5, 1}, true, DetectNo}, {[]byte{23}, true, DetectNo}, {[]byte("GET / HTTP/1.1\r\n"), true, DetectNo},
		{[]byte{22, 3, 3, 0x48, 0x01, 1}, true, DetectNo}, {nil, true, DetectNo},
	} {
		if got := detectTLS(c.first, c.fromClient, &tlsTestConn); got != c.want {
			t.Errorf("Detect(% x, client %v) = %v, want %v", c.first[:min(len(c.first), 8)], c.fromClient, got, c.want)
		}
	}
}

func tlsMD5Sum(s string) []byte {
	sum := md5.Sum([]byte(s))
	return sum[:]
}

func TestTLSMD5(t *testing.T) {
	// RFC 1321's test suite.
	for in, want := range map[string]string{"": "d41d8cd98f00b204e9800998ecf8427e", "abc": "900150983cd24fb0d6963f7d28e17f72"} {
		if got := tlsMD5(in); got != want {
			t.Errorf("MD5(%q) = %s, want %s", in, got, want)
		}
	}
}

// ---------------------------------------------------------------------------
// The tshark oracle

// tlsOracleBudget bounds the tshark comparison so the default test run
// stays short; files not reached are reported, not failed.
var tlsOracleBudget = flag.Duration("tls-budget", 25*time.Second, "time for the TLS comparison with tshark")

// tlsKnownDifferences lists explained differences from tshark, keyed by
// "file#stream/field".
var tlsKnownDifferences = map[string]string{
	// nmap's SSLv2 probe: an SSL 2.0 ClientHello, not a TLS handshake
	// record. tshark counts it as a handshake of type 1 (with no JA3).
	"../labels/kareem-attack-scan/attack_scan.pcap#4100/ClientHellos": "SSLv2 ClientHello",
	// TLS 1.3 draft 14 ServerHello (version 0x0304, no session id, no
	// compression method): tshark reads it with the TLS 1.2 layout, takes
	// the cipher suite's first byte for a session id length, and gives
	// "772,44205,"; netcap reads cipher 0xc02b and the draft key_share (40).
	"suricata-verify/tls__tls13_draft14.pcap#0/Ja3sFull":          "draft-14 ServerHello layout",
	"suricata-verify/tls__tls13_draft14.pcap#0/Ja3s":              "draft-14 ServerHello layout",
	"suricata-verify/tls__tls13_draft14.pcap#0/CipherSuite":       "draft-14 ServerHello layout",
	"suricata-verify/tls__tls13_draft14.pcap#0/ServerExtensions":  "draft-14 ServerHello layout",
	"suricata-verify/tls__tls13_draft14.pcap#0/ServerSessionID":   "draft-14 ServerHello layout",
	"suricata-verify/tls__tls13_draft14.pcap#0/CompressionMethod": "draft-14 ServerHello layout",
}

func tlsSortedKnown() []string {
	keys := make([]string, 0, len(tlsKnownDifferences))
	for k := range tlsKnownDifferences {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tlsSuricataJA4 are the JA4 fingerprints suricata-verify expects for the
// TCP ClientHello of its JA4 tests (tests/<name>/test.yaml), a second,
// independent JA4 implementation.
var tlsSuricataJA4 = map[string]string{
	"suricata-verify/ja4-tls__input.pcap":      "t12i1810s1_27d4652c4487_06a4338d0495",
	"suricata-verify/ja4-rules__input.pcap":    "t13d1516h2_8daaf6152771_e5627efa2ab1",
	"suricata-verify/ja4-tls-quic__input.pcap": "t13d1516h2_8daaf6152771_e5627efa2ab1",
}

// tlsTsHello is a hello as tshark reports it.
type tlsTsHello struct {
	frame       int64
	typ         int
	ja3, ja3Str string // JA3 or JA3S
	sni         string
	ciphers     string // decimal, "-" separated
	exts        string
	single      bool // the only hello of its frame: the lists are its own
	// More fields of a single hello, in netcap's rendering: random and
	// session id in hex, lists decimal and "-" separated.
	random, sessionID, alpn, sigAlgs, groups, points, versions, version, comp string
}

// tlsOracleStats sums a comparison.
type tlsOracleStats struct {
	files, streams, clientHellos, serverHellos int
	mismatches                                 []string
	known                                      []string
	ja4Checked                                 int
	rechunked                                  int
}

func TestTLSMatchesTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark comparison skipped in -short mode")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: TLS hellos not compared with tshark")
	}
	files := tlsOracleFiles(t)
	if len(files) == 0 {
		t.Skip("shared captures absent (../../shared/pcaps): TLS hellos not compared with tshark")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *tlsOracleBudget)
	defer cancel()
	var (
		mu      sync.Mutex
		total   tlsOracleStats
		skipped []string
		wg      sync.WaitGroup
		jobs    = make(chan string)
	)
	for range max(2, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				st, err := tlsCompareFile(ctx, t, tshark, name)
				mu.Lock()
				if err != nil {
					skipped = append(skipped, name+": "+err.Error())
				} else {
					total.files++
					total.streams += st.streams
					total.clientHellos += st.clientHellos
					total.serverHellos += st.serverHellos
					total.mismatches = append(total.mismatches, st.mismatches...)
					total.known = append(total.known, st.known...)
					total.ja4Checked += st.ja4Checked
					total.rechunked += st.rechunked
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	sort.Strings(skipped)
	sort.Strings(total.mismatches)
	t.Logf("TLS vs tshark: %d files, %d streams, %d ClientHellos and %d ServerHellos compared, "+
		"%d mismatches (%d known), %d JA4 checked against suricata-verify, %d streams re-chunked, %v",
		total.files, total.streams, total.clientHellos, total.serverHellos, len(total.mismatches), len(total.known),
		total.ja4Checked, total.rechunked, time.Since(start).Round(time.Millisecond))
	for _, s := range skipped {
		t.Logf("not compared: %s", s)
	}
	if len(skipped) == 0 {
		for _, k := range tlsSortedKnown() {
			if !slices.Contains(total.known, k) && knownFor(k, "#", files) {
				t.Errorf("known difference %s did not occur: remove it from tlsKnownDifferences", k)
			}
		}
	}
	for i, m := range total.mismatches {
		if i == 50 {
			t.Errorf("... and %d more", len(total.mismatches)-50)
			break
		}
		t.Errorf("%s", m)
	}
	if total.clientHellos == 0 && len(skipped) == 0 {
		t.Errorf("no ClientHello compared: the capture list or the tshark fields are wrong")
	}
}

// tlsOracleFiles are the captures, shared and own, tshark finds TLS in,
// relative to the corpus directory.
func tlsOracleFiles(t testing.TB) []string {
	var out []string
	for _, e := range catalog(t) {
		if slices.Contains(e.protos, "tls") {
			out = append(out, e.name)
		}
	}
	const scan = "../labels/kareem-attack-scan/attack_scan.pcap"
	if _, err := os.Stat(filepath.Join(corpusDir, scan)); err == nil {
		out = append([]string{scan}, out...) // the biggest first
	}
	return out
}

// tlsCompareFile compares the hellos of one capture with tshark's.
func tlsCompareFile(ctx context.Context, t *testing.T, tshark, name string) (*tlsOracleStats, error) {
	path := filepath.Join(corpusDir, name)
	want, err := tlsTsharkHellos(ctx, tshark, path)
	if err != nil {
		return nil, err
	}
	st := &tlsOracleStats{}
	if len(want) == 0 {
		return st, nil
	}
	streams := make([]int, 0, len(want))
	for s := range want {
		streams = append(streams, s)
	}
	sort.Ints(streams)
	followed, err := tlsFollow(ctx, tshark, path, streams)
	if err != nil {
		return nil, err
	}
	for _, stream := range streams {
		st.streams++
		key := fmt.Sprintf("%s#%d", name, stream)
		f, ok := followed[stream]
		if !ok {
			st.mismatches = append(st.mismatches, key+": tshark follow gave no data")
			continue
		}
		s := tlsFeedDetected(t, f.chunks...)
		// The same bytes cut at random points give the same records.
		rs := tlsFeedDetected(t, tlsRechunk(f.chunks, uint64(stream))...)
		st.rechunked++
		if !slices.EqualFunc(s.recs, rs.recs, proto.Equal) {
			st.mismatches = append(st.mismatches, key+": records differ when the stream is cut differently")
		}
		var wantCH, wantSH []tlsTsHello
		for _, h := range want[stream] {
			if h.typ == tlsClientHello {
				wantCH = append(wantCH, h)
			} else {
				wantSH = append(wantSH, h)
			}
		}
		diff := func(field, got, want string) {
			if got == want {
				return
			}
			k := key + "/" + field
			if _, ok := tlsKnownDifferences[k]; ok {
				st.known = append(st.known, k)
				return
			}
			st.mismatches = append(st.mismatches, fmt.Sprintf("%s: got %q, tshark %q", k, got, want))
		}
		chs, shs := s.clientHellos(), s.serverHellos()
		diff("ClientHellos", strconv.Itoa(len(chs)), strconv.Itoa(len(wantCH)))
		diff("ServerHellos", strconv.Itoa(len(shs)), strconv.Itoa(len(wantSH)))
		for i := range min(len(chs), len(wantCH)) {
			g, w := chs[i], wantCH[i]
			st.clientHellos++
			diff("Ja3Full", g.Ja3Full, w.ja3Str)
			diff("Ja3", g.Ja3, w.ja3)
			diff("SNI", g.SNI, w.sni)
			if w.single {
				diff("CipherSuites", tlsJoin(g.CipherSuites), w.ciphers)
				diff("Extensions", tlsJoin(g.Extensions), w.exts)
				diff("Random", hex.EncodeToString(g.Random), w.random)
				diff("SessionID", hex.EncodeToString(g.SessionID), w.sessionID)
				diff("ALPNs", strings.Join(g.ALPNs, "-"), w.alpn)
				// tshark gives the lists of delegated_credentials (34)
				// and signature_algorithms_cert (50) the same field
				// name: compared only for hellos without them.
				if !slices.Contains(g.Extensions, 34) && !slices.Contains(g.Extensions, 50) {
					diff("SignatureAlgs", tlsJoin(g.SignatureAlgs), w.sigAlgs)
				}
				diff("SupportedGroups", tlsJoin(g.SupportedGroups), w.groups)
				diff("SupportedPoints", tlsJoin(g.SupportedPoints), w.points)
				diff("SupportedVersions", tlsJoin(g.SupportedVersions), w.versions)
				diff("HandshakeVersion", strconv.Itoa(int(g.HandshakeVersion)), w.version)
				diff("CompressMethods", tlsJoin(g.CompressMethods), w.comp)
			}
			if ja4, ok := tlsSuricataJA4[name]; ok {
				st.ja4Checked++
				diff("Ja4", g.Ja4, ja4)
			}
		}
		for i := range min(len(shs), len(wantSH)) {
			g, w := shs[i], wantSH[i]
			st.serverHellos++
			diff("Ja3sFull", g.Ja3SFull, w.ja3Str)
			diff("Ja3s", g.Ja3S, w.ja3)
			if w.single {
				diff("CipherSuite", strconv.Itoa(int(g.CipherSuite)), w.ciphers)
				diff("ServerExtensions", tlsJoin(g.Extensions), w.exts)
				diff("ServerRandom", hex.EncodeToString(g.Random), w.random)
				diff("ServerSessionID", hex.EncodeToString(g.SessionID), w.sessionID)
				diff("AlpnProtocol", g.AlpnProtocol, w.alpn)
				diff("SupportedVersion", tlsJoin(tlsNonZero(g.SupportedVersion)), w.versions)
				diff("Version", strconv.Itoa(int(g.Version)), w.version)
				// A TLS 1.3 draft ServerHello has no compression
				// method: tshark shows none, netcap 0.
				diff("CompressionMethod", strconv.Itoa(int(g.CompressionMethod)), cmp.Or(w.comp, "0"))
			}
		}
	}
	return st, nil
}

func tlsNonZero(v int32) []int32 {
	if v == 0 {
		return nil
	}
	return []int32{v}
}

// tsNums renders tshark's list of numbers (decimal or 0x-hex, ";"
// separated) as netcap's: decimal, "-" separated.
func tsNums(col string) string {
	var out []string
	for _, v := range strings.Split(col, ";") {
		if n, err := strconv.ParseUint(v, 0, 32); err == nil {
			out = append(out, strconv.FormatUint(n, 10))
		}
	}
	return strings.Join(out, "-")
}

func tlsJoin(v []int32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, "-")
}

// tlsTsharkHellos returns the hellos tshark finds over TCP, by stream, in
// frame order.
func tlsTsharkHellos(ctx context.Context, tshark, path string) (map[int][]tlsTsHello, error) {
	cmd := exec.CommandContext(ctx, tshark, "-n", "-r", path,
		"-Y", "tcp && (tls.handshake.type == 1 || tls.handshake.type == 2)",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=;",
		"-e", "tcp.stream", "-e", "frame.number", "-e", "tls.handshake.type",
		"-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3",
		"-e", "tls.handshake.ja3s_full", "-e", "tls.handshake.ja3s",
		"-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.ciphersuite",
		"-e", "tls.handshake.extension.type",
		"-e", "tls.handshake.random", "-e", "tls.handshake.session_id", "-e", "tls.handshake.extensions_alpn_str",
		"-e", "tls.handshake.sig_hash_alg", "-e", "tls.handshake.extensions_supported_group",
		"-e", "tls.handshake.extensions_ec_point_format", "-e", "tls.handshake.extensions.supported_version",
		"-e", "tls.handshake.version", "-e", "tls.handshake.comp_method")
	out, err := cmd.Output()
	if err := tsharkErr(ctx, err); err != nil {
		return nil, fmt.Errorf("tshark fields: %w", err)
	}
	hellos := map[int][]tlsTsHello{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		col := strings.Split(line, "\t")
		if len(col) != 19 {
			continue
		}
		stream, err1 := strconv.Atoi(col[0])
		frame, err2 := strconv.ParseInt(col[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("tshark fields: bad line %q", line)
		}
		var kinds []int
		for _, k := range strings.Split(col[2], ";") {
			if k == "1" || k == "2" {
				n, _ := strconv.Atoi(k)
				kinds = append(kinds, n)
			}
		}
		ja3Str, ja3 := strings.Split(col[3], ";"), strings.Split(col[4], ";")
		ja3sStr, ja3s := strings.Split(col[5], ";"), strings.Split(col[6], ";")
		var ciphers []string
		for _, c := range strings.Split(col[8], ";") {
			if v, err := strconv.ParseUint(strings.TrimPrefix(c, "0x"), 16, 16); err == nil {
				ciphers = append(ciphers, strconv.Itoa(int(v)))
			}
		}
		nc, ns := 0, 0
		for _, k := range kinds {
			h := tlsTsHello{frame: frame, typ: k, single: len(kinds) == 1,
				ciphers: strings.Join(ciphers, "-"), exts: tsNums(col[9]),
				random: col[10], sessionID: col[11], alpn: strings.ReplaceAll(col[12], ";", "-"),
				sigAlgs: tsNums(col[13]), groups: tsNums(col[14]), points: tsNums(col[15]),
				versions: tsNums(col[16]), version: tsNums(col[17]), comp: tsNums(col[18])}
			if k == tlsClientHello {
				h.ja3Str, h.ja3 = tlsAt(ja3Str, nc), tlsAt(ja3, nc)
				h.sni = col[7]
				nc++
			} else {
				h.ja3Str, h.ja3 = tlsAt(ja3sStr, ns), tlsAt(ja3s, ns)
				ns++
			}
			hellos[stream] = append(hellos[stream], h)
		}
	}
	return hellos, nil
}

// tsharkErr ignores tshark's exit status 2, which it gives for a capture
// cut short after printing what it read.
func tsharkErr(ctx context.Context, err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 && ctx.Err() == nil {
		return nil
	}
	return err
}

func tlsAt(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// tlsFollowed is one TCP stream as tshark's follow gives it.
type tlsFollowed struct {
	chunks []Chunk
}

// tlsFollow returns the reassembled bytes of the streams, each direction's
// runs of bytes as chunks, in tshark's order, numbered from 1.
func tlsFollow(ctx context.Context, tshark, path string, streams []int) (map[int]*tlsFollowed, error) {
	out := map[int]*tlsFollowed{}
	const batch = 100
	for len(streams) > 0 {
		n := min(batch, len(streams))
		args := []string{"-n", "-r", path, "-q"}
		for _, s := range streams[:n] {
			args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", s))
		}
		streams = streams[n:]
		b, err := exec.CommandContext(ctx, tshark, args...).Output()
		if err := tsharkErr(ctx, err); err != nil {
			return nil, fmt.Errorf("tshark follow: %w", err)
		}
		// Blocks: "Filter: tcp.stream eq N", "Node 0: ...", "Node 1: ...",
		// then one hex line per run of bytes, the second node's indented
		// by a tab.
		var cur *tlsFollowed
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "Filter: tcp.stream eq "):
				s, err := strconv.Atoi(strings.TrimPrefix(line, "Filter: tcp.stream eq "))
				if err != nil {
					return nil, fmt.Errorf("tshark follow: %q", line)
				}
				cur = &tlsFollowed{}
				out[s] = cur
			case cur == nil, line == "", strings.HasPrefix(line, "Node "), strings.HasPrefix(line, "Follow: "),
				strings.HasPrefix(line, "====="):
			default:
				fromClient := !strings.HasPrefix(line, "\t")
				data, err := hex.DecodeString(strings.TrimSpace(line))
				if err != nil {
					return nil, fmt.Errorf("tshark follow: not hex: %.60q", line)
				}
				frame := int64(len(cur.chunks) + 1)
				cur.chunks = append(cur.chunks, Chunk{FromClient: fromClient, Data: data, Frame: frame, Timestamp: frame})
			}
		}
	}
	return out, nil
}

// tlsRechunk cuts each chunk at random points (seeded, so a failure
// reproduces); the pieces keep the chunk's frame.
func tlsRechunk(chunks []Chunk, seed uint64) []Chunk {
	rng := rand.New(rand.NewPCG(seed, 0x7115))
	var out []Chunk
	for _, c := range chunks {
		for d := c.Data; len(d) > 0; {
			n := min(len(d), 1+rng.IntN(64))
			p := c
			p.Data = d[:n]
			out = append(out, p)
			d = d[n:]
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Fuzzing

// FuzzTLS feeds two byte strings as the two directions of a connection, cut
// into chunks by a seeded random source. Besides "no panic":
//   - every record marshals (valid UTF-8) and is of the type it is emitted
//     as, with at most two records of each type;
//   - no list or byte field is longer than the input;
//   - the records do not depend on where the chunks are cut: the whole
//     directions fed at once give the same records;
//   - the input is not modified.
func FuzzTLS(f *testing.F) {
	ch := tlsChromeLike().message()
	sh := tlsTestServerHello(0x0303, 0xc02f, nil, []byte{1}, []tlsTestExt{tlsALPN("h2"), tlsExtRaw(tlsExtRenegotiationInfo, 0)})
	hrr := tlsTestServerHello(0x0303, 0x1301, tlsRetryRandom[:], nil, []tlsTestExt{tlsExtRaw(tlsExtKeyShare, 0, 23)})
	ccs := tlsTestRecord(tlsRecordChangeCipherSpec, 0x0303, []byte{1})
	f.Add(tlsTestRecord(22, 0x0301, ch), tlsTestRecord(22, 0x0303, sh), uint64(1))
	f.Add(tlsTestRecords(ch, 10, 100), tlsTestRecords(sh, 3), uint64(2))
	f.Add(append(append(tlsTestRecord(22, 0x0301, ch), ccs...), tlsTestRecord(22, 0x0303, ch)...),
		append(append(tlsTestRecord(22, 0x0303, hrr), ccs...), tlsTestRecord(22, 0x0303, sh)...), uint64(3))
	for _, s := range tlsCorpusSeeds(f) {
		f.Add(s[0], s[1], uint64(len(s[0])))
	}
	f.Fuzz(func(t *testing.T, cli, srv []byte, seed uint64) {
		// Inputs are capped: a hello is at most a few KiB, and more bytes
		// only slow the fuzzer down.
		if len(cli)+len(srv) > 1<<17 {
			return
		}
		origC, origS := bytes.Clone(cli), bytes.Clone(srv)
		limit := len(cli) + len(srv)
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		cut := func(b []byte, fromClient bool) []Chunk {
			var out []Chunk
			for len(b) > 0 {
				n := min(len(b), 1+rng.IntN(300))
				out = append(out, Chunk{FromClient: fromClient, Data: b[:n], Frame: 1, Timestamp: 1})
				b = b[n:]
			}
			return out
		}
		// The server's bytes first, so that a retry request is always
		// seen before the second ClientHello, however the bytes are cut.
		whole := tlsFeed(t, Chunk{Data: srv, Frame: 1, Timestamp: 1}, Chunk{FromClient: true, Data: cli, Frame: 1, Timestamp: 1})
		cut1 := tlsFeed(t, append(cut(srv, false), cut(cli, true)...)...)
		if !slices.EqualFunc(whole.recs, cut1.recs, proto.Equal) {
			t.Fatalf("records depend on chunking:\nwhole %v\ncut   %v", whole.recs, cut1.recs)
		}
		// Interleaved directions: no invariant but the record checks.
		cs, ss := cut(cli, true), cut(srv, false)
		var mixed []Chunk
		for len(cs)+len(ss) > 0 {
			if len(ss) == 0 || len(cs) > 0 && rng.IntN(2) == 0 {
				mixed, cs = append(mixed, cs[0]), cs[1:]
			} else {
				mixed, ss = append(mixed, ss[0]), ss[1:]
			}
		}
		for _, s := range []*tlsSink{whole, cut1, tlsFeed(t, mixed...)} {
			if len(s.clientHellos()) > 2 || len(s.serverHellos()) > 2 {
				t.Fatalf("%d ClientHellos and %d ServerHellos from one connection", len(s.clientHellos()), len(s.serverHellos()))
			}
			for _, r := range s.clientHellos() {
				if len(r.Random) > 32 || len(r.SessionID) > 255 || len(r.CipherSuites) > limit || len(r.Extensions) > limit || len(r.ALPNs) > limit {
					t.Fatalf("ClientHello out of bounds: %v", r)
				}
			}
			for _, r := range s.serverHellos() {
				if len(r.Random) > 32 || len(r.SessionID) > 255 || len(r.Extensions) > limit || len(r.Scts) > limit {
					t.Fatalf("ServerHello out of bounds: %v", r)
				}
			}
		}
		if !bytes.Equal(cli, origC) || !bytes.Equal(srv, origS) {
			t.Fatalf("input modified")
		}
	})
}

// tlsCorpusSeeds returns, from shared captures with TLS, the first TCP
// payload of each direction that starts with a handshake record: the
// first segment of a ClientHello and of a ServerHello.
func tlsCorpusSeeds(t testing.TB) [][2][]byte {
	var out [][2][]byte
	for _, name := range tlsOracleFiles(t) {
		var cli, srv []byte
		eachPacket(filepath.Join(corpusDir, name), 20000, func(data []byte, link layers.LinkType) {
			if cli != nil && srv != nil {
				return
			}
			p := gopacket.NewPacket(data, link, gopacket.NoCopy)
			tcp, ok := p.TransportLayer().(*layers.TCP)
			if !ok || len(tcp.Payload) < 6 || tcp.Payload[0] != tlsRecordHandshake || tcp.Payload[1] != 3 {
				return
			}
			switch tcp.Payload[5] {
			case tlsClientHello:
				if cli == nil {
					cli = bytes.Clone(tcp.Payload)
				}
			case tlsServerHello:
				if srv == nil {
					srv = bytes.Clone(tcp.Payload)
				}
			}
		})
		if cli != nil || srv != nil {
			out = append(out, [2][]byte{cli, srv})
		}
	}
	return out
}

type tlsDiscard struct{}

func (tlsDiscard) Emit(types.Type, proto.Message) {}

// BenchmarkTLSClientHello parses a Chrome-like ClientHello that arrives in
// one chunk, on a new connection each time.
func BenchmarkTLSClientHello(b *testing.B) {
	stream := tlsTestRecord(22, 0x0301, tlsChromeLike().message())
	c := tlsClient(1, stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		p := &tlsParser{}
		p.Feed(&c, &tlsTestConn, tlsDiscard{})
	}
}
