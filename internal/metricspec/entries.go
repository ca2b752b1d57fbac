package metricspec

import (
	"sync"
	"sync/atomic"

	"github.com/probekit/probekit/health"
)

// Entries holds what a metrics module keeps of each entry of a registry's
// reports (an E: its label values made once, its counters), so that
// recording a run costs one map lookup and no allocation. An entry is made
// by New the first time it is asked for, with check set for checks and
// clear for the registry's own entries ("ready", "alive"...), which have
// gauges only. Checks cannot be removed from a registry, so neither are
// entries. It is safe for concurrent use.
type Entries[E any] struct {
	New func(k Key, check bool) *E

	mu sync.RWMutex
	m  map[Key]*E
}

// Check returns the entry of check k, making it if needed: what ObserveRun
// and ObserveEvent use, as only checks run and only checks have breakers.
func (x *Entries[E]) Check(k Key) *E {
	x.mu.RLock()
	e := x.m[k]
	x.mu.RUnlock()
	if e != nil {
		return e
	}
	return x.add(k, true)
}

// Entry returns the entry of k, an entry of a report, making it if needed;
// reg tells whether a new one is a check.
func (x *Entries[E]) Entry(k Key, reg *Registered) *E {
	x.mu.RLock()
	e := x.m[k]
	x.mu.RUnlock()
	if e != nil {
		return e
	}
	return x.add(k, reg.Has(k))
}

func (x *Entries[E]) add(k Key, check bool) *E {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.m[k]; e != nil {
		return e
	}
	if x.m == nil {
		x.m = make(map[Key]*E)
	}
	e := x.New(k, check)
	x.m[k] = e
	return e
}

// Registered tells which entries of a registry's reports are checks, from
// the registry's contract, which it reads at the first question only (a
// collection asks only about entries it has not seen before). Make one
// per collection; it is not safe for concurrent use.
type Registered struct {
	Registry *health.Registry
	checks   map[Key]bool
}

// Has tells whether k is a registered check.
func (r *Registered) Has(k Key) bool {
	if r.checks == nil {
		r.checks = make(map[Key]bool)
		for _, c := range r.Registry.Contract().Checks {
			for _, g := range Groups {
				if g.String() == c.Group {
					r.checks[Key{g, c.Name}] = true
				}
			}
		}
	}
	return r.checks[k]
}

// Seed calls record with each check of reg that passes now and the time
// of its verdict in Unix nanoseconds, which counts as its last success.
func Seed(reg *health.Registry, registered *Registered, record func(k Key, unixNano int64)) {
	for _, g := range Groups {
		for _, e := range reg.Latest(g).Checks {
			if k := (Key{g, e.Name}); e.Status == health.StatusPass && !e.Time.IsZero() && registered.Has(k) {
				record(k, e.Time.UnixNano())
			}
		}
	}
}

// StoreMax sets v to n unless it already holds more: times only move
// forward, whoever records them.
func StoreMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}
