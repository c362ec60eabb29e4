package decoder

import (
	"slices"
	"strconv"
	"strings"

	"github.com/netcap/netcap/types"
)

// Credentials records are made by the parsers of the protocols that carry
// logins in the clear (SMTP, POP3, IMAP, HTTP, FTP and Telnet). A parser fills one record per login as the client sends it and
// keeps it in a credList until the server answers (Result), so that the
// record says whether the login worked; logins never answered are recorded
// when the connection ends.

// credMaxOpen bounds the logins a connection keeps waiting for an answer;
// the oldest is recorded when another comes.
const credMaxOpen = 16

// credList holds a connection's logins waiting for the server's answer.
type credList []*types.Credentials

// newCred starts the record of a login sent by the chunk's client bytes.
func (l *credList) newCred(protocol, mechanism string, ts, frame int64, conn *ConnInfo, s Sink) *types.Credentials {
	c := &types.Credentials{Timestamp: ts, FrameNumber: frame, Protocol: protocol, Mechanism: mechanism}
	if len(*l) >= credMaxOpen {
		l.emit((*l)[0], conn, s)
	}
	*l = append(*l, c)
	return c
}

// emit records a login once, when it sent some material (an exchange
// cancelled before the user was sent is no login).
func (l *credList) emit(c *types.Credentials, conn *ConnInfo, s Sink) {
	i := slices.Index(*l, c)
	if i < 0 {
		return
	}
	*l = slices.Delete(*l, i, i+1)
	if c.User == "" && c.Password == "" && c.Material == "" {
		return
	}
	c.SrcIP, c.DstIP, c.SrcPort, c.DstPort = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort
	c.FlowID, c.Service = conn.FlowID, credService(conn)
	s.Emit(types.Type_NC_Credentials, c)
}

// answer sets the server's verdict and records the login.
func (l *credList) answer(c *types.Credentials, accepted bool, conn *ConnInfo, s Sink) {
	c.Result = "rejected"
	if accepted {
		c.Result = "accepted"
	}
	l.emit(c, conn, s)
}

// flush records the logins still waiting, when the connection ends.
func (l *credList) flush(conn *ConnInfo, s Sink) {
	for len(*l) > 0 {
		l.emit((*l)[0], conn, s)
	}
}

// credService is the Credentials record's service: the server as IP:port.
func credService(conn *ConnInfo) string {
	if strings.Contains(conn.ServerIP, ":") {
		return "[" + conn.ServerIP + "]:" + strconv.Itoa(int(conn.ServerPort))
	}
	return conn.ServerIP + ":" + strconv.Itoa(int(conn.ServerPort))
}
