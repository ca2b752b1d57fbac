package health

import (
	"context"
	"errors"
	"sync"
)

// Observation is a measurement a check made while it ran, shown as
// observedValue and observedUnit in the JSON output.
type Observation struct {
	// Value must be encodable by encoding/json: a number, string, bool, or
	// a small struct, slice or map of those. A value that cannot be encoded
	// is dropped from the output (and logged).
	Value any
	// Unit names the unit of Value, such as "bytes", "goroutines", "ms" or
	// "days". It may be empty.
	Unit string
}

type observationKey struct{}

// observationSlot receives the Observe calls of one check run. It is sealed
// when the run's verdict is taken, so that a check that outlives its timeout
// cannot change a result that has already been reported.
type observationSlot struct {
	mu     sync.Mutex
	obs    *Observation
	sealed bool
}

func (s *observationSlot) seal() *Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = true
	return s.obs
}

// Observe records a measurement for the check whose context is ctx, so that
// the JSON output can show it as observedValue and observedUnit. The last
// call of a run wins. Calling Observe with a context that does not belong to
// a check run (or after the run's timeout fired) does nothing, so checks
// that observe can also be called directly. It is safe for concurrent use.
func Observe(ctx context.Context, value any, unit string) {
	s, _ := ctx.Value(observationKey{}).(*observationSlot)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sealed {
		s.obs = &Observation{Value: value, Unit: unit}
	}
}

func withObservationSlot(ctx context.Context) (context.Context, *observationSlot) {
	s := new(observationSlot)
	return context.WithValue(ctx, observationKey{}, s), s
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
