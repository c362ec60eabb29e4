// Package dump is the "net dump" command.
package dump

import (
	"fmt"
	"os"
)

// Run runs "net dump".
func Run(args []string) int {
	fmt.Fprintln(os.Stderr, "net dump: being written")
	return 2
}
