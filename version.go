// Package netcap holds what the whole project shares: its version.
package netcap

// Version is written into every record file header. Release builds set it
// with -ldflags "-X github.com/netcap/netcap.Version=v1.2.3".
var Version = "v0.1.0-dev"
