package decoder

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// sshPacket frames payload as an SSH binary packet before NEWKEYS: length,
// padding length, payload, padding (4 bytes at least, the whole a multiple
// of 8), no MAC.
func sshPacket(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

// sshKexInitPayload builds a KEXINIT payload from ten name-lists.
func sshKexInitPayload(lists [10]string, follows bool) []byte {
	b := append([]byte{sshKexInit}, "0123456789abcdef"...) // cookie
	for _, l := range lists {
		b = binary.BigEndian.AppendUint32(b, uint32(len(l)))
		b = append(b, l...)
	}
	f := byte(0)
	if follows {
		f = 1
	}
	return append(b, f, 0, 0, 0, 0)
}

// Lists of OpenSSH 9.2 (Debian 12), abridged.
var (
	sshClientLists = [10]string{
		"curve25519-sha256,ecdh-sha2-nistp256,ext-info-c", "ssh-ed25519,rsa-sha2-512",
		"chacha20-poly1305@openssh.com,aes128-ctr", "chacha20-poly1305@openssh.com,aes128-ctr",
		"umac-64-etm@openssh.com,hmac-sha2-256", "umac-64-etm@openssh.com,hmac-sha2-256",
		"none,zlib@openssh.com", "none,zlib@openssh.com", "", ""}
	sshServerLists = [10]string{
		"curve25519-sha256,kex-strict-s-v00@openssh.com", "rsa-sha2-512,ssh-ed25519",
		"aes256-gcm@openssh.com", "aes128-ctr",
		"hmac-sha2-512", "hmac-sha1",
		"none", "zlib", "", ""}
)

// sshSession is the clear part of a session: both identification lines,
// both KEXINITs, a key exchange message each way, and NEWKEYS each way
// followed by bytes that stand for encrypted ones.
func sshSession() []streamSeg {
	return []streamSeg{
		{false, []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")},
		{true, []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")},
		{true, sshPacket(sshKexInitPayload(sshClientLists, false))},
		{false, sshPacket(sshKexInitPayload(sshServerLists, true))},
		{true, sshPacket(append([]byte{30}, make([]byte, 36)...))},
		{false, slices.Concat(sshPacket(append([]byte{31}, make([]byte, 200)...)), sshPacket([]byte{sshNewKeys}), []byte("\x00\x00\x10\x00 encrypted"))},
		{true, slices.Concat(sshPacket([]byte{sshNewKeys}), []byte("\xff\xff\xff\xff encrypted, not a length to follow"))},
	}
}

// sshHASSHOf is HASSH computed here from the lists, to check the parser's.
func sshHASSHOf(lists [10]string, client bool) (string, string) {
	in := lists[0] + ";" + lists[3] + ";" + lists[5] + ";" + lists[7]
	if client {
		in = lists[0] + ";" + lists[2] + ";" + lists[4] + ";" + lists[6]
	}
	sum := md5.Sum([]byte(in))
	return in, hex.EncodeToString(sum[:])
}

func sshRecords(recs []proto.Message) []*types.SSH {
	var out []*types.SSH
	for _, m := range recs {
		if r, ok := m.(*types.SSH); ok {
			out = append(out, r)
		}
	}
	return out
}

func TestSSHSession(t *testing.T) {
	for _, port := range []uint16{22, 2222} { // detected by content, not port
		recs, conn := streamRun(t, port, true, sshSession())
		ssh := sshRecords(recs)
		if len(ssh) != 2 {
			t.Fatalf("port %d: %d SSH records, want 2: %v", port, len(ssh), recs)
		}
		if conn == nil || conn.ApplicationProto != "SSH" {
			t.Errorf("port %d: Connection %v, want ApplicationProto SSH", port, conn)
		}
		for _, r := range ssh {
			lists := sshServerLists
			if r.IsClient {
				lists = sshClientLists
			}
			in, sum := sshHASSHOf(lists, r.IsClient)
			if r.Algorithms != in || r.HASSH != sum {
				t.Errorf("client %v: HASSH %s of %q, want %s of %q", r.IsClient, r.HASSH, r.Algorithms, sum, in)
			}
			if r.Software != "OpenSSH" || r.Version != "9.2p1" || r.ProtoVersion != "2.0" || r.Comments != "Debian-2+deb12u3" {
				t.Errorf("ident parsed as %q %q %q %q", r.ProtoVersion, r.Software, r.Version, r.Comments)
			}
			if !r.NewKeys || r.Incomplete || r.KexFrame == 0 || r.PeerIdent == "" {
				t.Errorf("client %v: NewKeys %v Incomplete %v KexFrame %d PeerIdent %q", r.IsClient, r.NewKeys, r.Incomplete, r.KexFrame, r.PeerIdent)
			}
			if got := strings.Join(r.KexAlgorithms, ","); got != lists[0] {
				t.Errorf("KexAlgorithms %q, want %q", got, lists[0])
			}
			if r.FirstKexFollows != !r.IsClient {
				t.Errorf("client %v: FirstKexFollows %v", r.IsClient, r.FirstKexFollows)
			}
			if r.FlowID == "" || r.FlowID != conn.UID {
				t.Errorf("FlowID %q, Connection UID %q", r.FlowID, conn.UID)
			}
			wantSrc := int32(port)
			if r.IsClient {
				wantSrc = 40000
			}
			if r.SrcPort != wantSrc {
				t.Errorf("client %v: SrcPort %d, want %d", r.IsClient, r.SrcPort, wantSrc)
			}
		}
	}
}

// TestSSHSplitEverywhere: byte by byte, the same records.
func TestSSHSplitEverywhere(t *testing.T) { checkSplitEverywhere(t, 22, sshSession()) }

func TestSSHIdent(t *testing.T) {
	for _, c := range []struct{ line, proto, sw, ver, comments string }{
		{"SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3", "2.0", "OpenSSH", "7.4p1", "Debian-10+deb9u3"},
		{"SSH-1.99-Cisco-1.25", "1.99", "Cisco", "1.25", ""},
		{"SSH-2.0-OpenSSH_for_Windows_7.7", "2.0", "OpenSSH_for_Windows", "7.7", ""},
		{"SSH-2.0-dropbear_2022.83", "2.0", "dropbear", "2022.83", ""},
		{"SSH-2.0-libssh2_1.10.0", "2.0", "libssh2", "1.10.0", ""},
		{"SSH-2.0-Go", "2.0", "Go", "", ""},
		{"SSH-2.0-PuTTY_Release_0.78", "2.0", "PuTTY_Release", "0.78", ""},
		{"SSH-2.0-", "2.0", "", "", ""},
		{"SSH-2.0", "2.0", "", "", ""},
		{"SSH-2.0-x\xff y", "2.0", "x\uFFFD", "", "y"},
	} {
		r := &types.SSH{Ident: c.line}
		sshParseIdent(r, c.line)
		if r.ProtoVersion != c.proto || r.Software != c.sw || r.Version != c.ver || r.Comments != c.comments {
			t.Errorf("%q: %q %q %q %q, want %q %q %q %q", c.line, r.ProtoVersion, r.Software, r.Version, r.Comments,
				c.proto, c.sw, c.ver, c.comments)
		}
	}
}

// TestSSHHostile: what a hostile side sends ends its record, marked
// incomplete, without holding more than the bounds.
func TestSSHHostile(t *testing.T) {
	longLine := strings.Repeat("x", 60000)
	cases := []struct {
		name       string
		segs       []streamSeg
		incomplete bool
		banners    int
	}{
		{"NEWKEYS without KEXINIT", []streamSeg{{true, []byte("SSH-2.0-a\r\n")}, {false, []byte("SSH-2.0-b\r\n")}, {false, sshPacket([]byte{sshNewKeys})}}, false, 0},
		{"packet length over the bound", []streamSeg{{false, []byte("SSH-2.0-b\r\n")}, {false, []byte{0x7f, 0, 0, 0, 4, sshKexInit}}}, true, 0},
		{"padding longer than the packet", []streamSeg{{false, []byte("SSH-2.0-b\r\n")}, {false, []byte{0, 0, 0, 8, 9, sshKexInit}}}, true, 0},
		{"name-list longer than the packet", []streamSeg{{false, []byte("SSH-2.0-b\r\n")},
			{false, sshPacket(append(append([]byte{sshKexInit}, make([]byte, 16)...), 0xff, 0xff, 0, 0))}}, true, 0},
		{"a 60 kB line and 100 banner lines", []streamSeg{{true, []byte("SSH-2.0-a\r\n")}, {false, []byte(longLine + "\r\n" + strings.Repeat("hello\r\n", 100) + "SSH-2.0-b\r\n")},
			{false, sshPacket([]byte{sshNewKeys})}}, false, 16},
	}
	for _, c := range cases {
		recs, _ := streamRun(t, 22, true, c.segs)
		var server *types.SSH
		for _, r := range sshRecords(recs) {
			if !r.IsClient {
				server = r
			}
		}
		if server == nil {
			t.Errorf("%s: no server record in %v", c.name, recs)
			continue
		}
		if server.Incomplete != c.incomplete || len(server.Banner) != c.banners {
			t.Errorf("%s: Incomplete %v (want %v), %d banner lines (want %d)", c.name, server.Incomplete, c.incomplete, len(server.Banner), c.banners)
		}
		for _, b := range server.Banner {
			if len(b) > sshMaxBannerLine {
				t.Errorf("%s: a banner line of %d bytes kept", c.name, len(b))
			}
		}
	}
	// A direction that never completes its KEXINIT holds at most the
	// packet bound.
	p := &sshParser{}
	conn := &ConnInfo{}
	big := []byte{0, 3, 0xff, 0xf0, 4, sshKexInit}
	p.Feed(&Chunk{FromClient: true, Data: []byte("SSH-2.0-x\r\n")}, conn, discard{})
	p.Feed(&Chunk{FromClient: true, Data: big}, conn, discard{})
	for range 100 {
		p.Feed(&Chunk{FromClient: true, Data: make([]byte, 64<<10)}, conn, discard{})
	}
	if n := cap(p.side[0].pkt); n > sshMaxPacket+64<<10 {
		t.Errorf("a KEXINIT of 256 KiB claimed: %d bytes held", n)
	}
}

// decodeCapture decodes a capture file with the given options (timeouts
// off) and only the given record types on, and returns the records.
func decodeCapture(t *testing.T, path string, opts Options, on ...types.Type) []proto.Message {
	t.Helper()
	opts.ConnTimeout, opts.FlowTimeout = 0, 0
	d := NewPacketDecoder(func(tt types.Type) bool { return slices.Contains(on, tt) }, opts)
	s := &recordSink{}
	frame := int64(0)
	eachPacket(path, 1<<20, func(b []byte, link layers.LinkType) {
		frame++
		meta := Packet{Frame: frame, CaptureLength: len(b), Length: len(b)}
		d.Decode(b, link, &meta, s)
	})
	d.Flush(s)
	return s.recs
}

// sshCapture returns the SSH records of a capture file.
func sshCapture(t *testing.T, path string) []*types.SSH {
	return sshRecords(decodeCapture(t, path, DefaultOptions(), types.Type_NC_SSH))
}

// TestSSHMatchesTshark compares, for every shared capture tshark finds SSH
// in, each side's identification line, HASSH, HASSH input, KEXINIT frame
// and algorithm lists with tshark's fields of the same packets.
func TestSSHMatchesTshark(t *testing.T) {
	files := corpusWith(t, "ssh")
	compared, records := 0, 0
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		out, err := exec.Command("tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=|", "-E", "aggregator=;",
			"-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "ssh.protocol", "-e", "ssh.kex.hassh", "-e", "ssh.kex.hasshserver",
			"-e", "ssh.kex.hassh_algorithms", "-e", "ssh.kex.hasshserver_algorithms", "-e", "ssh.kex_algorithms",
			"-e", "ssh.server_host_key_algorithms", "-e", "ssh.encryption_algorithms_client_to_server",
			"-e", "ssh.mac_algorithms_server_to_client", "-e", "ssh.compression_algorithms_server_to_client",
			"-Y", "ssh.protocol or ssh.kex.hassh or ssh.kex.hasshserver").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		// want: per sender port, what tshark shows.
		type side struct{ ident, hassh, algos, kexFrame, kex, hostKey, encC2S, macS2C, compS2C string }
		want := map[string]*side{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			c := strings.Split(line, "|")
			if len(c) < 13 {
				continue
			}
			key := c[1] + ">" + c[2]
			w := want[key]
			if w == nil {
				w = &side{}
				want[key] = w
			}
			if c[3] != "" && w.ident == "" {
				w.ident = c[3]
			}
			if h := c[4] + c[5]; h != "" && w.hassh == "" {
				w.hassh, w.algos, w.kexFrame = h, c[6]+c[7], c[0]
				w.kex, w.hostKey, w.encC2S, w.macS2C, w.compS2C = c[8], c[9], c[10], c[11], c[12]
			}
		}
		got := sshCapture(t, path)
		records += len(got)
		seen := map[string]bool{}
		for _, r := range got {
			key := fmt.Sprintf("%d>%d", r.SrcPort, r.DstPort)
			seen[key] = true
			w := want[key]
			if w == nil {
				t.Errorf("%s: SSH record of %s, which tshark does not show: %v", name, key, r)
				continue
			}
			diff := func(field, got, want string) {
				compared++
				if got != want {
					t.Errorf("%s %s: %s %q, tshark %q", name, key, field, got, want)
				}
			}
			diff("Ident", r.Ident, w.ident)
			diff("HASSH", r.HASSH, w.hassh)
			diff("Algorithms", r.Algorithms, w.algos)
			diff("KexFrame", strconv.FormatInt(r.KexFrame, 10), cmpOr(w.kexFrame, "0"))
			if w.hassh != "" {
				diff("KexAlgorithms", strings.Join(r.KexAlgorithms, ","), w.kex)
				diff("ServerHostKeyAlgorithms", strings.Join(r.ServerHostKeyAlgorithms, ","), w.hostKey)
				diff("EncryptionClientToServer", strings.Join(r.EncryptionClientToServer, ","), w.encC2S)
				diff("MACServerToClient", strings.Join(r.MACServerToClient, ","), w.macS2C)
				diff("CompressionServerToClient", strings.Join(r.CompressionServerToClient, ","), w.compS2C)
			}
		}
		for key := range want {
			if !seen[key] {
				t.Errorf("%s: tshark shows SSH from %s, netcap made no record", name, key)
			}
		}
	}
	t.Logf("%d captures, %d SSH records, %d fields compared with tshark", len(files), records, compared)
	if records == 0 {
		t.Error("no SSH record compared: the capture list or the tshark fields are wrong")
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func FuzzSSH(f *testing.F) {
	for _, sg := range sshSession() {
		f.Add(sg.data, sg.client)
	}
	f.Add([]byte("SSH-1.99-Cisco-1.25\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		p := &sshParser{}
		conn := &ConnInfo{}
		s := &recordSink{}
		p.Feed(&Chunk{FromClient: !client, Data: []byte("SSH-2.0-x\r\n")}, conn, s)
		// The input cut in two, to cross a boundary.
		half := len(data) / 2
		p.Feed(&Chunk{FromClient: client, Data: data[:half]}, conn, s)
		p.Feed(&Chunk{FromClient: client, Data: data[half:]}, conn, s)
		p.Close(conn, s)
		for _, m := range s.recs {
			if _, err := proto.Marshal(m); err != nil {
				t.Fatalf("record does not marshal: %v", err)
			}
		}
		if len(sshRecords(s.recs)) > 2 {
			t.Fatalf("%d records for two sides", len(s.recs))
		}
	})
}
