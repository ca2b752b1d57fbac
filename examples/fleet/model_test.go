package main

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestExpectedCeil(t *testing.T) {
	for _, c := range []struct{ lo, hi, step, want float64 }{
		{30, 36, 10, 4},        // the library's defaults: always the 4th tick
		{30, 30, 10, 3},        // no jitter, exactly on a tick
		{25, 30, 10, 3},        // within one step
		{30, 36, 5, 7 + 1.0/6}, // 30..35 → 7, 35..36 → 8
		{30.5, 36.5, 5, 7.25},  // 30.5..35 → 7 (4.5 of 6), 35..36.5 → 8
		{0.5, 1.5, 1, 1.5},
	} {
		if got := expectedCeil(c.lo, c.hi, c.step); !near(got, c.want) {
			t.Errorf("expectedCeil(%v, %v, %v) = %v, want %v", c.lo, c.hi, c.step, got, c.want)
		}
	}
}

// TestDefaultFleet pins the numbers docs/fleet.md quotes, for 1,000 pods
// probed every 5 s (timeout 1 s), checked every 10 s, with the library's
// breaker defaults.
func TestDefaultFleet(t *testing.T) {
	p := Defaults()
	for _, c := range []struct {
		s                  Scenario
		f                  Fault
		calls, held, cycle float64
	}{
		{OnRequestNoBreaker, Blackhole, 200, 200, 5},
		{OnRequestNoBreaker, Refuse, 200, 0.2, 5},
		{OnRequestLiveToo, Blackhole, 400, 400, 5},
		{BackgroundNoBreaker, Blackhole, 1000 / 10.5, 1000 / 10.5 * 0.5, 10.5},
		{BackgroundNoBreaker, Refuse, 1000 / 10.001, 1000 / 10.001 * 0.001, 10.001},
		// Trials land on the 4th tick after the failed trial ends.
		{BackgroundBreaker, Blackhole, 1000 / 40.5, 1000 / 40.5 * 0.5, 40.5},
		{BackgroundBreaker, Refuse, 1000 / 40.001, 1000 / 40.001 * 0.001, 40.001},
		// The 7th or 8th probe after the failed one: 5 × 7.25 s.
		{OnRequestBreaker, Blackhole, 1000 / 36.25, 1000 / 36.25 * 0.5, 36.25},
	} {
		if got := p.Cycle(c.s, c.f); !near(got, c.cycle) {
			t.Errorf("%v, %v: cycle %v s, want %v", c.s, c.f, got, c.cycle)
		}
		if got := p.Calls(c.s, c.f); !near(got, c.calls) {
			t.Errorf("%v, %v: %v calls/s, want %v", c.s, c.f, got, c.calls)
		}
		if got := p.Held(c.s, c.f); !near(got, c.held) {
			t.Errorf("%v, %v: %v connections held, want %v", c.s, c.f, got, c.held)
		}
	}

	for _, c := range []struct {
		s                       Scenario
		fail, open, back, worst float64
	}{
		{OnRequestNoBreaker, 6, 0, 2.5, 5},
		{BackgroundNoBreaker, 11.5, 0, 5.25, 11.5},
		// 3 × (11 + 0.5); half of 40.5; 0.5 + 4 ticks of 11 s (36 s
		// holds at most 4 ticks of 9 s).
		{BackgroundBreaker, 11.5, 34.5, 20.25, 44.5},
		// The 8th probe after the failed one: 0.5 + 36 > 35.
		{OnRequestBreaker, 5.5, 15.5, 18.125, 40},
	} {
		if got := p.FailWithin(c.s, Blackhole); !near(got, c.fail) {
			t.Errorf("%v: fails within %v s, want %v", c.s, got, c.fail)
		}
		if got := p.OpenWithin(c.s, Blackhole); !near(got, c.open) {
			t.Errorf("%v: opens within %v s, want %v", c.s, got, c.open)
		}
		if got := p.RecoverMean(c.s, Blackhole); !near(got, c.back) {
			t.Errorf("%v: recovers in %v s on average, want %v", c.s, got, c.back)
		}
		if got := p.RecoverWithin(c.s, Blackhole); !near(got, c.worst) {
			t.Errorf("%v: recovers within %v s, want %v", c.s, got, c.worst)
		}
	}

	// 1,000 trials within 100 ms without jitter; spread over 6 s with it.
	if got := p.Herd(100*time.Millisecond, 0); !near(got, 10000) {
		t.Errorf("herd without jitter = %v/s, want 10000", got)
	}
	if got := p.Herd(100*time.Millisecond, 0.2); !near(got, 1000.0/6) {
		t.Errorf("herd with jitter = %v/s, want %v", got, 1000.0/6)
	}
	if got := p.Herd(5*time.Second, 0.2); !near(got, 1000.0/6) {
		t.Errorf("herd of probe-made trials = %v/s, want %v: the jitter is wider than the probe period", got, 1000.0/6)
	}
	if got := p.Herd(10*time.Second, 0.2); !near(got, 100) {
		t.Errorf("herd of check-opened breakers = %v/s, want 100: the checks' phases spread wider than the jitter", got)
	}
}

