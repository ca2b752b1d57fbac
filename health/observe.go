package health

import (
	"context"
	"errors"
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
// The value is encoded when the run ends, on the check's goroutine: a value
// whose encoding fails or takes more than 1 KiB is dropped and logged, and a
// MarshalJSON that panics fails the run (ErrPanic).
func Observe(ctx context.Context, value any, unit string) {
	if ctx == nil {
		return
	}
	if x, ok := ctx.Value(observationKey{}).(*run); ok && x != nil {
		x.observe(&Observation{Value: value, Unit: unit})
	}
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
