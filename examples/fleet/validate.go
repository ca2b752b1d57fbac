package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/sony/gobreaker/v2"
)

// Measured is what a validation run saw of one scenario, in the run's own
// time (scaled, or a synctest bubble's).
//
// The load is measured per pod, from the gaps between one pod's consecutive
// calls and from how long each call held its connection, rather than by
// counting calls fleet-wide in a window: pods whose breakers opened close
// together make their trials in waves, and a count over a few cycles would
// depend on where the window cuts the waves.
//
// The recovery is measured per pod too: the dependency comes back for each
// pod at a moment of its own, drawn uniformly over a window a few cycles
// long, so that the pods sample every phase of their cycle, as recoveries
// at random moments do.
type Measured struct {
	Cycle time.Duration // mean gap between a pod's consecutive calls
	// CycleErr is the standard error of Cycle, taking the gaps for
	// independent: jittered gaps vary, and the window holds a sample.
	CycleErr time.Duration
	Hold     time.Duration // mean time a call held its connection
	Calls    int           // calls that started within the window

	Recovered int // pods whose readiness passed after their recovery
	// Missed counts the pods left out of the recovery figures because a
	// call they made after their recovery failed all the same: on a busy
	// machine, with time scaled down, a dial or an answer can take longer
	// than the timeout. The model takes a call to a healthy dependency to
	// succeed.
	Missed  int
	Recover time.Duration // mean time from a pod's recovery until its readiness passed
	// RecoverErr is the standard error of Recover: recoveries at random
	// moments vary by up to a cycle, and the pods are a sample of them.
	RecoverErr time.Duration
	RecoverMax time.Duration // the longest of those times
}

// CallsPerPod returns calls per second per pod.
func (m Measured) CallsPerPod() float64 { return 1 / m.Cycle.Seconds() }

// HeldPerPod returns the connections one pod holds open on average
// (Little's law).
func (m Measured) HeldPerPod() float64 { return m.Hold.Seconds() / m.Cycle.Seconds() }

// Validation is the outcome of Validate.
type Validation struct {
	Scenarios map[Scenario]Measured
	Herd      HerdMeasured
}

// sink is a dependency that blackholes: it accepts every connection, never
// answers, and records which pod opened it (the pod's first line), when,
// and when the pod gave up. It answers a pod's calls made before
// healthyUntil or after the pod's own recovery moment: one byte, which the
// pod's check takes as a pass.
type sink struct {
	l    net.Listener
	dial DialFunc // reaches l
	wg   sync.WaitGroup

	mu           sync.Mutex
	closing      bool
	spans        []span
	open         map[net.Conn]int // index into spans
	healthyUntil time.Time
	recoverAt    map[int]time.Time // by pod
}

type span struct {
	pod        int
	live       bool      // made by a liveness probe (scenario (a'))
	start, end time.Time // end zero: still open
}

