package main

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/probekit/probekit/health"
)

// fleet runs pods of one scenario against a sink of their own.
type fleet struct {
	sink      *sink
	regs      []*health.Registry
	ready     readiness
	calls     callLog
	recoverAt map[int]time.Time
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	// registered is done once every pod's check is registered; err holds
	// the first registration that failed.
	registered sync.WaitGroup
	mu         sync.Mutex
	err        error
}

// fleetConfig says how a fleet's dependency behaves.
type fleetConfig struct {
	network      Network
	healthyUntil time.Time         // calls before this are answered
	recoverAt    map[int]time.Time // by pod: calls from this moment are answered
}

func startFleet(p Params, s Scenario, pods int, fc fleetConfig) (*fleet, error) {
	sk, err := newSink(fc.network, fc.healthyUntil, fc.recoverAt)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{sink: sk, cancel: cancel, recoverAt: fc.recoverAt, ready: readiness{passed: make(map[int]time.Time)}}
	for pod := range pods {
		check := f.calls.record(pod, dial(sk.dial, pod, false))
		switch s {
		case OnRequestNoBreaker, OnRequestLiveToo:
			// A hand-written handler: no library, the probe's own
			// deadline is the only bound.
			prober(ctx, &f.wg, p, func(ctx context.Context) {
				if check(ctx) == nil {
					f.ready.pass(pod, time.Now())
				}
			})
			if s == OnRequestLiveToo {
				live := dial(sk.dial, pod, true)
				prober(ctx, &f.wg, p, func(ctx context.Context) { _ = live(ctx) })
			}
			continue
		}
		reg := health.New()
		reg.AddObserver(readyObserver{pod, &f.ready})
		f.regs = append(f.regs, reg)
		checker, opts := podCheck(p, s, check)
		register := func() error { return reg.Register(health.Readiness, "dependency", checker, opts) }
		if opts.Every == 0 {
			if err := register(); err != nil {
				return nil, errors.Join(err, f.stop())
			}
			prober(ctx, &f.wg, p, func(ctx context.Context) { _, _ = reg.Check(ctx, health.Readiness) })
			continue
		}
		// A background check runs at once, then every interval: pods
		// started at random moments check at random phases.
		f.later(ctx, rand.N(p.Interval), register)
	}
	return f, nil
}

// podCheck returns the check a pod of scenario s (one of the library's)
// registers in readiness, calling check, and its options.
func podCheck(p Params, s Scenario, check func(context.Context) error) (health.Checker, health.CheckOptions) {
	opts := health.CheckOptions{Timeout: p.Timeout}
	breaker := health.BreakerSettings{Failures: p.Failures, Open: p.Open}
	switch s {
	case BackgroundNoBreaker:
		opts.Every = p.Interval
		return health.CheckFunc(check), opts
	case BackgroundBreaker:
		opts.Every, opts.Breaker = p.Interval, breaker
	case OnRequestBreaker:
		opts.Breaker = breaker
	}
	return health.DependencyFunc(check), opts
}

// later calls register after d, unless ctx is done first, recording its
// error.
func (f *fleet) later(ctx context.Context, d time.Duration, register func() error) {
	f.registered.Add(1)
	f.wg.Go(func() {
		defer f.registered.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := register(); err != nil {
			f.mu.Lock()
			f.err = cmp.Or(f.err, err)
			f.mu.Unlock()
		}
	})
}

// recovery returns how long each pod's readiness took to pass after its
// recovery moment.
func (f *fleet) recovery(m *Measured) {
	var times []float64
	for pod, at := range f.recoverAt {
		passed, ok := f.ready.get(pod)
		if f.calls.failedAfter(pod, at, passed) {
			m.Missed++
			continue
		}
		if ok {
			d := passed.Sub(at)
			times = append(times, d.Seconds())
			m.RecoverMax = max(m.RecoverMax, d)
		}
	}
	m.Recovered = len(times)
	mean, sd := meanStdDev(times)
	m.Recover = secondsDuration(mean)
	if len(times) > 1 {
		m.RecoverErr = secondsDuration(sd / math.Sqrt(float64(len(times))))
	}
}

func (f *fleet) stop() error {
	f.cancel()
	f.wg.Wait()
	err := f.err
	for _, r := range f.regs {
		err = errors.Join(err, r.Close())
	}
	f.sink.close()
	return err
}
