package main

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestCeilMoments(t *testing.T) {
	for _, c := range []struct{ lo, hi, step, m1, m2 float64 }{
		{30, 30, 10, 3, 9},                        // no jitter, exactly on a tick
		{25, 30, 10, 3, 9},                        // within one step
		{30, 36, 5, 7 + 1.0/6, 49*5.0/6 + 64.0/6}, // 30..35 → 7, 35..36 → 8
		{30.5, 36.5, 5, 7.25, 49*0.75 + 64*0.25},  // 30.5..35 → 7 (4.5 of 6), 35..36.5 → 8
		{0.5, 1.5, 1, 1.5, 2.5},
	} {
		m1, m2 := ceilMoments(c.lo, c.hi, c.step)
		if !near(m1, c.m1) || !near(m2, c.m2) {
			t.Errorf("ceilMoments(%v, %v, %v) = %v, %v, want %v, %v", c.lo, c.hi, c.step, m1, m2, c.m1, c.m2)
		}
	}
}

func TestMaxMoments(t *testing.T) {
	for _, c := range []struct{ a1, b1, a2, b2, m1, m2 float64 }{
		{9, 11, 30, 36, 33, 33*33 + 3},                      // the defaults: always the open period
		{54, 66, 30, 36, 60, 3600 + 12},                     // a 1 min interval: always the interval
		{0, 1, 0, 1, 2.0 / 3, 0.5},                          // overlapping: max of two uniforms
		{5, 5, 0, 10, 7.5 - 1.25, 25*0.5 + (1000.0-125)/30}, // a point against a range
		{2, 2, 3, 3, 3, 9},
	} {
		m1, m2 := maxMoments(c.a1, c.b1, c.a2, c.b2)
		if !near(m1, c.m1) || !near(m2, c.m2) {
			t.Errorf("maxMoments(%v, %v, %v, %v) = %v, %v, want %v, %v", c.a1, c.b1, c.a2, c.b2, m1, m2, c.m1, c.m2)
		}
	}
}

