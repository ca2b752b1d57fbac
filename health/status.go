package health

import "fmt"

// Status is the verdict of a check or of a group, in the vocabulary of the
// IETF health-check response draft. The zero value is StatusUnknown.
type Status uint8

const (
	// StatusUnknown means no verdict exists yet. It is never served over
	// HTTP: a check with no result yet is reported as pass in the liveness
	// group and as fail elsewhere, as the kubelet assumes for its probes.
	StatusUnknown Status = iota
	// StatusPass means healthy. Served with 200.
	StatusPass
	// StatusWarn means degraded but usable: a non-critical check failed, or
	// a check returned an error wrapped with Warn. Served with 200.
	StatusWarn
	// StatusFail means unhealthy. Served with 503.
	StatusFail
)

// String returns "unknown", "pass", "warn" or "fail".
func (s Status) String() string {
	switch s {
	case StatusUnknown:
		return "unknown"
	case StatusPass:
		return "pass"
	case StatusWarn:
		return "warn"
	case StatusFail:
		return "fail"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// worse returns the more severe of two statuses; unknown ranks below pass so
// that it never masks a real verdict.
func worse(a, b Status) Status {
	if b > a {
		return b
	}
	return a
}

// Group is one of the three kinds of probe Kubernetes knows. The zero value
// is not a valid group; registering into it is an error.
type Group uint8

const (
	// Liveness answers "is this process alive and making progress?". It
	// must look at process-local state only: a failing liveness probe gets
	// the container restarted, which never fixes a database outage.
	// Dependency checks are rejected here.
	Liveness Group = iota + 1
	// Readiness answers "may this process take traffic now?". It also
	// fails while liveness fails, while startup has not completed, and
	// while the readiness switch is off (see Registry.SetReady).
	Readiness
	// Startup answers "has this process finished starting?". It latches:
	// once each startup check has passed, it is not run again and the
	// group passes for good.
	Startup
)

// Groups returns the valid groups in a fixed order: Liveness, Readiness,
// Startup. The slice is new at each call; changing it changes nothing else.
func Groups() []Group { return []Group{Liveness, Readiness, Startup} }

// allGroups is Groups for the package's own loops.
var allGroups = [...]Group{Liveness, Readiness, Startup}

// String returns "liveness", "readiness" or "startup".
func (g Group) String() string {
	switch g {
	case Liveness:
		return "liveness"
	case Readiness:
		return "readiness"
	case Startup:
		return "startup"
	}
	return fmt.Sprintf("Group(%d)", uint8(g))
}

func (g Group) valid() bool { return g >= Liveness && g <= Startup }
