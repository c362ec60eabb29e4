package decoder

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netcap/netcap/types"
)

// partsPy prints, for each distinct message file named, one line per leaf
// MIME part as Python's email package decodes it: the message's SHA-256,
// the part's SHA-256, its length, whether the message is multipart, and the
// filename.
const partsPy = `
import email, hashlib, sys
from email import policy
seen = set()
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    if raw in seen:
        continue
    seen.add(raw)
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        print(hashlib.sha256(raw).hexdigest(), hashlib.sha256(data).hexdigest(), len(data),
              int(msg.is_multipart()), part.get_filename() or "")
`

// TestMailPartsMatchPython compares the File records of MIME parts with
// the parts Python's email package decodes from the messages tshark
// --export-objects imf writes: for every message netcap read whole (same
// SHA-256 as tshark's), its parts' hashes must be Python's. A message that
// is not multipart has a part of its own only when it names a file.
func TestMailPartsMatchPython(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark and python3; skipped with -short")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: MIME parts not compared")
	}
	files := corpusWith(t, "imf")
	messages, parts, differ := 0, 0, 0
	for _, name := range files {
		path := filepath.Join(corpusDir, name)
		own := strings.HasPrefix(captureLabel(name), "testdata/")
		dir := t.TempDir()
		if out, err := exec.Command("tshark", "-r", path, "-q", "--export-objects", "imf,"+dir).CombinedOutput(); err != nil {
			t.Fatalf("%s: tshark: %v\n%s", name, err, out)
		}
		entries, _ := os.ReadDir(dir)
		args := []string{"-c", partsPy}
		for _, e := range entries {
			args = append(args, filepath.Join(dir, e.Name()))
		}
		out, err := exec.Command(py, args...).Output()
		if err != nil {
			t.Fatalf("%s: python3: %v", name, err)
		}
		want := map[string][]string{} // message SHA-256 -> part SHA-256s
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.SplitN(line, " ", 5)
			if len(f) < 5 {
				continue
			}
			if f[3] == "0" && f[4] == "" {
				if _, ok := want[f[0]]; !ok {
					want[f[0]] = nil // a plain message: known, with no part file
				}
				continue
			}
			want[f[0]] = append(want[f[0]], f[1])
		}
		got := map[string][]string{}
		whole := map[string]bool{}
		for _, f := range filesOf(decodeCapture(t, path, filesOptions(), types.Type_NC_File)) {
			switch {
			case f.Source == "HTTP":
			case f.Parent == "" && f.Complete:
				whole[f.SHA256] = true
			case f.Parent != "" && f.Complete:
				got[f.Parent] = append(got[f.Parent], f.SHA256)
			case f.Parent != "":
				got[f.Parent] = append(got[f.Parent], "incomplete: "+f.Reason)
			}
		}
		for msg, w := range want {
			if !whole[msg] {
				continue // TestMailFilesMatchTshark compares the messages
			}
			messages++
			g := dedupParts(got[msg], len(w))
			slices.Sort(w)
			slices.Sort(g)
			parts += len(w)
			if !slices.Equal(g, w) {
				differ++
				report := t.Logf
				if own {
					report = t.Errorf
				}
				report("%s: message %s: parts %v, Python decodes %v", captureLabel(name), msg[:12], g, w)
			}
		}
	}
	t.Logf("MIME parts vs Python's email package: %d messages, %d parts compared, %d messages differ", messages, parts, differ)
}

// dedupParts undoes the repetition of a message read more than once (sent
// by SMTP and fetched by IMAP): the part records of equal messages are
// gathered under the same Parent, n per copy.
func dedupParts(parts []string, n int) []string {
	if n == 0 || len(parts) <= n || len(parts)%n != 0 {
		return parts
	}
	first := slices.Clone(parts[:n])
	slices.Sort(first)
	for i := n; i < len(parts); i += n {
		c := slices.Clone(parts[i : i+n])
		slices.Sort(c)
		if !slices.Equal(c, first) {
			return parts
		}
	}
	return first
}

