package collector

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// StateFile is the collector's memory, in its output folder: which parts of
// which agent run it has written, and where the batch it is writing goes.
// It lets a collector killed between writing a batch and acking it skip
// the parts when they are delivered again, and keep each type's parts in
// the agent's order.
const StateFile = ".netcap-collect.json"

const (
	maxRuns  = 4096 // runs remembered; the least recently written are forgotten
	maxExtra = 1024 // parts written out of order remembered per run
)

// partKey names one run of one subject: the parts of a record type that
// one agent process sends, numbered from 1.
type partKey string

// partOf splits a message id sensor.Type.run.seq; ok is false for ids that
// do not end in a run and a part number.
func partOf(subject, id string) (k partKey, seq int64, ok bool) {
	run, seq, ok := runPart(id)
	if !ok {
		return "", 0, false
	}
	return partKey(subject + " " + run), seq, true
}

// runPart splits a message id <sensor>.<Type>.<run>.<part> into the run and
// the part's number.
func runPart(id string) (run string, seq int64, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || seq < 1 {
		return "", 0, false
	}
	j := strings.LastIndexByte(id[:i], '.')
	if j < 0 {
		return "", 0, false
	}
	return id[j+1 : i], seq, true
}

// runState is what was written of one run: parts 1 to Done, and the parts
// above Done in Extra (sorted), written after a gap.
type runState struct {
	Done  int64   `json:"done"`
	Extra []int64 `json:"extra,omitempty"`
	Touch int64   `json:"touch"` // when last written, in write rounds
}

func (r *runState) has(seq int64) bool {
	if seq <= r.Done {
		return true
	}
	_, found := slices.BinarySearch(r.Extra, seq)
	return found
}

func (r *runState) add(seq int64) {
	if r.has(seq) {
		return
	}
	if seq != r.Done+1 {
		i, _ := slices.BinarySearch(r.Extra, seq)
		r.Extra = slices.Insert(r.Extra, i, seq)
		if len(r.Extra) > maxExtra {
			// Forget the oldest: at worst it is written twice if it
			// ever came again, never lost.
			r.Extra = slices.Delete(r.Extra, 0, len(r.Extra)-maxExtra)
		}
		return
	}
	r.Done = seq
	n := 0
	for n < len(r.Extra) && r.Extra[n] <= r.Done+1 {
		r.Done = max(r.Done, r.Extra[n])
		n++
	}
	r.Extra = slices.Delete(r.Extra, 0, n)
}

// extent is a batch's bytes for one file, and the parts in them.
type extent struct {
	File   string `json:"file"` // relative to the output folder
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Parts  []part `json:"parts,omitempty"`
}

type part struct {
	Key partKey `json:"key"`
	Seq int64   `json:"seq"`
}

type collectState struct {
	Round   int64                 `json:"round"`
	Runs    map[partKey]*runState `json:"runs"`
	Pending []extent              `json:"pending,omitempty"` // being written when the file was saved
}

// loadState reads the state of out and settles the batch that was being
// written: the parts of an extent that is wholly in its file count as
// written; a file that holds only the start of its extent is cut back to
// where the extent began (the batch comes again, since it was not acked).
func loadState(out string) (*collectState, error) {
	st := &collectState{Runs: map[partKey]*runState{}}
	b, err := os.ReadFile(filepath.Join(out, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w (move it away to start without it: parts delivered again may then be stored twice)", filepath.Join(out, StateFile), err)
	}
	if st.Runs == nil {
		st.Runs = map[partKey]*runState{}
	}
	for _, e := range st.Pending {
		if filepath.IsAbs(e.File) || strings.HasPrefix(filepath.Clean(e.File), "..") {
			return nil, fmt.Errorf("%s: file %q outside the output folder", StateFile, e.File)
		}
		path := filepath.Join(out, e.File)
		fi, err := os.Stat(path)
		if err != nil {
			continue // gone: nothing of it to count
		}
		switch size := fi.Size(); {
		case size >= e.Offset+e.Length:
			for _, p := range e.Parts {
				st.run(p.Key).add(p.Seq)
			}
		case size > e.Offset:
			// A torn write: cut it off so the file stays a valid gzip.
			if err := os.Truncate(path, e.Offset); err != nil {
				return nil, fmt.Errorf("cutting the unfinished write off %s: %w", path, err)
			}
		}
	}
	st.Pending = nil
	return st, nil
}

func (st *collectState) run(k partKey) *runState {
	r := st.Runs[k]
	if r == nil {
		r = &runState{}
		st.Runs[k] = r
	}
	r.Touch = st.Round
	return r
}

// save writes the state beside the output (a new file renamed over the
// old, so a crash leaves one or the other whole).
func (st *collectState) save(out string) error {
	if len(st.Runs) > maxRuns {
		keys := make([]partKey, 0, len(st.Runs))
		for k := range st.Runs {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b partKey) int { return cmp.Compare(st.Runs[a].Touch, st.Runs[b].Touch) })
		for _, k := range keys[:len(keys)-maxRuns] {
			delete(st.Runs, k)
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := filepath.Join(out, StateFile+".new")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(out, StateFile))
}
