package grpchealth

import (
	"errors"
	"fmt"
	"time"

	"github.com/probekit/probekit/health"
)

// Defaults of Settings.
const (
	// DefaultWatchPoll is how often a check that runs on request is re-run
	// while someone watches a service that rests on it (unless a probe ran
	// it meanwhile). Half the kubelet's default probe period: watchers
	// learn of a failure about as soon as a default readiness probe would,
	// at one run per check per 5 s for all watchers together. Register a
	// check with health.CheckOptions.Every for watchers to learn of its
	// changes at once.
	DefaultWatchPoll = 5 * time.Second
	// DefaultMaxList is the most services List answers before it fails
	// with RESOURCE_EXHAUSTED: grpc-go's own health server's limit.
	DefaultMaxList = 100
)

// minWatchPoll keeps a mistaken Settings.WatchPoll (nanoseconds for
// seconds) from turning watchers into a loop of check runs.
const minWatchPoll = time.Millisecond

// ErrInvalidSettings is returned, wrapped, by NewServer for settings it
// cannot serve; test for it with errors.Is.
var ErrInvalidSettings = errors.New("grpchealth: invalid settings")

// Settings configures a Server. The zero value serves the default names
// (see the package documentation) with the default intervals and limits.
type Settings struct {
	// Services maps service names to what they answer. Nil means
	// DefaultServices: "" and "readiness" answer as readiness, "liveness"
	// and "startup" as their groups. A non-nil map replaces those names
	// entirely (an empty map serves no group at all); the map is copied,
	// so changing it after NewServer changes nothing. Every Target must be
	// made by GroupTarget or CheckTarget.
	Services map[string]Target

	// HideChecks stops serving registered checks under their own names:
	// only the names in Services answer. Check names reveal what a service
	// depends on; hide them where that matters, and map the few worth
	// exposing in Services with CheckTarget.
	HideChecks bool

	// WatchPoll is how often, while a service resting on checks that run on
	// request is watched, each such check is re-run if its latest verdict
	// is older than WatchPoll. Zero means DefaultWatchPoll; a negative
	// value, or a positive one under a millisecond, is refused.
	WatchPoll time.Duration

	// MaxList is the most services List answers; past it, List fails with
	// RESOURCE_EXHAUSTED. Zero means DefaultMaxList; a negative value is
	// refused.
	MaxList int
}

// Target is what a service name answers for: a group of the registry, or
// one check. The zero Target is invalid; make one with GroupTarget or
// CheckTarget.
type Target struct {
	group health.Group
	check string // "" for the whole group
}

// GroupTarget answers as group g does over HTTP: health.Readiness for
// "may this process take traffic?", which is what "" answers by default.
func GroupTarget(g health.Group) Target { return Target{group: g} }

// CheckTarget answers as the registered check called name alone, in
// whichever group it is; the name is unknown (NOT_FOUND) until a check of
// that name is registered.
func CheckTarget(name string) Target { return Target{check: name} }

// String describes t, for messages.
func (t Target) String() string {
	switch {
	case t.check != "":
		return fmt.Sprintf("check %q", t.check)
	case t.group != 0:
		return "group " + t.group.String()
	}
	return "zero Target"
}

func (t Target) valid() bool {
	if t.check != "" {
		return t.group == 0
	}
	return groupNamed(t.group.String()) != 0
}

// DefaultServices returns the names a Server answers when Settings.Services
// is nil, as a new map that the caller may change: to add a name, such as
// the fully-qualified name of the application's own gRPC service, while
// keeping the defaults.
func DefaultServices() map[string]Target {
	return map[string]Target{
		"":          GroupTarget(health.Readiness),
		"liveness":  GroupTarget(health.Liveness),
		"readiness": GroupTarget(health.Readiness),
		"startup":   GroupTarget(health.Startup),
	}
}

// resolved returns st with the defaults filled in, or an error matching
// ErrInvalidSettings.
func (st Settings) resolved() (Settings, error) {
	if st.Services == nil {
		st.Services = DefaultServices()
	} else {
		services := make(map[string]Target, len(st.Services))
		for name, t := range st.Services {
			if !t.valid() {
				return st, fmt.Errorf("%w: service %q maps to a %s: use GroupTarget or CheckTarget", ErrInvalidSettings, name, t)
			}
			services[name] = t
		}
		st.Services = services
	}
	switch {
	case st.WatchPoll == 0:
		st.WatchPoll = DefaultWatchPoll
	case st.WatchPoll < minWatchPoll:
		return st, fmt.Errorf("%w: WatchPoll %v is under %v", ErrInvalidSettings, st.WatchPoll, minWatchPoll)
	}
	switch {
	case st.MaxList == 0:
		st.MaxList = DefaultMaxList
	case st.MaxList < 0:
		return st, fmt.Errorf("%w: MaxList %d is negative", ErrInvalidSettings, st.MaxList)
	}
	return st, nil
}
