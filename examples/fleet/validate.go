package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/sony/gobreaker/v2"
)

// Measured is what a validation run saw at one blackholed dependency, in
// the run's own (scaled) time. It is measured per pod, from the gaps between
// one pod's consecutive calls and from how long each call held its
// connection, rather than by counting calls fleet-wide in a window: pods
// whose breakers opened in the same check interval make their trials in
// waves, and a count over a few cycles would depend on where the window
// cuts the waves.
type Measured struct {
	Cycle time.Duration // mean gap between a pod's consecutive calls
	Hold  time.Duration // mean time a call held its connection
	Calls int           // calls that started within the window
}

// CallsPerPod returns calls per second per pod.
func (m Measured) CallsPerPod() float64 { return 1 / m.Cycle.Seconds() }

// HeldPerPod returns the connections one pod holds open on average
// (Little's law).
func (m Measured) HeldPerPod() float64 { return m.Hold.Seconds() / m.Cycle.Seconds() }

// sink is a dependency that blackholes: it accepts every connection, never
// answers, and records which pod opened it (the pod's first line), when, and
// when the pod gave up.
type sink struct {
	l  net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex
	spans []span
	open  map[net.Conn]int // index into spans
}

type span struct {
	pod        int
	start, end time.Time // end zero: still open
}

func newSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{l: l, open: make(map[net.Conn]int)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *sink) addr() string { return s.l.Addr().String() }

func (s *sink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.open == nil { // closing
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.spans = append(s.spans, span{start: time.Now()})
		s.open[c] = len(s.spans) - 1
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			pod := -1
			if line, err := bufio.NewReader(io.LimitReader(c, 16)).ReadString('\n'); err == nil {
				pod, _ = strconv.Atoi(strings.TrimSpace(line))
			}
			_, _ = io.Copy(io.Discard, c) // until the client gives up
			s.mu.Lock()
			if i, ok := s.open[c]; ok {
				s.spans[i].pod, s.spans[i].end = pod, time.Now()
				delete(s.open, c)
			}
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

func (s *sink) close() {
	_ = s.l.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.open = nil
	s.mu.Unlock()
	s.wg.Wait()
}

// measure returns the mean gap between consecutive calls of one pod, and
// the mean hold of a call, over calls that started within [from, to) and
// ended.
func (s *sink) measure(from, to time.Time) Measured {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m Measured
	last := make(map[int]time.Time)
	var gaps, holds time.Duration
	var nGaps, nHolds int
	for _, sp := range s.spans { // in order of acceptance
		if sp.start.Before(from) || !sp.start.Before(to) || sp.end.IsZero() || sp.pod < 0 {
			continue
		}
		m.Calls++
		holds += sp.end.Sub(sp.start)
		nHolds++
		if prev, ok := last[sp.pod]; ok {
			gaps += sp.start.Sub(prev)
			nGaps++
		}
		last[sp.pod] = sp.start
	}
	if nGaps > 0 {
		m.Cycle = gaps / time.Duration(nGaps)
	}
	if nHolds > 0 {
		m.Hold = holds / time.Duration(nHolds)
	}
	return m
}

// dial is the check pod runs: connect, say who it is, and wait for an
// answer that a blackholed dependency never gives, until the context's
// deadline.
func dial(addr string, pod int) health.CheckFunc {
	hello := []byte(strconv.Itoa(pod) + "\n")
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		if _, err := c.Write(hello); err != nil {
			return err
		}
		if _, err := c.Read(make([]byte, 1)); err != nil {
			return err
		}
		return errors.New("the dependency answered")
	}
}

// prober probes like the kubelet: on a fixed ticker, after a random initial
// delay, each probe bounded by the probe timeout, until ctx is done.
func prober(ctx context.Context, wg *sync.WaitGroup, p Params, probe func(context.Context)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		first := time.NewTimer(rand.N(p.Period))
		defer first.Stop()
		select {
		case <-ctx.Done():
			return
		case <-first.C:
		}
		tick := time.NewTicker(p.Period)
		defer tick.Stop()
		for {
			pctx, cancel := context.WithTimeout(ctx, p.ProbeTimeout)
			probe(pctx)
			cancel()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// fleet runs pods pods of scenario s against a blackholed sink.
type fleet struct {
	sink   *sink
	regs   []*health.Registry
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startFleet(p Params, s Scenario, pods int) (*fleet, error) {
	sk, err := newSink()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{sink: sk, cancel: cancel}
	failures := uint32(p.Failures)
	breaker := health.WithBreaker(gobreaker.Settings{
		Timeout:     p.Open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
	})
	for pod := range pods {
		check := dial(sk.addr(), pod)
		switch s {
		case OnRequestNoBreaker, OnRequestLiveToo:
			// A hand-written handler: no library, the probe's own
			// deadline is the only bound.
			probe := func(ctx context.Context) { _ = check(ctx) }
			prober(ctx, &f.wg, p, probe)
			if s == OnRequestLiveToo {
				prober(ctx, &f.wg, p, probe)
			}
			continue
		}
		reg := health.New()
		f.regs = append(f.regs, reg)
		var opts []health.CheckOption
		switch s {
		case BackgroundNoBreaker:
			opts = []health.CheckOption{health.Every(p.Interval), health.Jitter(p.CheckJitter), health.InitialDelay(rand.N(p.Interval))}
		case BackgroundBreaker:
			opts = []health.CheckOption{health.Dependency(), breaker,
				health.Every(p.Interval), health.Jitter(p.CheckJitter), health.InitialDelay(rand.N(p.Interval))}
		case OnRequestBreaker:
			opts = []health.CheckOption{health.Dependency(), breaker}
		}
		opts = append(opts, health.Timeout(p.Timeout))
		if err := reg.Register(health.Readiness, "dependency", check, opts...); err != nil {
			f.stop()
			return nil, err
		}
		if s == OnRequestBreaker {
			prober(ctx, &f.wg, p, func(ctx context.Context) { _, _ = reg.Check(ctx, health.Readiness) })
		}
	}
	return f, nil
}

func (f *fleet) stop() error {
	f.cancel()
	f.wg.Wait()
	var err error
	for _, r := range f.regs {
		err = errors.Join(err, r.Close())
	}
	f.sink.close()
	return err
}

// Validate runs every scenario at once, pods pods each, in scaled time
// (p should already be scaled), against a blackholed dependency per
// scenario: it waits warm for the fleets to settle into their outage
// behaviour, then measures for window.
func Validate(ctx context.Context, p Params, pods int, warm, window time.Duration) (map[Scenario]Measured, error) {
	fleets := make(map[Scenario]*fleet, len(Scenarios))
	stopAll := func() error {
		var err error
		for _, f := range fleets {
			err = errors.Join(err, f.stop())
		}
		return err
	}
	for _, s := range Scenarios {
		f, err := startFleet(p, s, pods)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%v: %w", s, err), stopAll())
		}
		fleets[s] = f
	}
	from := time.Now().Add(warm)
	to := from.Add(window)
	t := time.NewTimer(time.Until(to))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), stopAll())
	case <-t.C:
	}
	out := make(map[Scenario]Measured, len(fleets))
	for s, f := range fleets {
		out[s] = f.sink.measure(from, to)
	}
	return out, stopAll()
}
