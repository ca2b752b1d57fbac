package checks

import (
	"fmt"
	"reflect"

	"github.com/probekit/probekit/health"
)

// misconfigured returns a check that health.Registry.Register refuses with
// an error matching health.ErrMisconfigured, for arguments that can never
// work: the mistake is reported at start-up, where the check is registered,
// instead of failing every probe (or, in liveness, restarting the container
// in a loop). Run directly, the check returns the same error every time.
func misconfigured(kind, format string, args ...any) health.Checker {
	return health.Misconfigured(fmt.Errorf("checks: "+kind+": "+format, args...))
}

// failf formats a failure of a check of the given kind.
func failf(kind, format string, args ...any) error {
	return fmt.Errorf("checks: "+kind+": "+format, args...)
}

// wrap prefixes err, an error of a client or driver, with the check kind
// and what was being done (op may be empty). Its text is left as the client
// wrote it: the registry redacts every reason it logs or serves, in one
// pass (see the package documentation).
func wrap(kind, op string, err error) error {
	if op != "" {
		return fmt.Errorf("checks: %s: %s: %w", kind, op, err)
	}
	return fmt.Errorf("checks: %s: %w", kind, err)
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
