package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// exportOverhead measures what net export costs over net capture: on the
// same capture, alternately, runs times each, net capture -entropy (net
// export computes entropy by default) and net export with no scrape. net
// capture's times are its process's; net export keeps serving after its
// input, so its times are taken when it says the input is done. CPU time
// (user and system) is given beside wall time: on a shared machine it
// varies much less.
func exportOverhead(capturePath, dir, bin string, workers, runs int) error {
	var captWall, captCPU, expWall, expCPU []time.Duration
	for i := 0; i < runs; i++ {
		out := filepath.Join(dir, "out-capture")
		os.RemoveAll(out)
		cmd := exec.Command(bin, "capture", "-read", capturePath, "-out", out, "-workers", fmt.Sprint(workers), "-entropy", "-quiet")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("net capture: %v: %s", err, stderr.String())
		}
		captWall = append(captWall, time.Since(start))
		captCPU = append(captCPU, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())

		wall, cpu, err := exportRun(bin, capturePath, filepath.Join(dir, "out-export"), workers)
		if err != nil {
			return err
		}
		expWall, expCPU = append(expWall, wall), append(expCPU, cpu)
		fmt.Printf("run %d: net capture %v (CPU %v), net export %v (CPU %v)\n", i+1,
			captWall[i].Round(time.Millisecond), captCPU[i].Round(time.Millisecond), wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
	}
	mcw, mew, mcc, mec := median(captWall), median(expWall), median(captCPU), median(expCPU)
	fmt.Printf("median of %d: wall: net capture %v, net export %v: %+.1f%%; CPU: net capture %v, net export %v: %+.1f%%\n", runs,
		mcw.Round(time.Millisecond), mew.Round(time.Millisecond), 100*(mew.Seconds()/mcw.Seconds()-1),
		mcc.Round(time.Millisecond), mec.Round(time.Millisecond), 100*(mec.Seconds()/mcc.Seconds()-1))
	return nil
}

// exportRun runs net export on in and returns the wall and CPU time until it
// reports the input done; it is then stopped with SIGTERM.
func exportRun(bin, in, out string, workers int) (wall, cpu time.Duration, err error) {
	os.RemoveAll(out)
	cmd := exec.Command(bin, "export", "-read", in, "-out", out, "-workers", fmt.Sprint(workers), "-address", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	var said []string
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		said = append(said, lines.Text())
		if strings.Contains(lines.Text(), "input done") {
			wall = time.Since(start)
			cpu = processCPU(cmd.Process.Pid)
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	go io.Copy(io.Discard, stderr)
	werr := cmd.Wait()
	if wall == 0 {
		return 0, 0, fmt.Errorf("net export did not finish its input (%v): %s", werr, strings.Join(said, "\n"))
	}
	return wall, cpu, nil
}

// processCPU is the user and system time a running process has used, from
// /proc (Linux; 0 elsewhere), in clock ticks of 10 ms.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses:
	// utime and stime are the 12th and 13th of them.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var user, sys int64
	fmt.Sscan(f[11], &user)
	fmt.Sscan(f[12], &sys)
	return time.Duration(user+sys) * 10 * time.Millisecond
}
