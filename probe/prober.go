package probe

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Kind is one of the three kinds of Kubernetes probe. It decides a Prober's
// initial state and when it stops. The zero value is not a valid Kind.
type Kind uint8

const (
	// Readiness starts as Failure (not ready) and never stops by itself:
	// the kubelet keeps probing readiness for the container's whole life.
	Readiness Kind = iota + 1
	// Liveness starts as Success (alive). Reaching Failure means the
	// kubelet would restart the container, so the Prober stops there.
	Liveness
	// Startup starts as Unknown. Reaching Success means the container has
	// started, and reaching Failure that it would be restarted; either way
	// the Prober stops there.
	Startup
)

// String returns "readiness", "liveness" or "startup".
func (k Kind) String() string {
	switch k {
	case Readiness:
		return "readiness"
	case Liveness:
		return "liveness"
	case Startup:
		return "startup"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// initial is the state the kubelet publishes for a new container
// (pkg/kubelet/prober/worker.go, newWorker).
func (k Kind) initial() Result {
	switch k {
	case Readiness:
		return Failure
	case Liveness:
		return Success
	}
	return Unknown
}

// final reports whether the kubelet stops probing a container once this
// kind of probe has reached state r (worker.go puts the worker on hold).
func (k Kind) final(r Result) bool {
	return (k == Liveness && r == Failure) || (k == Startup && r != Unknown)
}

// Defaults of the Settings fields, the Kubernetes defaults.
const (
	DefaultPeriod           = 10 * time.Second
	DefaultSuccessThreshold = 1
	DefaultFailureThreshold = 3
)

// maxAttempts is the kubelet's maxProbeRetries: how many times one probe
// is tried in a row while it errors.
const maxAttempts = 3

// Settings configures a Prober like the fields of a Kubernetes probe, in
// durations rather than seconds so that tests can run fast. A zero field
// means the Kubernetes default given below; a negative one is an error.
type Settings struct {
	// InitialDelay is how long after Run starts probing begins. Probes are
	// still aligned on Period, as in the kubelet: the first one happens at
	// the first multiple of Period not before InitialDelay. Zero means no
	// delay.
	InitialDelay time.Duration
	// Period is the interval between the starts of two probes; a probe
	// that takes longer delays the next one rather than overlapping it.
	// Zero means DefaultPeriod (10 s).
	Period time.Duration
	// Timeout bounds each probe attempt. Zero means DefaultTimeout (1 s).
	Timeout time.Duration
	// SuccessThreshold is how many consecutive successes turn the state to
	// Success. Zero means DefaultSuccessThreshold (1); Liveness and Startup
	// probes accept only 1, as the Kubernetes API does.
	SuccessThreshold int
	// FailureThreshold is how many consecutive failures turn the state to
	// Failure. Zero means DefaultFailureThreshold (3).
	FailureThreshold int
	// OnTransition, if not nil, is called on Run's goroutine, in order,
	// for the initial state when Run starts and for each change of state
	// after it. Run waits for it, so it should return quickly.
	OnTransition func(Transition)
}

// Transition is a change of a Prober's state.
type Transition struct {
	// Kind is the Prober's kind.
	Kind Kind
	// From is the previous state; it is Unknown for the report of the
	// initial state.
	From Result
	// To is the new state: Unknown, Success or Failure.
	To Result
	// Outcome is the probe that completed the threshold; it is the zero
	// Outcome for the report of the initial state.
	Outcome Outcome
}

// Prober repeats an Action and derives a state from its outcomes the way the
// kubelet does. It is created by NewProber and started by Run.
//
// Only consecutive outcomes count: SuccessThreshold successes in a row make
// the state Success, FailureThreshold failures in a row make it Failure,
// and anything else leaves it alone. A Warning counts as a success. A probe
// that returns an error is retried at once, up to three attempts in all;
// if every attempt errors, that probe is ignored, neither success nor
// failure, exactly as in the kubelet (pkg/kubelet/prober/prober.go and
// worker.go). An action that always errors thus leaves the initial state
// in place.
//
// The kubelet's other behaviours that depend on the cluster (the jitter of
// the first probe after a kubelet restart, pausing liveness and readiness
// until startup succeeds, stopping liveness while a pod terminates) are
// left to the caller, who can combine several Probers.
type Prober struct {
	kind    Kind
	action  Action
	s       Settings
	state   atomic.Uint32 // a Result
	running atomic.Bool
}

// NewProber returns a Prober of kind k that runs a with settings s. It
// returns an error wrapping ErrInvalid if k is not a Kind, a is nil, a
// field of s is negative, or a Liveness or Startup probe is given a
// SuccessThreshold other than 1.
func NewProber(k Kind, a Action, s Settings) (*Prober, error) {
	if k < Readiness || k > Startup {
		return nil, invalidf("unknown probe kind %v", k)
	}
	if a == nil {
		return nil, invalidf("%v probe has a nil Action", k)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"InitialDelay", s.InitialDelay}, {"Period", s.Period}, {"Timeout", s.Timeout}} {
		if d.v < 0 {
			return nil, invalidf("%v probe: %s %v is negative", k, d.name, d.v)
		}
	}
	if s.SuccessThreshold < 0 {
		return nil, invalidf("%v probe: SuccessThreshold %d is negative", k, s.SuccessThreshold)
	}
	if s.FailureThreshold < 0 {
		return nil, invalidf("%v probe: FailureThreshold %d is negative", k, s.FailureThreshold)
	}
	if s.Period == 0 {
		s.Period = DefaultPeriod
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.SuccessThreshold == 0 {
		s.SuccessThreshold = DefaultSuccessThreshold
	}
	if s.FailureThreshold == 0 {
		s.FailureThreshold = DefaultFailureThreshold
	}
	if k != Readiness && s.SuccessThreshold != 1 {
		return nil, invalidf("%v probe: SuccessThreshold must be 1, not %d", k, s.SuccessThreshold)
	}
	p := &Prober{kind: k, action: a, s: s}
	p.state.Store(uint32(k.initial()))
	return p, nil
}

// State returns the current state: Unknown, Success or Failure. Before the
// first Run it is the kind's initial state. It is safe for concurrent use.
func (p *Prober) State() Result { return Result(p.state.Load()) }

// errRunning is returned by a Run that overlaps another.
var errRunning = errors.New("probe: Prober.Run called while it is already running")

// Run probes until ctx is done, and then returns ctx's error; or until the
// state reaches one at which the kubelet stops probing the container
// (Liveness Failure; Startup Success or Failure), and then returns nil.
// It probes at once, then every Period.
//
// If the action turns out to be misconfigured (its error wraps
// ErrInvalid, such as an HTTPGet with a bad URL), Run returns that error
// after reporting the initial state, instead of probing in vain forever.
//
// Each call starts again from the kind's initial state, as the kubelet
// does for a restarted container. Calling Run while another call is running
// returns an error at once. When Run returns, the probe in flight (if any)
// has been canceled and has finished.
func (p *Prober) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errRunning
	}
	defer p.running.Store(false)

	state := p.kind.initial()
	p.state.Store(uint32(state))
	p.report(Transition{Kind: p.kind, From: Unknown, To: state})

	start := time.Now()
	ticker := time.NewTicker(p.s.Period)
	defer ticker.Stop()
	var last Result // the outcome being counted
	run := 0        // how many of it in a row
	for {
		// Like worker.go, skip ticks until InitialDelay has passed rather
		// than sleep for it, so that probes stay aligned on Period.
		if time.Since(start) >= p.s.InitialDelay {
			out, err := p.attempt(ctx)
			if ended(ctx) {
				<-ctx.Done() // a moment at most: its deadline has passed
				return ctx.Err()
			}
			if errors.Is(err, ErrInvalid) {
				return err // it would never get better
			}
			if err == nil {
				r := verdict(out.Result)
				if r == last {
					run++
				} else {
					last, run = r, 1
				}
				if (r == Success && run >= p.s.SuccessThreshold) ||
					(r == Failure && run >= p.s.FailureThreshold) {
					if r != state {
						p.state.Store(uint32(r))
						p.report(Transition{Kind: p.kind, From: state, To: r, Outcome: out})
						state = r
					}
					if p.kind.final(r) {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// attempt runs the action up to maxAttempts times while it errors
// (prober.go, runProbeWithRetries).
func (p *Prober) attempt(ctx context.Context) (out Outcome, err error) {
	for range maxAttempts {
		out, err = p.action.Probe(ctx, p.s.Timeout)
		if err == nil || ended(ctx) {
			break
		}
	}
	return out, err
}

// verdict maps a probe's result to a state as prober.go does: a Warning is
// a success, and an Unknown without an error a failure.
func verdict(r Result) Result {
	if r.Passed() {
		return Success
	}
	return Failure
}

func (p *Prober) report(t Transition) {
	if p.s.OnTransition != nil {
		p.s.OnTransition(t)
	}
}
