// Package contract describes what a service's health endpoints promise, so
// that tools can check a Kubernetes manifest against the application that
// will run under it: which HTTP paths and gRPC service names answer for which
// probe group, which checks a probe of each group runs with what timeouts,
// background intervals and circuit breakers, whether the service starts not
// ready, and the shutdown budget it declares.
//
// A health.Registry describes itself with Registry.Contract; the
// application adds what only it knows (the ports it listens on, its gRPC
// health service) and prints the result, typically behind a
// -probe-contract flag. The k8sprobes module lints manifests against it and
// generates probes from it.
//
// The JSON form is stable: fields are only added, never renamed or given a
// new meaning, and Version changes if that ever has to happen. Durations are
// written as Go duration strings ("500ms", "30s").
package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Version is the version of the JSON form this package writes and reads.
const Version = 1

// The probe groups, as they appear in Route.Group, Service.Group and
// Check.Group.
const (
	Liveness  = "liveness"
	Readiness = "readiness"
	Startup   = "startup"
)

// Contract is what a service's health endpoints promise.
type Contract struct {
	// Version is the version of the JSON form (see Version).
	Version int `json:"version"`
	// StartsNotReady is set when readiness fails from start until the
	// application says it is ready, whatever its checks say.
	StartsNotReady bool `json:"startsNotReady,omitempty"`
	// HTTP lists the paths that serve the groups over HTTP; nil if none is
	// mounted.
	HTTP *HTTP `json:"http,omitempty"`
	// GRPC lists the gRPC health service names the application serves;
	// nil if it serves none.
	GRPC *GRPC `json:"grpc,omitempty"`
	// Checks lists every registered check, sorted by name.
	Checks []Check `json:"checks"`
	// Shutdown is the shutdown budget the application declares.
	Shutdown Shutdown `json:"shutdown"`
}

// HTTP is where the groups are served over HTTP.
type HTTP struct {
	// Port is the container port the paths are served on, as the
	// application declares it: a number ("8080") or a port name ("http").
	// Empty if the application did not say.
	Port string `json:"port,omitempty"`
	// Routes are the paths, as mounted (prefix included).
	Routes []Route `json:"routes"`
}

// Route is one HTTP path and the group it answers for.
type Route struct {
	// Path is the path as a probe requests it ("/ready"); for a per-check
	// route it ends in "{check}" ("/readyz/{check}"), to be replaced by a
	// check's name.
	Path string `json:"path"`
	// Group is Liveness, Readiness or Startup.
	Group string `json:"group"`
	// PerCheck is set when the last path segment names one check.
	PerCheck bool `json:"perCheck,omitempty"`
}

// GRPC is where the groups are served over gRPC health (grpc.health.v1).
type GRPC struct {
	// Port is the port the gRPC server listens on; zero if not declared.
	// Kubernetes' grpc probes need a number.
	Port int `json:"port,omitempty"`
	// Services lists the service names Check answers for.
	Services []Service `json:"services"`
}

// Service is one gRPC health service name and what it answers for.
type Service struct {
	// Name is the service name ("" for the server as a whole).
	Name string `json:"name"`
	// Group is the group whose status the name reports.
	Group string `json:"group"`
	// Check is set when the name reports one check of Group alone.
	Check string `json:"check,omitempty"`
}

// Check is one registered check.
type Check struct {
	// Name and Group are those it was registered with.
	Name  string `json:"name"`
	Group string `json:"group"`
	// Timeout bounds each run.
	Timeout Duration `json:"timeout"`
	// Every is the background interval; zero for a check that runs when a
	// probe asks.
	Every Duration `json:"every,omitempty"`
	// NonCritical checks report warn (HTTP 200) instead of fail.
	NonCritical bool `json:"nonCritical,omitempty"`
	// Dependency checks call another process; they run behind Breaker.
	Dependency bool     `json:"dependency,omitempty"`
	Breaker    *Breaker `json:"breaker,omitempty"`
}

