package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/errgroup"
)

// CheckResult is the latest verdict of one entry of a report: a registered
// check, or one the registry adds (EntryAlive, EntryReady, EntryLiveness,
// EntryStartup).
type CheckResult struct {
	Name   string
	Status Status
	// Err is the reason for a warn or fail status and nil on pass, except
	// that a liveness check with no result yet passes with ErrPending. It is
	// never shown over HTTP unless ShowDetails allows it.
	Err error
	// Time is when the verdict was taken (for switches, when they were last
	// set); zero if there is none yet.
	Time time.Time
	// Duration is how long the run took; zero for entries that do not run.
	Duration time.Duration
	// Observation is what the check reported with Observe, if anything.
	Observation *Observation
	// Breaker describes the circuit breaker of a dependency check; nil for
	// other entries.
	Breaker *BreakerStatus
}

// BreakerStatus is the state of a dependency's circuit breaker.
type BreakerStatus struct {
	State gobreaker.State
	// LastSuccess is when a call through the breaker (a check run or
	// application traffic) last succeeded; zero if none has. Cached HTTP
	// responses refresh it at each check run and breaker state change, so
	// there it may lag application traffic by up to one check interval.
	LastSuccess time.Time
}

// Report is the verdict on a group: its status and the results it rests on.
type Report struct {
	Group  Group
	Status Status
	// Checks holds one result per entry, sorted by name.
	Checks []CheckResult
	// Excluded lists entries left out at the caller's request.
	Excluded []string
	// Notes holds remarks on the request, such as exclusions that matched
	// nothing.
	Notes []string
}

// Check evaluates group g as a probe of its HTTP handler would: checks that
// run on request are run (sharing runs with concurrent probes, HTTP or not),
// background checks contribute their latest result. It returns when every
// entry has its verdict, which a check's timeout bounds.
//
// If ctx ends first, Check returns at once with the report as it stands
// (entries whose runs are unfinished show their previous result, or
// ErrPending if they have none) and an error wrapping ctx.Err(); the
// unfinished runs go on and their verdicts are recorded as usual. An
// invalid g gives ErrInvalidGroup.
func (r *Registry) Check(ctx context.Context, g Group) (Report, error) {
	if !g.valid() {
		return Report{}, fmt.Errorf("health: check %s: %w", g, ErrInvalidGroup)
	}
	rep, _ := r.evaluate(ctx, g, selection{})
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("health: check %s: %w", g, err)
	}
	return rep, nil
}

// CheckEntry evaluates the entry called name of group g alone, as the
// group's per-check HTTP path (/readyz/{check}) does: a registered check
// (run if it runs on request) or one of the registry's own entries
// (EntryAlive in liveness; EntryReady, EntryLiveness and EntryStartup in
// readiness). It gives ErrUnknownCheck if g has no such entry, and
// otherwise behaves as Check, ctx included.
func (r *Registry) CheckEntry(ctx context.Context, g Group, name string) (CheckResult, error) {
	if !g.valid() {
		return CheckResult{}, fmt.Errorf("health: check %s entry %q: %w", g, name, ErrInvalidGroup)
	}
	if !r.hasEntry(g, name) {
		return CheckResult{}, fmt.Errorf("health: check %s entry %q: %w", g, name, ErrUnknownCheck)
	}
	rep, _ := r.evaluate(ctx, g, selection{only: name})
	var res CheckResult
	if len(rep.Checks) == 1 {
		res = rep.Checks[0]
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("health: check %s entry %q: %w", g, name, err)
	}
	return res, nil
}

// Latest returns the report of group g from the latest results, running
// nothing: what a probe would see if no check ran on request (checks that
// run on request show the verdict of their last run, or ErrPending). It
// costs no check run and no dependency call, so status pages, metrics and
// watchers may call it as often as they like. An invalid g gives a report
// with StatusUnknown and no entries.
func (r *Registry) Latest(g Group) Report {
	if !g.valid() {
		return Report{Group: g}
	}
	rep, _ := r.evaluate(context.Background(), g, selection{latest: true})
	return rep
}

