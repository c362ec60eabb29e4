package decoder

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// linearCase is an input a stream parser should read in time linear in
// its size: build returns the chunks of a connection for size n.
type linearCase struct {
	name  string
	proto string // the StreamProtocol's Name
	n     int    // the smaller size; the larger is 4n
	build func(t testing.TB, n int) []Chunk
}

// oneByteChunks cuts data into chunks of one byte, the way a peer sending
// tiny segments has it delivered.
func oneByteChunks(data []byte, fromClient bool) []Chunk {
	out := make([]Chunk, len(data))
	for i := range data {
		out[i] = Chunk{FromClient: fromClient, Data: data[i : i+1], Frame: int64(i + 1)}
	}
	return out
}

// tlsHelloRecords is a ClientHello in records of the largest size.
func tlsHelloRecords(h tlsTestHello) []byte {
	msg := h.message()
	var sizes []int
	for n := len(msg); n > 1<<14; n -= 1 << 14 {
		sizes = append(sizes, 1<<14)
	}
	return tlsTestRecords(msg, sizes...)
}

func linearCases() []linearCase {
	cli := func(s string) []Chunk { return []Chunk{{FromClient: true, Data: []byte(s), Frame: 1}} }
	return []linearCase{
		{"SMTP: a message header folded over n lines", "SMTP", 3000, func(_ testing.TB, n int) []Chunk {
			return cli("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\nSubject: a\r\n" + strings.Repeat(" b\r\n", n) + "\r\nbody\r\n.\r\n")
		}},
		{"SMTP: a message of n MIME parts", "SMTP", 3000, func(_ testing.TB, n int) []Chunk {
			return cli("EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
				strings.Repeat("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n", n) + "--b--\r\n.\r\n")
		}},
		{"SMTP: n pipelined commands, one byte per chunk", "SMTP", 1500, func(_ testing.TB, n int) []Chunk {
			return oneByteChunks([]byte("EHLO a\r\n"+strings.Repeat("RCPT TO:<a@b>\r\n", n)), true)
		}},
		{"POP3: n commands", "POP3", 3000, func(_ testing.TB, n int) []Chunk {
			return cli(strings.Repeat("NOOP\r\n", n))
		}},
		{"IMAP: a command of n literals", "IMAP", 3000, func(_ testing.TB, n int) []Chunk {
			return cli("a LOGIN" + strings.Repeat(" {1}\r\nx", n) + "\r\n")
		}},
		{"HTTP: a header field folded over n lines", "HTTP", 3000, func(_ testing.TB, n int) []Chunk {
			return cli("GET / HTTP/1.1\r\nX-Folded: a\r\n" + strings.Repeat(" b\r\n", n) + "\r\n")
		}},
		{"HTTP: n header fields", "HTTP", 1500, func(_ testing.TB, n int) []Chunk {
			return cli("GET / HTTP/1.1\r\n" + strings.Repeat("X-N: v\r\n", n) + "\r\n")
		}},
		{"HTTP: a Cookie of n pairs", "HTTP", 2000, func(_ testing.TB, n int) []Chunk {
			return cli("GET / HTTP/1.1\r\nCookie: " + strings.Repeat("a=b; ", n) + "\r\n\r\n")
		}},
		{"HTTP: a query of n parameters of one name", "HTTP", 2000, func(_ testing.TB, n int) []Chunk {
			return cli("GET /?" + strings.Repeat("a=b&", n) + " HTTP/1.1\r\n\r\n")
		}},
		{"HTTP: a header of n lines, one byte per chunk", "HTTP", 1500, func(_ testing.TB, n int) []Chunk {
			return oneByteChunks([]byte("GET / HTTP/1.1\r\n"+strings.Repeat("X-N: v\r\n", n)+"\r\n"), true)
		}},
		{"HTTP: n requests and responses", "HTTP", 500, func(_ testing.TB, n int) []Chunk {
			var out []Chunk
			for i := range n {
				out = append(out, Chunk{FromClient: true, Data: []byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"), Frame: int64(2*i + 1)},
					Chunk{Data: []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), Frame: int64(2*i + 2)})
			}
			return out
		}},
		{"HTTP: a chunked body of n chunks", "HTTP", 3000, func(_ testing.TB, n int) []Chunk {
			return append(cli("GET / HTTP/1.1\r\n\r\n"), Chunk{Data: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
				strings.Repeat("1\r\nx\r\n", n) + "0\r\n\r\n"), Frame: 2})
		}},
		{"DNS over TCP: n messages", "DNS", 500, func(t testing.TB, n int) []Chunk {
			m := dnsFrame(dnsTestMessage(t, 1, "example.org", 1, 0))
			return cli(string(bytes.Repeat(m, n)))
		}},
		// A DNS message is at most 65,535 bytes; past about 1,600 answers
		// gopacket's answer slice grows through the allocator's large,
		// zeroed objects, a step that is not the parser's cost: 4n stays
		// below it.
		{"DNS over TCP: a message of n answers, one byte per chunk", "DNS", 375, func(t testing.TB, n int) []Chunk {
			return oneByteChunks(dnsFrame(dnsTestMessage(t, 1, "example.org", n, 0)), true)
		}},
		{"TLS: a ClientHello of n cipher suites, one byte per chunk", "TLS", 3000, func(_ testing.TB, n int) []Chunk {
			h := tlsTestHello{version: 0x0303, ciphers: make([]uint16, n), comp: []byte{0}}
			for i := range h.ciphers {
				h.ciphers[i] = uint16(i)
			}
			return oneByteChunks(tlsHelloRecords(h), true)
		}},
		{"TLS: a ClientHello of n extensions", "TLS", 2500, func(_ testing.TB, n int) []Chunk {
			h := tlsTestHello{version: 0x0303, ciphers: []uint16{0x1301}, comp: []byte{0}}
			for i := range n {
				h.exts = append(h.exts, tlsTestExt{typ: uint16(100 + i)})
			}
			return cli(string(tlsHelloRecords(h)))
		}},
		{"TLS: a ClientHello of n ALPN names", "TLS", 2500, func(_ testing.TB, n int) []Chunk {
			names := make([]string, n)
			for i := range names {
				names[i] = "h2"
			}
			h := tlsTestHello{version: 0x0303, ciphers: []uint16{0x1301}, comp: []byte{0}, exts: []tlsTestExt{tlsALPN(names...)}}
			return cli(string(tlsHelloRecords(h)))
		}},
	}
}

