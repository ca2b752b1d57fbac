// Package healthtest helps the tests of services that use probekit's health
// package: it sends a request to a handler and decodes the health report,
// asserts on status codes, waits for a group to settle without sleeping, and
// provides checks the test controls.
//
// A test of a service's health wiring usually reads:
//
//	func TestNotReadyTakesPodOutOfRotation(t *testing.T) {
//		app := newApp(t)                                    // builds a *health.Registry and a mux
//		healthtest.WaitStatus(t, app.reg, health.Readiness, health.StatusPass)
//		app.reg.MarkNotReady("maintenance")
//		healthtest.AssertStatus(t, app.mux, "/ready", http.StatusServiceUnavailable)
//		healthtest.AssertStatus(t, app.mux, "/", http.StatusOK) // liveness is unaffected
//	}
//
// The helpers take a testing.TB and report through it; they never sleep.
// The package imports only the standard library and health.
package healthtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// DefaultWait is how long WaitStatus waits for a group to reach a status
// before failing the test: far longer than a background check takes to
// settle on an idle machine, short enough that a test waiting for a status
// that never comes fails within the go test default timeout.
const DefaultWait = 5 * time.Second

// WaitStatus waits until group g of reg has status want, re-evaluating the
// group whenever the registry reports a change (see Wait),
// and returns the report that had it. If want has not been reached within
// DefaultWait, or the test's context ends first, it fails the test with
// t.Fatalf, listing every entry that is not passing with its reason.
func WaitStatus(t testing.TB, reg *health.Registry, g health.Group, want health.Status) health.Report {
	t.Helper()
	return WaitStatusWithin(t, reg, g, want, DefaultWait)
}

// WaitStatusWithin is WaitStatus with a deadline of d instead of DefaultWait.
// d must be positive.
func WaitStatusWithin(t testing.TB, reg *health.Registry, g health.Group, want health.Status, d time.Duration) health.Report {
	t.Helper()
	if reg == nil {
		t.Fatalf("healthtest: WaitStatus: nil registry")
	}
	if d <= 0 {
		t.Fatalf("healthtest: WaitStatus: wait must be positive, got %v", d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	rep, err := Wait(ctx, reg, g, want)
	if err != nil {
		t.Fatalf("healthtest: %s did not become %s within %v: %v%s", g, want, d, err, Describe(rep))
	}
	return rep
}

// pollOnRequest is how often Wait runs the checks of a group that has
// checks running on request: those change only when something runs them.
const pollOnRequest = 25 * time.Millisecond

// Wait waits until group g of reg has status want (pass, warn or fail), or
// ctx is done, and returns the last report it saw. It evaluates the group
// as a probe does (reg.Check) whenever the registry reports a change
// (reg.Changed), and every 25 ms while the group has checks that run on
// request, so that a test waits for a background check to settle without
// sleeping. On ctx's end the error wraps ctx.Err() and names the entries
// not passing; once reg is closed (its statuses no longer change) it
// returns at once with an error wrapping health.ErrClosed. It is the one
// way probekit waits for a status; WaitStatus is Wait for tests.
func Wait(ctx context.Context, reg *health.Registry, g health.Group, want health.Status) (health.Report, error) {
	if want != health.StatusPass && want != health.StatusWarn && want != health.StatusFail {
		return health.Report{}, fmt.Errorf("healthtest: wait for %s to be %s: a group is only ever pass, warn or fail", g, want)
	}
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		changed := reg.Changed()
		rep, err := reg.Check(ctx, g)
		if err == nil && rep.Status == want {
			return rep, nil
		}
		if err != nil && ctx.Err() == nil {
			return rep, err
		}
		select {
		case <-reg.Done(): // nothing will change any more, and Changed stays closed
			return rep, fmt.Errorf("healthtest: %s is %s, not %s: %w", g, rep.Status, want, health.ErrClosed)
		default:
		}
		var tick <-chan time.Time
		if onRequest(reg, g) {
			changed = reg.Changed() // the runs just made have signalled already
			poll.Reset(pollOnRequest)
			tick = poll.C
		}
		select {
		case <-changed:
		case <-tick:
		case <-ctx.Done():
			var failing []string
			for _, c := range rep.Checks {
				if c.Status != health.StatusPass {
					failing = append(failing, c.Name+" "+c.Status.String())
				}
			}
			return rep, fmt.Errorf("healthtest: %s is %s, not %s (%s): %w", g, rep.Status, want, strings.Join(failing, ", "), ctx.Err())
		}
	}
}

// onRequest reports whether a probe of g runs checks on request.
func onRequest(reg *health.Registry, g health.Group) bool {
	for _, c := range reg.Contract().Runs(g.String()) {
		if c.Every == 0 {
			return true
		}
	}
	return false
}

// Describe lists the entries of rep that are not passing, one per line, with
// their reasons (in-process reports carry them; HTTP responses withhold
// them). It returns "" when every entry passes, so it can be appended to a
// failure message as is.
func Describe(rep health.Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		if c.Status == health.StatusPass {
			continue
		}
		fmt.Fprintf(&b, "\n\t%s: %s", c.Name, c.Status)
		if c.Err != nil {
			fmt.Fprintf(&b, ": %v", c.Err)
		}
	}
	return b.String()
}

// Fixed returns a check that always returns err: nil for a check that
// always passes, health.Warn(err) for one that always warns.
func Fixed(err error) health.CheckFunc {
	return func(context.Context) error { return err }
}

// Switch is a check whose verdict the test sets: a real check, registered
// like any other, that passes or fails on command: register the *Switch
// itself (a health.Checker of the process's own state). The zero value
// passes; it is safe for concurrent use.
//
// Set takes effect at the check's next run: at once for checks that run on
// request (the next probe sees it), and at the next interval for background
// checks (CheckOptions.Every), so follow Set with WaitStatus.
type Switch struct {
	mu   sync.Mutex
	err  error
	runs int
}

// ErrSwitchedOff is a convenient error to Set when the reason does not matter.
var ErrSwitchedOff = errors.New("healthtest: switched off")

// Set makes the check return err from its next run on; nil makes it pass.
func (s *Switch) Set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Check makes a *Switch a health.Checker: it returns the error last given
// to Set and counts the run.
func (s *Switch) Check(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs++
	return s.err
}

// Runs returns how many times Check has been called, so that a test can
// tell whether a probe ran the check or was answered from a stored result.
func (s *Switch) Runs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs
}
