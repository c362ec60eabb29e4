// Package collector carries audit records from sensors (net agent) to a
// collector (net collect) through NATS JetStream.
//
// One stream, NETCAP, holds subjects netcap.<sensor>.<Type>. A message is one
// part of one record type as the capture engine cuts it: length-delimited
// records, by default as one gzip member (header Netcap-Encoding), with their
// number in Netcap-Records and a Nats-Msg-Id of sensor, type, run and part
// sequence, so that a part the agent sends again (after a lost ack) is
// dropped by the server's duplicate window. The collector appends each part
// to <out>/<sensor>/<Type>.ncap.gz and acks it only after the bytes are
// written. Parts that do not check out go to the subject netcap.dead (stream
// NETCAP_DEAD), with the reason and the original subject in headers.
package collector

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/internal/cli"
	"github.com/netcap/netcap/types"
)

const (
	StreamName     = "NETCAP"
	DeadStreamName = "NETCAP_DEAD"
	DeadSubject    = "netcap.dead"
	// subjects of NETCAP: netcap.<sensor>.<Type>; a sensor name may hold
	// dots, so the type is the last token. netcap.dead has two tokens only
	// and is not among them.
	subjects = "netcap.*.>"

	HdrRecords  = "Netcap-Records"  // records in the message
	HdrEncoding = "Netcap-Encoding" // "gzip" (one or more gzip members) or "none"
	HdrSource   = "Netcap-Source"   // the agent's input: a file or interface name
	HdrPayloads = "Netcap-Payloads" // "1" when Payload fields are filled
	HdrReason   = "Netcap-Reason"   // dead letters: why
	HdrSubject  = "Netcap-Subject"  // dead letters: the original subject
	HdrDetail   = "Netcap-Detail"   // dead letters: what is wrong, where the reason alone does not say

	// DupWindow is how long the server remembers message ids: a part sent
	// again within it is stored once.
	DupWindow = 10 * time.Minute
	// MaxPayload is the largest message the embedded server takes; parts
	// are at most 256 KiB before compression.
	MaxPayload = 8 << 20
)

var sensorRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidSensor reports whether name may be a sensor name: 1 to 64 of
// A-Z a-z 0-9 . _ -, and neither "." nor "..", since it becomes a folder.
func ValidSensor(name string) error {
	if !sensorRE.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("sensor name %q: must be 1 to 64 of A-Z a-z 0-9 . _ - (and not . or ..)", name)
	}
	return nil
}

// Subject is the subject of sensor's records of type t.
func Subject(sensor string, t types.Type) string {
	return "netcap." + sensor + "." + types.Name(t)
}

var byName = func() map[string]types.Type {
	m := map[string]types.Type{}
	for _, t := range decoder.RecordTypes() {
		m[types.Name(t)] = t
	}
	return m
}()

// ParseSubject splits netcap.<sensor>.<Type>; reason says what is wrong.
func ParseSubject(subj string) (sensor string, t types.Type, reason string) {
	rest, ok := strings.CutPrefix(subj, "netcap.")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 {
		return "", 0, "bad-subject"
	}
	sensor, name := rest[:i], rest[i+1:]
	if ValidSensor(sensor) != nil {
		return "", 0, "bad-sensor"
	}
	t, ok = byName[name]
	if !ok {
		return "", 0, "unknown-type"
	}
	return sensor, t, ""
}

// StreamOptions shape the streams the collector creates.
type StreamOptions struct {
	Replicas int // 1 for one server, 3 for a 3-node cluster
	// MaxBytes is the most NETCAP holds of parts not collected yet (acked
	// parts are removed); a full stream refuses new parts, which agents
	// keep and send again. 0: no limit but the server's store.
	MaxBytes int64
}

// DefaultMaxStreamBytes is net collect's -max-stream-bytes: room for
// hours of parts while a collector is stopped, yet a sensor that sends
// faster than the collector stores cannot fill the disk the records go to.
const DefaultMaxStreamBytes = 10 << 30

// NoRoom reports whether err is a server refusing to make a stream because
// it cannot set aside the stream's MaxBytes in its store.
func NoRoom(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10047 // insufficient storage resources available
}

// EnsureStreams creates or updates NETCAP and NETCAP_DEAD. NETCAP is a work
// queue: a part is removed once a collector acked it, so the store holds
// only what is on its way.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	maxBytes := o.MaxBytes
	if maxBytes <= 0 {
		maxBytes = -1
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Subjects:    []string{subjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		Duplicates:  DupWindow,
		MaxBytes:    maxBytes,
		MaxMsgSize:  MaxPayload,
		Discard:     jetstream.DiscardNew, // a full store refuses; agents buffer and retry
		Description: "netcap record parts: netcap.<sensor>.<Type>",
	}); err != nil {
		return fmt.Errorf("stream %s: %w", StreamName, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadStreamName,
		Subjects:    []string{DeadSubject},
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxBytes:    1 << 30,
		Discard:     jetstream.DiscardOld,
		Description: "netcap parts the collector could not store",
	}); err != nil {
		return fmt.Errorf("stream %s: %w", DeadStreamName, err)
	}
	return nil
}

// ParseSize reads a byte count such as 256MB, 1GB, 64KiB or 1000.
func ParseSize(s string) (int64, error) { return cli.ParseSize(s) }