// TestBreakerCutsLoad is the argument of the document in one line: the
// breaker cuts what a fleet does to a dead dependency by about four.
func TestBreakerCutsLoad(t *testing.T) {
	p := Defaults()
	ratio := p.Calls(BackgroundNoBreaker, Blackhole) / p.Calls(BackgroundBreaker, Blackhole)
	if ratio < 3.5 || ratio > 4.5 {
		t.Errorf("background checks without/with breaker = %.2f, want about 4", ratio)
	}
}

func TestScaleKeepsHeldConnections(t *testing.T) {
	p := Defaults()
	q := p.Scale(1.0 / 20)
	for _, s := range Scenarios {
		if !near(q.Held(s, Blackhole), p.Held(s, Blackhole)) {
			t.Errorf("%v: held %v scaled, %v unscaled: Little's law is scale-free", s, q.Held(s, Blackhole), p.Held(s, Blackhole))
		}
		if !near(q.Calls(s, Blackhole), 20*p.Calls(s, Blackhole)) {
			t.Errorf("%v: calls %v scaled, want 20 × %v", s, q.Calls(s, Blackhole), p.Calls(s, Blackhole))
		}
	}
}

func TestFlags(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"-pods", "200", "-interval", "5s"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	// 200 pods, every 5 s plus a 0.5 s timeout.
	if !strings.Contains(out.String(), "| (b) background, no breaker | 36.4 | 18.2 |") {
		t.Errorf("output does not reflect the flags:\n%s", out.String())
	}
	for _, bad := range [][]string{{"-pods", "0"}, {"-open", "0s"}, {"-probe-timeout", "6s"}, {"-scale", "2"}, {"x"}} {
		if err := run(bad, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded, want an error", bad)
		}
	}
}

// TestValidationAgreesWithModel runs the real library briefly: 40 pods per
// scenario, time × 1/40 (a 250 ms check interval, a 750 ms open period). A
// breaker that did not open would be four times off in calls, and the test
// also asserts that it cut the calls at least by half; timing noise on a
// loaded machine is not that far off, hence the wide band.
func TestValidationAgreesWithModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 4 s")
	}
	p := Defaults().Scale(1.0 / 40)
	m, err := Validate(context.Background(), p, 40, 1500*time.Millisecond, 2500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Scenarios {
		if m[s].Cycle == 0 {
			t.Errorf("%v: too few calls (%d) to measure", s, m[s].Calls)
			continue
		}
		got, want := m[s].CallsPerPod(), p.CallsPerPod(s, Blackhole)
		held, wantHeld := m[s].HeldPerPod(), p.Held(s, Blackhole)/float64(p.Pods)
		t.Logf("%v: %d calls, %.2f/s per pod, model %.2f (ratio %.2f); held %.4f per pod, model %.4f",
			s, m[s].Calls, got, want, got/want, held, wantHeld)
		if got < 0.6*want || got > 1.4*want {
			t.Errorf("%v: measured %.2f calls/s per pod, model %.2f", s, got, want)
		}
		// Dialing and scheduling add to the 12.5 ms timeout on a busy machine.
		if held < 0.5*wantHeld || held > 3*wantHeld {
			t.Errorf("%v: measured %.4f connections held per pod, model %.4f", s, held, wantHeld)
		}
	}
	if b, c := m[BackgroundNoBreaker].CallsPerPod(), m[BackgroundBreaker].CallsPerPod(); c > b/2 {
		t.Errorf("with breaker %.2f calls/s per pod, without %.2f: the breaker did not cut the load", c, b)
	}
}
