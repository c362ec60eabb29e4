package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netcap/netcap/types"
)

// TestFlags runs the command with flag combinations and checks the exit code
// and the first line of the error, as a user sees them.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello, this is not a capture\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "TCP.ncap.gz"), []byte("x"), 0o644)
	emptyDir := filepath.Join(dir, "empty")
	os.MkdirAll(emptyDir, 0o755)
	capture := filepath.Join("..", "..", "testdata", "loopback.pcap")

	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no input", nil, 2, "no input: give a capture file with -read"},
		{"stray argument", []string{"x.pcap"}, 2, `unexpected argument "x.pcap"`},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{"missing file", []string{"-read", filepath.Join(dir, "missing.pcap")}, 2, "no such file or directory"},
		{"text file", []string{"-read", text, "-out", filepath.Join(dir, "o1")}, 2, "not a pcap or pcapng file (first bytes 68 65 6c 6c)"},
		{"empty file", []string{"-read", empty, "-out", filepath.Join(dir, "o2")}, 2, "the file is empty"},
		{"unknown include", []string{"-read", capture, "-include", "TCP,Foo"}, 2, `unknown record type "Foo"`},
		{"unknown exclude", []string{"-read", capture, "-exclude", "Bar"}, 2, `unknown record type "Bar"`},
		{"existing output", []string{"-read", capture, "-out", full}, 2, "already holds files; choose another -out or add -overwrite"},
		{"zero workers", []string{"-read", capture, "-workers", "0"}, 2, "-workers and -batch must be at least 1"},
		{"works", []string{"-read", capture, "-out", filepath.Join(dir, "o3"), "-quiet"}, 0, ""},
		{"overwrite", []string{"-read", capture, "-out", full, "-overwrite", "-quiet"}, 0, ""},
		{"existing empty output", []string{"-read", capture, "-out", emptyDir}, 2, "already exists; choose another -out or add -overwrite"},
		{"read and iface", []string{"-read", capture, "-iface", "lo"}, 2, "-read and -iface exclude each other"},
		{"bad bpf on a file", []string{"-read", capture, "-bpf", "tcp port", "-out", filepath.Join(dir, "o4")}, 2, `-bpf "tcp port" does not compile`},
		{"unknown interface", []string{"-iface", "nonexistent0", "-out", filepath.Join(dir, "o5")}, 2, "-iface nonexistent0: no such interface; net capture -interfaces lists them"},
		{"snaplen too small", []string{"-iface", "lo", "-snaplen", "10", "-out", filepath.Join(dir, "o6")}, 2, "-snaplen 10: must be between 64 and 262144"},
		{"bpf on a file", []string{"-read", capture, "-bpf", "icmp", "-out", filepath.Join(dir, "o7"), "-quiet"}, 0, ""},
		{"interfaces", []string{"-interfaces"}, 0, ""},
		{"help", []string{"-h"}, 0, "usage: net capture -read traffic.pcap"},
		{"help names -iface", []string{"-h"}, 0, "net capture -iface eth0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if tt.err != "" && !strings.Contains(stderr.String(), tt.err) {
				t.Fatalf("stderr %q does not say %q", stderr.String(), tt.err)
			}
			if code == 2 && tt.name != "help" && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 && !strings.HasPrefix(tt.err, "flag") {
				t.Fatalf("a refused input must get one line, got:\n%s", stderr.String())
			}
		})
	}
}

// recordTypes derives the top-level record types of netcap.proto from the
// descriptors of package types: a message is a record when the Type enum has
// NC_<name> for it, it is not Header or Batch (the file framing), and it is
// not only a sub-message: a message another message holds as a field (like
// TCPOption or DNSQuestion, which the enum lists too) is a record of its own
// only when it carries its own time (IPv6HopByHop: a record, and also a field
// of IPv6).
func recordTypes(t *testing.T) []string {
	t.Helper()
	file := types.File_netcap_proto
	msgs := file.Messages()
	nested := map[string]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			if sub := fields.Get(i).Message(); sub != nil && sub.FullName() != md.FullName() {
				nested[string(sub.Name())] = true
			}
		}
		for i := 0; i < md.Messages().Len(); i++ {
			walk(md.Messages().Get(i))
		}
	}
	for i := 0; i < msgs.Len(); i++ {
		walk(msgs.Get(i))
	}
	enum := file.Enums().ByName("Type")
	if enum == nil {
		t.Fatal("netcap.proto has no enum Type")
	}
	var records []string
	values := enum.Values()
	for i := 0; i < values.Len(); i++ {
		name, ok := strings.CutPrefix(string(values.Get(i).Name()), "NC_")
		if !ok {
			t.Fatalf("Type value %s does not start with NC_", values.Get(i).Name())
		}
		md := msgs.ByName(protoreflect.Name(name))
		if md == nil {
			t.Errorf("Type value NC_%s has no message %s", name, name)
			continue
		}
		if name == "Header" || name == "Batch" || (nested[name] && !ownTime(md)) {
			continue
		}
		records = append(records, name)
	}
	return records
}

// ownTime: field 1 of the message is its Unix-ns time (Timestamp, or
// TimestampFirst for flows).
func ownTime(md protoreflect.MessageDescriptor) bool {
	f := md.Fields().ByNumber(1)
	return f != nil && f.Kind() == protoreflect.Int64Kind && strings.HasPrefix(string(f.Name()), "Timestamp")
}

// TestDecodersListsEveryRecord: -decoders names every top-level record type
// declared in netcap.proto, and nothing else.
func TestDecodersListsEveryRecord(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-decoders"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			listed[name] = true
		}
	}
	records := recordTypes(t)
	want := map[string]bool{}
	for _, name := range records {
		want[name] = true
		if !listed[name] {
			t.Errorf("-decoders does not list %s", name)
		}
		// a record describes a frame or a flow: it starts with its time
		if !ownTime(types.File_netcap_proto.Messages().ByName(protoreflect.Name(name))) {
			t.Errorf("record %s: field 1 is not its Timestamp", name)
		}
	}
	for name := range listed {
		if !want[name] {
			t.Errorf("-decoders lists %s, which is not a record type of netcap.proto", name)
		}
	}
	// the issue names 53 protocol records; with the flows and the
	// application records the contract has 61
	if len(records) != 61 {
		t.Errorf("netcap.proto declares %d top-level records, the framework has 61: %v", len(records), records)
	}
	t.Logf("%d record types listed", len(records))
}
