package statuspage

import (
	"time"

	"github.com/probekit/probekit/health"
)

// groupOrder is the order groups are shown in: readiness first, since
// "why is this pod out of rotation?" is the first question.
var groupOrder = [...]health.Group{health.Readiness, health.Liveness, health.Startup}

// groupData is what the page knows of a group at one moment: the
// registry's latest report, read without running anything, and the
// recorded history of the group and of each of its entries.
type groupData struct {
	report  health.Report
	history snapshot
	since   time.Time // zero: unknown (no change recorded)
	entries []entryData
}

type entryData struct {
	result  health.CheckResult
	history snapshot
	since   time.Time // zero: unknown
	pending bool      // no result yet
}

// collect reads the registry's latest reports and the recorder's
// histories. It runs no check.
func (p *page) collect(now time.Time) []groupData {
	out := make([]groupData, 0, len(groupOrder))
	for _, g := range groupOrder {
		rep := p.reg.Latest(g)
		gd := groupData{report: rep, history: p.rec.get(key{g, ""}).snapshot(now)}
		gd.since = since(gd.history, rep.Status, time.Time{})
		gd.entries = make([]entryData, len(rep.Checks))
		for i, c := range rep.Checks {
			h := p.rec.get(key{g, c.Name}).snapshot(now)
			gd.entries[i] = entryData{result: c, history: h, since: since(h, c.Status, c.Time), pending: isPending(c.Err)}
		}
		out = append(out, gd)
	}
	return out
}

// since returns when the entry took the status it has now: the earliest of
// the latest run of recorded changes to it. If the latest change recorded
// is to another status (the event is still on its way), it is fallback,
// the time of the verdict. With no change recorded it is zero: the status
// has been the same since the page began.
func since(s snapshot, current health.Status, fallback time.Time) time.Time {
	var t time.Time
	for i := len(s.changes) - 1; i >= 0; i-- {
		c := s.changes[i]
		if c.kind != statusChange {
			continue
		}
		if c.to != current {
			if t.IsZero() {
				return fallback
			}
			break
		}
		t = time.Unix(0, c.at)
	}
	return t
}

// lastFailure returns the latest recorded change to warn or fail, if any.
func lastFailure(s snapshot) (change, bool) {
	for i := len(s.changes) - 1; i >= 0; i-- {
		if c := s.changes[i]; c.kind == statusChange && !c.pending && (c.to == health.StatusWarn || c.to == health.StatusFail) {
			return c, true
		}
	}
	return change{}, false
}

// changesWithin counts the status changes after t: changes from one
// known status to another, so neither an entry's first announcement nor
// a check's first result after it had none.
func changesWithin(s snapshot, t time.Time) int {
	n := 0
	afterPending := false
	for _, c := range s.changes {
		if c.kind != statusChange {
			continue
		}
		if !c.pending && !afterPending && c.from != health.StatusUnknown && c.from != c.to && time.Unix(0, c.at).After(t) {
			n++
		}
		afterPending = c.pending
	}
	return n
}

// isPending reports whether err says the check has no result yet. The
// registry reports that with ErrPending itself, unwrapped; comparing with
// it calls none of the methods of a check's own error.
func isPending(err error) bool { return err == health.ErrPending }

// entryKind names what an entry of a report is: the registry's own
// switches and group entries, dependency checks, and other checks.
func entryKind(g health.Group, c health.CheckResult) string {
	switch {
	case g == health.Liveness && c.Name == "alive", g == health.Readiness && c.Name == "ready":
		return "switch"
	case g == health.Readiness && (c.Name == "liveness" || c.Name == "startup"):
		return "group"
	case c.Breaker != nil:
		return "dependency"
	}
	return "check"
}
