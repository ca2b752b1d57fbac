package health

import (
	"slices"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// CheckInfo describes a registered check as Register configured it, for
// tooling, status pages and tests. It holds no result: see Latest for those.
type CheckInfo struct {
	// Name and Group are those given to Register.
	Name  string
	Group Group
	// Timeout bounds each run.
	Timeout time.Duration
	// Interval is the background interval (Every); zero for a check that
	// runs on request. InitialDelay and Jitter apply to background checks.
	Interval     time.Duration
	InitialDelay time.Duration
	Jitter       float64
	// NonCritical checks warn instead of failing.
	NonCritical bool
	// Dependency checks run behind a circuit breaker whose effective
	// settings (defaults filled in, Name set) are in Breaker; Breaker is
	// nil for other checks.
	Dependency bool
	Breaker    *gobreaker.Settings
}

// Checks returns every registered check, sorted by name, without running
// anything. The slice is new at each call.
func (r *Registry) Checks() []CheckInfo {
	r.mu.Lock()
	out := make([]CheckInfo, 0, len(r.byName))
	for _, c := range r.byName {
		out = append(out, c.info())
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b CheckInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (c *check) info() CheckInfo {
	ci := CheckInfo{
		Name:         c.name,
		Group:        c.group,
		Timeout:      c.cfg.timeout,
		Interval:     c.cfg.interval,
		InitialDelay: c.cfg.initialDelay,
		NonCritical:  c.cfg.nonCritical,
		Dependency:   c.cfg.dependency,
	}
	if c.background() {
		ci.Jitter = c.cfg.jitter
	}
	if c.breaker != nil {
		st := c.breaker.settings
		ci.Breaker = &st
	}
	return ci
}
