package main

import (
	"context"
	"errors"
	"math"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// TestValidationAgreesWithModel runs the real library at the document's
// own scale (1,000 pods' settings: probes every 5 s, checks every 10 s, a
// 30 s open period), 100 pods per scenario and a herd of 200, inside a
// testing/synctest bubble over in-memory connections. Its clock advances
// only when every goroutine of the run waits, so timers fire exactly when
// they are due and calls take no time, however busy the machine is: a
// loaded machine makes the test take longer, never measure differently.
// (Run in real time, with time scaled down to keep it short, the same
// validation measured the machine: a starved process fires its timers
// late, holds calls past their timeouts and misses answers.)
//
// What remains is sampling: each figure is a mean over random phases,
// jittered waits and recovery moments, and is compared with the model
// within five standard errors, which a correct library exceeds less than
// once in a million runs; the faults this is here to catch are far
// outside (a trial held back to the next check tick would delay the
// herd's trials by 5 s on average, 40 standard errors). What virtual time
// makes exact is asserted exactly: how long a call is held, that every pod
// comes back, and the worst cases.
func TestValidationAgreesWithModel(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 10 s of CPU")
	}
	const pods, herdPods = 100, 200
	p := Defaults()
	synctest.Test(t, func(t *testing.T) {
		v, err := Validate(t.Context(), Pipes, p, pods, herdPods, 50*time.Second, 100*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range Scenarios {
			checkScenario(t, p, s, pods, v.Scenarios[s])
		}
		checkHerd(t, p, herdPods, v.Herd)
		if b, c := v.Scenarios[BackgroundNoBreaker].CallsPerPod(), v.Scenarios[BackgroundBreaker].CallsPerPod(); c > b/2 {
			t.Errorf("with breaker %.3f calls/s per pod, without %.3f: the breaker did not cut the load", c, b)
		}
	})
}

// exact is the tolerance of what virtual time makes exact: durations are
// rounded to nanoseconds on their way through float64 seconds.
const exact = time.Millisecond

// agrees reports whether got is within five standard errors of want (and
// the rounding of exact).
func agrees(got, want, stdErr float64) bool {
	return math.Abs(got-want) <= 5*stdErr+exact.Seconds()
}

func checkScenario(t *testing.T, p Params, s Scenario, pods int, m Measured) {
	t.Helper()
	cycle, back, worst := 1/p.CallsPerPod(s, Blackhole), p.RecoverMean(s, Blackhole), p.RecoverWithin(s, Blackhole)
	t.Logf("%v: %d calls, %.3f ± %.3f s apart (model %.3f), held %v (model %.3f s); "+
		"%d pods back (%d left out) in %.3f ± %.3f s on average (model %.3f), at most %.3f s (model %.3f)",
		s, m.Calls, m.Cycle.Seconds(), m.CycleErr.Seconds(), cycle, m.Hold, p.hold(s, Blackhole),
		m.Recovered, m.Missed, m.Recover.Seconds(), m.RecoverErr.Seconds(), back, m.RecoverMax.Seconds(), worst)
	if m.Calls < pods {
		t.Errorf("%v: %d calls in the window, fewer than one per pod", s, m.Calls)
		return
	}
	if !agrees(m.Cycle.Seconds(), cycle, m.CycleErr.Seconds()) {
		t.Errorf("%v: a pod's calls came %v ± %v apart, model %.3f s", s, m.Cycle, m.CycleErr, cycle)
	}
	if hold := p.hold(s, Blackhole); !agrees(m.Hold.Seconds(), hold, 0) {
		t.Errorf("%v: a blackholed call held its connection for %v on average, want its timeout, %.3f s", s, m.Hold, hold)
	}
	// Without scheduling delays, every call to the recovered dependency
	// succeeds.
	if m.Recovered != pods || m.Missed != 0 {
		t.Errorf("%v: %d of %d pods came back, %d left out for a failed call after their recovery", s, m.Recovered, pods, m.Missed)
	}
	if !agrees(m.Recover.Seconds(), back, m.RecoverErr.Seconds()) {
		t.Errorf("%v: pods came back %v ± %v after their recovery on average, model %.3f s", s, m.Recover, m.RecoverErr, back)
	}
	if m.RecoverMax.Seconds() > worst+exact.Seconds() {
		t.Errorf("%v: a pod took %v to come back, model at most %.3f s", s, m.RecoverMax, worst)
	}
}

// checkHerd: trials are due at a uniform moment of [Open, Open × (1 +
// BreakerJitter)] after the opening, and none may come earlier or later.
func checkHerd(t *testing.T, p Params, pods int, h HerdMeasured) {
	t.Helper()
	lo, hi := p.Open, time.Duration(float64(p.Open)*(1+p.BreakerJitter))
	t.Logf("herd: %d trials, %v to %v after the opening, mean %v, std dev %v", h.Trials, h.Min, h.Max, h.Mean, h.StdDev)
	if h.Trials != pods {
		t.Fatalf("herd: %d of %d pods made a trial", h.Trials, pods)
	}
	if h.Min < lo || h.Max > hi+exact {
		t.Errorf("herd: trials came %v to %v after the opening, want within [%v, %v]", h.Min, h.Max, lo, hi)
	}
	// A uniform spread over w has σ = w/√12; the standard error of the
	// mean of n draws is σ/√n, that of their standard deviation about
	// σ·√(0.8/n)/2 (a uniform's fourth moment is 1.8 σ⁴).
	n := float64(pods)
	sigma := (hi - lo).Seconds() / math.Sqrt(12)
	if mid := (lo + hi).Seconds() / 2; !agrees(h.Mean.Seconds(), mid, sigma/math.Sqrt(n)) {
		t.Errorf("herd: trials came %v after the opening on average, want %.3f s: the trial is due at a uniform moment of [%v, %v]",
			h.Mean, mid, lo, hi)
	}
	if !agrees(h.StdDev.Seconds(), sigma, sigma*math.Sqrt(0.8/n)/2) {
		t.Errorf("herd: trials spread with std dev %v, want %.3f s: the jitter spreads them uniformly", h.StdDev, sigma)
	}
}

// TestSink drives the dependency of a validation run over both networks:
// it blackholes a pod's calls until that pod's recovery moment, answers
// from then on, and records which pod made each call and whether it came
// from a liveness probe.
func TestSink(t *testing.T) {
	for name, nw := range map[string]Network{"TCP": TCP, "Pipes": Pipes} {
		t.Run(name, func(t *testing.T) {
			s, err := newSink(nw, time.Time{}, map[int]time.Time{2: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()

			// The blackholed call fails at its deadline, whichever step it
			// was at; the answered one is only bounded by its deadline.
			short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			var ne net.Error
			if err := dial(s.dial, 1, true)(short); !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("blackholed call: got %v, want a timeout", err)
			}
			long, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := dial(s.dial, 2, false)(long); err != nil {
				t.Errorf("call after the pod's recovery: %v", err)
			}

			s.close() // waits until each connection is recorded
			if len(s.spans) != 2 {
				t.Fatalf("recorded %+v, want two calls", s.spans)
			}
			for i, want := range []span{{pod: 1, live: true}, {pod: 2}} {
				got := s.spans[i]
				if got.pod != want.pod || got.live != want.live || got.end.Before(got.start) || got.end.IsZero() {
					t.Errorf("call %d recorded as %+v, want pod %d, live %v, ended", i, got, want.pod, want.live)
				}
			}
		})
	}
}

func TestPipes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, dial, err := Pipes()
		if err != nil {
			t.Fatal(err)
		}
		// Nobody accepts: the dial waits until its context is done.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := dial(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Errorf("unaccepted dial: %v after %v, want context.DeadlineExceeded after 1s", err, time.Since(start))
		}

		// Accepted: both ends talk.
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				t.Error(err)
			}
			accepted <- c
		}()
		c, err := dial(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		srv := <-accepted
		go func() { _, _ = c.Write([]byte("x")) }()
		if buf := make([]byte, 1); srv == nil {
			t.Fatal("no connection accepted")
		} else if n, err := srv.Read(buf); n != 1 || err != nil || buf[0] != 'x' {
			t.Errorf("server read %q, %v", buf[:n], err)
		}
		_ = c.Close()
		_ = srv.Close()

		// Closed: Accept and dial fail with net.ErrClosed, as for TCP.
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
		if _, err := dial(t.Context()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("dial after Close: %v, want net.ErrClosed", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}
