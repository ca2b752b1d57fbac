package main

import (
	"context"
	"errors"
	"time"

	"github.com/probekit/probekit/health"
)

// HerdMeasured is what a validation run saw of the herd: pods with
// background dependency checks whose breakers application traffic opened
// at the same moment, in the run's own time (see Measured).
type HerdMeasured struct {
	Trials int // pods whose trial was seen
	// Delays of the trials from the moment the breakers were opened.
	Min, Mean, Max, StdDev time.Duration
}

// Herd runs pods background dependency checks (in p's time, on nw: see
// Validate) against a dependency that answers for one check
// interval, then stops answering at the moment application traffic opens
// every breaker at once, and returns the delays of the trials from that
// moment, as the checks made them.
func Herd(ctx context.Context, nw Network, p Params, pods int) (HerdMeasured, error) {
	at := time.Now().Add(p.Interval)
	f, err := startFleet(p, BackgroundBreaker, pods, fleetConfig{network: nw, healthyUntil: at})
	if err != nil {
		return HerdMeasured{}, err
	}
	f.registered.Wait()
	var breakers []*health.Breaker
	for _, reg := range f.regs {
		b, err := reg.Breaker("dependency")
		if err != nil {
			return HerdMeasured{}, errors.Join(err, f.stop())
		}
		breakers = append(breakers, b)
	}
	// The dependency fails for the application at the moment its checks
	// start to be blackholed: every pod's traffic opens its breaker.
	if err := sleepUntil(ctx, at); err != nil {
		return HerdMeasured{}, errors.Join(err, f.stop())
	}
	traffic := errors.New("application call failed")
	opened := time.Now()
	for _, b := range breakers {
		for range p.Failures {
			_ = b.Execute(func() error { return traffic })
		}
	}
	// A trial is due within Open × (1 + BreakerJitter) of the opening.
	// Calls before half the open period are checks that were under way.
	end := opened.Add(time.Duration(float64(p.Open)*(1+p.BreakerJitter)) + p.Timeout + p.Interval)
	if err := sleepUntil(ctx, end); err != nil {
		return HerdMeasured{}, errors.Join(err, f.stop())
	}
	var delays []float64
	var m HerdMeasured
	for _, start := range f.calls.firsts(opened.Add(p.Open / 2)) {
		d := start.Sub(opened)
		delays = append(delays, d.Seconds())
		if m.Trials == 0 || d < m.Min {
			m.Min = d
		}
		m.Max = max(m.Max, d)
		m.Trials++
	}
	mean, sd := meanStdDev(delays)
	m.Mean, m.StdDev = secondsDuration(mean), secondsDuration(sd)
	return m, f.stop()
}

func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
