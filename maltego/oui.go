package maltego

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// The vendor of a MAC address comes from a list of the IEEE's assignments,
// read at run time from a file of the system rather than shipped with netcap:
// the list changes every week and is 2-4 MB.
//
// Two formats are read:
//
//   - the IEEE registry as CSV (Debian's ieee-data package,
//     /usr/share/ieee-data/oui.csv): "Registry,Assignment,Organization
//     Name,Organization Address", Assignment being 6 hex digits for MA-L, 7
//     for MA-M and 9 for MA-S;
//   - Wireshark's manuf: "PREFIX<TAB>SHORT NAME[<TAB>LONG NAME]", PREFIX
//     being 3 bytes ("00:00:0C") or a longer prefix with its length in bits
//     ("00:1B:C5:00:00:00/36"); '#' starts a comment line.
//
// The longest prefix that matches names the vendor; its long name is used
// when the list has one (it is what tshark shows as eth.src.oui_resolved).

// OUIEnv names the environment variable that overrides the vendor list.
const OUIEnv = "NETCAP_OUI_FILE"

// DefaultOUIFiles are the vendor lists looked for when neither the -oui flag
// nor NETCAP_OUI_FILE names one; the first present is read.
var DefaultOUIFiles = []string{
	"/usr/share/ieee-data/oui.csv",
	"/usr/share/wireshark/manuf",
	"/usr/local/share/wireshark/manuf",
	"/opt/homebrew/share/wireshark/manuf",
}

// ouiFile picks the vendor list: the option, else the environment, else the
// first default present; "" when there is none.
func ouiFile(opt string) string {
	if opt != "" {
		return opt
	}
	if env := os.Getenv(OUIEnv); env != "" {
		return env
	}
	for _, p := range DefaultOUIFiles {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// vendorMatch is the best entry found so far for one MAC address.
type vendorMatch struct {
	bits int
	name string
}

// Vendors returns the vendor of each MAC address (text form) found in the
// list at path; addresses without an entry are absent from the map. Only
// entries whose first three bytes are those of a wanted address are parsed,
// so the cost is one pass over the file whatever its size.
func Vendors(path string, macs []string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	// The wanted addresses by their first 24 bits.
	byOUI := map[uint32][]string{}
	addrs := map[string][6]byte{}
	for _, m := range macs {
		hw, err := net.ParseMAC(m)
		if err != nil || len(hw) != 6 {
			continue
		}
		var a [6]byte
		copy(a[:], hw)
		if _, dup := addrs[m]; dup {
			continue
		}
		addrs[m] = a
		k := uint32(a[0])<<16 | uint32(a[1])<<8 | uint32(a[2])
		byOUI[k] = append(byOUI[k], m)
	}
	best := map[string]vendorMatch{}
	offer := func(prefix []byte, bits int, name string) {
		if len(prefix) < 3 || name == "" {
			return
		}
		for _, m := range byOUI[uint32(prefix[0])<<16|uint32(prefix[1])<<8|uint32(prefix[2])] {
			a := addrs[m]
			if prefixMatch(a[:], prefix, bits) && bits > best[m].bits {
				best[m] = vendorMatch{bits, name}
			}
		}
	}

	br := bufio.NewReaderSize(f, 256<<10)
	head, _ := br.Peek(9)
	if strings.HasPrefix(string(head), "Registry,") {
		err = readIEEECSV(br, byOUI, offer)
	} else {
		err = readManuf(br, byOUI, offer)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out := make(map[string]string, len(best))
	for m, b := range best {
		out[m] = b.name
	}
	return out, nil
}

// prefixMatch reports whether the first bits of addr equal those of prefix.
func prefixMatch(addr, prefix []byte, bits int) bool {
	if bits > 8*len(prefix) || bits > 8*len(addr) {
		return false
	}
	full := bits / 8
	for i := 0; i < full; i++ {
		if addr[i] != prefix[i] {
			return false
		}
	}
	if rest := bits % 8; rest != 0 {
		mask := byte(0xff << (8 - rest))
		return addr[full]&mask == prefix[full]&mask
	}
	return true
}

func readManuf(br *bufio.Reader, byOUI map[uint32][]string, offer func([]byte, int, string)) error {
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			parseManufLine(strings.TrimRight(line, "\r\n"), byOUI, offer)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func parseManufLine(line string, byOUI map[uint32][]string, offer func([]byte, int, string)) {
	if line == "" || line[0] == '#' {
		return
	}
	// Cheap test first: the line's first three bytes must be wanted.
	if len(line) < 8 {
		return
	}
	if k, ok := hexByte3(line); !ok || byOUI[k] == nil {
		return
	}
	fields := strings.Split(line, "\t")
	if len(fields) < 2 {
		// Old manuf files separate with spaces.
		fields = strings.Fields(line)
		if len(fields) < 2 {
			return
		}
	}
	prefixText, bits := fields[0], -1
	if i := strings.IndexByte(prefixText, '/'); i >= 0 {
		n, err := strconv.Atoi(prefixText[i+1:])
		if err != nil {
			return
		}
		prefixText, bits = prefixText[:i], n
	}
	var prefix []byte
	for _, part := range strings.FieldsFunc(prefixText, func(r rune) bool { return r == ':' || r == '-' || r == '.' }) {
		v, err := strconv.ParseUint(part, 16, 8)
		if err != nil {
			return
		}
		prefix = append(prefix, byte(v))
	}
	if bits < 0 {
		bits = 8 * len(prefix)
	}
	name := strings.TrimSpace(fields[1])
	if len(fields) > 2 {
		if long := strings.TrimSpace(fields[2]); long != "" && long[0] != '#' {
			name = long
		}
	}
	offer(prefix, bits, name)
}

// hexByte3 reads "XX:XX:XX" (any one-byte separator) at the start of s.
func hexByte3(s string) (uint32, bool) {
	var k uint32
	for i := 0; i < 3; i++ {
		v, err := strconv.ParseUint(s[3*i:3*i+2], 16, 8)
		if err != nil {
			return 0, false
		}
		k = k<<8 | uint32(v)
	}
	return k, true
}

func readIEEECSV(br *bufio.Reader, byOUI map[uint32][]string, offer func([]byte, int, string)) error {
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if first || len(rec) < 3 {
			continue // the header line
		}
		hex := strings.TrimSpace(rec[1])
		if len(hex) < 6 {
			continue
		}
		k, err := strconv.ParseUint(hex[:6], 16, 32)
		if err != nil || byOUI[uint32(k)] == nil {
			continue
		}
		// An odd number of digits (MA-M: 7) ends in half a byte.
		padded := hex
		if len(padded)%2 == 1 {
			padded += "0"
		}
		prefix := make([]byte, len(padded)/2)
		ok := true
		for i := range prefix {
			v, err := strconv.ParseUint(padded[2*i:2*i+2], 16, 8)
			if err != nil {
				ok = false
				break
			}
			prefix[i] = byte(v)
		}
		if ok {
			offer(prefix, 4*len(hex), strings.TrimSpace(rec[2]))
		}
	}
}
