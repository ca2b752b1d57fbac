package health

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Report is the verdict on a group: its status and the results it rests
// on.
type Report struct {
	// Group is the group reported on; Status is its verdict, the one its
	// HTTP handler answers with (200 for pass and warn, 503 for fail).
	Group  Group
	Status Status
	// Checks holds one result per entry, sorted by name: the group's
	// checks and the registry's own entries ("alive" in liveness; "ready",
	// "liveness" and "startup" in readiness).
	Checks []CheckResult
	// Excluded lists entries left out at the caller's request (?exclude=),
	// and Notes remarks on the request (exclusions that matched nothing).
	Excluded []string
	Notes    []string
	// LastProbed is when a probe (an HTTP request to one of the group's
	// handlers, or Check) last asked for the group; zero if none has.
	LastProbed time.Time
	// Draining is set once Drain has turned readiness off for good.
	Draining bool
}

// CheckResult is the latest verdict of one entry of a report.
type CheckResult struct {
	// Name is the entry's name; Status its verdict, as it counts in the
	// group's.
	Name   string
	Status Status
	// Err is the reason for warn or fail (and ErrPending for a liveness
	// check with no result yet, which passes), not redacted; nil on pass.
	Err error
	// Time is when the verdict was taken (for switches, when they were
	// last set), and Duration how long the run took; zero if none.
	Time     time.Time
	Duration time.Duration
	// Breaker is the circuit breaker of a dependency check; nil for other
	// entries.
	Breaker *BreakerStatus
	// Reason is Err's text, redacted as everything the registry logs or
	// serves, read where the error's methods are contained, at most 1 KiB.
	Reason string
}

// BreakerStatus is the state of a dependency's circuit breaker.
type BreakerStatus struct {
	// State is closed, half-open or open.
	State gobreaker.State
	// LastSuccess is when a call through the breaker (a check run or
	// application traffic) last succeeded; zero if none has.
	LastSuccess time.Time
	// NextTrial is, while the breaker is open, when it admits its next
	// trial call; zero otherwise.
	NextTrial time.Time
}

// snapshot is an immutable view of what is registered, rebuilt by the
// first probe after a registration (or startup's completion), so that
// registering n checks costs O(n), not O(n²).
type snapshot struct {
	entries [numGroups][]entry // of each group's report, sorted by name
	// due lists the checks a probe of each group runs: those that run on
	// request, in the group and, for readiness, in liveness and (until
	// startup completes) startup.
	due [numGroups][]*check
}

type entry struct { // a check, or one of the registry's own entries
	c   *check
	own *ownEntryDef
}

func (e entry) name() string {
	if e.c != nil {
		return e.c.name
	}
	return e.own.name
}

func (r *Registry) view() *snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.snap.Load(); s != nil {
		return s
	}
	s := new(snapshot)
	for _, g := range allGroups {
		list := make([]entry, 0, len(r.byGroup[g])+3)
		for _, c := range r.byGroup[g] {
			list = append(list, entry{c: c})
		}
		for i := range ownEntries {
			if ownEntries[i].group == g {
				list = append(list, entry{own: &ownEntries[i]})
			}
		}
		slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.name(), b.name()) })
		s.entries[g] = list
	}
	done := r.startupDone.Load()
	for _, g := range allGroups {
		for _, c := range r.byGroup[g] {
			c.mu.Lock()
			latched := c.latched
			c.mu.Unlock()
			if c.background() || latched {
				continue
			}
			s.due[g] = append(s.due[g], c)
			if g == Liveness || g == Startup && !done {
				s.due[Readiness] = append(s.due[Readiness], c)
			}
		}
	}
	r.snap.Store(s)
	return s
}

// selection narrows a report to some entries (per-check paths, Check with
// names) or leaves some out (?exclude=).
type selection struct {
	only    []string
	exclude []string // at most maxExcludes, distinct
}

func (s *selection) wants(name string) bool {
	return len(s.only) > 0 && slices.Contains(s.only, name) || len(s.only) == 0 && !slices.Contains(s.exclude, name)
}

func (s *selection) whole() bool { return len(s.only) == 0 && len(s.exclude) == 0 }

// dueFor returns the checks of due that sel needs run (readiness runs the
// liveness and startup checks for its entries "liveness" and "startup").
func dueFor(due []*check, g Group, sel *selection) []*check {
	if sel.whole() {
		return due
	}
	var out []*check
	for _, c := range due {
		name := c.name
		switch {
		case c.group == g:
		case c.group == Liveness:
			name = "liveness"
		case c.group == Startup:
			name = "startup"
		}
		if sel.wants(name) {
			out = append(out, c)
		}
	}
	return out
}