// Breaker is a dependency check's circuit breaker.
type Breaker struct {
	// Failures consecutive failed runs open it.
	Failures int `json:"failures"`
	// Open is how long it stays open before a trial call (each trial is
	// delayed by up to Jitter of Open more).
	Open   Duration `json:"open"`
	Jitter float64  `json:"jitter"`
	// Trials is how many trial calls a half-open breaker admits.
	Trials int `json:"trials"`
}

// Shutdown is the budget the application declares for a graceful shutdown,
// in the order the steps happen after Kubernetes decides to stop the pod.
type Shutdown struct {
	// PreStop is how long the container's preStop hook is expected to
	// wait before SIGTERM.
	PreStop Duration `json:"preStop,omitempty"`
	// Drain is how long the application keeps serving after SIGTERM with
	// readiness failing, so that endpoints stop sending it traffic.
	Drain Duration `json:"drain,omitempty"`
	// Timeout bounds the server's shutdown after the drain (finishing
	// in-flight requests).
	Timeout Duration `json:"timeout,omitempty"`
}

// Total is what the shutdown takes at most: PreStop + Drain + Timeout.
func (s Shutdown) Total() time.Duration {
	return time.Duration(s.PreStop) + time.Duration(s.Drain) + time.Duration(s.Timeout)
}

// Runs returns the checks a probe of group runs or reads, sorted by name:
// the group's own and, for readiness, those of liveness and startup too,
// since readiness fails while either of them does. It returns nil for a
// group name it does not know.
func (c Contract) Runs(group string) []Check {
	var out []Check
	for _, ch := range c.Checks {
		switch {
		case ch.Group == group:
		case group == Readiness && (ch.Group == Liveness || ch.Group == Startup):
		default:
			continue
		}
		out = append(out, ch)
	}
	return out
}

// Validate reports the first thing that makes c unusable: an unknown
// version, a group name that is not one of the three, a negative duration,
// or a check listed twice.
func (c Contract) Validate() error {
	if c.Version != Version {
		return fmt.Errorf("contract: version %d, want %d", c.Version, Version)
	}
	known := []string{Liveness, Readiness, Startup}
	if c.HTTP != nil {
		for _, r := range c.HTTP.Routes {
			if !slices.Contains(known, r.Group) {
				return fmt.Errorf("contract: route %q: unknown group %q", r.Path, r.Group)
			}
		}
	}
	if c.GRPC != nil {
		for _, s := range c.GRPC.Services {
			if !slices.Contains(known, s.Group) {
				return fmt.Errorf("contract: gRPC service %q: unknown group %q", s.Name, s.Group)
			}
		}
	}
	seen := make(map[string]bool, len(c.Checks))
	for _, ch := range c.Checks {
		switch {
		case !slices.Contains(known, ch.Group):
			return fmt.Errorf("contract: check %q: unknown group %q", ch.Name, ch.Group)
		case seen[ch.Name]:
			return fmt.Errorf("contract: check %q listed twice", ch.Name)
		case ch.Timeout < 0 || ch.Every < 0:
			return fmt.Errorf("contract: check %q: negative duration", ch.Name)
		}
		seen[ch.Name] = true
	}
	if c.Shutdown.PreStop < 0 || c.Shutdown.Drain < 0 || c.Shutdown.Timeout < 0 {
		return fmt.Errorf("contract: negative shutdown duration")
	}
	return nil
}

// Parse decodes a contract from its JSON form and validates it. Unknown
// fields are ignored, so that a tool reads contracts written by a newer
// probekit of the same Version.
func Parse(data []byte) (Contract, error) {
	var c Contract
	if err := json.Unmarshal(data, &c); err != nil {
		return Contract{}, fmt.Errorf("contract: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Contract{}, err
	}
	return c, nil
}

// Duration is a time.Duration written in JSON as a Go duration string.
type Duration time.Duration

// String returns the duration as time.Duration formats it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "1.5s" (time.ParseDuration's
// syntax), or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: want a string such as \"500ms\", got %s", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}
