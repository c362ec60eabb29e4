GOPATH_BIN := $(shell go env GOPATH)/bin

.PHONY: proto
# proto regenerates types/netcap.pb.go from netcap.proto.
proto:
	PATH="$(GOPATH_BIN):$$PATH" protoc --go_out=. --go_opt=module=github.com/netcap/netcap netcap.proto
