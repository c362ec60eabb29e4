// Package v06 is protoc's Go code for the record types of the original
// netcap v0.6 (netcap_v06.proto), for tests.
package v06

//go:generate protoc --go_out=. --go_opt=paths=source_relative netcap_v06.proto
