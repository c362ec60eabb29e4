package ncio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/encoding/protowire"
)

// Schema is the record layout this build writes into Header.Schema and the
// newest it reads. Raise it when a record's fields change so that an older
// reader would put values into the wrong columns.
const Schema = 1

// The original netcap (github.com/dreadl0ck/netcap) wrote files of the same
// framing with a Header of the same five first fields, but its records have
// other field numbers and types: read with this build's types they decode
// without error and put values in the wrong columns. Its Header never had
// field 6 (Schema), and up to v0.5 its Created was a string ("s.µs"), where
// ours is an int64; from v0.6 on its Header is ours minus Schema, so the
// Version it names tells it apart from files of this project written before
// the Schema field existed (which name versions below v0.2).

// Origin says who wrote a record file, as far as its header tells.
type Origin int

const (
	// OriginOurs: this project, a schema this build reads.
	OriginOurs Origin = iota
	// OriginOriginal04: the original netcap up to v0.5 (string timestamps,
	// PacketContext sub-messages).
	OriginOriginal04
	// OriginOriginal06: the original netcap v0.6 or later (int64
	// timestamps, flattened contexts).
	OriginOriginal06
	// OriginNewer: this project, a newer schema than this build reads.
	OriginNewer
)

// HeaderInfo is what a header says about the file's writer.
type HeaderInfo struct {
	Origin  Origin
	Version string // the header's Version field, as written
	Schema  uint32 // the header's Schema field, 0 when absent
	Type    int32  // the header's Type field (record type number)
}

// IdentifyHeader reads the raw bytes of a header record (without its length
// prefix) and says who wrote the file. It fails only when the bytes are not
// a protobuf message at all.
func IdentifyHeader(b []byte) (HeaderInfo, error) {
	var info HeaderInfo
	createdString := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return info, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			createdString = true
		case num == 3 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return info, protowire.ParseError(m)
			}
			info.Type = int32(v)
		case num == 4 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return info, protowire.ParseError(m)
			}
			info.Version = string(v)
		case num == 6 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return info, protowire.ParseError(m)
			}
			info.Schema = uint32(min(v, 1<<32-1))
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return info, protowire.ParseError(m)
		}
		b = b[m:]
	}
	major, minor, ok := releaseOf(info.Version)
	switch {
	case info.Schema > Schema:
		info.Origin = OriginNewer
	case info.Schema > 0:
		info.Origin = OriginOurs
	case createdString || (ok && major == 0 && minor >= 2 && minor <= 5):
		info.Origin = OriginOriginal04
	case ok && major == 0 && minor >= 6:
		info.Origin = OriginOriginal06
	default:
		info.Origin = OriginOurs
	}
	return info, nil
}

// releaseOf reads "v0.4.7" or "0.6.11-dirty" as major and minor version.
func releaseOf(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(v, "v")
	a, rest, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	b := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		b = rest[:i]
	}
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return x, y, true
}

// Convertible reports whether net util -upgrade converts files of this
// origin and version: v0.4.x files of the original and those of v0.6 on.
func (h HeaderInfo) Convertible() bool {
	major, minor, ok := releaseOf(h.Version)
	switch h.Origin {
	case OriginOriginal04:
		return ok && major == 0 && minor == 4
	case OriginOriginal06:
		return true
	}
	return false
}

// Writer names the writer for messages: "the original netcap v0.4.7".
func (h HeaderInfo) Writer() string {
	v := printable(h.Version)
	switch h.Origin {
	case OriginOriginal04, OriginOriginal06:
		if v == "" {
			if h.Origin == OriginOriginal04 {
				return "the original netcap (no version named; string timestamps as up to v0.5)"
			}
			return "the original netcap (no version named)"
		}
		return "the original netcap " + v
	}
	if v == "" {
		v = "(no version named)"
	}
	return "netcap " + v
}

// printable makes a version string from a file safe for a one-line message.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	ok := true
	for _, r := range s {
		if !unicode.IsPrint(r) || r == ' ' {
			ok = false
			break
		}
	}
	if !ok {
		return strconv.Quote(s)
	}
	return s
}

// ErrOtherSchema is matched (errors.Is) by every *SchemaError.
var ErrOtherSchema = errors.New("record file of another schema")

// SchemaError refuses a record file whose records this build would misread.
type SchemaError struct {
	Path string
	Info HeaderInfo
}

func (e *SchemaError) Error() string {
	switch {
	case e.Info.Origin == OriginNewer:
		return fmt.Sprintf("%s: written by %s with record schema %d, newer than the schema %d this build reads; read it with that version of net or a newer one",
			e.Path, e.Info.Writer(), e.Info.Schema, Schema)
	case e.Info.Convertible():
		return fmt.Sprintf("%s: written by %s, whose record layout differs from this build's; convert it with: net util -upgrade -read %s -out FOLDER",
			e.Path, e.Info.Writer(), e.Path)
	}
	return fmt.Sprintf("%s: written by %s, whose record layout differs from this build's; net util -upgrade converts only files of v0.4.x and v0.6 or later: capture the traffic again with this build",
		e.Path, e.Info.Writer())
}

// Is makes errors.Is(err, ErrOtherSchema) true.
func (e *SchemaError) Is(target error) bool { return target == ErrOtherSchema }

// CheckHeader returns a *SchemaError when the raw header record b (without
// its length prefix) is not of a schema this build reads, nil otherwise
// (also when b does not decode: the caller reports that).
func CheckHeader(path string, b []byte) error {
	info, err := IdentifyHeader(b)
	if err != nil || info.Origin == OriginOurs {
		return nil
	}
	return &SchemaError{Path: path, Info: info}
}

// CheckFolderSchema returns the first *SchemaError among the record files
// (.ncap, .ncap.gz) of dir (or of the file dir names), so that a command can
// refuse its input before it starts; files it cannot read are left to the
// command's reader.
func CheckFolderSchema(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		r, err := Open(dir)
		if err == nil {
			r.Close()
		}
		if errors.Is(err, ErrOtherSchema) {
			return err
		}
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, en := range entries {
		name := en.Name()
		if en.IsDir() || !(strings.HasSuffix(name, ".ncap") || strings.HasSuffix(name, ".ncap.gz")) {
			continue
		}
		// Only regular files (symbolic links followed): opening a FIFO
		// would wait for a writer.
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || !st.Mode().IsRegular() {
			continue
		}
		r, err := Open(filepath.Join(dir, name))
		if err != nil {
			if errors.Is(err, ErrOtherSchema) {
				return err
			}
			continue
		}
		r.Close()
	}
	return nil
}
