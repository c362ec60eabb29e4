package decoder

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/netcap/netcap/types"
)

// SSH (RFC 4253): each side starts with an identification line
// ("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"; a server may send other lines
// first), then binary packets (length, padding length, payload, padding)
// in the clear until it sends SSH_MSG_NEWKEYS. The parser reads that clear
// part of each side: the line and the SSH_MSG_KEXINIT algorithm lists, from
// which it computes HASSH (salesforce/hassh), and makes one SSH record per
// side, when the side's NEWKEYS is seen or the connection ends. Encrypted
// bytes are skipped without being buffered.
//
// Detection is by content: a side whose first bytes are "SSH-" and a
// version number, on any port.

const (
	sshKexInit = 20
	sshNewKeys = 21
	// sshMaxPacket bounds a packet the parser reads into memory (OpenSSH
	// refuses packets over 256 KiB); a longer length is not SSH framing.
	sshMaxPacket = 256 << 10
	// sshMaxLine bounds an identification or banner line (RFC 4253: 255
	// bytes with CR LF for the identification line; banner lines are not
	// bounded there, servers keep them short).
	sshMaxLine       = 1024
	sshMaxBanner     = 16  // banner lines kept
	sshMaxBannerLine = 256 // bytes kept of each
)

func init() {
	RegisterStream(StreamProtocol{
		Name:    "SSH",
		Records: []types.Type{types.Type_NC_SSH},
		Detect:  detectSSH,
		New:     func() StreamParser { return &sshParser{} },
	})
}

// detectSSH accepts a side whose first bytes are "SSH-" and a protocol
// version digit: "SSH-2.0-", "SSH-1.99-", "SSH-1.5-".
func detectSSH(first []byte, _ bool, _ *ConnInfo) Detection {
	const prefix = "SSH-"
	n := min(len(first), len(prefix))
	if string(first[:n]) != prefix[:n] {
		return DetectNo
	}
	if len(first) <= len(prefix) {
		return DetectMore
	}
	if c := first[len(prefix)]; c != '1' && c != '2' {
		return DetectNo
	}
	return DetectYes
}

// sshParser reads the clear part of both sides of one connection.
type sshParser struct {
	side [2]sshSide // 0: the client's bytes, 1: the server's
}

// sshSide is the state of one side.
type sshSide struct {
	r       types.SSH
	started bool // a line or packet byte was seen: the record has content
	done    bool // the side's clear part is over (NEWKEYS, a gap, bad framing)
	emitted bool
	ident   bool // the identification line was read

	line []byte // the line being read, up to sshMaxLine bytes
	skip bool   // the line is too long: skip to its end

	head  [6]byte // packet length, padding length, message code
	nhead int
	left  int    // bytes of the current packet still to come
	pkt   []byte // the KEXINIT being assembled
	keep  bool   // the current packet is kept in pkt
}

// Feed implements StreamParser.
func (p *sshParser) Feed(c *Chunk, conn *ConnInfo, s Sink) {
	i := 0
	if !c.FromClient {
		i = 1
	}
	d := &p.side[i]
	if d.done {
		return
	}
	if !d.started {
		d.started = true
		d.r.Timestamp, d.r.FrameNumber = c.Timestamp, c.Frame
	}
	if c.Missed > 0 {
		// What follows a gap cannot be placed in the framing.
		d.r.Incomplete = true
		d.finish()
		conn.count().GaveUp++
		return
	}
	data := c.Data
	for len(data) > 0 && !d.done {
		if !d.ident {
			data = d.readLine(data, c.FromClient)
			continue
		}
		data = d.readPacket(data, c)
	}
	if d.done {
		p.emit(i, conn, s)
	}
}

// Close implements StreamParser: sides not yet recorded are recorded now.
func (p *sshParser) Close(conn *ConnInfo, s Sink) {
	p.emit(0, conn, s)
	p.emit(1, conn, s)
}

// emit makes side i's record once, when the side said anything.
func (p *sshParser) emit(i int, conn *ConnInfo, s Sink) {
	d := &p.side[i]
	d.finish()
	if d.emitted || !d.started {
		return
	}
	d.emitted = true
	r := &d.r
	r.IsClient = i == 0
	r.PeerIdent = p.side[1-i].r.Ident
	r.FlowID = conn.FlowID
	if r.IsClient {
		r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ClientIP, conn.ServerIP, conn.ClientPort, conn.ServerPort
	} else {
		r.SrcIP, r.DstIP, r.SrcPort, r.DstPort = conn.ServerIP, conn.ClientIP, conn.ServerPort, conn.ClientPort
	}
	if r.KexFrame != 0 {
		r.Algorithms = sshHASSHInput(r)
		sum := md5.Sum([]byte(r.Algorithms))
		r.HASSH = hex.EncodeToString(sum[:])
	}
	s.Emit(types.Type_NC_SSH, r)
}

// finish ends the side and frees its buffers.
func (d *sshSide) finish() {
	d.done = true
	d.line, d.pkt = nil, nil
}