// selection narrows a report to one entry (per-check paths) or leaves some
// out (?exclude=).
type selection struct {
	only    string
	exclude []string
	latest  bool // run nothing
}

func (s selection) wants(name string) bool {
	if s.only != "" {
		return name == s.only
	}
	return !slices.Contains(s.exclude, name)
}

// evaluate builds the report of group g, running the checks that are due.
// cacheable is true when nothing had to run, so the report depends only on
// state whose changes bump the group's version.
func (r *Registry) evaluate(ctx context.Context, g Group, sel selection) (rep Report, cacheable bool) {
	lists := r.checkLists()
	wantLive := g == Liveness || g == Readiness && sel.wants(EntryLiveness)
	wantStart := g == Startup || g == Readiness && sel.wants(EntryStartup) && !r.startupDone.Load()

	var due []*check
	for _, c := range lists[g] {
		if sel.latest {
			break
		}
		if sel.wants(c.name) && c.due() {
			due = append(due, c)
		}
	}
	if g == Readiness {
		for _, other := range []struct {
			want bool
			list []*check
		}{{wantLive, lists[Liveness]}, {wantStart, lists[Startup]}} {
			for _, c := range other.list {
				if other.want && !sel.latest && c.due() {
					due = append(due, c)
				}
			}
		}
	}
	r.runAll(ctx, due)
	if wantStart && !sel.latest {
		r.latchStartup(lists[Startup], true)
	}

	rep = Report{Group: g, Status: StatusPass}
	skip := func(name string) bool {
		if sel.wants(name) {
			return false
		}
		if sel.only == "" {
			rep.Excluded = append(rep.Excluded, name)
		}
		return true
	}
	add := func(res CheckResult) {
		if !skip(res.Name) {
			rep.Checks = append(rep.Checks, res)
			rep.Status = worse(rep.Status, res.Status)
		}
	}
	for _, c := range lists[g] {
		if !skip(c.name) {
			add(r.resultOf(c))
		}
	}
	switch g {
	case Liveness:
		add(r.alive.result(EntryAlive, ErrBroken))
	case Readiness:
		add(r.ready.result(EntryReady, ErrNotReady))
		if !skip(EntryLiveness) {
			add(gate(EntryLiveness, r.liveStatus(lists[Liveness])))
		}
		if !skip(EntryStartup) {
			add(gate(EntryStartup, r.startupStatus(lists[Startup])))
		}
	}
	slices.SortFunc(rep.Checks, func(a, b CheckResult) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(rep.Excluded)
	rep.Excluded = slices.Compact(rep.Excluded)
	var unknown []string
	for _, name := range sel.exclude {
		if !slices.Contains(rep.Excluded, name) {
			if len(name) > maxNameLen { // cannot be a name: quote a prefix only
				name = name[:maxNameLen] + "…"
			}
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		rep.Notes = []string{"some health checks cannot be excluded: no matches for " + strings.Join(unknown, ", ")}
	}
	return rep, len(due) == 0
}

// runAll runs the due checks concurrently and returns when all have a
// verdict or ctx is done. Concurrent callers share runs: a check is never
// run twice at once.
func (r *Registry) runAll(ctx context.Context, due []*check) {
	if len(due) == 1 {
		r.await(ctx, due[0])
		return
	}
	var g errgroup.Group
	for _, c := range due {
		g.Go(func() error {
			r.await(ctx, c)
			return nil
		})
	}
	_ = g.Wait()
}

func (r *Registry) await(ctx context.Context, c *check) {
	ch := r.flight.DoChan(c.name, func() (any, error) {
		r.execute(c)
		return nil, nil
	})
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// judge turns a run's error into a status according to the check's
// criticality.
func (c *check) judge(err error) Status {
	switch {
	case err == nil:
		return StatusPass
	case c.cfg.nonCritical || IsWarning(err):
		return StatusWarn
	}
	return StatusFail
}

// record stores the verdict of a run.
func (r *Registry) record(c *check, o outcome) CheckResult {
	res := CheckResult{
		Name:        c.name,
		Status:      c.judge(o.err),
		Err:         o.err,
		Time:        o.start.Add(o.duration),
		Duration:    o.duration,
		Observation: o.obs,
	}
	c.mu.Lock()
	c.last, c.has = res, true
	if c.group == Startup && res.Status != StatusFail {
		c.latched = true
	}
	c.mu.Unlock()
	if c.group == Startup {
		r.latchStartup(r.checkLists()[Startup], false)
	}
	r.changed(c.group)
	return res
}

// resultOf returns the latest verdict of c as a report shows it.
func (r *Registry) resultOf(c *check) CheckResult {
	c.mu.Lock()
	res, has := c.last, c.has
	c.mu.Unlock()
	if !has {
		res = CheckResult{Name: c.name, Status: StatusFail, Err: ErrPending}
		switch {
		case c.group == Liveness:
			res.Status = StatusPass
		case c.cfg.nonCritical:
			res.Status = StatusWarn
		}
	}
	if c.breaker != nil {
		bs := c.breaker.status()
		res.Breaker = &bs
		// A breaker opened by application traffic fails readiness now,
		// not at the check's next run.
		if bs.State == gobreaker.StateOpen && res.Status == StatusPass {
			res.Err = fmt.Errorf("%w: %w", ErrBreakerOpen, gobreaker.ErrOpenState)
			res.Status = c.judge(res.Err)
		}
	}
	return res
}

func gate(name string, s Status) CheckResult {
	res := CheckResult{Name: name, Status: s}
	if s != StatusPass {
		res.Err = fmt.Errorf("%s %w", name, ErrGateFailed)
	}
	return res
}

// liveStatus is the status of the liveness group from latest results.
func (r *Registry) liveStatus(live []*check) Status {
	s := r.alive.result(EntryAlive, ErrBroken).Status
	for _, c := range live {
		s = worse(s, r.resultOf(c).Status)
	}
	return s
}

// startupStatus is the status of the startup group from latest results.
func (r *Registry) startupStatus(start []*check) Status {
	if r.startupDone.Load() {
		return StatusPass
	}
	s := StatusPass
	for _, c := range start {
		s = worse(s, r.resultOf(c).Status)
	}
	return s
}

// latchStartup marks startup complete once every startup check has passed.
// An empty startup group latches only when a probe looks at it (vacuous), so
// that registering startup checks after other checks is not an error.
func (r *Registry) latchStartup(start []*check, vacuous bool) {
	if r.startupDone.Load() || len(start) == 0 && !vacuous {
		return
	}
	for _, c := range start {
		if !c.isLatched() {
			return
		}
	}
	r.mu.Lock()
	if len(r.lists[Startup]) != len(start) { // a check was registered meanwhile
		r.mu.Unlock()
		return
	}
	r.startupDone.Store(true)
	r.mu.Unlock()
	r.changed(Startup)
}

// changed records that something group g's report depends on has changed:
// cached renderings are dropped and transitions announced.
func (r *Registry) changed(g Group) {
	r.views[g].version.Add(1)
	if g != Readiness {
		r.views[Readiness].version.Add(1) // readiness shows the other groups as gates
	}
	r.reconcile()
	if ch := r.notify.Swap(nil); ch != nil {
		close(*ch)
	}
}

// waitPoll is how often WaitFor re-runs on-request checks.
const waitPoll = 25 * time.Millisecond

// Changed returns a channel that is closed at the next change of anything
// a report shows: a status of a check, a group or a switch, a breaker's
// state, a registration. Call it again after each close for the next one.
// It never blocks and holds nothing, so any number of watchers can wait on
// it; a watcher that was busy when changes happened sees one close for all
// of them and should re-read the state (Latest) rather than count closes.
// Checks that run on request change only when something runs them (a
// probe, Check, WaitFor).
func (r *Registry) Changed() <-chan struct{} { return r.changes() }

// changes returns a channel that is closed at the next change.
func (r *Registry) changes() <-chan struct{} {
	for {
		if ch := r.notify.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if r.notify.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// WaitFor waits until group g has status want (StatusPass, StatusWarn or
// StatusFail; any other want gives ErrInvalidOption at once), or ctx is
// done, and returns the last report it saw. It evaluates the group as a probe does (running
// on-request checks) whenever something changes, and every 25 ms while the
// group has checks that run on request (those change only when run), so
// tests can wait for a background check to settle without sleeps:
//
//	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
//	defer cancel()
//	if _, err := reg.WaitFor(ctx, health.Readiness, health.StatusPass); err != nil { ... }
//
// On timeout the error wraps ctx.Err() and names the entries not passing.
func (r *Registry) WaitFor(ctx context.Context, g Group, want Status) (Report, error) {
	if !g.valid() {
		return Report{}, fmt.Errorf("health: wait for %s: %w", g, ErrInvalidGroup)
	}
	if want != StatusPass && want != StatusWarn && want != StatusFail {
		return Report{}, fmt.Errorf("health: wait for %s to be %s: %w: a group is only ever pass, warn or fail", g, want, ErrInvalidOption)
	}
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		changed := r.changes()
		rep, cacheable := r.evaluate(ctx, g, selection{})
		if rep.Status == want {
			return rep, nil
		}
		var tick <-chan time.Time
		if !cacheable {
			changed = r.changes() // the run just made has already signalled
			poll.Reset(waitPoll)
			tick = poll.C
		}
		select {
		case <-changed:
		case <-tick:
		case <-ctx.Done():
			var failing []string
			for _, c := range rep.Checks {
				if c.Status != StatusPass {
					failing = append(failing, c.Name+" "+c.Status.String())
				}
			}
			return rep, fmt.Errorf("health: %s is %s, not %s (%s): %w", g, rep.Status, want, strings.Join(failing, ", "), ctx.Err())
		}
	}
}

// reconcile compares every entry and group with what was last announced and
// emits an Event for each difference.
func (r *Registry) reconcile() {
	lists := r.checkLists()
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	now := time.Now()
	var evs []Event
	var status [numGroups]Status
	note := func(g Group, res CheckResult, reported *Status, reportedReal *bool) {
		status[g] = worse(status[g], res.Status)
		// The first real result is announced even when it confirms the
		// status assumed while pending: its reason is news.
		real := !errors.Is(res.Err, ErrPending)
		firstReal := real && !*reportedReal && res.Status != StatusPass
		if res.Status != *reported || firstReal {
			evs = append(evs, Event{Time: now, Group: g, Check: res.Name, From: *reported, To: res.Status, Err: res.Err})
			*reported = res.Status
		}
		*reportedReal = *reportedReal || real
	}
	for _, g := range allGroups {
		status[g] = StatusPass
		for _, c := range lists[g] {
			note(g, r.resultOf(c), &c.reported, &c.reportedReal)
		}
	}
	var switchReal bool
	note(Liveness, r.alive.result(EntryAlive, ErrBroken), &r.reportedAlive, &switchReal)
	note(Readiness, r.ready.result(EntryReady, ErrNotReady), &r.reportedReady, &switchReal)
	if r.startupDone.Load() {
		status[Startup] = StatusPass
	}
	status[Readiness] = worse(status[Readiness], worse(status[Liveness], status[Startup]))
	for _, g := range allGroups {
		if status[g] != r.reportedGroup[g] {
			evs = append(evs, Event{Time: now, Group: g, From: r.reportedGroup[g], To: status[g]})
			r.reportedGroup[g] = status[g]
		}
	}
	for _, ev := range evs {
		r.publish(ev)
	}
}

// view caches a group's renderings; a rendering is valid while the group's
// version is the one it was made at.
type view struct {
	version atomic.Uint64
	cache   [numVariants]atomic.Pointer[rendered]
}
