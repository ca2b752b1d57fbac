// Package subject builds the handlers that the benchmarks compare: a bare
// handler (the yardstick), probekit, github.com/alexliesenfeld/health and
// github.com/hellofresh/health-go/v5, each serving a readiness endpoint over
// the same checks, and verifies that each answers as a healthy service
// would before anything is timed.
package subject

import (
	"fmt"
	"strings"
)

// Lib names the library a subject uses. The values appear in benchmark
// names as lib=<value>.
type Lib string

const (
	// Bare is a plain http.HandlerFunc writing a constant body: the cost of
	// serving anything at all, and the yardstick every ratio divides by.
	Bare Lib = "bare"
	// Probekit is this module's health.Registry.
	Probekit Lib = "probekit"
	// Alexliesenfeld is github.com/alexliesenfeld/health, always with its
	// result cache disabled so that on-request means a run per request.
	Alexliesenfeld Lib = "alexliesenfeld"
	// Hellofresh is github.com/hellofresh/health-go/v5, which runs every
	// check on every request and has no background mode.
	Hellofresh Lib = "hellofresh"
)

// Mode says when checks run. The values appear in names as mode=<value>.
type Mode string

const (
	// OnRequest runs every check while serving each request.
	OnRequest Mode = "on-request"
	// Background runs checks on a timer (every BackgroundInterval) and
	// serves their latest results; subjects are settled (every check has
	// reported) before they are measured.
	Background Mode = "background"
)

// Kind says what one check does. The values appear in names as kind=<value>.
type Kind string

const (
	// Instant checks return nil at once: what is measured is the library.
	Instant Kind = "instant"
	// Sleep1ms checks sleep 1 ms and return nil, like a quick call to a
	// dependency on the same host: what is measured is how the library
	// schedules waiting checks (concurrently or one after another).
	Sleep1ms Kind = "1ms"
)

// Spec describes one subject: a library serving a readiness endpoint over
// Checks checks of one Kind, run in one Mode.
type Spec struct {
	Lib    Lib
	Mode   Mode
	Kind   Kind
	Checks int
}

// Name is the spec as sub-benchmark keys, in an order that keeps the
// subjects of one workload next to each other and lets benchstat put the
// libraries side by side (benchstat -col /lib):
// "checks=10/kind=instant/mode=on-request/lib=probekit".
func (s Spec) Name() string {
	return fmt.Sprintf("checks=%d/kind=%s/mode=%s/lib=%s", s.Checks, s.Kind, s.Mode, s.Lib)
}

// Supported reports whether the library has the mode; hellofresh/health-go
// has no background checks. Bare serves the same constant body in both
// modes, so that each mode's row has its own yardstick measured beside it.
func (s Spec) Supported() bool {
	return !(s.Lib == Hellofresh && s.Mode == Background)
}

// Specs returns every supported subject for a workload of n checks of one
// kind: the on-request subjects first, then the background ones, each
// group starting with Bare.
func Specs(n int, kind Kind) []Spec {
	var out []Spec
	for _, mode := range []Mode{OnRequest, Background} {
		for _, lib := range []Lib{Bare, Probekit, Alexliesenfeld, Hellofresh} {
			if s := (Spec{Lib: lib, Mode: mode, Kind: kind, Checks: n}); s.Supported() {
				out = append(out, s)
			}
		}
	}
	return out
}

// checkName is the name of the i-th check of every subject.
func checkName(i int) string { return fmt.Sprintf("check-%02d", i) }

// validate rejects specs that Start cannot build, naming what is wrong.
func (s Spec) validate() error {
	var problems []string
	switch s.Lib {
	case Bare, Probekit, Alexliesenfeld, Hellofresh:
	default:
		problems = append(problems, fmt.Sprintf("unknown lib %q", s.Lib))
	}
	switch s.Mode {
	case OnRequest, Background:
	default:
		problems = append(problems, fmt.Sprintf("unknown mode %q", s.Mode))
	}
	switch s.Kind {
	case Instant, Sleep1ms:
	default:
		problems = append(problems, fmt.Sprintf("unknown kind %q", s.Kind))
	}
	if s.Checks < 1 || s.Checks > 100 {
		problems = append(problems, fmt.Sprintf("checks must be in [1, 100], got %d", s.Checks))
	}
	if !s.Supported() {
		problems = append(problems, fmt.Sprintf("%s has no %s mode", s.Lib, s.Mode))
	}
	if len(problems) > 0 {
		return fmt.Errorf("subject %s: %s", s.Name(), strings.Join(problems, "; "))
	}
	return nil
}
