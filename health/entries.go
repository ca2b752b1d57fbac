package health

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Names the registry gives the entries it adds to reports; Register refuses
// them. "alive" is the liveness switch and "ready" the readiness switch;
// "liveness" and "startup" are readiness's view of those groups.
const (
	EntryAlive    = "alive"
	EntryReady    = "ready"
	EntryLiveness = "liveness"
	EntryStartup  = "startup"
)

// ownEntryDef describes one of the registry's own entries. ownEntries is the
// one table of them: names, groups, what they show, and what they reserve.
type ownEntryDef struct {
	name  string
	group Group // the group whose report shows it
	// Either a switch of the registry's, failing with offErr when off...
	sw func(*Registry) *switchBox
	// ...or a gate: another group's status, shown in readiness.
	gate Group
}

const numOwnEntries = 4

var ownEntries = [numOwnEntries]ownEntryDef{
	{name: EntryAlive, group: Liveness, sw: func(r *Registry) *switchBox { return &r.alive }},
	{name: EntryReady, group: Readiness, sw: func(r *Registry) *switchBox { return &r.ready }},
	{name: EntryLiveness, group: Readiness, gate: Liveness},
	{name: EntryStartup, group: Readiness, gate: Startup},
}

// gateErrs are the reasons of failing gates, made once.
var gateErrs = [numGroups]error{
	Liveness: fmt.Errorf("%s %w", EntryLiveness, ErrGateFailed),
	Startup:  fmt.Errorf("%s %w", EntryStartup, ErrGateFailed),
}

// ownEntry returns the definition of the own entry called name, or nil.
func ownEntry(name string) *ownEntryDef {
	for i := range ownEntries {
		if ownEntries[i].name == name {
			return &ownEntries[i]
		}
	}
	return nil
}

// result returns the entry's current verdict.
func (e *ownEntryDef) result(r *Registry) CheckResult {
	res := CheckResult{Name: e.name, Status: StatusPass}
	if e.sw != nil {
		st := e.sw(r).state()
		res.Time = st.since
		if st.off {
			res.Status, res.Err = StatusFail, st.err
		}
		return res
	}
	if s := r.groupStatus(e.gate); s != StatusPass {
		res.Status, res.Err = s, gateErrs[e.gate]
	}
	return res
}

// tally counts the checks of a group by effective status, so that a group's
// status costs O(1) however many checks it has.
type tally struct {
	fail, warn atomic.Int64
}

func (t *tally) add(s Status, n int64) {
	switch s {
	case StatusFail:
		t.fail.Add(n)
	case StatusWarn:
		t.warn.Add(n)
	}
}

func (t *tally) status() Status {
	switch {
	case t.fail.Load() > 0:
		return StatusFail
	case t.warn.Load() > 0:
		return StatusWarn
	}
	return StatusPass
}

// groupStatus is the status of group g from the latest results: the worst
// of its checks and switch and, for readiness, of the liveness and startup
// groups.
func (r *Registry) groupStatus(g Group) Status {
	switch g {
	case Liveness:
		return worse(r.tally[Liveness].status(), r.alive.status())
	case Startup:
		if r.startupDone.Load() {
			return StatusPass
		}
		return r.tally[Startup].status()
	case Readiness:
		s := worse(r.tally[Readiness].status(), r.ready.status())
		return worse(s, worse(r.groupStatus(Liveness), r.groupStatus(Startup)))
	}
	return StatusUnknown
}

// settle announces a change: ev (a check's status change, if any), then
// the statuses of the registry's own entries and of the groups that changed
// with it, in that order; and it wakes whoever waits on Changed. It takes
// stateMu, so announcements never interleave; callers may hold a check's
// lock (the lock order is check, then stateMu).
func (r *Registry) settle(ev *Event) {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	now := time.Now()
	if ev != nil {
		ev.Time = now
		r.publish(*ev)
	}
	for i := range ownEntries {
		e := &ownEntries[i]
		if e.sw == nil {
			continue
		}
		res := e.result(r)
		if res.Status != r.reportedOwn[i] {
			ev := Event{Time: now, Group: e.group, Check: e.name, From: r.reportedOwn[i], To: res.Status, Err: res.Err}
			if res.Err != nil {
				ev.msg = res.Err.Error() // the registry's own error: no user code
			}
			r.publish(ev)
			r.reportedOwn[i] = res.Status
		}
	}
	for _, g := range allGroups {
		if s := r.groupStatus(g); s != r.reportedGroup[g] {
			r.publish(Event{Time: now, Group: g, From: r.reportedGroup[g], To: s})
			r.reportedGroup[g] = s
		}
	}
	r.version.Add(1)
	r.wake()
}

// wake closes the channel Changed handed out.
func (r *Registry) wake() {
	if ch := r.notify.Swap(nil); ch != nil {
		close(*ch)
	}
}

// Changed returns a channel that is closed at the next change of a status
// (of a check, a group or a switch), of a breaker's state, or of what is
// registered. Call it again after each close for the next one. It never
// blocks and holds nothing, so any number of watchers can wait on it; a
// watcher that was busy when changes happened sees one close for all of
// them and should re-read the state (Latest) rather than count closes.
// Checks that run on request change only when something runs them (a
// probe, Check, WaitFor).
func (r *Registry) Changed() <-chan struct{} {
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
