package main

import (
	"math"
	"slices"
	"time"
)

// The health package's defaults for a background dependency check, which
// Defaults takes so that the document's numbers follow the library; a
// test compares them with what a registry reports. The jitters are not
// options: a validation run can only use these.
const (
	libTimeout       = 500 * time.Millisecond // CheckOptions.Timeout
	libCheckJitter   = 0.1                    // CheckOptions.Every: each wait is Every ± 10 %
	libOpen          = 30 * time.Second       // BreakerSettings.Open
	libBreakerJitter = 0.2                    // BreakerSettings.Open: each trial up to a fifth of Open later
	libFailures      = 3                      // BreakerSettings.Failures
)

// Params describes a fleet of identical pods sharing one dependency.
type Params struct {
	Pods int
	// Period is the kubelet's probe period (periodSeconds). The kubelet
	// probes on a fixed ticker, whatever the probes' answers.
	Period time.Duration
	// ProbeTimeout is the kubelet's probe timeout (timeoutSeconds): how long
	// a hand-written handler that checks the dependency with the request's
	// context holds a call to a dependency that does not answer.
	ProbeTimeout time.Duration
	// Timeout is the library's check timeout.
	Timeout time.Duration
	// Interval is the background check interval; CheckJitter its jitter.
	Interval    time.Duration
	CheckJitter float64
	// Open is the breaker's open period, BreakerJitter the fraction of it
	// by which each trial is randomly delayed, Failures the consecutive
	// failures that open it.
	Open          time.Duration
	BreakerJitter float64
	Failures      int
	// RTT is how long a call to a dependency that refuses at once (a
	// closed port, a reset) holds a connection.
	RTT time.Duration
	// Spread is how far apart in time application traffic opens the pods'
	// breakers when the dependency fails: every pod is sending requests,
	// so they all see the outage within a fraction of a second.
	Spread time.Duration
}

// Defaults returns the fleet the document discusses, with the library's
// defaults for the check and the breaker.
func Defaults() Params {
	return Params{
		Pods:          1000,
		Period:        5 * time.Second,
		ProbeTimeout:  time.Second,
		Timeout:       libTimeout,
		Interval:      10 * time.Second,
		CheckJitter:   libCheckJitter,
		Open:          libOpen,
		BreakerJitter: libBreakerJitter,
		Failures:      libFailures,
		RTT:           time.Millisecond,
		Spread:        100 * time.Millisecond,
	}
}

// Fault is how the dependency fails.
type Fault int

const (
	// Blackhole: nothing answers, every call waits for its caller's
	// timeout (a partitioned network, a hung server, a full accept queue).
	Blackhole Fault = iota
	// Refuse: calls fail at once (the server process is gone, the port is
	// closed).
	Refuse
)

func (f Fault) String() string {
	if f == Blackhole {
		return "blackhole"
	}
	return "refuse"
}

// Scenario is one way of checking the dependency.
type Scenario int

const (
	// OnRequestNoBreaker: a hand-written readiness handler calls the
	// dependency on every probe.
	OnRequestNoBreaker Scenario = iota
	// OnRequestLiveToo: the same in the liveness handler too, the classic
	// mistake: two probes per period call the dependency, and a failing
	// liveness probe restarts every pod.
	OnRequestLiveToo
	// BackgroundNoBreaker: a background check (Every), no breaker.
	BackgroundNoBreaker
	// BackgroundBreaker: a background dependency check (a DependencyFunc
	// with Every), the library's recommendation.
	BackgroundBreaker
	// OnRequestBreaker: a dependency check run by each probe, behind its
	// breaker.
	OnRequestBreaker
	numScenarios
)

// Scenarios lists every scenario in the document's order.
var Scenarios = func() []Scenario {
	s := make([]Scenario, numScenarios)
	for i := range s {
		s[i] = Scenario(i)
	}
	return s
}()

