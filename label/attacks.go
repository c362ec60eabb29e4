package label

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// An attack timeline in YAML:
//
//	timezone: UTC                 # required: IANA name or offset (+02:00); times below are in it
//	attacks:
//	  - name: port scan
//	    start: 2026-05-01 07:41:45  # or RFC 3339 with its own offset
//	    end: 2026-05-01 07:45:16
//	    attackers: [172.25.100.9]
//	    victims: [8.8.8.8]        # optional: without, any peer of an attacker
//	    category: reconnaissance  # the label
//	    mitre: T1046              # optional, shown with -description
//	    severity: 1               # optional, 1 most severe (default 1)
type attackFile struct {
	Timezone string       `yaml:"timezone"`
	Attacks  []attackSpec `yaml:"attacks"`
}

type attackSpec struct {
	Name      string   `yaml:"name"`
	Start     string   `yaml:"start"`
	End       string   `yaml:"end"`
	Attackers []string `yaml:"attackers"`
	Victims   []string `yaml:"victims"`
	Category  string   `yaml:"category"`
	Mitre     string   `yaml:"mitre"`
	Severity  int      `yaml:"severity"`
}

// Attack is one entry of a timeline, resolved.
type Attack struct {
	Name, Category, Mitre string
	Start, End            int64 // Unix ns, inclusive
	Attackers, Victims    map[netip.Addr]bool
	Severity              int
	matched               int64
}

// Label is the attack's category, or with -description its name and MITRE id.
func (a *Attack) Label(description bool) string {
	if !description {
		return a.Category
	}
	if a.Mitre != "" {
		return a.Name + " (" + a.Mitre + ")"
	}
	return a.Name
}

var attackLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006/01/02 15:04:05"}

// MaxAttackFile bounds the size of an attack timeline. A timeline is a
// short hand-written YAML file; the whole file is read and decoded at once.
const MaxAttackFile = 16 << 20

// ReadAttacks reads a YAML attack timeline.
func ReadAttacks(path string) ([]*Attack, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-attacks: %w", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Mode()&(os.ModeDevice|os.ModeSocket) != 0 {
		return nil, refuse("-attacks %s is a device or socket, not an attack timeline: give a YAML file", path)
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxAttackFile+1))
	if err != nil {
		return nil, fmt.Errorf("-attacks: %w", err)
	}
	if len(b) > MaxAttackFile {
		return nil, refuse("attacks %s is larger than %d MiB: an attack timeline is a short YAML file (see net label -h); split it or check that -attacks names the right file", path, MaxAttackFile>>20)
	}
	var f attackFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("attacks %s: %v", path, err)
	}
	if f.Timezone == "" {
		return nil, fmt.Errorf("attacks %s: no timezone: say which zone the times are in, e.g. \"timezone: UTC\" at the top", path)
	}
	loc, err := ParseZone(f.Timezone)
	if err != nil {
		return nil, fmt.Errorf("attacks %s: %v", path, err)
	}
	if len(f.Attacks) == 0 {
		return nil, fmt.Errorf("attacks %s: no attacks listed under \"attacks:\"", path)
	}
	var out []*Attack
	for i, s := range f.Attacks {
		a, err := s.resolve(loc)
		if err != nil {
			return nil, fmt.Errorf("attacks %s: attack %d (%s): %v", path, i+1, s.Name, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseAttackTime(s string, loc *time.Location) (int64, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	for _, l := range attackLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("time %q: write it as 2006-01-02 15:04:05 (in the file's timezone) or RFC 3339", s)
}

func (s *attackSpec) resolve(loc *time.Location) (*Attack, error) {
	a := &Attack{Name: cut(s.Name, MaxLabel), Category: cut(s.Category, MaxLabel), Mitre: cut(s.Mitre, MaxLabel), Severity: s.Severity,
		Attackers: map[netip.Addr]bool{}, Victims: map[netip.Addr]bool{}}
	if a.Severity == 0 {
		a.Severity = 1
	}
	if a.Category == "" {
		return nil, errors.New("no category (the label)")
	}
	var err error
	if a.Start, err = parseAttackTime(s.Start, loc); err != nil {
		return nil, fmt.Errorf("start: %v", err)
	}
	if a.End, err = parseAttackTime(s.End, loc); err != nil {
		return nil, fmt.Errorf("end: %v", err)
	}
	if a.End < a.Start {
		return nil, errors.New("end is before start")
	}
	if len(s.Attackers) == 0 {
		return nil, errors.New("no attackers")
	}
	for _, list := range []struct {
		in  []string
		out map[netip.Addr]bool
	}{{s.Attackers, a.Attackers}, {s.Victims, a.Victims}} {
		for _, ip := range list.in {
			addr, err := parseAddr(ip)
			if err != nil {
				return nil, fmt.Errorf("address %q: %v", ip, err)
			}
			list.out[addr] = true
		}
	}
	return a, nil
}

// attackIndex finds the attacks of an address pair.
type attackIndex struct {
	byAttacker map[netip.Addr][]*Attack
}

func newAttackIndex(as []*Attack) *attackIndex {
	ix := &attackIndex{byAttacker: map[netip.Addr][]*Attack{}}
	for _, a := range as {
		for ip := range a.Attackers {
			ix.byAttacker[ip] = append(ix.byAttacker[ip], a)
		}
	}
	return ix
}

// match calls fn for each attack between a and b (either direction) whose
// time range overlaps [first, last].
func (ix *attackIndex) match(a, b netip.Addr, first, last int64, fn func(*Attack)) {
	if ix == nil {
		return
	}
	for i, pair := range [2][2]netip.Addr{{a, b}, {b, a}} {
		if i == 1 && a == b {
			break
		}
		for _, at := range ix.byAttacker[pair[0]] {
			if last < at.Start || first > at.End {
				continue
			}
			if len(at.Victims) > 0 && !at.Victims[pair[1]] {
				continue
			}
			if i == 1 && at.Attackers[a] && (len(at.Victims) == 0 || at.Victims[b]) {
				continue // both ends are attackers: already counted in the first pass
			}
			fn(at)
		}
	}
}
