package ncio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netcap/netcap/types"
)

// rawHeader builds a header record field by field, as another writer would:
// created is a string (the original up to v0.5) or an int64.
func rawHeader(created any, typ int32, version string, schema uint32) []byte {
	var b []byte
	switch c := created.(type) {
	case string:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, c)
	case int64:
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(c))
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, "traffic.pcap")
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(typ))
	if version != "" {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, version)
	}
	if schema != 0 {
		b = protowire.AppendTag(b, 6, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(schema))
	}
	return b
}

func TestIdentifyHeader(t *testing.T) {
	ours, err := HeaderBytes(&types.Header{Created: 1, Type: types.Type_NC_TCP, Version: "v0.1.0-dev"})
	if err != nil {
		t.Fatal(err)
	}
	_, n := protowire.ConsumeVarint(ours)
	cases := []struct {
		name        string
		b           []byte
		origin      Origin
		convertible bool
		msg         string
	}{
		{"ours", ours[n:], OriginOurs, false, ""},
		{"ours before the Schema field", rawHeader(int64(1700000000000000000), 38, "v0.1.0-dev", 0), OriginOurs, false, ""},
		{"ours, no version", rawHeader(int64(1), 38, "", 0), OriginOurs, false, ""},
		{"v0.4.7", rawHeader("1584283133.123456", 38, "v0.4.7", 0), OriginOriginal04, true,
			"x.ncap.gz: written by the original netcap v0.4.7, whose record layout differs from this build's; convert it with: net util -upgrade -read x.ncap.gz -out FOLDER"},
		{"v0.4.7 without v", rawHeader("1584283133.5", 38, "0.4.7", 0), OriginOriginal04, true, "original netcap 0.4.7"},
		{"v0.5.2", rawHeader("1584283133.5", 38, "v0.5.2", 0), OriginOriginal04, false,
			"x.ncap.gz: written by the original netcap v0.5.2, whose record layout differs from this build's; net util -upgrade converts only files of v0.4.x and v0.6 or later: capture the traffic again with this build"},
		{"v0.3 (string Created)", rawHeader("1584283133.5", 38, "v0.3.9", 0), OriginOriginal04, false, "v0.3.9"},
		{"string Created, no version", rawHeader("1584283133.5", 38, "", 0), OriginOriginal04, false, "no version named"},
		{"v0.4 with empty Created", rawHeader(nil, 38, "v0.4.7", 0), OriginOriginal04, true, "v0.4.7"},
		{"v0.6.11", rawHeader(int64(1598000000000000000), 38, "v0.6.11", 0), OriginOriginal06, true, "the original netcap v0.6.11"},
		{"v0.7 (future original)", rawHeader(int64(1), 38, "v0.7.0", 0), OriginOriginal06, true, "v0.7.0"},
		{"newer schema", rawHeader(int64(1), 38, "v3.0.0", Schema+1), OriginNewer, false,
			"x.ncap.gz: written by netcap v3.0.0 with record schema 2, newer than the schema 1 this build reads; read it with that version of net or a newer one"},
		{"hostile version", rawHeader(int64(1), 38, "v9\n\x1b[2J"+strings.Repeat("x", 100), 99), OriginNewer, false, `"v9\n\x1b[2J`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := IdentifyHeader(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if info.Origin != tc.origin || info.Convertible() != tc.convertible {
				t.Fatalf("origin %d convertible %v, want %d %v", info.Origin, info.Convertible(), tc.origin, tc.convertible)
			}
			err = CheckHeader("x.ncap.gz", tc.b)
			if tc.origin == OriginOurs {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrOtherSchema) {
				t.Fatalf("error %v does not match ErrOtherSchema", err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r\x1b") || len(msg) > 400 {
				t.Errorf("message is not one short line: %q", msg)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q\nlacks %q", msg, tc.msg)
			}
		})
	}
	if _, err := IdentifyHeader([]byte{0x0a, 0x05, 'a'}); err == nil {
		t.Error("a cut field decoded")
	}
}

// TestOpenRefusesOtherSchema checks that Open refuses a file of the
// original netcap and OpenAnySchema opens it, gzip'd or not.
func TestOpenRefusesOtherSchema(t *testing.T) {
	dir := t.TempDir()
	for _, compress := range []bool{false, true} {
		path := filepath.Join(dir, "TCP.ncap")
		if compress {
			path += ".gz"
		}
		w, err := Create(path, nil, compress)
		if err != nil {
			t.Fatal(err)
		}
		h := rawHeader("1584283133.123456", int32(types.Type_NC_TCP), "v0.4.7", 0)
		rec := protowire.AppendTag(nil, 1, protowire.BytesType)
		rec = protowire.AppendString(rec, "1584283133.123457")
		var b []byte
		for _, m := range [][]byte{h, rec} {
			b = protowire.AppendVarint(b, uint64(len(m)))
			b = append(b, m...)
		}
		if err := w.WriteDelimited(b, 2); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = Open(path)
		var se *SchemaError
		if !errors.As(err, &se) || se.Info.Origin != OriginOriginal04 || se.Info.Version != "v0.4.7" {
			t.Fatalf("Open: %v", err)
		}
		if err := CheckFolderSchema(dir); !errors.Is(err, ErrOtherSchema) {
			t.Errorf("CheckFolderSchema: %v", err)
		}
		r, err := OpenAnySchema(path)
		if err != nil {
			t.Fatal(err)
		}
		if r.Info().Origin != OriginOriginal04 || r.Header().Type != types.Type_NC_TCP || string(r.RawHeader()) != string(h) {
			t.Errorf("OpenAnySchema: %+v %v", r.Info(), r.Header())
		}
		got, err := r.NextRaw()
		if err != nil || string(got) != string(rec) {
			t.Errorf("record %q, %v", got, err)
		}
		r.Close()
		os.Remove(path)
	}
	// A file of this build passes and names the schema.
	path := filepath.Join(dir, "UDP.ncap.gz")
	h := &types.Header{Type: types.Type_NC_UDP}
	w, err := Create(path, h, true)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Header().Schema != Schema || h.Schema != Schema {
		t.Errorf("header schema %d (given header %d), want %d", r.Header().Schema, h.Schema, Schema)
	}
	if err := CheckFolderSchema(dir); err != nil {
		t.Errorf("CheckFolderSchema: %v", err)
	}
}

// FuzzIdentifyHeader feeds arbitrary bytes as a header record: no panic,
// and a refusal is always one printable line.
func FuzzIdentifyHeader(f *testing.F) {
	f.Add(rawHeader("1584283133.123456", 38, "v0.4.7", 0))
	f.Add(rawHeader(int64(1), 38, "v0.6.11", 0))
	f.Add(rawHeader(int64(1), 38, "v1", 5))
	f.Add([]byte{0x32, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckHeader("f", b)
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("message spans lines: %q", err.Error())
		}
	})
}