func TestIrwinHallPeak(t *testing.T) {
	for n, want := range map[int]float64{1: 1, 2: 1, 3: 0.75, 4: 2.0 / 3, 5: 115.0 / 192} {
		if got := irwinHallPeak(n); !near(got, want) {
			t.Errorf("irwinHallPeak(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestDefaultsAreTheLibrarys: the check's and the breaker's settings of
// Defaults are what a registry makes of a background dependency check that
// sets nothing else, as its contract states them.
func TestDefaultsAreTheLibrarys(t *testing.T) {
	p := Defaults()
	reg := health.New()
	defer reg.Close()
	dep := health.DependencyFunc(func(context.Context) error { return nil })
	if err := reg.Register(health.Readiness, "dep", dep, health.CheckOptions{Every: p.Interval}); err != nil {
		t.Fatal(err)
	}
	c := reg.Contract().Checks[0]
	if time.Duration(c.Timeout) != p.Timeout || time.Duration(c.Every) != p.Interval || c.Breaker == nil ||
		time.Duration(c.Breaker.Open) != p.Open || c.Breaker.Jitter != p.BreakerJitter || c.Breaker.Failures != p.Failures {
		t.Errorf("the library's check: %+v (breaker %+v); Defaults: %+v", c, c.Breaker, p)
	}
}

// The jitters are the library's, so a validation run cannot use others.
func TestValidateRefusesOtherJitters(t *testing.T) {
	for _, p := range []Params{{CheckJitter: 0, BreakerJitter: libBreakerJitter}, {CheckJitter: libCheckJitter, BreakerJitter: 0.5}} {
		if _, err := Validate(t.Context(), Pipes, p, 1, 0, time.Second, time.Second); err == nil || !strings.Contains(err.Error(), "not options") {
			t.Errorf("Validate with jitters %g and %g: %v, want a refusal", p.CheckJitter, p.BreakerJitter, err)
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
		// The trial comes at the breaker's trial time, 30 to 36 s after
		// the failed trial ended: 0.5 + 33 s on average.
		{BackgroundBreaker, Blackhole, 1000 / 33.5, 1000 / 33.5 * 0.5, 33.5},
		{BackgroundBreaker, Refuse, 1000 / 33.001, 1000 / 33.001 * 0.001, 33.001},
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
		// Cycles of 10.5 ± 1 s, uniform: (10.5² + 2²/12) / (2 × 10.5).
		{BackgroundNoBreaker, 11.5, 0, (10.5*10.5 + 4.0/12) / 21, 11.5},
		// 3 × (11 + 0.5). Cycles of 30.5 + U × 6 s: (33.5² + 6²/12) /
		// (2 × 33.5). The worst: a trial fails just after the recovery,
		// the next comes 0.5 + 36 s after it began.
		{BackgroundBreaker, 11.5, 34.5, (33.5*33.5 + 3) / 67, 36.5},
		// Cycles of 35 s (3/4) or 40 s (1/4); the worst is the 8th probe
		// after the failed one: 0.5 + 36 > 35.
		{OnRequestBreaker, 5.5, 15.5, (0.75*35*35 + 0.25*40*40) / 72.5, 40},
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

	// 1,000 trials within 100 ms without jitter, made by traffic or by
	// background checks, which sleep until the trial is due; spread over
	// 6 s with it.
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
	// The second wave is a triangle 12 s wide, as high as the first.
	for n, want := range map[int]float64{1: 1000.0 / 6, 2: 1000.0 / 6, 3: 125, 4: 1000.0 / 9} {
		if got := p.HerdWave(n, 0.2); !near(got, want) {
			t.Errorf("wave %d of trials = %v/s, want %v", n, got, want)
		}
	}
	if got := p.HerdWave(3, 0); !math.IsInf(got, 1) {
		t.Errorf("wave 3 without jitter = %v/s, want all at once", got)
	}
}

// TestBreakerCutsLoad is the argument of the document in one line: the
// breaker cuts what a fleet does to a dead dependency by about three,
// 10.5 s against 33.5 s between a pod's calls.
func TestBreakerCutsLoad(t *testing.T) {
	p := Defaults()
	ratio := p.Calls(BackgroundNoBreaker, Blackhole) / p.Calls(BackgroundBreaker, Blackhole)
	if !near(ratio, 33.5/10.5) {
		t.Errorf("background checks without/with breaker = %.3f, want %.3f", ratio, 33.5/10.5)
	}
}

// TestTrialsWaitForTheLongerOfIntervalAndOpenPeriod: a background check
// sleeps until its breaker's trial is due or for its interval, whichever is
// longer. An interval shorter than the open period changes neither the load
// during an outage nor the recovery; a longer one makes the breaker save
// nothing, but never cost more calls than no breaker.
func TestTrialsWaitForTheLongerOfIntervalAndOpenPeriod(t *testing.T) {
	p := Defaults()
	for _, interval := range []time.Duration{time.Second, 7 * time.Second, 27 * time.Second} {
		q := p
		q.Interval = interval
		if !near(q.Cycle(BackgroundBreaker, Blackhole), 33.5) || !near(q.RecoverWithin(BackgroundBreaker, Blackhole), 36.5) {
			t.Errorf("interval %v: cycle %v s, recovery within %v s, want 33.5 and 36.5", interval,
				q.Cycle(BackgroundBreaker, Blackhole), q.RecoverWithin(BackgroundBreaker, Blackhole))
		}
	}
	for _, interval := range []time.Duration{28 * time.Second, 32 * time.Second, 40 * time.Second, time.Minute} {
		q := p
		q.Interval = interval
		with, without := q.Calls(BackgroundBreaker, Blackhole), q.Calls(BackgroundNoBreaker, Blackhole)
		if with > without*(1+1e-9) || with > p.Calls(BackgroundBreaker, Blackhole) {
			t.Errorf("interval %v: %v calls/s with the breaker, %v without, %v with a 10 s interval: more calls with it", interval,
				with, without, p.Calls(BackgroundBreaker, Blackhole))
		}
	}
	q := p
	q.Interval = time.Minute // waits of 54 to 66 s, always longer than the open period
	if !near(q.Cycle(BackgroundBreaker, Blackhole), 60.5) || !near(q.RecoverWithin(BackgroundBreaker, Blackhole), 66.5) {
		t.Errorf("interval 1m: cycle %v s, recovery within %v s, want 60.5 and 66.5",
			q.Cycle(BackgroundBreaker, Blackhole), q.RecoverWithin(BackgroundBreaker, Blackhole))
	}
	if q.BackgroundHerdWindow() != time.Minute || p.BackgroundHerdWindow() != p.Spread {
		t.Errorf("herd windows %v (1m interval) and %v (10 s), want 1m0s and %v", q.BackgroundHerdWindow(), p.BackgroundHerdWindow(), p.Spread)
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
