// Package cli holds what the net subcommands share around their flags.
package cli

import (
	"errors"
	"flag"
)

// Parse parses args into fs (made with flag.ContinueOnError). done is true
// when the command should end at once with status exit: 0 after -h (the
// usage is printed), 2 after a flag error (the flag package has said
// which).
func Parse(fs *flag.FlagSet, args []string) (exit int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	default:
		return 2, true
	}
}

// Alias registers alias on fs as a second name of the flag name, already
// defined: both set the same value, so users' scripts with the old name keep
// working. why says where the name comes from, for -h.
func Alias(fs *flag.FlagSet, alias, name, why string) {
	fs.Var(fs.Lookup(name).Value, alias, "same as -"+name+" ("+why+")")
}