func (s Scenario) String() string {
	return [...]string{
		"(a) on request, no breaker",
		"(a') (a) in liveness too",
		"(b) background, no breaker",
		"(c) background + breaker",
		"(d) on request + breaker",
	}[s]
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// hold is how long one failed call holds a connection.
func (p Params) hold(s Scenario, f Fault) float64 {
	if f == Refuse {
		return seconds(p.RTT)
	}
	if s == OnRequestNoBreaker || s == OnRequestLiveToo {
		return seconds(p.ProbeTimeout)
	}
	return seconds(p.Timeout)
}

// ceilMoments returns E[K] and E[K²] for K = ceil(X/step), X uniform on
// [lo, hi].
func ceilMoments(lo, hi, step float64) (m1, m2 float64) {
	if hi <= lo {
		k := math.Ceil(lo / step)
		return k, k * k
	}
	for k := math.Ceil(lo / step); (k-1)*step < hi; k++ {
		a, b := math.Max(lo, (k-1)*step), math.Min(hi, k*step)
		m1 += k * (b - a)
		m2 += k * k * (b - a)
	}
	return m1 / (hi - lo), m2 / (hi - lo)
}

// maxMoments returns E[M] and E[M²] for M = max(X, Y), X and Y independent
// and uniform on [a1, b1] and [a2, b2] (a point if a == b), all ≥ 0. It
// integrates E[M] = ∫ P(M > m) dm and E[M²] = ∫ 2m P(M > m) dm between the
// ends of the two ranges, where the integrands are polynomials of degree
// three at most, on which Simpson's rule is exact.
func maxMoments(a1, b1, a2, b2 float64) (m1, m2 float64) {
	cdf := func(m, a, b, mid float64) float64 {
		switch {
		case b == a && mid < a, mid <= a:
			return 0
		case b == a, mid >= b:
			return 1
		}
		return (m - a) / (b - a)
	}
	pts := []float64{0, a1, b1, a2, b2}
	slices.Sort(pts)
	for i := 1; i < len(pts); i++ {
		lo, hi := pts[i-1], pts[i]
		if hi <= lo {
			continue
		}
		mid := (lo + hi) / 2
		above := func(m float64) float64 { return 1 - cdf(m, a1, b1, mid)*cdf(m, a2, b2, mid) }
		simpson := func(g func(float64) float64) float64 { return (hi - lo) / 6 * (g(lo) + 4*g(mid) + g(hi)) }
		m1 += simpson(above)
		m2 += simpson(func(m float64) float64 { return 2 * m * above(m) })
	}
	return m1, m2
}

// cycle returns the mean and the mean square of the time between two calls
// one pod makes to the dependency during a long outage, in seconds.
//
// Without a breaker that is the probe period, or the check interval
// (jittered by ±CheckJitter) plus the failed call: a background check waits
// its interval after each run ends. With a breaker, a failed trial reopens
// it for Open × (1 + U × BreakerJitter), U uniform in [0, 1), from the
// moment the trial failed. A background check's loop sleeps until that
// moment or for its jittered interval, whichever is later, and makes the
// trial then: the cycle is hold + the longer of the two, which is the open
// period unless the interval is longer. The kubelet's ticker runs on
// regardless, so an on-request trial lands on the first probe at least hold
// + open after the failed one: the k-th probe, k = ceil((hold + open) /
// Period).
func (p Params) cycle(s Scenario, f Fault) (mean, meanSq float64) {
	h := p.hold(s, f)
	open, jitter := seconds(p.Open), seconds(p.Open)*p.BreakerJitter
	// uniform returns the moments of a + U × w, U uniform in [0, 1).
	uniform := func(a, w float64) (float64, float64) {
		m := a + w/2
		return m, m*m + w*w/12
	}
	switch s {
	case OnRequestNoBreaker, OnRequestLiveToo:
		return seconds(p.Period), seconds(p.Period) * seconds(p.Period)
	case BackgroundNoBreaker:
		i := seconds(p.Interval)
		return uniform(h+i*(1-p.CheckJitter), 2*i*p.CheckJitter)
	case BackgroundBreaker:
		i := seconds(p.Interval)
		w1, w2 := maxMoments(i*(1-p.CheckJitter), i*(1+p.CheckJitter), open, open+jitter)
		return h + w1, w2 + 2*h*w1 + h*h
	case OnRequestBreaker:
		k1, k2 := ceilMoments(h+open, h+open+jitter, seconds(p.Period))
		return seconds(p.Period) * k1, seconds(p.Period) * seconds(p.Period) * k2
	}
	panic("unknown scenario")
}

// Cycle returns the mean time between two calls one pod makes to the
// dependency during a long outage, in seconds (see cycle).
func (p Params) Cycle(s Scenario, f Fault) float64 {
	m, _ := p.cycle(s, f)
	return m
}

// CallsPerPod returns the calls per second one pod makes to the dependency
// during a long outage.
func (p Params) CallsPerPod(s Scenario, f Fault) float64 {
	n := 1.0
	if s == OnRequestLiveToo {
		n = 2
	}
	return n / p.Cycle(s, f)
}

// Calls returns the calls per second the fleet makes to the dependency
// during a long outage.
func (p Params) Calls(s Scenario, f Fault) float64 {
	return float64(p.Pods) * p.CallsPerPod(s, f)
}

// Held returns how many connections the fleet holds open to the dependency
// on average during a long outage: Little's law, arrival rate × time each
// call holds its connection.
func (p Params) Held(s Scenario, f Fault) float64 {
	return p.Calls(s, f) * p.hold(s, f)
}

// FailWithin returns the longest time from the outage's start until the
// pod's readiness handler answers 503, in seconds: the next probe, or the
// next background check, has to fail first. The kubelet takes the pod out
// of rotation after failureThreshold such probes.
func (p Params) FailWithin(s Scenario, f Fault) float64 {
	h := p.hold(s, f)
	switch s {
	case BackgroundNoBreaker, BackgroundBreaker:
		return seconds(p.Interval)*(1+p.CheckJitter) + h
	}
	return seconds(p.Period) + h
}

// OpenWithin returns the longest time from the outage's start until a
// pod's breaker opens on its own checks, in seconds, or 0 for scenarios
// without a breaker.
func (p Params) OpenWithin(s Scenario, f Fault) float64 {
	h := p.hold(s, f)
	switch s {
	case BackgroundBreaker:
		return float64(p.Failures) * (seconds(p.Interval)*(1+p.CheckJitter) + h)
	case OnRequestBreaker:
		return float64(p.Failures)*seconds(p.Period) + h
	}
	return 0
}

// RecoverWithin returns the longest time from the dependency's recovery
// until the pod's readiness handler answers 200 again, in seconds. The
// worst case is a recovery just after a call (a trial, with a breaker)
// began, which then fails. A background check then sleeps until its
// breaker's trial time, at most Open × (1 + BreakerJitter) after the failed
// trial ended, or for its interval if that is longer, and its trial passes. The kubelet's ticker does not restart,
// so an on-request trial comes with the first probe tick at least hold +
// open after the failed one.
func (p Params) RecoverWithin(s Scenario, f Fault) float64 {
	h := p.hold(s, f)
	open := seconds(p.Open) * (1 + p.BreakerJitter)
	switch s {
	case BackgroundNoBreaker:
		return h + seconds(p.Interval)*(1+p.CheckJitter)
	case BackgroundBreaker:
		return h + math.Max(open, seconds(p.Interval)*(1+p.CheckJitter))
	case OnRequestBreaker:
		return seconds(p.Period) * math.Ceil((h+open)/seconds(p.Period))
	}
	return seconds(p.Period)
}

// RecoverMean returns the mean time from the dependency's recovery until
// readiness passes again, for a recovery at a random moment of a long
// outage: the mean time until the pod's next call, E[L²] / (2 E[L]) for
// cycles of length L. That is half a cycle plus Var(L) / (2 E[L]): a
// random moment falls more often in a long cycle than in a short one.
func (p Params) RecoverMean(s Scenario, f Fault) float64 {
	m, m2 := p.cycle(s, f)
	return m2 / (2 * m)
}

// Herd is the peak rate of trial calls, fleet-wide, in calls per second,
// when every pod's breaker opened within window of each other. A trial is
// due at the jittered end of the open period (spread uniformly over Open ×
// jitter), and is made at once by application traffic and by a background
// check, which sleeps until it is due (see BackgroundHerdWindow); an
// on-request check makes it at the pod's next probe, spread uniformly over
// the probe period (the kubelet starts each pod's prober at a random
// moment), so pass window = Period for those. The peak density of the sum of two uniform spreads is 1 / the
// wider one. At recovery the trials that succeed are followed at once by
// each pod's traffic and its connection pool refilling, so this is also
// the rate at which pods come back.
func (p Params) Herd(window time.Duration, jitter float64) float64 {
	w := math.Max(seconds(window), seconds(p.Open)*jitter)
	if w == 0 {
		return math.Inf(1)
	}
	return float64(p.Pods) / w
}

// BackgroundHerdWindow returns how far apart the trials of background checks
// come, before the jitter, when application traffic opened their breakers
// within Spread of each other: Spread, since each check sleeps until its
// trial is due; or, when the check interval is longer than the open period,
// the interval, since each check then waits for a tick of its own after the
// opening, and its interval after that.
func (p Params) BackgroundHerdWindow() time.Duration {
	if float64(p.Interval)*(1+p.CheckJitter) > float64(p.Open) {
		return p.Interval
	}
	return p.Spread
}

// HerdWave is the peak rate of the n-th wave of trials (n ≥ 1), fleet-wide,
// in calls per second, when every pod's breaker opened at the same moment
// and its trials are made as soon as they are due (application traffic,
// background checks) and fail: each failed trial adds an independent
// jittered open period, so the n-th wave is spread as the sum of n
// uniforms, whose peak density is the Irwin–Hall one. The second wave is
// as high as the first; later ones flatten.
func (p Params) HerdWave(n int, jitter float64) float64 {
	w := seconds(p.Open) * jitter
	if w == 0 {
		return math.Inf(1)
	}
	return float64(p.Pods) * irwinHallPeak(n) / w
}

// irwinHallPeak returns the largest value of the density of the sum of n
// independent uniforms on [0, 1), reached at n/2.
func irwinHallPeak(n int) float64 {
	if n <= 2 {
		return 1
	}
	x := float64(n) / 2
	sum, binom := 0.0, 1.0
	for k := 0; float64(k) <= x; k++ {
		term := binom * math.Pow(x-float64(k), float64(n-1))
		if k%2 == 1 {
			term = -term
		}
		sum += term
		binom = binom * float64(n-k) / float64(k+1)
	}
	fact := 1.0
	for i := 2; i < n; i++ {
		fact *= float64(i)
	}
	return sum / fact
}

// Scale returns p with every duration multiplied by f, for a run of the
// same arithmetic in less time.
func (p Params) Scale(f float64) Params {
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	q := p
	q.Period, q.ProbeTimeout, q.Timeout = sc(p.Period), sc(p.ProbeTimeout), sc(p.Timeout)
	q.Interval, q.Open, q.RTT, q.Spread = sc(p.Interval), sc(p.Open), sc(p.RTT), sc(p.Spread)
	return q
}
