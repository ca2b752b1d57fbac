package probe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// waitPeriod is how often WaitStatus probes: short, so that tests finish
// soon after the state they wait for is reached, yet far from a busy loop.
const waitPeriod = 20 * time.Millisecond

// WaitReady waits until an HTTP GET of url passes (status 200–399, as for
// the kubelet), polling every few milliseconds. It is
// WaitStatus(ctx, HTTPGet{URL: url}, Success); see there for the details.
func WaitReady(ctx context.Context, url string) error {
	return WaitStatus(ctx, HTTPGet{URL: url}, Success)
}

// WaitStatus probes a every few milliseconds, each time with
// DefaultTimeout, until one probe's result matches want, and then returns
// nil. want must be Success, which a Warning also matches, or Failure. A
// single matching probe is enough: no threshold applies.
//
// WaitStatus gives up when ctx is done, so ctx should carry a deadline. It
// then returns an error that wraps ctx's error and describes the last
// completed probe. A probe that returns an error matches neither want,
// except that a misconfigured action (an error wrapping ErrInvalid) makes
// WaitStatus return that error at once.
func WaitStatus(ctx context.Context, a Action, want Result) error {
	if a == nil {
		return invalidf("WaitStatus: nil Action")
	}
	if want != Success && want != Failure {
		return invalidf("WaitStatus: want must be Success or Failure, not %v", want)
	}
	var (
		n       int
		last    Outcome
		lastErr error
	)
	ticker := time.NewTicker(waitPeriod)
	defer ticker.Stop()
	for {
		out, err := a.Probe(ctx, DefaultTimeout)
		switch {
		case errors.Is(err, ErrInvalid):
			return err
		case ended(ctx):
			// The probe was cut short; the previous one is the last word.
		case err == nil && verdict(out.Result) == want:
			return nil
		default:
			n++
			last, lastErr = out, err
		}
		select {
		case <-ctx.Done():
			return waitError(ctx, want, n, last, lastErr)
		case <-ticker.C:
		}
	}
}

func waitError(ctx context.Context, want Result, n int, last Outcome, lastErr error) error {
	if n == 0 {
		return fmt.Errorf("probe: waiting for %v: no probe completed: %w", want, ctx.Err())
	}
	desc := last.String()
	if lastErr != nil {
		desc = fmt.Sprintf("error: %v", lastErr)
	}
	return fmt.Errorf("probe: waiting for %v: gave up after %d probes, the last gave %s: %w",
		want, n, desc, ctx.Err())
}
