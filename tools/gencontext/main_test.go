package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/netcap/netcap/types"
)

// TestContextUpToDate checks that types/context.go is what the tool writes
// from the current descriptors.
func TestContextUpToDate(t *testing.T) {
	want, err := Generate(types.File_netcap_proto)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../types/context.go")
	if err != nil {
		t.Fatalf("%v: run `go generate ./types/`", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("types/context.go is out of date: run `go generate ./types/` (make proto does)")
	}
}

// file builds a descriptor of one message with the given fields (name:
// kind), to give the generator messages netcap.proto does not have.
func file(t *testing.T, fields map[string]descriptorpb.FieldDescriptorProto_Type) protoreflect.FileDescriptor {
	t.Helper()
	m := &descriptorpb.DescriptorProto{Name: proto.String("M")}
	n := int32(1)
	for _, name := range []string{"Timestamp", "FrameNumber", "SrcIP", "DstIP", "SrcPort", "DstPort", "FlowID"} {
		k, ok := fields[name]
		if !ok {
			continue
		}
		m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n),
			Type: k.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: proto.String(name)})
		n++
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{Name: proto.String("t.proto"), Package: proto.String("t"),
		Syntax: proto.String("proto3"), MessageType: []*descriptorpb.DescriptorProto{m}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestOnlyFieldsTheMessageHas: a record with some of the context fields
// gets a method that sets those only; a message without FrameNumber gets
// none; a context field of another type is an error, not a method that
// does not compile.
func TestOnlyFieldsTheMessageHas(t *testing.T) {
	const (
		i64 = descriptorpb.FieldDescriptorProto_TYPE_INT64
		i32 = descriptorpb.FieldDescriptorProto_TYPE_INT32
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
	)
	src, err := Generate(file(t, map[string]descriptorpb.FieldDescriptorProto_Type{"Timestamp": i64, "FrameNumber": i64, "SrcIP": str}))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{"func (x *M) SetPacket(", "x.FrameNumber = c.FrameNumber", "x.SrcIP = c.SrcIP", "_ PacketRecord = (*M)(nil)"} {
		if !strings.Contains(s, want) {
			t.Errorf("generated code lacks %q:\n%s", want, s)
		}
	}
	for _, absent := range []string{"DstIP", "SrcPort", "DstPort", "FlowID", "Timestamp"} {
		if strings.Contains(s, "x."+absent) {
			t.Errorf("generated code sets %s, which the message does not have as context:\n%s", absent, s)
		}
	}
	if _, err := Generate(file(t, map[string]descriptorpb.FieldDescriptorProto_Type{"SrcIP": str})); err == nil {
		t.Error("no error for a file without any packet record")
	}
	if _, err := Generate(file(t, map[string]descriptorpb.FieldDescriptorProto_Type{"FrameNumber": i64, "SrcPort": str})); err == nil {
		t.Error("no error for a SrcPort of type string")
	}
	if _, err := Generate(file(t, map[string]descriptorpb.FieldDescriptorProto_Type{"FrameNumber": i32})); err == nil {
		t.Error("no error for a FrameNumber of type int32")
	}
}