// timePerRun is the time one run takes when run is repeated for at
// least 30 ms.
func timePerRun(run func()) time.Duration {
	runs, begin := 0, time.Now()
	for time.Since(begin) < 30*time.Millisecond {
		run()
		runs++
	}
	return time.Since(begin) / time.Duration(runs)
}

// TestStreamParsersLinear: for every stream parser, inputs an attacker
// controls (header lines, folding, cookies, pipelining, chunks, messages,
// records, hello lists, tiny segments) take time linear in their size: 4
// times the input takes less than 8 times as long (16 when quadratic). The
// machine may be busy: sizes are timed in turns, the best of 5 each, and a
// case fails only when 3 such rounds all say so.
func TestStreamParsersLinear(t *testing.T) {
	protos := map[string]StreamProtocol{}
	for _, p := range StreamProtocols() {
		protos[p.Name] = p
	}
	for _, c := range linearCases() {
		t.Run(c.name, func(t *testing.T) {
			p, ok := protos[c.proto]
			if !ok {
				t.Fatalf("no stream parser %q", c.proto)
			}
			conn := &ConnInfo{Counters: &StreamCounters{}}
			runOf := func(n int) func() {
				chunks := c.build(t, n)
				return func() {
					sp := p.New()
					for i := range chunks {
						sp.Feed(&chunks[i], conn, discard{})
					}
					sp.Close(conn, discard{})
				}
			}
			runSmall, runLarge := runOf(c.n), runOf(4*c.n)
			var small, large time.Duration
			for round := range 3 {
				for try := range 5 {
					s, l := timePerRun(runSmall), timePerRun(runLarge)
					if try == 0 || s < small {
						small = s
					}
					if try == 0 || l < large {
						large = l
					}
				}
				t.Logf("round %d: n=%d: %v, 4n: %v (%.1fx)", round+1, c.n, small, large, float64(large)/float64(small))
				if large <= 8*small {
					return
				}
			}
			t.Errorf("n=%d took %v, 4n took %v: more than 8 times", c.n, small, large)
		})
	}
}
