package subject

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// BackgroundInterval is how often background checks run: the kubelet's
// default probe period, long enough that no scheduled run lands inside a
// measurement of a few seconds more than once.
const BackgroundInterval = 10 * time.Second

// settleTimeout bounds the wait for background checks' first results; they
// are instant or 1 ms checks, so this is slack for a loaded machine only.
const settleTimeout = 10 * time.Second

// A Subject is a running instance of a Spec: its readiness handler and the
// count of check runs it has made. Close it when done; a Subject is safe
// for concurrent requests, as its library is.
type Subject struct {
	Spec
	// Handler serves the readiness endpoint: 200 when every check passes.
	Handler http.Handler

	runs  *atomic.Int64
	close func()
}

// Start builds the subject for s and, in Background mode, waits until
// every check has reported so that what is measured is the steady state.
// It returns an error for a spec that is not valid or not Supported, or
// when the checks do not settle within 10 s (or ctx ends first).
func Start(ctx context.Context, s Spec) (*Subject, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	sub := &Subject{Spec: s, runs: new(atomic.Int64), close: func() {}}
	check := checkFunc(s.Kind, sub.runs)
	var settle func(context.Context) error
	switch s.Lib {
	case Bare:
		sub.Handler = bareHandler()
	case Probekit:
		settle = startProbekit(sub, check)
	case Alexliesenfeld:
		settle = startAlexliesenfeld(sub, check)
	case Hellofresh:
		if err := startHellofresh(sub, check); err != nil {
			return nil, fmt.Errorf("subject %s: %w", s.Name(), err)
		}
	}
	if s.Mode == Background && settle != nil {
		ctx, cancel := context.WithTimeout(ctx, settleTimeout)
		defer cancel()
		if err := settle(ctx); err != nil {
			sub.Close()
			return nil, fmt.Errorf("subject %s: background checks did not settle: %w", s.Name(), err)
		}
	}
	return sub, nil
}

// Runs returns how many times the subject's checks have run in total.
func (s *Subject) Runs() int64 { return s.runs.Load() }

// Close stops the subject's background work and waits for it where the
// library allows. It is safe to call more than once.
func (s *Subject) Close() {
	s.close()
	s.close = func() {}
}

// checkFunc returns the check every library registers: it counts its runs
// (so Verify can tell on-request from background) and does the kind's work.
func checkFunc(kind Kind, runs *atomic.Int64) func(context.Context) error {
	if kind == Sleep1ms {
		return func(context.Context) error {
			runs.Add(1)
			time.Sleep(time.Millisecond)
			return nil
		}
	}
	return func(context.Context) error {
		runs.Add(1)
		return nil
	}
}
