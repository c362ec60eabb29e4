package collector

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netcap/netcap/types"
)

// maxGuesses bounds the message ids the hostile sensor of TestRunGuess
// publishes.
const maxGuesses = 100_000

// TestRunGuess is a hostile sensor that knows when the agent of sensor lab
// started and publishes, on its own subject, messages whose ids are those
// of lab's first Flow part for every run id that start time could give.
// The server's duplicate window is keyed on the message id alone, whatever
// the subject: had one guess been right, the server would drop lab's real
// part as a duplicate (and ack it, so the agent would not send it again).
// Run ids are random, so none is.
func TestRunGuess(t *testing.T) {
	_, _, js := startJS(t, t.TempDir())
	before := time.Now().UnixNano()
	ag, err := NewAgent(js, AgentConfig{Sensor: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixNano()
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(ag.run) {
		t.Errorf("run id %q: want 16 hex digits", ag.run)
	}
	// Every run id a clock read between before and after gives, as the
	// agent once made them (nanoseconds in base 36), the latest first.
	guesses := 0
	acked := func() {
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(60 * time.Second):
			t.Fatal("the guesses were not acked in 60 s")
		}
	}
	for ns := after; ns >= before && guesses < maxGuesses; ns-- {
		m := nats.NewMsg("netcap.evil.Flow")
		m.Header.Set(jetstream.MsgIDHeader, "lab.Flow."+strconv.FormatInt(ns, 36)+".1")
		m.Header.Set(HdrRecords, "0")
		m.Header.Set(HdrEncoding, "none")
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
		if guesses++; guesses%1000 == 0 {
			acked() // fewer on their way than the client allows
		}
	}
	acked()
	t.Logf("%d guesses of the run id published (a window of %d ns)", guesses, after-before)

	pw, err := ag.Output()(types.Type_NC_Flow, &types.Header{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.WritePart(nil, 0); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ag.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	_, lerr := st.GetLastMsgForSubject(ctx, "netcap.lab.Flow")
	if ag.Dups.Load() != 0 || lerr != nil {
		t.Fatalf("lab's part was dropped as a duplicate of a guess (agent: %d duplicates; stream: %v)", ag.Dups.Load(), lerr)
	}
}
