package label

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"

	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// conn is what labelling keeps of a Connection record.
type conn struct {
	uid                   string
	cid                   string
	proto                 string // TransportProto
	src, dst              netip.Addr
	sport, dport          int32
	srcMAC, dstMAC        string
	first, last           int64 // Unix ns
	frameFirst, frameLast int64
}

// tupleKey is a flow's 5-tuple in canonical order (smaller endpoint first),
// so both directions give the same key. Protocols without ports have 0.
type tupleKey struct {
	proto  string
	a, b   netip.Addr
	pa, pb int32
}

func makeTuple(proto string, src, dst netip.Addr, sport, dport int32) tupleKey {
	proto = protoClass(proto)
	if !hasPorts(proto) {
		sport, dport = 0, 0
	}
	if c := src.Compare(dst); c > 0 || c == 0 && sport > dport {
		src, dst, sport, dport = dst, src, dport, sport
	}
	return tupleKey{proto, src, dst, sport, dport}
}

type addrPair struct{ a, b netip.Addr }

func makePair(x, y netip.Addr) addrPair {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return addrPair{x, y}
}

type portPair struct {
	proto string
	a, b  int32
}

func makePorts(proto string, x, y int32) portPair {
	if x > y {
		x, y = y, x
	}
	return portPair{protoClass(proto), x, y}
}

type macPair struct{ a, b string }

func makeMACs(x, y string) macPair {
	if x > y {
		x, y = y, x
	}
	return macPair{x, y}
}

// timed is one alert at a time, for the aggregate flow models.
type timed struct {
	t     int64
	alert int32
}

// index holds the alerts by every key the record types are matched by.
type index struct {
	conns  []conn
	byUID  map[string]int32
	alerts []*Alert

	connAlerts map[int32][]int32    // connection -> its alerts
	byFrame    map[int64][]int32    // pcap_cnt -> alerts
	byPacket   map[pktKey][]int32   // (connection, µs) -> alerts without pcap_cnt
	byIPs      map[addrPair][]timed // for NetworkFlow, sorted by time
	byPorts    map[portPair][]timed // for TransportFlow
	byMACs     map[macPair][]timed  // for LinkFlow
}

type pktKey struct {
	conn int32
	us   int64
}

// readConns reads the Connection records of a capture folder.
func readConns(path string) ([]conn, error) {
	r, err := ncio.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Header().Type != types.Type_NC_Connection {
		return nil, fmt.Errorf("%s holds %s records, not Connection", path, types.Name(r.Header().Type))
	}
	var out []conn
	var c types.Connection
	chk := wirecheck.NewChecker(c.ProtoReflect().Descriptor(), wirecheck.Default)
	for {
		if err := nextRecord(r, chk, path, int64(len(out)), &c); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		src, _ := parseAddr(c.SrcIP)
		dst, _ := parseAddr(c.DstIP)
		out = append(out, conn{uid: c.UID, cid: c.CommunityID, proto: c.TransportProto, src: src, dst: dst,
			sport: c.SrcPort, dport: c.DstPort, srcMAC: c.SrcMAC, dstMAC: c.DstMAC,
			first: c.TimestampFirst, last: c.TimestampLast, frameFirst: c.FrameFirst, frameLast: c.FrameLast})
	}
}

// buildIndex matches every alert to its connection and indexes the alerts
// by the keys of the record types. Cost: O(connections + alerts) map work.
func buildIndex(conns []conn, alerts []*Alert) *index {
	ix := &index{conns: conns, alerts: alerts, byUID: make(map[string]int32, len(conns)),
		connAlerts: map[int32][]int32{}, byFrame: map[int64][]int32{}, byPacket: map[pktKey][]int32{},
		byIPs: map[addrPair][]timed{}, byPorts: map[portPair][]timed{}, byMACs: map[macPair][]timed{}}
	byCID := map[string][]int32{}
	byTuple := map[tupleKey][]int32{}
	for i := range conns {
		c := &conns[i]
		ix.byUID[c.uid] = int32(i)
		if c.cid != "" {
			byCID[c.cid] = append(byCID[c.cid], int32(i))
		}
		k := makeTuple(c.proto, c.src, c.dst, c.sport, c.dport)
		byTuple[k] = append(byTuple[k], int32(i))
	}
	for ai, a := range alerts {
		a.conn = -1
		ci := int32(-1)
		if a.CommunityID != "" {
			ci = ix.pick(byCID[a.CommunityID], a)
		}
		if ci < 0 {
			ci = ix.pick(byTuple[makeTuple(a.Proto, a.Src, a.Dst, a.SrcPort, a.DstPort)], a)
		}
		if ci < 0 {
			a.why = "no flow with this community-id or 5-tuple (either direction) spans the alert's time"
			if a.Frame > 0 {
				a.why = "no flow with this community-id or 5-tuple (either direction) holds the alert's frame (pcap_cnt)"
			}
			continue
		}
		a.conn = ci
		c := &conns[ci]
		id := int32(ai)
		ix.connAlerts[ci] = append(ix.connAlerts[ci], id)
		if a.Frame > 0 {
			ix.byFrame[a.Frame] = append(ix.byFrame[a.Frame], id)
		} else {
			k := pktKey{ci, a.Time / 1000}
			ix.byPacket[k] = append(ix.byPacket[k], id)
		}
		tm := timed{a.Time, id}
		ix.byIPs[makePair(c.src, c.dst)] = append(ix.byIPs[makePair(c.src, c.dst)], tm)
		if hasPorts(c.proto) {
			k := makePorts(c.proto, c.sport, c.dport)
			ix.byPorts[k] = append(ix.byPorts[k], tm)
		}
		if c.srcMAC != "" || c.dstMAC != "" {
			k := makeMACs(c.srcMAC, c.dstMAC)
			ix.byMACs[k] = append(ix.byMACs[k], tm)
		}
	}
	for _, m := range []map[addrPair][]timed{ix.byIPs} {
		for _, l := range m {
			sortTimed(l)
		}
	}
	for _, l := range ix.byPorts {
		sortTimed(l)
	}
	for _, l := range ix.byMACs {
		sortTimed(l)
	}
	return ix
}

func sortTimed(l []timed) {
	sort.SliceStable(l, func(i, j int) bool { return l[i].t < l[j].t })
}

// pick chooses among the connections of one key the one that holds the
// alert: its frame (pcap_cnt) inside [FrameFirst, FrameLast] when the alert
// has one, else its time inside [TimestampFirst, TimestampLast] (compared in
// microseconds, the resolution of Suricata's timestamps).
func (ix *index) pick(cands []int32, a *Alert) int32 {
	for _, ci := range cands {
		c := &ix.conns[ci]
		if a.Frame > 0 {
			if c.frameFirst <= a.Frame && a.Frame <= c.frameLast {
				return ci
			}
			continue
		}
		if c.first/1000 <= a.Time/1000 && a.Time/1000 <= c.last/1000 {
			return ci
		}
	}
	return -1
}

// inWindow calls fn for each alert of l with time in [first, last] (µs).
func inWindow(l []timed, first, last int64, fn func(int32)) {
	lo, hi := first/1000*1000, last/1000*1000+999
	i := sort.Search(len(l), func(i int) bool { return l[i].t >= lo })
	for ; i < len(l) && l[i].t <= hi; i++ {
		fn(l[i].alert)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
