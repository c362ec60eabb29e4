package maltego

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Counting the records of a folder means decompressing all of it: 176 MB of
// records (a million packets) take 1-2 s on two cores. toAuditRecords keeps
// what it counted in a hidden file of the record folder and uses a file's
// entry as long as the file has the same size and modification time, so
// that it answers at once from the second time on. The cache is best
// effort: a folder that cannot be written is counted every time.

// countsFile is the cache's name in the record folder; record tools look
// only at *.ncap* and *.csv* files.
const countsFile = ".transform-counts"

// fileCount is what toAuditRecords reports for one record file.
type fileCount struct {
	size, mtime    int64 // of the file when it was counted
	n, first, last int64
	err            error // damaged: counted up to here (never cached)
}

// countFiles counts the records of the files (paths), using and updating
// the folder's cache. Files are counted in parallel, the largest first, so
// that the biggest one does not start last.
func countFiles(dir string, files []string) []fileCount {
	cached := loadCounts(dir)
	res := make([]fileCount, len(files))
	var todo []int
	for i, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			res[i].err = err
			continue
		}
		res[i].size, res[i].mtime = st.Size(), st.ModTime().UnixNano()
		if c, ok := cached[filepath.Base(f)]; ok && c.size == res[i].size && c.mtime == res[i].mtime {
			res[i].n, res[i].first, res[i].last = c.n, c.first, c.last
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return res
	}
	sort.Slice(todo, func(a, b int) bool { return res[todo[a]].size > res[todo[b]].size })
	work := make(chan int, len(todo))
	for _, i := range todo {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU() && w < len(todo); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := &res[i]
				c.n, c.first, c.last, c.err = countRecords(files[i])
			}
		}()
	}
	wg.Wait()
	fresh := map[string]fileCount{}
	for i, f := range files {
		if res[i].err == nil {
			fresh[filepath.Base(f)] = res[i]
		}
	}
	saveCounts(dir, fresh)
	return res
}

// loadCounts reads the cache: one line per file, "name size mtime count
// first last" separated by tabs. A missing or unreadable cache is empty.
func loadCounts(dir string) map[string]fileCount {
	m := map[string]fileCount{}
	f, err := os.Open(filepath.Join(dir, countsFile))
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 6 {
			continue
		}
		var v [5]int64
		ok := true
		for i := range v {
			if v[i], err = strconv.ParseInt(p[i+1], 10, 64); err != nil {
				ok = false
			}
		}
		if ok {
			m[p[0]] = fileCount{size: v[0], mtime: v[1], n: v[2], first: v[3], last: v[4]}
		}
	}
	return m
}

// saveCounts replaces the cache (through a temporary file and a rename, so
// that a reader never sees half of it); errors are ignored.
func saveCounts(dir string, m map[string]fileCount) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		c := m[n]
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\t%d\n", n, c.size, c.mtime, c.n, c.first, c.last)
	}
	tmp := filepath.Join(dir, fmt.Sprintf("%s.tmp-%d", countsFile, os.Getpid()))
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return
	}
	if err := os.Rename(tmp, filepath.Join(dir, countsFile)); err != nil {
		os.Remove(tmp)
	}
}
