package ncio

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netcap/netcap/types"
)

// appendHTTP appends an HTTP record, length-delimited, with the bytes that
// proto.MarshalOptions{Deterministic: true} gives (fields in number order,
// map entries sorted by key), without protobuf's reflection, which cost
// several times the generated code. HTTP is the only record with maps
// (fields 36 to 38): the generated code writes every other field, in number
// order, and the map entries, sorted, go between the fields before them and
// those after them (the cookies, and any field added later).
//
// m is changed during the call and restored before it returns: its maps are
// set aside while the generated code runs. A record is marshalled by the
// goroutine that made it, before anyone else sees it, so nobody reads the
// record meanwhile.
func appendHTTP(b []byte, m *types.HTTP) ([]byte, error) {
	if len(m.ProtoReflect().GetUnknown()) > 0 {
		// Unknown fields go last, after the maps; records we make have none.
		return appendDeterministic(b, m)
	}
	size := m.SizeVT() // the order of map entries does not change the size
	b = protowire.AppendVarint(b, uint64(size))
	start := len(b)

	reqH, resH, params := m.RequestHeader, m.ResponseHeader, m.Parameters
	m.RequestHeader, m.ResponseHeader, m.Parameters = nil, nil, nil
	b, err := appendVT(b, m, m.SizeVT())
	m.RequestHeader, m.ResponseHeader, m.Parameters = reqH, resH, params
	if err != nil {
		return b[:start], err
	}

	// The fields after the maps are set aside (in a buffer on the stack
	// when they are small, as they usually are) and appended again after
	// the map entries.
	split := start + fieldsBelow(b[start:], 39)
	var stack [512]byte
	after := append(stack[:0], b[split:]...)
	b = b[:split]
	b = appendSortedMap(b, 36, reqH)
	b = appendSortedMap(b, 37, resH)
	b = appendSortedMap(b, 38, params)
	return append(b, after...), nil
}

// fieldsBelow returns how many bytes at the start of b, a marshalled
// message with its fields in number order, hold the fields numbered below n.
func fieldsBelow(b []byte, n protowire.Number) int {
	off := 0
	for off < len(b) {
		num, typ, tagLen := protowire.ConsumeTag(b[off:])
		if tagLen < 0 || num >= n {
			break
		}
		valLen := protowire.ConsumeFieldValue(num, typ, b[off+tagLen:])
		if valLen < 0 {
			break
		}
		off += tagLen + valLen
	}
	return off
}

// appendVT appends m, not delimited, with the generated code; size is
// m.SizeVT(), which the caller has for the length in front.
func appendVT(b []byte, m vtMessage, size int) ([]byte, error) {
	n := len(b)
	b = slices.Grow(b, size)[:n+size]
	if _, err := m.MarshalToSizedBufferVT(b[n:]); err != nil {
		return b[:n], err
	}
	return b, nil
}

// appendSortedMap appends the entries of a map<string, string> field in
// the order of their keys. Each entry is a message of its own: key as field
// 1 and value as field 2, both written even when empty, as protobuf's Go
// marshaller does.
func appendSortedMap(b []byte, num protowire.Number, m map[string]string) []byte {
	if len(m) == 0 {
		return b
	}
	type entry struct{ k, v string }
	var stack [32]entry // most maps fit: no allocation for the entries
	es := stack[:0]
	for k, v := range m {
		es = append(es, entry{k, v})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.k, b.k) })
	for _, e := range es {
		size := 1 + protowire.SizeBytes(len(e.k)) + 1 + protowire.SizeBytes(len(e.v))
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, e.k)
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, e.v)
	}
	return b
}
