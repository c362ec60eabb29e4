// Package transform is the net transform command: Maltego local transforms
// over audit record folders.
package transform

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/maltego"
)

const help = `usage:
  net transform [-limit N] [-oui FILE] [-wireshark CMD] NAME VALUE ["k=v#k2=v2"]
                                      run a transform as Maltego does
  net transform -list                 the transforms: name, input entity type -> output entity type
  net transform -generate-config netcap.mtz [-bin PATH]
                                      Maltego configuration to import (entities, transforms, the NETCAP set)

Maltego runs a local transform with the input entity's value and its
properties ('#' between properties, '=' between name and value, a literal
'#', '=' or '\' escaped with '\'). The property "path" names the record
folder (or a capture file whose records are in <file>.net/); "ip" restricts
host transforms to records from or to that address (the value is used when it
is an IP address). toAuditRecords captures the PCAP into <pcap>.net/ unless
that folder exists.

Answers: one entity per distinct value with its record count (weight and
property "count") and first/last time, sorted by count, at most -limit
entities with an Inform message saying how many were left out (Maltego does
not pass its slider to local transforms: set -limit in the parameters). Only
the record types a transform needs are read.

The transforms over application records (toSoftwareProducts, toServices,
toCredentialsByService, toFiles, toMail*, toSSH*, toHTTPCookies,
toHTTPParameters, toFTP*) give each value every distinct property its records
carry (banner, HASSH, cookie values, ...; at most 32 each, the smallest,
"..." after).
toCredentialsByService puts the clear-text password into the property
"password": the graph, and every saved copy of it, holds the passwords.

toDevices: source MACs with "vendor" from an OUI list read at run time (-oui,
$NETCAP_OUI_FILE, else /usr/share/ieee-data/oui.csv, else Wireshark's manuf;
none: empty vendor and a PartialError) and "hostname" from DHCP option 12.

openTrafficInWireshark (IPAddr), openConnectionInWireshark (Connection): the
frames of the host (as Wireshark's ip.addr==X, ICMP errors quoting it
included) or of the connection (its FlowID), by the frame numbers in the
records, copied from the original capture (<pcap> of <pcap>.net/, or the
"pcap" property) to <folder>/wireshark/*.pcapng and opened with -wireshark
CMD, $NETCAP_WIRESHARK, else wireshark if on the PATH ("none": only report
the file). The answer is a PCAP entity for the file.

Failure behaviour: stdout always carries exactly one valid MaltegoMessage and
nothing else. A missing or damaged record folder or file, a capture that does
not open, or a value that is neither an IP address nor a connection gives a
PartialError UI message (with the entities read before the damage) and exit
status 0; a record type without a file gives an Inform message; an unknown
transform name gives a FatalError message and exit status 2. Logs go to
stderr.

flags:
`

// Run is the entry point of net transform.
func Run(args []string) int { return run(args, os.Stdout, os.Stderr) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("transform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		fs.PrintDefaults()
	}
	limit := fs.Int("limit", maltego.DefaultLimit, "at most this many entities per answer (0: no cap)")
	oui := fs.String("oui", "", "toDevices: vendor list, IEEE oui.csv or Wireshark manuf (default: $"+maltego.OUIEnv+", else the first present of "+strings.Join(maltego.DefaultOUIFiles, ", ")+")")
	opener := fs.String("wireshark", "", "open*InWireshark: command that opens the written capture, 'none' to only report it (default: $"+maltego.OpenerEnv+", else wireshark if on the PATH)")
	list := fs.Bool("list", false, "print the transforms with their input and output entity types")
	gen := fs.String("generate-config", "", "write a Maltego configuration (.mtz) to this file")
	bin := fs.String("bin", "", "with -generate-config: the net binary Maltego runs (default: this executable)")
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	switch {
	case *list:
		for _, t := range maltego.Transforms {
			fmt.Fprintf(stdout, "%-30s %-34s -> %s\n", t.Name, t.Input, t.Output)
		}
		return 0
	case *gen != "":
		exe := *bin
		if exe == "" {
			if p, err := os.Executable(); err == nil {
				exe = p
			} else {
				exe = "net"
			}
		}
		if err := maltego.WriteConfigFile(*gen, exe); err != nil {
			fmt.Fprintf(stderr, "net transform: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "net transform: wrote %s (%d transforms)\n", *gen, len(maltego.Transforms))
		return 0
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	opt := maltego.Options{Limit: *limit, OUIFile: *oui, Opener: *opener}
	return maltego.Run(fs.Arg(0), maltego.ParseArgs(fs.Args()[1:]), opt, stdout, stderr)
}
