package checks

import (
	"strings"
	"testing"
	"time"
)

// fakeClock makes h read the time from *now, so that the test moves time
// instead of waiting for it.
func fakeClock(h *Heartbeat, now *time.Duration) { h.fake = func() time.Duration { return *now } }

func TestHeartbeatWindow(t *testing.T) {
	var now time.Duration
	h := NewHeartbeat(time.Second)
	fakeClock(h, &now)
	steps := []struct {
		at   time.Duration
		beat bool
		fail string // "" for pass
	}{
		{at: 0},
		{at: time.Second}, // the window is inclusive
		{at: time.Second + time.Millisecond, fail: "no beat since start 1.001s ago, window is 1s"},
		{at: 5 * time.Second, beat: true}, // a beat revives it
		{at: 6 * time.Second},             // a window after the beat
		{at: 6*time.Second + 500*time.Millisecond, fail: "no beat for 1.5s, window is 1s"},
		{at: 6*time.Second + 600*time.Millisecond, beat: true},
	}
	for _, s := range steps {
		now = s.at
		if s.beat {
			h.Beat()
		}
		err := h.Check().Check(t.Context())
		switch {
		case s.fail == "" && err != nil:
			t.Fatalf("at %v: %v", s.at, err)
		case s.fail != "" && (err == nil || !strings.HasSuffix(err.Error(), s.fail)):
			t.Fatalf("at %v: got %v, want %q", s.at, err, s.fail)
		}
	}
}

// A beat in the very first instant still counts as a beat.
func TestHeartbeatBeatAtZero(t *testing.T) {
	var now time.Duration
	h := NewHeartbeat(time.Second)
	fakeClock(h, &now)
	h.Beat()
	now = 2 * time.Second
	if err := h.Check().Check(t.Context()); err == nil || !strings.Contains(err.Error(), "no beat for") {
		t.Fatalf("got %v", err)
	}
}
