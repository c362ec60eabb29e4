package decoder

import (
	"bytes"

	"github.com/netcap/netcap/types"
)

// PostgreSQL's SSLRequest (PostgreSQL protocol, "SSL Session Encryption"):
// a client that wants TLS first sends 8 bytes, the length 8 and the code
// 80877103; the server answers one byte, 'S' to go on with a TLS handshake
// on the same connection or 'N' to refuse. Only that start is read: after
// an 'S' an Upgrade finds the TLS hellos (their records, JA3 and JA4, as
// for any TLS connection), and the Connection record says
// "PostgreSQL/TLS". A session without TLS makes no record of its own.

// pgSSLRequest is the SSLRequest message.
var pgSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

func init() {
	RegisterStream(StreamProtocol{
		Name: "PostgreSQL",
		// The records are those of what the TLS inside makes.
		Records: []types.Type{types.Type_NC_TLSClientHello, types.Type_NC_TLSServerHello},
		Detect:  detectPostgres,
		New:     func() StreamParser { return &pgParser{} },
	})
}

// detectPostgres accepts a client whose first bytes are an SSLRequest.
func detectPostgres(first []byte, fromClient bool, _ *ConnInfo) Detection {
	if !fromClient {
		return DetectNo
	}
	n := min(len(first), len(pgSSLRequest))
	if !bytes.Equal(first[:n], pgSSLRequest[:n]) {
		return DetectNo
	}
	if n < len(pgSSLRequest) {
		return DetectMore
	}
	return DetectYes
}

// pgParser waits for the server's answer to the SSLRequest.
type pgParser struct {
	sent  int // bytes of the SSLRequest read from the client
	inner *Upgrade
	done  bool
}

// Inner names the protocol after the answer 'S' (TLS), or "".
func (p *pgParser) Inner() string { return p.inner.Inner() }

// Feed implements StreamParser.
func (p *pgParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Feed(c, conn, s)
		return
	}
	if p.done || c.Missed > 0 {
		p.done = true
		return
	}
	data := c.Data
	if c.FromClient {
		if p.sent < len(pgSSLRequest) {
			k := min(len(data), len(pgSSLRequest)-p.sent)
			p.sent += k
			data = data[k:]
		}
		if len(data) > 0 {
			// The client went on before the answer: not the exchange
			// this parser reads.
			p.done = true
		}
		return
	}
	if len(data) == 0 || p.sent < len(pgSSLRequest) {
		return
	}
	if data[0] != 'S' {
		p.done = true // 'N', or an error message: no TLS
		return
	}
	p.inner = upgradeFrom(c, data[1:], conn, s)
}

// Close implements StreamParser.
func (p *pgParser) Close(conn *ConnInfo, s Sink) {
	if p.inner != nil {
		p.inner.Close(conn, s)
	}
}
