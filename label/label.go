package label

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config is what net label was asked to do.
type Config struct {
	Read        string         // folder of record files written by net capture
	Alerts      string         // EVE JSON or fast.log
	Zone        *time.Location // fast.log time zone (-tz)
	Attacks     string         // YAML attack timeline
	Out         string         // output folder
	Overwrite   bool           // replace an existing output folder
	Collect     bool           // all labels joined with " | "
	Description bool           // signature (attack name) instead of classification (category)
	Exclude     []string       // classifications or signatures whose alerts are dropped
	Sep         string         // CSV separator
	UTC         bool           // timestamps as text
	Parquet     bool           // <Type>_labeled.parquet instead of CSV (Sep and UTC unused)
	ParquetRows int            // rows of one Parquet row group; 0: ncparquet.DefaultRowGroupRows
	Drop        []string       // fields left out of every output file (-drop, -drop-identifiers)
	Workers     int            // files labelled at once (default: CPUs)
}

// Identifiers are the fields -drop-identifiers leaves out: what names a host,
// a connection or a moment (addresses, ports, flow keys, frame numbers,
// times), through which a model learns the capture instead of the traffic.
var Identifiers = []string{"SrcIP", "DstIP", "SrcPort", "DstPort", "SrcMAC", "DstMAC", "FlowID", "UID", "CommunityID",
	"FlowIDs", "FrameNumber", "FrameFirst", "FrameLast", "Timestamp", "TimestampFirst", "TimestampLast", "ResponseTimestamp"}

// Summary is what a run did.
type Summary struct {
	Alerts      *Alerts
	Excluded    int
	Unmatched   []*Alert // alerts that matched no flow (and so no record)
	Attacks     []*Attack
	Connections int
	Types       []*TypeResult // sorted by type name
	Records     int64
	Elapsed     time.Duration
}

// Run labels every record file of cfg.Read into cfg.Out. The output folder is
// written under a temporary name beside it and renamed when complete, so a
// failed run leaves nothing half-written.
func Run(cfg *Config) (*Summary, error) {
	start := time.Now()
	if cfg.Alerts == "" && cfg.Attacks == "" {
		return nil, errors.New("no ground truth: give -alerts (EVE JSON or fast.log) and/or -attacks (YAML timeline)")
	}
	inputs, err := recordFiles(cfg.Read)
	if err != nil {
		return nil, err
	}
	if err := checkOut(cfg.Out, cfg.Overwrite); err != nil {
		return nil, err
	}
	sum := &Summary{}
	m := &matcher{cfg: cfg}
	if cfg.Alerts != "" {
		as, err := ReadAlerts(cfg.Alerts, cfg.Zone)
		if err != nil {
			return nil, err
		}
		sum.Alerts = as
		kept := as.List[:0:0]
		for _, a := range as.List {
			if excluded(a, cfg.Exclude) {
				sum.Excluded++
				continue
			}
			kept = append(kept, a)
		}
		connPath := filepath.Join(cfg.Read, "Connection.ncap.gz")
		if !exists(connPath) {
			connPath = filepath.Join(cfg.Read, "Connection.ncap")
		}
		if !exists(connPath) {
			return nil, fmt.Errorf("%s has no Connection.ncap.gz: alerts are matched to flows through the Connection records, so run net capture without excluding Connection", cfg.Read)
		}
		conns, err := readConns(connPath)
		if err != nil {
			return nil, err
		}
		sum.Connections = len(conns)
		m.ix = buildIndex(conns, kept)
		m.labels = make([]string, len(kept))
		for i, a := range kept {
			m.labels[i] = a.Label(cfg.Description)
			if a.conn < 0 {
				sum.Unmatched = append(sum.Unmatched, a)
			}
		}
	}
	if cfg.Attacks != "" {
		at, err := ReadAttacks(cfg.Attacks)
		if err != nil {
			return nil, err
		}
		sum.Attacks = at
		m.attacks = newAttackIndex(at)
	}

	parent := filepath.Dir(filepath.Clean(cfg.Out))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(cfg.Out)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("output: %v", err)
	}
	results, err := labelAll(m, inputs, tmp, cfg.Workers)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := replace(tmp, cfg.Out); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Type < results[j].Type })
	sum.Types = results
	for _, r := range results {
		sum.Records += r.Records
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// labelAll labels the files with a few workers, biggest files first.
func labelAll(proto *matcher, inputs []string, dir string, workers int) ([]*TypeResult, error) {
	if workers < 1 {
		workers = runtime.NumCPU()
	}
	sort.SliceStable(inputs, func(i, j int) bool { return size(inputs[i]) > size(inputs[j]) })
	jobs := make(chan string)
	var (
		mu      sync.Mutex
		results []*TypeResult
		first   error
		wg      sync.WaitGroup
	)
	for w := 0; w < min(workers, len(inputs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &matcher{ix: proto.ix, attacks: proto.attacks, labels: proto.labels, cfg: proto.cfg}
			for in := range jobs {
				r, err := m.labelFile(in, dir)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if r != nil {
					results = append(results, r)
				}
				mu.Unlock()
			}
		}()
	}
	for _, in := range inputs {
		jobs <- in
	}
	close(jobs)
	wg.Wait()
	return results, first
}

func size(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func excluded(a *Alert, list []string) bool {
	for _, x := range list {
		if x != "" && (strings.EqualFold(x, a.Category) || strings.EqualFold(x, a.Signature)) {
			return true
		}
	}
	return false
}

// recordFiles lists the record files of a capture folder.
func recordFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, errors.New("no input: give the folder net capture wrote with -read")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("-read: %w (give the folder net capture wrote)", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("-read %s is a file: give the folder net capture wrote (net capture -read x.pcap -out folder), not a capture or a single record file", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".ncap.gz") || strings.HasSuffix(n, ".ncap")) {
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil && !st.Mode().IsRegular() {
				// Reading a FIFO would wait for a writer, a device
				// may never end.
				return nil, refuse("-read: %s is not a regular file (a FIFO or a device): give a folder of record files net capture wrote", filepath.Join(dir, n))
			}
			out = append(out, filepath.Join(dir, n))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-read %s holds no record files (*.ncap.gz): give the folder net capture wrote", dir)
	}
	return out, nil
}

// checkOut refuses an existing output folder unless overwrite is set.
func checkOut(dir string, overwrite bool) error {
	if dir == "" {
		return errors.New("no output: give the folder to write with -out")
	}
	if _, err := os.Stat(dir); err == nil && !overwrite {
		return fmt.Errorf("output folder %s already exists; choose another -out or add -overwrite", dir)
	}
	return nil
}

// replace renames tmp to out; an existing out is moved aside first and
// removed once tmp is in place.
func replace(tmp, out string) error {
	if _, err := os.Stat(out); err == nil {
		old := tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("output: %v", err)
		}
		if err := os.Rename(tmp, out); err != nil {
			os.Rename(old, out)
			return fmt.Errorf("output: %v", err)
		}
		return os.RemoveAll(old)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("output: %v", err)
	}
	return nil
}
