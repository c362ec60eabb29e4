GOPATH_BIN := $(shell go env GOPATH)/bin

.PHONY: proto
# proto regenerates types/netcap.pb.go (messages) and types/netcap_vtproto.pb.go
# (reflection-free Marshal/Size/Unmarshal, 3-4x faster on the hot path) from
# netcap.proto, with pinned generator versions so the output is reproducible.
proto:
	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	go install github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@v0.6.0
	PATH="$(GOPATH_BIN):$$PATH" protoc --go_out=. --go_opt=module=github.com/netcap/netcap \
		--go-vtproto_out=. --go-vtproto_opt=module=github.com/netcap/netcap,features=marshal+unmarshal+size \
		netcap.proto

.PHONY: build test bench check
# build writes the net binary to ./net.
build:
	go build -o net ./cmd/net

# check: formatting and vet.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need gofmt -w"; exit 1; }
	go vet ./...

# test is the command CI runs (.ci/run): checks, every test, and a short run of
# every fuzz target (longer runs: make fuzz FUZZTIME=5m).
test: check
	go test -count=1 ./...
	$(MAKE) fuzz FUZZTIME=3s

# bench builds a 1M-packet capture from testdata/ under bench/ and compares
# net capture with a decode-only baseline (packets/s, ratio, peak memory).
bench:
	go run ./tools/bench -dir bench -packets 1000000
	go test -run '^$$' -bench . -benchmem ./capture/ ./decoder/
