package main

import (
	"math"
	"time"

	"github.com/probekit/probekit/health"
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
		Timeout:       health.DefaultTimeout,
		Interval:      10 * time.Second,
		CheckJitter:   health.DefaultJitter,
		Open:          health.DefaultBreakerOpen,
		BreakerJitter: health.BreakerJitter,
		Failures:      health.DefaultBreakerFailures,
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
	// BackgroundBreaker: a background dependency check (Every +
	// Dependency), the library's recommendation.
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

// expectedCeil returns E[ceil(X/step)] for X uniform on [lo, hi].
func expectedCeil(lo, hi, step float64) float64 {
	if hi <= lo {
		return math.Ceil(lo / step)
	}
	sum := 0.0
	for k := math.Ceil(lo / step); (k-1)*step < hi; k++ {
		a, b := math.Max(lo, (k-1)*step), math.Min(hi, k*step)
		sum += k * (b - a)
	}
	return sum / (hi - lo)
}

// Cycle returns the mean time between two calls one pod makes to the
// dependency during a long outage, in seconds.
//
// Without a breaker that is the probe period, or the check interval plus
// the failed call (a background check waits its interval after each run
// ends). With a breaker, a failed trial reopens it for Open × (1 + U ×
// BreakerJitter), U uniform in [0, 1); the next trial is made by the first
// check after that. A background check's timer restarts when the trial
// ends, so the trial lands on the k-th tick after it, k = ceil(open /
// Interval); the kubelet's ticker runs on regardless, so an on-request
// trial lands on the first probe at least hold + open after the last one.
// The check interval's own jitter is ignored (it shifts single ticks by up
// to CheckJitter × Interval without changing the mean much).
func (p Params) Cycle(s Scenario, f Fault) float64 {
	h := p.hold(s, f)
	lo, hi := seconds(p.Open), seconds(p.Open)*(1+p.BreakerJitter)
	switch s {
	case OnRequestNoBreaker, OnRequestLiveToo:
		return seconds(p.Period)
	case BackgroundNoBreaker:
		return seconds(p.Interval) + h
	case BackgroundBreaker:
		return h + seconds(p.Interval)*expectedCeil(lo, hi, seconds(p.Interval))
	case OnRequestBreaker:
		return seconds(p.Period) * expectedCeil(h+lo, h+hi, seconds(p.Period))
	}
	panic("unknown scenario")
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
// began, which then fails. A background check then waits out the longest
// open period, Open × (1 + BreakerJitter), and makes its trial at the next
// tick, at most one jittered interval later; or, counting ticks, at the
// latest after the most ticks of the shortest length that can fit in the
// longest open period, each of the longest length. The kubelet's ticker
// does not restart, so an on-request trial comes with the first probe
// tick at least hold + open after the failed one.
func (p Params) RecoverWithin(s Scenario, f Fault) float64 {
	h := p.hold(s, f)
	open := seconds(p.Open) * (1 + p.BreakerJitter)
	longTick, shortTick := seconds(p.Interval)*(1+p.CheckJitter), seconds(p.Interval)*(1-p.CheckJitter)
	switch s {
	case BackgroundNoBreaker:
		return h + longTick
	case BackgroundBreaker:
		return h + math.Min(open+longTick, math.Ceil(open/shortTick)*longTick)
	case OnRequestBreaker:
		return seconds(p.Period) * math.Ceil((h+open)/seconds(p.Period))
	}
	return seconds(p.Period)
}

// RecoverMean returns the mean time from the dependency's recovery until
// readiness passes again, for a recovery at a random moment: half a cycle.
func (p Params) RecoverMean(s Scenario, f Fault) float64 {
	return p.Cycle(s, f) / 2
}

// Herd is the peak rate of trial calls, fleet-wide, in calls per second,
// when every pod's breaker opened at the same moment: a trial comes at the
// jittered end of the open period (spread uniformly over Open × jitter),
// then waits for whatever makes it, spread uniformly over window: the next
// check tick (window = Interval, the pods' check phases being independent),
// the next probe (window = Period), or, for application traffic, nothing
// (window = how far apart traffic opened the breakers). The peak density of
// the sum of two uniform spreads is 1 / the wider one. At recovery the
// trials that succeed are followed at once by each pod's traffic and its
// connection pool refilling, so this is also the rate at which pods come
// back.
func (p Params) Herd(window time.Duration, jitter float64) float64 {
	w := math.Max(seconds(window), seconds(p.Open)*jitter)
	if w == 0 {
		return math.Inf(1)
	}
	return float64(p.Pods) / w
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
