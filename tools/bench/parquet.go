package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	ncio "github.com/netcap/netcap/io"
)

// parquetBench compares net capture -parquet with net capture's default
// output (.ncap.gz) on the same capture: alternately, runs times each, wall
// and CPU time (packets/s from the wall time), and the bytes of each record
// type's file in both formats. The records are the same: the counts of the
// .ncap.gz files are counted and printed beside the sizes.
func parquetBench(capturePath, dir, bin string, packets, workers, runs int) error {
	var gzWall, gzCPU, pqWall, pqCPU []time.Duration
	outGz, outPq := filepath.Join(dir, "out-ncap"), filepath.Join(dir, "out-parquet")
	for i := 0; i < runs; i++ {
		for _, c := range []struct {
			out       string
			args      []string
			wall, cpu *[]time.Duration
		}{{outGz, nil, &gzWall, &gzCPU}, {outPq, []string{"-parquet"}, &pqWall, &pqCPU}} {
			os.RemoveAll(c.out)
			args := append([]string{"capture", "-read", capturePath, "-out", c.out, "-workers", fmt.Sprint(workers), "-quiet"}, c.args...)
			cmd := exec.Command(bin, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("net %s: %v: %s", strings.Join(args, " "), err, stderr.String())
			}
			*c.wall = append(*c.wall, time.Since(start))
			*c.cpu = append(*c.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
		fmt.Printf("run %d: .ncap.gz %v (CPU %v), -parquet %v (CPU %v)\n", i+1,
			gzWall[i].Round(time.Millisecond), gzCPU[i].Round(time.Millisecond), pqWall[i].Round(time.Millisecond), pqCPU[i].Round(time.Millisecond))
	}
	mg, mp := median(gzWall), median(pqWall)
	fmt.Printf("median of %d, %d workers, %d packets: .ncap.gz %.0f packets/s (CPU %v), -parquet %.0f packets/s (CPU %v): %.1f%% of .ncap.gz\n",
		runs, workers, packets, float64(packets)/mg.Seconds(), median(gzCPU).Round(time.Millisecond),
		float64(packets)/mp.Seconds(), median(pqCPU).Round(time.Millisecond), 100*mg.Seconds()/mp.Seconds())
	return compareSizes(outGz, outPq)
}

// compareSizes prints the bytes of each type's .ncap.gz and .parquet file
// and the totals.
func compareSizes(gzDir, pqDir string) error {
	gz, _ := filepath.Glob(filepath.Join(gzDir, "*.ncap.gz"))
	sort.Strings(gz)
	var totGz, totPq int64
	var lines []string
	for _, g := range gz {
		name := strings.TrimSuffix(filepath.Base(g), ".ncap.gz")
		p := filepath.Join(pqDir, name+".parquet")
		sg, err := os.Stat(g)
		if err != nil {
			return err
		}
		sp, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s has no Parquet counterpart: %v", g, err)
		}
		n, err := countRecords(g)
		if err != nil {
			return err
		}
		totGz += sg.Size()
		totPq += sp.Size()
		lines = append(lines, fmt.Sprintf("  %-28s %9d records %11d B .ncap.gz %11d B .parquet %6.1f%%", name, n, sg.Size(), sp.Size(), 100*float64(sp.Size())/float64(sg.Size())))
	}
	fmt.Println(strings.Join(lines, "\n"))
	fmt.Printf("total: %d B .ncap.gz, %d B .parquet: %.1f%%\n", totGz, totPq, 100*float64(totPq)/float64(max(totGz, 1)))
	return nil
}

func countRecords(path string) (int64, error) {
	r, err := ncio.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for {
		if _, err := r.NextRaw(); err != nil {
			break
		}
		n++
	}
	return n, nil
}
