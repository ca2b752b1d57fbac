package adversarial_test

// Issue 20, "No crash under load, no wedge from one slow callback": the
// regression tests of each class the issue names, against the v1.0 API.
// Each test asserts the behaviour that must hold and says in a comment
// what 4001f29 did instead (from the reproduction on 4001f29,
// notes/issue20/RESULTS.md of that round).
//
// Class 1 (this file): no race between a timer and the state it touches,
// whatever the durations and however late the goroutine that arms it runs.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// timerLevels are the check timeouts the sweep mixes within one probe.
var timerLevels = []time.Duration{time.Nanosecond, 100 * time.Nanosecond, time.Microsecond, 10 * time.Microsecond,
	100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond}

// timerBehaviours are what a check under the sweep does with its context.
var timerBehaviours = []struct {
	name string
	fn   func(timeout time.Duration) func(context.Context) error
}{
	{"returns_at_once", func(time.Duration) func(context.Context) error {
		return func(context.Context) error { return nil }
	}},
	{"returns_at_deadline", func(time.Duration) func(context.Context) error {
		return func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	}},
	{"ignores_ctx", func(timeout time.Duration) func(context.Context) error {
		// Returns on its own, a little before or after its deadline.
		return func(context.Context) error {
			time.Sleep(time.Duration(rand.Int64N(int64(2*timeout) + 1)))
			return nil
		}
	}},
}

// TestIssue20TimerSweep: readiness holds, for every timeout of timerLevels
// and every behaviour of timerBehaviours, a check that runs on request and
// one in the background (Every 1ms); three goroutines probe it back to back
// (whole-group Check, Check of a few entries, the HTTP handler with
// ?exclude=, each its own flight of mixed timeouts) while a fourth keeps the
// scheduler busy, so that the goroutines arming the timers run late. For at
// most 4000 probes or 2 s, in a child process (under -race when the suite
// is): no crash, no race, every probe answered, and every entry's verdict a
// pass or a timeout (or pending before a background check's first result),
// never anything else; Close then returns nil.
//
// On 4001f29 the child died within 7-830 ms of a nil pointer dereference
// in time.(*Timer).Reset called from health.(*flight).expire, for most
// pairs of on-request timeouts (1ns with 1ms among them): the flight's
// timer could fire before watch stored it. With -race: a DATA RACE between
// flight.watch's write and flight.expire's read of f.timer.
func TestIssue20TimerSweep(t *testing.T) {
	inChild(t, func(t *testing.T) {
		reg := health.New()
		defer func() {
			var err error
			mustReturn(t, "Close", answerBound, func() { err = reg.Close() })
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
		var names []string
		for _, d := range timerLevels {
			for _, b := range timerBehaviours {
				for _, every := range []time.Duration{0, time.Millisecond} {
					name := fmt.Sprintf("%s-%d-%s", map[bool]string{true: "bg", false: "req"}[every > 0], d, b.name)
					names = append(names, name)
					if err := reg.Register(health.Readiness, name, health.CheckFunc(b.fn(d)), health.CheckOptions{Timeout: d, Every: every}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		h := reg.Handler(health.Readiness)
		var probes atomic.Int64
		const maxProbes = 4000
		deadline := time.Now().Add(2 * time.Second)
		more := func() bool { return probes.Add(1) <= maxProbes && time.Now().Before(deadline) && !t.Failed() }
		stopNoise := make(chan struct{})
		var noise sync.WaitGroup
		noise.Add(1)
		go func() { // the scheduler's other customer
			defer noise.Done()
			for {
				select {
				case <-stopNoise:
					return
				default:
					_ = make([]byte, 4<<10) // and the collector's
					runtime.Gosched()
				}
			}
		}()
		var wg sync.WaitGroup
		for p := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for more() {
					switch p {
					case 0:
						var rep health.Report
						var err error
						mustReturn(t, "Check", answerBound, func() { rep, err = reg.Check(context.Background(), health.Readiness) })
						if err != nil {
							t.Errorf("Check: %v", err)
						}
						sweptVerdicts(t, rep)
					case 1:
						pick := []string{names[rand.IntN(len(names))], names[rand.IntN(len(names))], names[rand.IntN(len(names))]}
						var rep health.Report
						var err error
						mustReturn(t, "Check of some entries", answerBound, func() { rep, err = reg.Check(context.Background(), health.Readiness, pick...) })
						if err != nil {
							t.Errorf("Check(%v): %v", pick, err)
						}
						sweptVerdicts(t, rep)
					case 2:
						req := newRequest(t, http.MethodGet, "/readyz?exclude="+names[rand.IntN(len(names))])
						if a := serve(t, h, req, answerBound); a.ok {
							checkAnswer(t, req, a)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(stopNoise)
		noise.Wait()
		t.Logf("%d probes of %d checks with timeouts from 1ns to 10ms", min(probes.Load(), maxProbes), len(names))
	})
}

// sweptVerdicts fails t unless every check of rep passed, timed out or is
// a background check still waiting for its first result.
func sweptVerdicts(t *testing.T, rep health.Report) {
	t.Helper()
	for _, c := range rep.Checks {
		switch {
		case c.Status == health.StatusPass:
		case safeIs(c.Err, health.ErrTimeout) && safeIs(c.Err, context.DeadlineExceeded):
		case safeIs(c.Err, health.ErrPending):
		case c.Name == "startup" || c.Name == "liveness" || c.Name == "ready":
			t.Errorf("own entry %s is %v (%v)", c.Name, c.Status, c.Err)
		default:
			t.Errorf("%s: %v with %q, want pass or a timeout", c.Name, c.Status, safeText(c.Err))
		}
	}
}
