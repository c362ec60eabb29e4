GOPATH_BIN := $(shell go env GOPATH)/bin

.PHONY: proto
# proto regenerates types/netcap.pb.go (messages) and types/netcap_vtproto.pb.go
# (reflection-free Marshal/Size/Unmarshal, 3-4x faster on the hot path) from
# netcap.proto, with pinned generator versions so the output is reproducible,
# then types/context.go (the SetPacket method of every record with a
# FrameNumber, tools/gencontext) from the new descriptors. context.go is
# removed first: a method of the old messages may not compile against the new
# ones, and the generator needs package types to build.
proto:
	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	go install github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@v0.6.0
	PATH="$(GOPATH_BIN):$$PATH" protoc --go_out=. --go_opt=module=github.com/netcap/netcap \
		--go-vtproto_out=. --go-vtproto_opt=module=github.com/netcap/netcap,features=marshal+unmarshal+size \
		netcap.proto
	rm -f types/context.go
	go generate ./types/

.PHONY: records-doc
# records-doc writes docs/records.md, the table of every record and field,
# from the comments of netcap.proto (tools/recordsdoc). Run it after editing
# the .proto; TestRecordsDocUpToDate fails while the page is out of date.
records-doc:
	go run ./tools/recordsdoc -proto netcap.proto -out docs/records.md

.PHONY: build test bench check
# build writes the net binary to ./net.
build:
	go build -o net ./cmd/net

# check: formatting and vet.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need gofmt -w"; exit 1; }
	go vet ./...

# test is the command CI runs (.ci/run): checks, every test, and a short run of
# every fuzz target (longer runs: make fuzz FUZZTIME=5m). The short run counts
# executions (300 per target) instead of seconds: Go 1.26's fuzz coordinator
# can fail a duration-bound run with "context deadline exceeded" at the
# deadline on a busy machine (go.dev/issue/75804, fixed in Go 1.27), with no
# failing input; a count has no deadline to race.
test: check
	go test -count=1 -timeout 25m ./...
	$(MAKE) fuzz FUZZTIME=300x

# bench builds a 1M-packet capture from testdata/ under bench/ and compares
# net capture with a decode-only baseline (packets/s, ratio, peak memory),
# and net agent replaying it to net collect on 127.0.0.1 with net capture
# (packets/s, ratio, CPU time and peak memory of each process, 3 pairs);
# then net capture -parquet against net capture on the same capture
# (packets/s, CPU time and the bytes of each type's files, 3 pairs).
bench:
	go run ./tools/bench -dir bench -packets 1000000
	go run ./tools/bench -dir bench -packets 1000000 -parquet -runs 3
	go test -run '^$$' -bench . -benchmem ./capture/ ./decoder/

.PHONY: duckdb
# duckdb checks the Parquet files with an independent reader: DuckDB
# (@duckdb/node-api at the versions tools/duckdb/package-lock.json pins; Node
# and npm from Debian's nodejs and npm) reads every Parquet file net capture
# -parquet writes for testdata/ and the shared captures, and each is compared
# with the .ncap.gz of the same input (make test runs the same tests once
# tools/duckdb/node_modules is installed; .ci/run installs it).
duckdb:
	cd tools/duckdb && npm ci --no-audit --no-fund
	go test -count=1 -run TestParquetDuckDB -v ./capture/

.PHONY: python
# python checks that another language reads the record files: every file the
# engine writes for testdata/ is read by tools/python/read_ncap.py (Debian's
# python3-protobuf + protoc's generated module) and compared with package ncio.
python:
	go test -count=1 -run TestPythonReader -v ./io/

.PHONY: fuzz fuzz-long
# fuzz-long runs every fuzz target for 10 minutes (about 10 hours for all of
# them): the long run before a release, not part of make test.
fuzz-long:
	$(MAKE) fuzz FUZZTIME=10m

# fuzz runs every fuzz target of every package for FUZZTIME each, one after
# the other (each run uses all cores). A crasher is written to
# <package>/testdata/fuzz/<Target>/: commit it, it then runs as a regression
# case in go test. Minimizing a new corpus entry is capped at 5s (default 60s)
# so that short runs spend their time fuzzing.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
		done; \
	done
