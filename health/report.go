package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// CheckResult is the latest verdict of one entry of a report: a registered
// check, or one the registry adds (EntryAlive, EntryReady, EntryLiveness,
// EntryStartup).
type CheckResult struct {
	// Name is the entry's name; Status is its verdict (pass, warn or
	// fail), as it counts in the group's status.
	Name   string
	Status Status
	// Err is the reason for a warn or fail status and nil on pass, except
	// that a liveness check with no result yet passes with ErrPending. It is
	// never shown over HTTP unless ShowDetails allows it.
	Err error
	// Time is when the verdict was taken (for switches, when they were last
	// set); zero if there is none yet.
	Time time.Time
	// Duration is how long the run took to give its verdict; zero for
	// entries that do not run.
	Duration time.Duration
	// Observation is what the check reported with Observe, if anything.
	Observation *Observation
	// Breaker describes the circuit breaker of a dependency check; nil for
	// other entries.
	Breaker *BreakerStatus
}

// BreakerStatus is the state of a dependency's circuit breaker.
type BreakerStatus struct {
	// State is the breaker's state when the report was taken.
	State gobreaker.State
	// LastSuccess is when a call through the breaker (a check run or
	// application traffic) last succeeded; zero if none has. Cached HTTP
	// responses refresh it at each check run and breaker state change, so
	// there it may lag application traffic by up to one check interval.
	LastSuccess time.Time
}

// Report is the verdict on a group: its status and the results it rests on.
type Report struct {
	// Group is the group reported on; Status is its verdict, the one its
	// HTTP handler answers with (200 for pass and warn, 503 for fail).
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

// report gathers g's report as collect reads it.
func (r *Registry) report(snap *snapshot, g Group, sel *selection) Report {
	rep := Report{Group: g}
	got := r.collect(snap, g, sel, func(v *entryView) {
		res := CheckResult{Name: v.name, Status: v.status, Err: v.err, Time: v.at, Duration: v.dur, Observation: v.obs}
		if v.breaker {
			res.Breaker = &BreakerStatus{State: v.state, LastSuccess: v.lastGood}
		}
		rep.Checks = append(rep.Checks, res)
	})
	rep.Status, rep.Excluded = got.status, got.excluded
	if note := unknownNote(got.unknown); note != "" {
		rep.Notes = []string{note}
	}
	return rep
}

// unknownNote words the exclusions that matched nothing, as Kubernetes'
// /readyz does; names that cannot be check names are quoted in part only.
func unknownNote(unknown []string) string {
	if len(unknown) == 0 {
		return ""
	}
	quoted := make([]string, len(unknown))
	for i, name := range unknown {
		if len(name) > maxNameLen {
			name = name[:maxNameLen] + "…"
		}
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return "some health checks cannot be excluded: no matches for " + strings.Join(quoted, ", ")
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
// invalid g gives ErrInvalidGroup. A nil ctx means context.Background();
// so it does for CheckEntry, WaitFor and Drain.
func (r *Registry) Check(ctx context.Context, g Group) (Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !g.valid() {
		return Report{}, fmt.Errorf("health: check %s: %w", g, ErrInvalidGroup)
	}
	sel := selection{}
	snap := r.view()
	r.evaluate(ctx, snap, g, &sel)
	rep := r.report(snap, g, &sel)
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
	if ctx == nil {
		ctx = context.Background()
	}
	if !g.valid() {
		return CheckResult{}, fmt.Errorf("health: check %s entry %q: %w", g, name, ErrInvalidGroup)
	}
	if !r.hasEntry(g, name) {
		return CheckResult{}, fmt.Errorf("health: check %s entry %q: %w", g, clipName(name), ErrUnknownCheck)
	}
	sel := selection{only: name}
	snap := r.view()
	r.evaluate(ctx, snap, g, &sel)
	var res CheckResult
	if rep := r.report(snap, g, &sel); len(rep.Checks) == 1 {
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
	sel := selection{latest: true}
	return r.report(r.view(), g, &sel)
}

// waitPoll is how often WaitFor re-runs on-request checks.
const waitPoll = 25 * time.Millisecond

// WaitFor waits until group g has status want (StatusPass, StatusWarn or
// StatusFail; any other want gives ErrInvalidOption at once), or ctx is
// done, and returns the last report it saw. It evaluates the group as a
// probe does (running on-request checks) whenever something changes, and
// every 25 ms while the group has checks that run on request (those change
// only when run), so tests can wait for a background check to settle
// without sleeps:
//
//	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
//	defer cancel()
//	if _, err := reg.WaitFor(ctx, health.Readiness, health.StatusPass); err != nil { ... }
//
// On timeout the error wraps ctx.Err() and names the entries not passing.
func (r *Registry) WaitFor(ctx context.Context, g Group, want Status) (Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !g.valid() {
		return Report{}, fmt.Errorf("health: wait for %s: %w", g, ErrInvalidGroup)
	}
	if want != StatusPass && want != StatusWarn && want != StatusFail {
		return Report{}, fmt.Errorf("health: wait for %s to be %s: %w: a group is only ever pass, warn or fail", g, want, ErrInvalidOption)
	}
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		changed := r.Changed()
		snap := r.view()
		sel := selection{}
		r.evaluate(ctx, snap, g, &sel)
		rep := r.report(snap, g, &sel)
		if rep.Status == want {
			return rep, nil
		}
		var tick <-chan time.Time
		if len(snap.due[g]) > 0 {
			changed = r.Changed() // the runs just made have already signalled
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

// clipName bounds a name quoted in an error or a response.
func clipName(name string) string {
	if len(name) > maxNameLen {
		return name[:maxNameLen] + "…"
	}
	return name
}
