package capture

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/netcap/netcap/internal/cli"
)

// MinMemCap is the smallest -memcap the commands take: below it, a worker
// would hold too few connections to be of use.
const MinMemCap = 1 << 20

// MaxDefaultMemCap is the default -memcap on a machine with 4 GiB of memory
// or more; on smaller ones it is a quarter of the memory.
const MaxDefaultMemCap = 1 << 30

// DefaultMemCap is the default of -memcap: 1 GiB or a quarter of the
// machine's memory, whichever is smaller.
func DefaultMemCap() int64 {
	if ram := totalMemory(); ram > 0 && ram/4 < MaxDefaultMemCap {
		return max(ram/4, MinMemCap)
	}
	return MaxDefaultMemCap
}

// totalMemory reads MemTotal from /proc/meminfo; 0 where there is none.
func totalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// MemCapUsage is the help text of -memcap, the same for every command.
const MemCapUsage = "bytes of flow, TCP stream and IP fragment state all workers may hold, e.g. 512MiB or 2GiB " +
	"(at least 1MiB; default 1GiB or a quarter of the memory, whichever is smaller); when it is reached, " +
	"the connections idle longest end early, counted as evicted by memcap"

// ParseMemCap reads the value of -memcap, refusing one below MinMemCap.
func ParseMemCap(s string) (int64, error) {
	n, err := cli.ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("-memcap %s: want a size such as 512MiB or 2GiB", s)
	}
	if n < MinMemCap {
		return 0, fmt.Errorf("-memcap %s: want at least 1MiB", s)
	}
	return n, nil
}