// probe evaluates g for sel as a probe does: it runs (or joins) what is
// due, concurrent whole-group probes sharing one evaluation
// (singleflight), and records that g was probed.
func (r *Registry) probe(ctx context.Context, snap *snapshot, g Group, sel *selection) {
	r.probed(g)
	due := dueFor(snap.due[g], g, sel)
	if len(due) == 0 {
		return
	}
	if !sel.whole() || ctx.Done() != nil || len(due) == 1 { // an evaluation of its own
		r.evaluate(ctx, due)
		return
	}
	_, _, _ = r.flights.Do(g.String(), func() (any, error) {
		r.evaluate(ctx, due)
		return nil, nil
	})
}

// probed records that g was probed; a probe of readiness or startup
// completes a startup without checks.
func (r *Registry) probed(g Group) {
	r.lastProbe[g].Store(time.Now().UnixNano())
	if g != Liveness {
		r.latch(0)
	}
}

// report gathers g's report into buf (which a handler may keep on its
// stack), or into a new slice if buf is nil.
func (r *Registry) report(snap *snapshot, g Group, sel *selection, buf []CheckResult) Report {
	if buf == nil {
		buf = make([]CheckResult, 0, len(snap.entries[g]))
	}
	rep := Report{Group: g, Status: StatusPass, Checks: buf}
	for _, e := range snap.entries[g] {
		name := e.name()
		if !sel.wants(name) {
			if len(sel.only) == 0 {
				rep.Excluded = append(rep.Excluded, name)
			}
			continue
		}
		res := e.result(r)
		rep.Status = worse(rep.Status, res.Status)
		rep.Checks = append(rep.Checks, res)
	}
	if note := unknownNote(sel.exclude, rep.Excluded); note != "" {
		rep.Notes = []string{note}
	}
	if ns := r.lastProbe[g].Load(); ns != 0 {
		rep.LastProbed = time.Unix(0, ns)
	}
	rep.Draining = r.draining()
	return rep
}

func (e entry) result(r *Registry) CheckResult {
	if e.own != nil {
		return e.own.result(r)
	}
	c := e.c
	c.mu.Lock()
	s, msg, err := c.effective()
	res := CheckResult{Name: c.name, Status: s, Err: err, Reason: msg}
	if c.has {
		res.Time, res.Duration = c.last.at, c.last.dur
	}
	c.mu.Unlock()
	if c.breaker != nil {
		st := c.breaker.status()
		res.Breaker = &st
	}
	return res
}

// unknownNote words exclusions that matched nothing, as Kubernetes does.
func unknownNote(exclude, excluded []string) string {
	var quoted []string
	for _, name := range exclude {
		if !slices.Contains(excluded, name) {
			quoted = append(quoted, strconv.Quote(clipName(name)))
		}
	}
	if len(quoted) > 8 { // at most 64 names, but escaped they might not fit the body
		quoted = append(quoted[:8], "and "+strconv.Itoa(len(quoted)-8)+" more")
	}
	if len(quoted) == 0 {
		return ""
	}
	return "some health checks cannot be excluded: no matches for " + strings.Join(quoted, ", ")
}

// Check evaluates group g as a probe of its handler would: checks that run
// on request are run (sharing runs with concurrent probes), background
// checks give their latest result. With names, it reports only those
// entries, as the per-check paths do (ErrUnknownCheck for a name g has no
// entry for). It returns when every entry has its verdict, which the
// checks' timeouts bound, or at once when ctx ends, with the report as it
// stands and an error wrapping ctx.Err() (the runs go on). An invalid g
// gives ErrInvalidOption.
func (r *Registry) Check(ctx context.Context, g Group, names ...string) (Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !g.valid() {
		return Report{Group: g}, fmt.Errorf("health: check %v: %w: not a group", g, ErrInvalidOption)
	}
	sel := selection{only: names} // none: all
	for _, n := range names {
		if !r.hasEntry(g, n) {
			return Report{Group: g}, fmt.Errorf("health: check %s entry %q: %w", g, clipName(n), ErrUnknownCheck)
		}
	}
	snap := r.view()
	r.probe(ctx, snap, g, &sel)
	rep := r.report(snap, g, &sel, nil)
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("health: check %s: %w", g, err)
	}
	return rep, nil
}

// Latest returns the report of group g from the latest results, running
// nothing (checks that run on request show their last verdict, or
// ErrPending), so status pages, metrics and watchers may call it as often
// as they like. An invalid g gives a report with StatusUnknown.
func (r *Registry) Latest(g Group) Report {
	if !g.valid() {
		return Report{Group: g}
	}
	return r.report(r.view(), g, &selection{}, nil)
}

func (r *Registry) hasEntry(g Group, name string) bool {
	if e := ownEntry(name); e != nil {
		return e.group == g
	}
	r.mu.Lock()
	c := r.byName[name]
	r.mu.Unlock()
	return c != nil && c.group == g
}