// readLine consumes bytes of the lines before the binary packets and
// returns the rest.
func (d *sshSide) readLine(data []byte, fromClient bool) []byte {
	end := bytes.IndexByte(data, '\n')
	part := data
	if end >= 0 {
		part = data[:end]
	}
	if !d.skip {
		if len(d.line)+len(part) > sshMaxLine {
			d.skip = true
		} else {
			d.line = append(d.line, part...)
		}
	}
	if end < 0 {
		return nil
	}
	line := strings.TrimSuffix(string(d.line), "\r")
	long := d.skip
	d.line, d.skip = d.line[:0], false
	switch {
	case strings.HasPrefix(line, "SSH-") && !long:
		d.ident = true
		d.line = nil
		d.r.Ident = line
		sshParseIdent(&d.r, line)
		if d.r.ProtoVersion != "2.0" && d.r.ProtoVersion != "1.99" {
			// SSH 1 has another packet format; its clear part is not read.
			d.finish()
		}
	case fromClient:
		// A client sends its identification line first.
		d.r.Incomplete = true
		d.finish()
	case len(d.r.Banner) < sshMaxBanner:
		if len(line) > sshMaxBannerLine {
			line = line[:sshMaxBannerLine]
		}
		d.r.Banner = append(d.r.Banner, strings.ToValidUTF8(line, "\uFFFD"))
	}
	return data[end+1:]
}

// sshParseIdent splits "SSH-protoversion-softwareversion SP comments".
func sshParseIdent(r *types.SSH, line string) {
	rest := strings.TrimPrefix(line, "SSH-")
	proto, sw, _ := strings.Cut(rest, "-")
	r.ProtoVersion = proto
	sw, r.Comments, _ = strings.Cut(sw, " ")
	r.Software, r.Version = sw, ""
	// The version starts after the last '_' or '-' that a digit follows:
	// OpenSSH_9.2p1, Cisco-1.25, OpenSSH_for_Windows_7.7, dropbear_2022.83.
	for i := len(sw) - 2; i > 0; i-- {
		if (sw[i] == '_' || sw[i] == '-') && sw[i+1] >= '0' && sw[i+1] <= '9' {
			r.Software, r.Version = sw[:i], sw[i+1:]
			break
		}
	}
	r.Ident = strings.ToValidUTF8(r.Ident, "\uFFFD")
	r.ProtoVersion = strings.ToValidUTF8(r.ProtoVersion, "\uFFFD")
	r.Software = strings.ToValidUTF8(r.Software, "\uFFFD")
	r.Version = strings.ToValidUTF8(r.Version, "\uFFFD")
	r.Comments = strings.ToValidUTF8(r.Comments, "\uFFFD")
}

// readPacket consumes bytes of the binary packets and returns the rest.
func (d *sshSide) readPacket(data []byte, c *Chunk) []byte {
	if d.left == 0 {
		n := copy(d.head[d.nhead:], data)
		d.nhead += n
		data = data[n:]
		if d.nhead < len(d.head) {
			return data
		}
		d.nhead = 0
		length := int(binary.BigEndian.Uint32(d.head[:4]))
		pad := int(d.head[4])
		if length < 2 || length > sshMaxPacket || pad >= length {
			d.r.Incomplete = true
			d.finish()
			return nil
		}
		d.left = length - 2 // the padding length and code bytes are read
		switch code := d.head[5]; {
		case code == sshNewKeys:
			d.r.NewKeys = true
			d.finish()
			return nil
		case code == sshKexInit && d.r.KexFrame == 0:
			d.keep = true
			d.pkt = append(d.pkt[:0], d.head[4:]...)
		default:
			d.keep = false
		}
		if d.left == 0 {
			d.packetDone(c)
		}
		return data
	}
	n := min(len(data), d.left)
	if d.keep {
		d.pkt = append(d.pkt, data[:n]...)
	}
	d.left -= n
	if d.left == 0 {
		d.packetDone(c)
	}
	return data[n:]
}

// packetDone handles the packet just read; c carried its last bytes.
func (d *sshSide) packetDone(c *Chunk) {
	if !d.keep {
		return
	}
	d.keep = false
	pkt := d.pkt
	d.pkt = nil
	pad := int(pkt[0])
	payload := pkt[1 : len(pkt)-pad]
	if !sshParseKexInit(&d.r, payload) {
		d.r.Incomplete = true
		d.finish()
		return
	}
	_, d.r.KexFrame = c.arrival()
}

// sshParseKexInit reads a KEXINIT payload (code, cookie, ten name-lists,
// first_kex_packet_follows, reserved) into r; false when it does not parse.
func sshParseKexInit(r *types.SSH, b []byte) bool {
	if len(b) < 17 || b[0] != sshKexInit {
		return false
	}
	b = b[17:]
	lists := []*[]string{&r.KexAlgorithms, &r.ServerHostKeyAlgorithms,
		&r.EncryptionClientToServer, &r.EncryptionServerToClient,
		&r.MACClientToServer, &r.MACServerToClient,
		&r.CompressionClientToServer, &r.CompressionServerToClient,
		&r.LanguagesClientToServer, &r.LanguagesServerToClient}
	for _, l := range lists {
		if len(b) < 4 {
			return false
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return false
		}
		if n > 0 {
			*l = strings.Split(strings.ToValidUTF8(string(b[4:4+n]), "\uFFFD"), ",")
		}
		b = b[4+n:]
	}
	if len(b) < 1 {
		return false
	}
	r.FirstKexFollows = b[0] != 0
	return true
}

// sshHASSHInput is HASSH's input string: the kex, encryption, MAC and
// compression lists of the side's own direction, ";" separated.
func sshHASSHInput(r *types.SSH) string {
	enc, mac, comp := r.EncryptionServerToClient, r.MACServerToClient, r.CompressionServerToClient
	if r.IsClient {
		enc, mac, comp = r.EncryptionClientToServer, r.MACClientToServer, r.CompressionClientToServer
	}
	return strings.Join([]string{strings.Join(r.KexAlgorithms, ","), strings.Join(enc, ","),
		strings.Join(mac, ","), strings.Join(comp, ",")}, ";")
}
