package label

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// eveLine holds the fields of an EVE JSON event that labelling uses.
type eveLine struct {
	Timestamp   string `json:"timestamp"`
	EventType   string `json:"event_type"`
	PcapCnt     int64  `json:"pcap_cnt"`
	SrcIP       string `json:"src_ip"`
	SrcPort     int32  `json:"src_port"`
	DestIP      string `json:"dest_ip"`
	DestPort    int32  `json:"dest_port"`
	Proto       string `json:"proto"`
	CommunityID string `json:"community_id"`
	Alert       *struct {
		SignatureID int64  `json:"signature_id"`
		Signature   string `json:"signature"`
		Category    string `json:"category"`
		Severity    int    `json:"severity"`
	} `json:"alert"`
}

// ErrNoZone is returned for a fast.log read without a time zone.
var ErrNoZone = errors.New("its timestamps have no time zone, so give the zone Suricata ran in with -tz (e.g. -tz UTC, -tz America/New_York, -tz -05:00); the offset is in eve.json or suricata.log of the same run")

// eveTime is the layout of EVE timestamps: they always carry their offset.
const eveTime = "2006-01-02T15:04:05.999999999-0700"

// ReadAlerts reads an alert file, EVE JSON or fast.log, told apart by its
// first non-empty line. loc is the time zone of fast.log timestamps, which
// carry none; nil is an error for fast.log.
func ReadAlerts(path string, loc *time.Location) (*Alerts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-alerts: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode()&(os.ModeDevice|os.ModeSocket) != 0 {
		return nil, refuse("-alerts %s is a device or socket, not an alert file: give eve.json or fast.log", path)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(4096)
	if isEVE(head) {
		return readEVE(br)
	}
	if loc == nil {
		return nil, fmt.Errorf("%s is a Suricata fast.log: %w", path, ErrNoZone)
	}
	return readFastLog(br, loc)
}

func isEVE(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			return line[0] == '{'
		}
	}
	return false
}

func readEVE(r io.Reader) (*Alerts, error) {
	as := &Alerts{Format: "EVE JSON"}
	lr := NewLineReader(r, MaxLine)
	for {
		raw, long, err := lr.Next()
		if err == io.EOF {
			return as, nil
		}
		if err != nil {
			return nil, fmt.Errorf("alerts: line %d: %v", lr.Line()+1, err)
		}
		n := lr.Line()
		if long {
			as.bad(n, errLong)
			continue
		}
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		var e eveLine
		if err := json.Unmarshal(line, &e); err != nil {
			as.bad(n, err)
			continue
		}
		if e.EventType != "alert" {
			as.Other++
			continue
		}
		a, err := e.alert(n)
		if err != nil {
			as.bad(n, err)
			continue
		}
		as.List = append(as.List, a)
	}
}

// errLong is the reason given for a line over MaxLine.
var errLong = fmt.Errorf("longer than %d MiB, skipped", MaxLine>>20)

func (e *eveLine) alert(line int) (*Alert, error) {
	if e.Alert == nil {
		return nil, errors.New(`event_type "alert" without an "alert" object`)
	}
	t, err := time.Parse(eveTime, e.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp %q: %v", e.Timestamp, err)
	}
	src, err := parseAddr(e.SrcIP)
	if err != nil {
		return nil, fmt.Errorf("src_ip %q: %v", e.SrcIP, err)
	}
	dst, err := parseAddr(e.DestIP)
	if err != nil {
		return nil, fmt.Errorf("dest_ip %q: %v", e.DestIP, err)
	}
	return &Alert{
		Line: line, Time: t.UnixNano(), Frame: e.PcapCnt, Proto: e.Proto,
		Src: src, Dst: dst, SrcPort: e.SrcPort, DstPort: e.DestPort,
		CommunityID: cut(e.CommunityID, MaxLabel), Signature: cut(e.Alert.Signature, MaxLabel),
		Category: cut(e.Alert.Category, MaxLabel), Severity: e.Alert.Severity, SID: e.Alert.SignatureID,
		conn: -1,
	}, nil
}
