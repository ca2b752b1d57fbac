package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime/debug"
)

// Observation is a measurement a check made while it ran, shown as
// observedValue and observedUnit in the JSON output.
type Observation struct {
	// Value must be encodable by encoding/json: a number, string, bool, or
	// a small struct, slice or map of those. A value that cannot be encoded,
	// or whose JSON is longer than 1 KiB, is dropped from the output and
	// logged.
	Value any
	// Unit names the unit of Value, such as "bytes", "goroutines", "ms" or
	// "days". It may be empty.
	Unit string
}

type observationKey struct{}

// Observe records a measurement for the check whose context is ctx, so that
// the JSON output can show it as observedValue and observedUnit. The last
// call of a run wins. Calling Observe with a context that does not belong to
// a check run, or after the run's verdict was taken (the check returned, or
// its timeout fired), does nothing, so checks that observe can also be
// called directly. It is safe for concurrent use.
//
// The value is encoded as JSON by Observe itself, on the caller's
// goroutine: later changes to it (a map the check goes on updating) do not
// show, and do not race with the encoding. A value that does not encode, or
// whose JSON is longer than 1 KiB, is dropped and logged; a MarshalJSON
// that panics fails the run (ErrPanic).
func Observe(ctx context.Context, value any, unit string) {
	if ctx == nil {
		return
	}
	x, ok := ctx.Value(observationKey{}).(*run)
	if !ok || x == nil {
		return
	}
	raw, pe := encodeObservation(x.c, value)
	if raw == nil && pe == nil {
		return
	}
	x.observe(&Observation{Value: value, Unit: unit}, raw, pe)
}

// maxObservation bounds an observed value's JSON, so that one entry cannot
// take the whole response.
const maxObservation = 1 << 10

// encodeObservation encodes v for check c, containing a MarshalJSON that
// panics. It returns nil and nil, having logged why, for a value it drops.
func encodeObservation(c *check, v any) (raw []byte, pe *PanicError) {
	defer func() {
		if p := recover(); p != nil {
			pe = newPanicError("MarshalJSON of the check's observed value", p, debug.Stack())
			c.r.logf(slog.LevelError, "health check panicked", slog.String("group", c.group.String()),
				slog.String("check", c.name), slog.String("panic", pe.msg), slog.String("stack", string(pe.Stack)))
		}
	}()
	raw, err := json.Marshal(v)
	switch {
	case err != nil:
		c.r.logf(slog.LevelWarn, "health: observed value dropped: it does not encode as JSON",
			slog.String("check", c.name), slog.String("error", safeError(err)))
		return nil, nil
	case len(raw) > maxObservation:
		c.r.logf(slog.LevelWarn, "health: observed value dropped: its JSON is too long",
			slog.String("check", c.name), slog.Int("bytes", len(raw)), slog.Int("max", maxObservation))
		return nil, nil
	}
	return raw, nil
}

// warning marks an error as degrading rather than failing.
type warning struct{ err error }

func (w *warning) Error() string { return w.err.Error() }

func (w *warning) Unwrap() error { return w.err }

// Warn wraps err so that a check returning it is reported as warn (HTTP 200)
// instead of fail, even when the check is critical: "the certificate expires
// in 5 days" is worth seeing but no reason to take the pod out of rotation.
// Warn(nil) returns nil.
func Warn(err error) error {
	if err == nil {
		return nil
	}
	return &warning{err: err}
}

// IsWarning reports whether err, or any error it wraps, was made by Warn.
func IsWarning(err error) bool {
	var w *warning
	return errors.As(err, &w)
}
