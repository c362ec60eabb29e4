// Package v047 is protoc's Go code for the record types of the original
// netcap v0.4.7 (netcap_v047.proto), for tests.
package v047

//go:generate protoc --go_out=. --go_opt=paths=source_relative netcap_v047.proto
