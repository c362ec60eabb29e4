// Package original writes record files in the layout of the original netcap
// (github.com/dreadl0ck/netcap) with code protoc generates from its .proto
// definitions (v047/, v06/), so that tests of net util -upgrade and of the
// refusal of other schemas read files no code of this project wrote. Tests
// only: nothing in the net binary imports it.
//
// Regenerate the code after editing a .proto: go generate ./internal/original/...
// (needs protoc and protoc-gen-go v1.36.12 on PATH:
// go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
package original
