package checks

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/redact"
)

// misconfigured returns a check that health.Registry.Register refuses with
// an error matching health.ErrMisconfigured, for arguments that can never
// work: the mistake is reported at start-up, where the check is registered,
// instead of failing every probe (or, in liveness, restarting the container
// in a loop). Run directly, the check returns the same error every time.
func misconfigured(kind, format string, args ...any) health.CheckFunc {
	return health.Misconfigured(fmt.Errorf("checks: "+kind+": "+format, args...))
}

// failf formats a failure of a check of the given kind.
func failf(kind, format string, args ...any) error {
	return fmt.Errorf("checks: "+kind+": "+format, args...)
}

// checkError carries an error from a client or driver whose text may echo
// credentials (a DSN, a URL with userinfo). Error returns a redacted
// message; Unwrap still gives the original so that errors.Is works for
// context.DeadlineExceeded and driver sentinels.
type checkError struct {
	msg string
	err error
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.err }

// wrap prefixes err with the check kind and what was being done (op may be
// empty) and redacts credentials from its text.
func wrap(kind, op string, err error) error {
	msg := "checks: " + kind + ": "
	if op != "" {
		msg += op + ": "
	}
	return &checkError{msg: msg + redact.String(err.Error()), err: err}
}

// observeSince records the time since start in milliseconds, with
// microsecond resolution: the unit every latency in this package uses, so
// that dashboards can compare checks.
func observeSince(ctx context.Context, start time.Time) {
	health.Observe(ctx, float64(time.Since(start).Microseconds())/1000, "ms")
}

// isNil reports whether v is nil or an interface holding a nil pointer, map,
// channel, function or slice, so that constructors can refuse a typed nil
// client instead of letting the check panic on its first run.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// formatBytes renders n with a binary unit, as operators read memory and
// disk sizes.
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
