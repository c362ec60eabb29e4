package decoder

import "bytes"

// The history and state of a connection (conntrack.go), as Zeek writes them
// in conn.log: the history letters and the TCP conn_state.

// history letters, Zeek's: upper case for the client, lower case for the
// server, each recorded once per direction.
const historyLetters = "SHADFRG"

func (c *conn) mark(d int, letter byte) {
	i := bytes.IndexByte([]byte(historyLetters), letter)
	if c.dir[d].history&(1<<i) != 0 {
		return
	}
	c.dir[d].history |= 1 << i
	if d == 1 {
		letter += 'a' - 'A'
	}
	if n := bytes.IndexByte(c.history[:], 0); n >= 0 {
		c.history[n] = letter
	}
}

// historyText is the history as the Connection record has it.
func (c *conn) historyText() string {
	n := bytes.IndexByte(c.history[:], 0)
	if n < 0 {
		n = len(c.history)
	}
	return string(c.history[:n])
}

// state is Zeek's conn_state for TCP; for other protocols S0 (one side
// only) or SF (both sides sent).
func (c *conn) state() string {
	a, b := &c.dir[0], &c.dir[1]
	if c.key.proto != 6 {
		if b.packets == 0 {
			return "S0"
		}
		return "SF"
	}
	has := func(d int, letter byte) bool {
		return c.dir[d].history&(1<<bytes.IndexByte([]byte(historyLetters), letter)) != 0
	}
	synC, synackS := has(0, 'S'), has(1, 'H')
	switch {
	case !synC && !synackS:
		return "OTH"
	case c.rst[0] && !synackS && synC:
		return "RSTOS0"
	case c.rst[1] && synC && !synackS:
		return "REJ"
	case c.rst[1] && synackS && !synC:
		return "RSTRH"
	case c.rst[0]:
		return "RSTO"
	case c.rst[1]:
		return "RSTR"
	case synC && !synackS && a.fin:
		return "SH"
	case synC && !synackS:
		return "S0"
	case a.fin && b.fin:
		return "SF"
	case a.fin:
		return "S2"
	case b.fin:
		return "S3"
	}
	return "S1"
}
