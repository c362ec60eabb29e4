package collector

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// manyEnv makes the test binary the child of TestManySensors: its value is
// the -max-open-files to collect with.
const manyEnv = "NETCAP_TEST_MANY_SENSORS"

// manySensors is how many sensor names the hostile agent invents, and
// nofile the limit on open files of the child process.
const (
	manySensors = 400
	nofile      = 256
)

// TestManySensors sends one part under each of 400 sensor names to a
// collector (and its embedded server) in a child process whose limit on
// open files is 256: with the default bound (a quarter of the limit) every
// part is stored, no open is refused and no more than the bound of output
// files are open at once. The control, with no bound, runs out of file
// descriptors (then closes files and tries again).
func TestManySensors(t *testing.T) {
	if v := os.Getenv(manyEnv); v != "" {
		manySensorsChild(t, v)
		return
	}
	for _, bound := range []string{"0", "100000"} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestManySensors$", "-test.v")
		cmd.Env = append(os.Environ(), manyEnv+"="+bound)
		out, err := cmd.CombinedOutput()
		m := regexp.MustCompile(`RESULT stored (\d+) dead (\S+) putback (\d+) toomany (\d+) open (\d+) bound (\d+)`).FindStringSubmatch(string(out))
		if err != nil || m == nil {
			t.Fatalf("child with -max-open-files %s: %v\n%s", bound, err, out)
		}
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		t.Logf("-max-open-files %s, RLIMIT_NOFILE %d: %s", bound, nofile, m[0])
		if bound == "0" {
			if n(1) != manySensors || m[2] != "none" || n(4) != 0 || n(5) > n(6) || n(6) != nofile/4 {
				t.Errorf("bounded: %s; want all %d stored, no dead letter, no open refused, at most %d open", m[0], manySensors, nofile/4)
			}
		} else if n(4) == 0 {
			t.Errorf("control without a bound never ran out of descriptors (%s): the test cannot tell", m[0])
		}
	}
}

func manySensorsChild(t *testing.T, bound string) {
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: nofile, Max: nofile}); err != nil {
		t.Fatal(err)
	}
	maxOpen, _ := strconv.Atoi(bound)
	_, _, js := startJS(t, t.TempDir())
	for i := range manySensors {
		if err := sendPart(t, js, fmt.Sprintf("s%03d", i), "run1", 1); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	most := 0
	cfg := CollectorConfig{Out: out, Fetch: 256, Version: "test", MaxOpenFiles: maxOpen}
	c := collectWith(t, js, cfg, func(c *Collector) bool {
		most = max(most, openUnder(out))
		return c.Records.Load() >= manySensors
	})
	stored := 0
	for i := range manySensors {
		if flowParts(t, filepath.Join(out, fmt.Sprintf("s%03d", i), "Flow.ncap.gz")) == "1" {
			stored++
		}
	}
	dead := "none"
	if d := c.Dead(); len(d) > 0 {
		dead = strings.ReplaceAll(fmt.Sprint(d), " ", "_")
	}
	fmt.Printf("RESULT stored %d dead %s putback %d toomany %d open %d bound %d\n", stored, dead, c.PutBack.Load(), c.TooManyOpen.Load(), most, c.cfg.MaxOpenFiles)
}

// openUnder counts this process's open files under dir.
func openUnder(dir string) int {
	ents, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, e := range ents {
		if p, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(p, dir) {
			n++
		}
	}
	return n
}

// TestStateNotWritten: while the state file cannot be written (a folder
// stands where it is written), parts are put back and counted, not lost,
// and the collector goes on; once it can, they are stored, in order: the
// put-back parts come again in any order, and OrderWait puts them back in
// the agent's.
func TestStateNotWritten(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	out := t.TempDir()
	block := filepath.Join(out, StateFile+".new")
	if err := os.Mkdir(block, 0o755); err != nil {
		t.Fatal(err)
	}
	for seq := int64(1); seq <= 3; seq++ {
		if err := sendPart(t, js, "lab", "run1", seq); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	removed := false
	c := collectWith(t, js, CollectorConfig{Out: out, Fetch: 8, Version: "test", OrderWait: time.Minute}, func(c *Collector) bool {
		if !removed && c.PutBack.Load() > 0 && time.Since(began) > retryDelay {
			removed = os.Remove(block) == nil
		}
		return removed && c.Records.Load() >= 3
	})
	if got := flowParts(t, filepath.Join(out, "lab", "Flow.ncap.gz")); got != "1 2 3" || c.PutBack.Load() == 0 {
		t.Fatalf("stored %q, put back %d; want 1 2 3 after some put back", got, c.PutBack.Load())
	}
	t.Logf("put back %d times while the state could not be written", c.PutBack.Load())
}
