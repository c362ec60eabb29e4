// Command net is netcap's single binary: it dispatches to one subcommand per
// job (capture, dump, ...).
package main

import (
	"fmt"
	"os"

	"github.com/netcap/netcap"
	"github.com/netcap/netcap/cmd/agent"
	"github.com/netcap/netcap/cmd/capture"
	"github.com/netcap/netcap/cmd/collect"
	"github.com/netcap/netcap/cmd/dump"
	"github.com/netcap/netcap/cmd/export"
	"github.com/netcap/netcap/cmd/label"
	"github.com/netcap/netcap/cmd/proxy"
	"github.com/netcap/netcap/cmd/transform"
	"github.com/netcap/netcap/cmd/util"
)

type command struct {
	name  string
	about string
	run   func(args []string) int
}

var commands = []command{
	{name: "capture", about: "decode pcap/pcapng files or a live interface into audit records", run: capture.Run},
	{name: "dump", about: "print audit record files as CSV, TSV, JSON or tables", run: dump.Run},
	{name: "label", about: "join IDS alerts or attack timelines to audit records", run: label.Run},
	{name: "collect", about: "receive records from sensors through NATS JetStream", run: collect.Run},
	{name: "agent", about: "capture on a sensor and stream records to a collector", run: agent.Run},
	{name: "proxy", about: "HTTP reverse proxy that writes an HTTP record per exchange", run: proxy.Run},
	{name: "util", about: "validate record files, convert timestamps", run: util.Run},
	{name: "export", about: "serve Prometheus metrics about decoded traffic", run: export.Run},
	{name: "transform", about: "Maltego local transforms over audit records", run: transform.Run},
}

func usage() {
	fmt.Fprintf(os.Stderr, `netcap %s: turns network packets into typed, structured audit records.

usage: net <command> [flags]      (net <command> -h for its flags)

commands:
`, netcap.Version)
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.about)
	}
	fmt.Fprintf(os.Stderr, "  %-10s %s\n", "version", "print the version")
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage()
		return 0
	case "version", "-version", "--version":
		fmt.Println(netcap.Version)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		return c.run(args[1:])
	}
	fmt.Fprintf(os.Stderr, "net: unknown command %q\n", args[0])
	usage()
	return 2
}
