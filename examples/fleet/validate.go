package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Validation is the outcome of Validate.
type Validation struct {
	Scenarios map[Scenario]Measured
	Herd      HerdMeasured
}

// Validate runs every scenario at once, pods pods each, against a
// blackholed dependency per scenario on nw. Over TCP, in real time, p
// should be scaled down to keep the run short; with Pipes inside a
// testing/synctest bubble, the model's own durations cost no real time,
// and timers fire on time however busy the machine is. It waits warm for the fleets to settle into their outage
// behaviour, then measures the load for window; then the dependency
// recovers for each pod at a moment drawn uniformly over a second window,
// and it waits for their readiness to pass. Meanwhile, unless herdPods is
// 0, a fleet of herdPods background dependency checks, whose breakers
// application traffic opens all at once, measures the herd (see Herd).
func Validate(ctx context.Context, nw Network, p Params, pods, herdPods int, warm, window time.Duration) (Validation, error) {
	if p.CheckJitter != libCheckJitter || p.BreakerJitter != libBreakerJitter {
		return Validation{}, fmt.Errorf("the health package's jitters are %g (checks) and %g (breakers), not options: validate with those",
			libCheckJitter, libBreakerJitter)
	}
	start := time.Now()
	from := start.Add(warm)
	to := from.Add(window)
	fleets := make(map[Scenario]*fleet, len(Scenarios))
	stopAll := func() error {
		var err error
		for _, f := range fleets {
			err = errors.Join(err, f.stop())
		}
		return err
	}
	var slowest float64
	for _, s := range Scenarios {
		recoverAt := make(map[int]time.Time, pods)
		for pod := range pods {
			recoverAt[pod] = to.Add(rand.N(window))
		}
		f, err := startFleet(p, s, pods, fleetConfig{network: nw, recoverAt: recoverAt})
		if err != nil {
			return Validation{}, errors.Join(fmt.Errorf("%v: %w", s, err), stopAll())
		}
		fleets[s] = f
		slowest = math.Max(slowest, p.RecoverWithin(s, Blackhole))
	}
	out := Validation{Scenarios: make(map[Scenario]Measured, len(fleets))}
	if herdPods > 0 {
		// The herd runs while the others settle.
		h, err := Herd(ctx, nw, p, herdPods)
		if err != nil {
			return Validation{}, errors.Join(fmt.Errorf("herd: %w", err), stopAll())
		}
		out.Herd = h
	}
	// The last recovery comes at the end of the second window; readiness
	// passes within the slowest scenario's bound of it, plus slack for a
	// busy machine. By then every pod has made the call that follows its
	// last one within the first window, since the second window is longer
	// than a cycle.
	if err := sleepUntil(ctx, to.Add(window+secondsDuration(slowest*1.25)+p.Timeout)); err != nil {
		return Validation{}, errors.Join(err, stopAll())
	}
	for s, f := range fleets {
		m := f.sink.measure(from, to)
		f.recovery(&m)
		out.Scenarios[s] = m
	}
	return out, stopAll()
}