func newSink(nw Network, healthyUntil time.Time, recoverAt map[int]time.Time) (*sink, error) {
	l, dial, err := nw()
	if err != nil {
		return nil, err
	}
	s := &sink{l: l, dial: dial, open: make(map[net.Conn]int), healthyUntil: healthyUntil, recoverAt: recoverAt}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *sink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		start := time.Now()
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.spans = append(s.spans, span{pod: -1, start: start})
		s.open[c] = len(s.spans) - 1
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			pod, live := -1, false
			if line, err := bufio.NewReader(io.LimitReader(c, 32)).ReadString('\n'); err == nil {
				f := strings.Fields(line)
				if len(f) > 0 {
					pod, _ = strconv.Atoi(f[0])
				}
				live = len(f) > 1 && f[1] == "live"
			}
			s.mu.Lock()
			at, recovers := s.recoverAt[pod]
			answer := pod >= 0 && (start.Before(s.healthyUntil) || recovers && !start.Before(at))
			s.mu.Unlock()
			if answer {
				_, _ = c.Write([]byte{'+'})
			}
			_, _ = io.Copy(io.Discard, c) // until the client gives up or is done
			s.mu.Lock()
			if i, ok := s.open[c]; ok {
				s.spans[i].pod, s.spans[i].live, s.spans[i].end = pod, live, time.Now()
				delete(s.open, c)
			}
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// close stops accepting, closes the connections still open, and returns
// once every connection is recorded.
func (s *sink) close() {
	_ = s.l.Close()
	s.mu.Lock()
	s.closing = true
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// measure returns the mean gap from a call of one pod to its next call,
// over calls that started within [from, to), and the mean hold of those
// of them that ended. The gap is the one that follows each such call,
// wherever it ends: requiring the next call to start within the window too
// would leave out more of the long gaps than of the short ones. A call
// made before the dependency recovers fails, and when the pod calls next
// is settled by then, so the recoveries after to do not bias the gaps; the
// caller measures once the next calls have been made.
func (s *sink) measure(from, to time.Time) Measured {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m Measured
	pending := make(map[int]time.Time) // by pod: the start of its last call within the window
	var gaps []float64
	var holds time.Duration
	var nHolds int
	for _, sp := range s.spans { // in order of acceptance
		if sp.pod < 0 {
			continue
		}
		if prev, ok := pending[sp.pod]; ok {
			gaps = append(gaps, sp.start.Sub(prev).Seconds())
			delete(pending, sp.pod)
		}
		if sp.start.Before(from) || !sp.start.Before(to) {
			continue
		}
		m.Calls++
		pending[sp.pod] = sp.start
		if !sp.end.IsZero() {
			holds += sp.end.Sub(sp.start)
			nHolds++
		}
	}
	mean, sd := meanStdDev(gaps)
	m.Cycle = secondsDuration(mean)
	if len(gaps) > 1 {
		m.CycleErr = secondsDuration(sd / math.Sqrt(float64(len(gaps))))
	}
	if nHolds > 0 {
		m.Hold = holds / time.Duration(nHolds)
	}
	return m
}

// dial is the check pod runs: connect, say who it is, and wait for an
// answer, until the context's deadline. One byte is a healthy answer; a
// blackholed dependency never gives one.
func dial(connect DialFunc, pod int, live bool) health.CheckFunc {
	hello := strconv.Itoa(pod)
	if live {
		hello += " live"
	}
	msg := []byte(hello + "\n")
	return func(ctx context.Context) error {
		c, err := connect(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		if _, err := c.Write(msg); err != nil {
			return err
		}
		_, err = c.Read(make([]byte, 1))
		return err
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

// callLog records the calls the pods' checks make, as the pods see them.
type callLog struct {
	mu    sync.Mutex
	calls map[int][]call // by pod, in the order they returned
}

type call struct {
	start  time.Time
	failed bool
}

// record returns check, recording each of its calls.
func (l *callLog) record(pod int, check health.CheckFunc) health.CheckFunc {
	return func(ctx context.Context) error {
		start := time.Now()
		err := check(ctx)
		l.mu.Lock()
		if l.calls == nil {
			l.calls = make(map[int][]call)
		}
		l.calls[pod] = append(l.calls[pod], call{start: start, failed: err != nil})
		l.mu.Unlock()
		return err
	}
}

// failedAfter reports whether a call pod started at or after from, and
// before until unless that is zero, failed.
func (l *callLog) failedAfter(pod int, from, until time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.calls[pod] {
		if c.failed && !c.start.Before(from) && (until.IsZero() || c.start.Before(until)) {
			return true
		}
	}
	return false
}

// firsts returns, for each pod, when its first call at or after from
// started.
func (l *callLog) firsts(from time.Time) map[int]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := make(map[int]time.Time)
	for pod, calls := range l.calls {
		for _, c := range calls {
			if f, ok := first[pod]; !c.start.Before(from) && (!ok || c.start.Before(f)) {
				first[pod] = c.start
			}
		}
	}
	return first
}

// readiness records when each pod's readiness first passed.
type readiness struct {
	mu     sync.Mutex
	passed map[int]time.Time
}

func (r *readiness) pass(pod int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.passed[pod]; !ok {
		r.passed[pod] = at
	}
}

func (r *readiness) get(pod int) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.passed[pod]
	return at, ok
}

// fleet runs pods of one scenario against a sink of their own.
type fleet struct {
	sink      *sink
	regs      []*health.Registry
	ready     readiness
	calls     callLog
	recoverAt map[int]time.Time
	cancel    context.CancelFunc
	wg        sync.WaitGroup
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
	failures := uint32(p.Failures)
	breaker := health.WithBreaker(gobreaker.Settings{
		Timeout:     p.Open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
	})
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
		// Readiness passes while the group is empty, then fails once the
		// check is registered: the pass that counts follows a failure.
		reg := health.New(health.OnStatusChange(func(ev health.Event) {
			if ev.Group == health.Readiness && ev.Check == "" && ev.From == health.StatusFail && ev.To == health.StatusPass {
				f.ready.pass(pod, ev.Time)
			}
		}))
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
			_ = f.stop()
			return nil, err
		}
		if s == OnRequestBreaker {
			prober(ctx, &f.wg, p, func(ctx context.Context) { _, _ = reg.Check(ctx, health.Readiness) })
		}
	}
	return f, nil
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
	var err error
	for _, r := range f.regs {
		err = errors.Join(err, r.Close())
	}
	f.sink.close()
	return err
}

func meanStdDev(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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