// TestMailParts decodes parts built here: base64 over lines of any length,
// quoted-printable soft and hard breaks and escapes, a part as sent, the
// line break before a boundary left out, and a nested multipart.
func TestMailParts(t *testing.T) {
	payload := bytes.Repeat([]byte("netcap\x00\xff part "), 40)
	b64 := wrap(base64.StdEncoding.EncodeToString(payload), 60)
	msg := strings.Join([]string{
		"From: a@example.test",
		"Subject: parts",
		"Content-Type: multipart/mixed; boundary=outer",
		"",
		"preamble",
		"--outer",
		"Content-Type: text/plain",
		"",
		"line one",
		"line two",
		"--outer",
		"Content-Type: application/octet-stream; name=blob.bin",
		"Content-Transfer-Encoding: base64",
		"",
		b64,
		"--outer",
		"Content-Type: multipart/alternative; boundary=inner",
		"",
		"--inner",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"caf=C3=A9 and a soft =",
		"break, a hard one",
		"=3D end",
		"--inner--",
		"--outer--",
		"epilogue",
		"",
	}, "\r\n")
	want := map[string]string{
		"":         "line one\r\nline two",
		"blob.bin": string(payload),
		"qp":       "café and a soft break, a hard one\r\n= end",
	}
	store := &FileStore{MaxSize: DefaultMaxFileSize}
	for _, step := range []int{1, 7, len(msg)} {
		m := newMailFile("SMTP", &Chunk{FromClient: true}, &ConnInfo{Files: store})
		for i := 0; i < len(msg); i += step {
			m.Write([]byte(msg[i:min(i+step, len(msg))]))
		}
		m.Finish(false)
		if len(m.Files) != 4 {
			t.Fatalf("step %d: %d files, want the message and 3 parts", step, len(m.Files))
		}
		for _, f := range m.Files[1:] {
			key := f.Name
			if f.Encoding == "quoted-printable" {
				key = "qp"
			}
			if f.Parent != m.Files[0].SHA256 || !f.Complete {
				t.Errorf("step %d: part %q: parent %q complete %v reason %q", step, key, f.Parent, f.Complete, f.Reason)
			}
			if h := sha256.Sum256([]byte(want[key])); f.SHA256 != hex.EncodeToString(h[:]) {
				t.Errorf("step %d: part %q: %d bytes, SHA-256 %s; want %d bytes", step, key, f.Length, f.SHA256, len(want[key]))
			}
		}
	}
}

func wrap(s string, n int) string {
	var lines []string
	for len(s) > n {
		lines = append(lines, s[:n])
		s = s[n:]
	}
	return strings.Join(append(lines, s), "\r\n")
}

// TestMailPartsBounded: a message of 1,000 parts makes at most mailMaxParts
// part files, and a base64 part larger than MaxSize stops there,
// incomplete, with the bytes up to it hashed.
func TestMailPartsBounded(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	sb.WriteString("--b--\r\n")
	store := &FileStore{MaxSize: 1000}
	m := newMailFile("SMTP", &Chunk{FromClient: true}, &ConnInfo{Files: store})
	m.Write([]byte(sb.String()))
	m.Finish(false)
	if n := len(m.Files) - 1; n != mailMaxParts {
		t.Errorf("1,000 parts: %d part files, want %d", n, mailMaxParts)
	}

	m = newMailFile("SMTP", &Chunk{FromClient: true}, &ConnInfo{Files: store})
	m.Write([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=big\r\n\r\n"))
	line := []byte(strings.Repeat("QUFB", 19) + "\r\n") // 57 bytes of "AAA..." per line
	for range 100_000 {                                 // 5.7 MB decoded
		m.Write(line)
	}
	m.Write([]byte("--b--\r\n"))
	m.Finish(false)
	big := m.Files[len(m.Files)-1]
	if big.Name != "big" || big.Complete || big.Length != 1000 || !strings.Contains(big.Reason, "max-file-size") {
		t.Errorf("5.7 MB part under MaxSize 1000: %+v", big)
	}
	// A line longer than mailMaxLine is counted, not held: its part's file
	// says it was not read, and is incomplete.
	m = newMailFile("SMTP", &Chunk{FromClient: true}, &ConnInfo{Files: &FileStore{MaxSize: DefaultMaxFileSize}})
	m.Write([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename=long\r\n\r\n"))
	m.Write([]byte(strings.Repeat("x", 4*mailMaxLine) + "\r\n--b--\r\n"))
	m.Finish(false)
	long := m.Files[len(m.Files)-1]
	if long.Name != "long" || long.Complete || !strings.Contains(long.Reason, "longer than") {
		t.Errorf("a line of %d bytes: %+v", 4*mailMaxLine, long)
	}
}

// FuzzMailParts feeds any bytes, in pieces of any size, to a message reader
// that makes part files: it must not fail, make more than mailMaxParts part
// files, or read more than MaxSize of one.
func FuzzMailParts(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db =\r\nc\r\n--b--\r\n"), uint8(3))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, msg []byte, step uint8) {
		store := &FileStore{MaxSize: 256}
		m := newMailFile("SMTP", &Chunk{FromClient: true}, &ConnInfo{Files: store})
		n := int(step) + 1
		for i := 0; i < len(msg); i += n {
			m.Write(msg[i:min(i+n, len(msg))])
		}
		m.Finish(false)
		if len(m.Files) > 1+mailMaxParts {
			t.Fatalf("%d files", len(m.Files))
		}
		for _, f := range m.Files[min(1, len(m.Files)):] {
			if f.Length > store.MaxSize || f.Parent != m.Files[0].SHA256 {
				t.Fatalf("part %+v", f)
			}
		}
	})
}
