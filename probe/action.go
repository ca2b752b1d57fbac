package probe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// An Action is one way of probing a target: [HTTPGet], [TCPSocket] or
// [Exec], like the handlers of a Kubernetes probe.
//
// Probe runs the action once. timeout bounds the whole probe (connecting,
// waiting and reading); zero means [DefaultTimeout] and a negative value is
// an error. A target that does not answer in time is a Failure.
//
// The error is non-nil exactly when the kubelet's prober would return one,
// which its probe loop then retries (see [Prober]):
//
//   - the action is misconfigured (the error wraps [ErrInvalid]; the
//     Outcome is Unknown);
//   - it could not be started, such as an Exec command that is not found
//     (Unknown);
//   - an HTTP response arrived but its body could not be read in full: cut
//     off, reset, or still arriving when the timeout expired (Failure, with
//     the status code);
//   - ctx was done before the probe completed (Unknown; the error wraps
//     ctx's error).
//
// Implementations in this package are safe for concurrent use as long as
// their fields are not modified meanwhile.
type Action interface {
	Probe(ctx context.Context, timeout time.Duration) (Outcome, error)
}

// DefaultTimeout is the timeout of a probe when none is given, the
// Kubernetes default (timeoutSeconds: 1).
const DefaultTimeout = time.Second

// ErrInvalid is wrapped by every error that reports a misconfiguration
// (a bad URL, a negative duration, an impossible threshold), as opposed to
// a target that could not be reached. Retrying such an error is pointless.
var ErrInvalid = errors.New("invalid")

// invalidf returns an error wrapping ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("probe: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// resolveTimeout applies the zero-means-default rule shared by all actions.
func resolveTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, invalidf("timeout %v is negative", d)
	case d == 0:
		return DefaultTimeout, nil
	}
	return d, nil
}

// ended reports whether the caller's ctx has ended, counting a deadline
// that has passed even before ctx's own timer has noticed: a socket
// deadline taken from ctx can fire a moment sooner, and its error must not
// pass for a verdict on the target.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// canceled reports an Outcome for a probe cut short by its caller's ctx,
// which says nothing about the target. ctx must have ended (see ended); if
// only its deadline has passed, canceled waits the moment until ctx knows.
func canceled(ctx context.Context) (Outcome, error) {
	<-ctx.Done()
	return Outcome{Result: Unknown, Message: "probe canceled"},
		fmt.Errorf("probe: canceled: %w", context.Cause(ctx))
}

// capWriter keeps the first MaxBody bytes written to it and silently drops
// the rest, so that a chatty command is never blocked or broken by a full
// or closed pipe on our side.
type capWriter struct {
	buf       []byte
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := MaxBody - len(w.buf)
	if len(p) > room {
		w.truncated = true
		w.buf = append(w.buf, p[:room]...)
	} else {
		w.buf = append(w.buf, p...)
	}
	return len(p), nil
}
