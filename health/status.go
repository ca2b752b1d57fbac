package health

import "fmt"

// Status is the verdict of a check or of a group, in the vocabulary of the
// IETF health-check response draft. The zero value is StatusUnknown.
type Status uint8

const (
	// StatusUnknown means no verdict exists yet. It is never served over
	// HTTP: a check with no result yet counts as passing in liveness and as
	// failing elsewhere, as the kubelet assumes of its probes.
	StatusUnknown Status = iota
	// StatusPass means healthy. Served with 200.
	StatusPass
	// StatusWarn means degraded but usable: a NonCritical check failed, or
	// a check returned an error wrapped with Warn. Served with 200.
	StatusWarn
	// StatusFail means unhealthy. Served with 503.
	StatusFail
)

// String returns "unknown", "pass", "warn" or "fail".
func (s Status) String() string { return name(s, "Status", "unknown", "pass", "warn", "fail") }

// name returns names[v], or T(v) for a value without a name.
func name[V ~uint8](v V, t string, names ...string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", t, uint8(v))
}

// worse returns the more severe of two statuses; unknown ranks below pass,
// so that it never masks a real verdict.
func worse(a, b Status) Status { return max(a, b) }

// Group is one of the three kinds of probe Kubernetes knows. The zero value
// is not a valid group.
type Group uint8

const (
	// Liveness answers "is this process alive and making progress?". It
	// must look at process-local state only: failing it gets the container
	// restarted, which never fixes a database outage, so dependency checks
	// are refused here.
	Liveness Group = iota + 1
	// Readiness answers "may this process take traffic now?". It also
	// fails while liveness fails, while startup has not completed, and
	// while the readiness switch is off (MarkNotReady, Drain).
	Readiness
	// Startup answers "has this process finished starting?". It latches:
	// once a startup check has passed it is not run again, and once all
	// have, the group passes for good.
	Startup
)

// allGroups lists the groups in their fixed order, for the package's loops.
var allGroups = [...]Group{Liveness, Readiness, Startup}

const numGroups = int(Startup) + 1

// String returns "liveness", "readiness" or "startup".
func (g Group) String() string { return name(g, "Group", "", "liveness", "readiness", "startup") }

func (g Group) valid() bool { return g >= Liveness && g <= Startup }
