package collector

import (
	"encoding/binary"

	"google.golang.org/protobuf/encoding/protowire"
)

// Records of one type mostly share their shape: the same fields with the
// same tags, varints of the same lengths, strings of the same lengths and
// all ASCII; only the values differ. (Of the records net capture makes of
// the 8 largest shared captures, 86 to 100 % match a template made of an
// earlier record of their type; of loopback.pcap's 664, 66 %, in a single
// pass.) The collector keeps such records as
// templates: the record and a mask of every bit the wire walk decides on.
// A record of the same length that equals a template under its mask takes
// the very same path through the walk, so it is well-formed too, and is
// checked with a masked compare, 8 bytes at a time, instead of a walk
// field by field.
//
// What the mask keeps of a template, by the walk's decisions:
//   - tags and length prefixes: every bit (the field, its wire type and
//     its end);
//   - varints: the continuation bit of each byte (where the varint ends),
//     and all of a tenth byte (which must be 0 or 1);
//   - strings: the high bit of each byte when the string is ASCII (so an
//     equal one is ASCII, hence UTF-8), every bit otherwise;
//   - packed varints: every bit;
//   - nested messages: their own mask, the same way;
//   - fixed values, bytes, packed fixed values: nothing (the length says
//     all).
//
// A record with a group, which netcap's schema has none of, makes no
// template.

// Templates are kept by record length: a record is compared with the
// templates of its length only, so there can be many of them at no cost.
// tplSlots slots by length (modulo), tplWays templates in each, replaced in
// turn.
// Records longer than tplMaxLen make no template (they are few, and are
// walked): so the templates of one type hold at most 256 records of 1 KiB,
// with their masks, whatever an agent sends.
const (
	tplSlots  = 32
	tplWays   = 8
	tplMaxLen = 1 << 10
)

type template struct {
	rec, mask []byte
	// words are the mask and the record under it, 8 bytes at a time
	// (mask, masked record, mask, ...), the last pair for the record's
	// last 8 bytes; none for a record shorter than 8 bytes.
	words []uint64
	ok    bool // made of a record maskWire took
}

type tplSlot struct {
	way  [tplWays]template
	last int // the way that matched or was added last
}

// templates are the templates of one record type.
type templates struct {
	slots [tplSlots]tplSlot
}

// match reports whether rec equals one of the templates under its mask: a
// record of that shape, well-formed like it. The way that matched last is
// tried first: records of one shape often come one after the other.
func (ts *templates) match(rec []byte) bool {
	sl := &ts.slots[len(rec)%tplSlots]
	for k := range tplWays {
		w := (sl.last + k) % tplWays
		if t := &sl.way[w]; t.ok && len(t.rec) == len(rec) && t.same(rec) {
			sl.last = w
			return true
		}
	}
	return false
}

// add makes a template of rec, a record of shape s that validWire took.
func (ts *templates) add(rec []byte, s *wireShape) {
	if len(rec) > tplMaxLen {
		return
	}
	sl := &ts.slots[len(rec)%tplSlots]
	w := (sl.last + 1) % tplWays
	t := &sl.way[w]
	if cap(t.mask) < len(rec) {
		t.mask = make([]byte, len(rec))
	}
	t.mask = t.mask[:len(rec)]
	clear(t.mask)
	t.rec = append(t.rec[:0], rec...)
	if t.ok = maskWire(rec, t.mask, s, 0); !t.ok {
		return
	}
	sl.last = w
	t.words = t.words[:0]
	word := func(i int) {
		m := binary.LittleEndian.Uint64(t.mask[i:])
		t.words = append(t.words, m, binary.LittleEndian.Uint64(rec[i:])&m)
	}
	n := len(rec)
	for i := 0; i+8 <= n; i += 8 {
		word(i)
	}
	if n >= 8 && n%8 != 0 {
		word(n - 8)
	}
}

// same reports whether rec, as long as t's record, equals it under the
// mask.
func (t *template) same(rec []byte) bool {
	n := len(rec)
	if n < 8 {
		return sameMasked(rec, t.rec, t.mask)
	}
	w, k := t.words, 0
	for i := 0; i+8 <= n; i += 8 {
		if binary.LittleEndian.Uint64(rec[i:])&w[k] != w[k+1] {
			return false
		}
		k += 2
	}
	return n%8 == 0 || binary.LittleEndian.Uint64(rec[n-8:])&w[k] == w[k+1]
}

// sameMasked reports whether a and b, of the same length as m, are equal
// where m has bits set.
func sameMasked(a, b, m []byte) bool {
	for i := range m {
		if (a[i]^b[i])&m[i] != 0 {
			return false
		}
	}
	return true
}

// maskWire walks b, a message of shape s, as field does and sets in m (as
// long as b, zeroed) the bits each decision of the walk reads (see above).
// It reports false if b is malformed or holds a group.
func maskWire(b, m []byte, s *wireShape, depth int) bool {
	if depth > maxDepth {
		return false
	}
	for i := 0; i < len(b); {
		tag, n := protowire.ConsumeVarint(b[i:])
		if n < 0 {
			return false
		}
		fill(m[i:i+n], 0xff)
		i += n
		num := tag >> 3
		op := s.opOf(tag)
		switch op {
		case opVarint:
			k := skipVarint(b[i:])
			if k < 0 {
				return false
			}
			fill(m[i:i+k], 0x80)
			if k == 10 {
				m[i+9] = 0xff
			}
			i += k
		case opFixed32, opFixed64:
			k := 4
			if op == opFixed64 {
				k = 8
			}
			if len(b)-i < k {
				return false
			}
			i += k
		case opBad, opGroup:
			return false
		default:
			v, k := protowire.ConsumeBytes(b[i:])
			if k < 0 || !validValue(op, v, s, num, depth) {
				return false
			}
			p := k - len(v) // the length prefix
			fill(m[i:i+p], 0xff)
			vm := m[i+p : i+k]
			switch op {
			case opString:
				if ascii(v) {
					fill(vm, 0x80)
				} else {
					fill(vm, 0xff)
				}
			case opMessage:
				if !maskWire(v, vm, s.fields[num].msg, depth+1) {
					return false
				}
			case opPackedVar:
				fill(vm, 0xff)
			}
			i += k
		}
	}
	return true
}

func fill(m []byte, v byte) {
	for i := range m {
		m[i] = v
	}
}

func ascii(v []byte) bool {
	for _, c := range v {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
