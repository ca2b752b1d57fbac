package health

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// This file is the middle of a probe's path: the handler (handler.go) asks
// for a group's report, evaluate runs the checks that are due (check.go)
// and waits for their verdicts, and collect reads the entries back.

// selection narrows a report to one entry (per-check paths) or leaves some
// out (?exclude=), or asks for the latest results without running anything.
type selection struct {
	only    string
	exclude []string // at most maxExcludes, distinct
	latest  bool
}

func (s *selection) wants(name string) bool {
	if s.only != "" {
		return name == s.only
	}
	return !slices.Contains(s.exclude, name)
}

// whole reports whether the selection is a plain probe of the group, which
// concurrent probes may share.
func (s *selection) whole() bool { return s.only == "" && len(s.exclude) == 0 && !s.latest }

// flight is one evaluation that probes wait on. pending counts the
// verdicts still to come, plus one held by whoever starts the runs.
type flight struct {
	r       *Registry
	g       Group
	shared  bool // registered in r.flights
	pending atomic.Int32
	done    chan struct{}
}

func newFlight(r *Registry, g Group, shared bool) *flight {
	f := &flight{r: r, g: g, shared: shared, done: make(chan struct{})}
	f.pending.Store(1)
	return f
}

// arrive counts one verdict (or the starter's hold) in.
func (f *flight) arrive() {
	if f.pending.Add(-1) != 0 {
		return
	}
	if f.shared {
		f.r.flightMu.Lock()
		if f.r.flights[f.g] == f {
			f.r.flights[f.g] = nil
		}
		f.r.flightMu.Unlock()
	}
	close(f.done)
}

// evaluate runs the checks a probe of group g with selection sel must run
// (those that run on request) and returns when all have their verdicts,
// which their timeouts bound, or when ctx is done. Concurrent plain probes
// of a group share one evaluation, and every probe shares the run of a
// check that is already in flight: a check never runs twice at once.
func (r *Registry) evaluate(ctx context.Context, snap *snapshot, g Group, sel *selection) {
	if sel.latest {
		return
	}
	if g == Startup || g == Readiness && sel.wants(EntryStartup) {
		r.completeEmptyStartup()
	}
	due := snap.due[g]
	if len(due) == 0 {
		return
	}
	f, starter := (*flight)(nil), true
	if sel.whole() {
		r.flightMu.Lock()
		if f = r.flights[g]; f != nil {
			starter = false
		} else {
			f = newFlight(r, g, true)
			r.flights[g] = f
		}
		r.flightMu.Unlock()
	} else {
		f = newFlight(r, g, false)
	}
	if starter {
		startupDone := r.startupDone.Load()
		for _, c := range due {
			wanted := sel.wants(c.name)
			switch {
			case c.group == g:
			case c.group == Liveness:
				wanted = sel.wants(EntryLiveness)
			case c.group == Startup:
				wanted = sel.wants(EntryStartup) && !startupDone
			}
			if !wanted {
				continue
			}
			f.pending.Add(1)
			if !c.start(f) {
				f.pending.Add(-1) // cannot reach 0: the starter's hold is still in
			}
		}
		f.arrive()
	}
	r.await(ctx, f)
}

// await waits for f's verdicts, or for ctx to end.
func (r *Registry) await(ctx context.Context, f *flight) {
	select {
	case <-f.done:
	case <-ctx.Done():
	}
}

// entryView is what a report shows of one entry, as collect reads it.
type entryView struct {
	name     string
	status   Status
	err      error
	msg      string // err's text, fixed when the verdict was taken
	at       time.Time
	dur      time.Duration
	obs      *Observation
	raw      []byte // obs.Value as JSON
	breaker  bool
	state    gobreaker.State
	lastGood time.Time
}

// gathered is what collect found besides the entries.
type gathered struct {
	status   Status
	n        int      // entries visited
	excluded []string // names sel left out (with ?exclude= only)
	unknown  []string // excluded names that matched nothing
}

// collect calls visit with each entry of g's report that sel wants, in name
// order, from the latest results.
func (r *Registry) collect(snap *snapshot, g Group, sel *selection, visit func(*entryView)) gathered {
	out := gathered{status: StatusPass}
	var v entryView
	for _, e := range snap.entries[g] {
		name := e.name()
		if !sel.wants(name) {
			if sel.only == "" {
				out.excluded = append(out.excluded, name)
			}
			continue
		}
		if e.c != nil {
			e.c.view(&v)
		} else {
			res := e.own.result(r)
			v = entryView{name: res.Name, status: res.Status, err: res.Err, at: res.Time}
			if res.Err != nil {
				v.msg = res.Err.Error()
			}
		}
		out.status = worse(out.status, v.status)
		out.n++
		visit(&v)
	}
	for _, name := range sel.exclude {
		if !slices.Contains(out.excluded, name) {
			out.unknown = append(out.unknown, name)
		}
	}
	return out
}

// view fills v with what a report shows of c.
func (c *check) view(v *entryView) {
	c.mu.Lock()
	s, msg, err := c.effective()
	*v = entryView{name: c.name, status: s, err: err, msg: msg}
	if c.has {
		v.at, v.dur, v.obs, v.raw = c.last.at, c.last.dur, c.last.obs, c.last.raw
	}
	c.mu.Unlock()
	if b := c.breaker; b != nil {
		v.breaker, v.state, v.lastGood = true, b.State(), b.LastSuccess()
	}
}

// hasEntry reports whether group g's report has an entry called name.
func (r *Registry) hasEntry(g Group, name string) bool {
	if e := ownEntry(name); e != nil {
		return e.group == g
	}
	r.mu.Lock()
	c := r.byName[name]
	r.mu.Unlock()
	return c != nil && c.group == g
}
