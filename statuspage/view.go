package statuspage

import (
	"strings"
	"time"

	"github.com/probekit/probekit/health"
)

// view is what the templates render: the page's data, every text already
// worded and every drawing computed, so that the templates only lay it out.
type view struct {
	Title     string // the page's heading
	DocTitle  string // the document's <title>, which leads with readiness
	Generated moment
	Started   moment // when the page began to record
	Details   bool   // reasons are shown
	Refresh   int    // seconds between reloads without JavaScript
	Flapping  int    // status changes within the hour that make an entry flapping
	Summary   string // the groups' statuses, announced to screen readers when it changes
	Draining  bool
	Switches  []switchView
	Groups    []groupView
}

// moment is a time as the page shows it: Text for people, ISO for
// <time datetime>, Ago for how long ago (or until). Known is false for
// a time the page does not know (the zero value).
type moment struct {
	Text, ISO, Ago string
	Known          bool
}

func at(t, now time.Time) moment {
	if t.IsZero() {
		return moment{}
	}
	return moment{Text: clock(t, now), ISO: iso(t), Ago: ago(t, now), Known: true}
}

// statusView shows a status by colour (Class), by shape (Glyph) and by
// word, so that no one needs to tell colours apart.
type statusView struct{ Word, Class, Glyph string }

func showStatus(s health.Status) statusView {
	switch s {
	case health.StatusPass:
		return statusView{"pass", "pass", "✓"}
	case health.StatusWarn:
		return statusView{"warn", "warn", "!"}
	case health.StatusFail:
		return statusView{"fail", "fail", "✕"}
	}
	return statusView{"unknown", "unknown", "?"}
}

type switchView struct {
	Name   string // "Readiness switch"
	On     bool
	Status statusView
	Since  moment
	Reason string // details only
}

type groupView struct {
	ID, Name   string // "readiness", "Readiness"
	Status     statusView
	Since      moment
	LastProbed moment
	NotPassing int
	Changes    int
	Flapping   bool
	Timeline   timeline
	Rows       []rowView
}

type rowView struct {
	Name, Kind  string
	Status      statusView
	Pending     bool
	Since       moment
	Duration    string // of the latest run; "" if none
	RanAt       moment
	Timeline    timeline
	Changes     int
	Flapping    bool
	Breaker     *breakerView
	Reason      string // the current reason, details only
	LastFailure moment // when a passing entry last failed
	LastReason  string // and why, details only
}

type breakerView struct {
	State, Class string // "open", "half-open", "closed"
	NextTrial    moment
	LastSuccess  moment
}

var groupNames = map[health.Group]string{health.Liveness: "Liveness", health.Readiness: "Readiness", health.Startup: "Startup"}

// buildView words and draws what collect read.
func (p *page) buildView(data []groupData, now time.Time, details bool) view {
	v := view{
		Title:     p.title,
		Generated: at(now, now),
		Started:   at(p.rec.started, now),
		Details:   details,
		Refresh:   int(refreshEvery / time.Second),
		Flapping:  flapping,
	}
	start := windowStart(now)
	for _, gd := range data {
		g := gd.report.Group
		gv := groupView{
			ID: g.String(), Name: groupNames[g], Status: showStatus(gd.report.Status),
			Since: at(gd.since, now), LastProbed: at(gd.report.LastProbed, now),
			Changes:  changesWithin(gd.history, start),
			Timeline: draw(gd.history, now, p.rec.started, gd.report.Status, false),
		}
		gv.Flapping = gv.Changes >= flapping
		if gd.report.Draining {
			v.Draining = true
		}
		for _, e := range gd.entries {
			row := p.buildRow(g, e, now, start, details)
			if row.Status.Class != "pass" {
				gv.NotPassing++
			}
			if row.Kind == "switch" {
				sw := switchView{Name: "Liveness switch", On: e.result.Status == health.StatusPass, Status: row.Status, Since: row.Since, Reason: row.Reason}
				if g == health.Readiness {
					sw.Name = "Readiness switch"
				}
				v.Switches = append(v.Switches, sw)
			}
			gv.Rows = append(gv.Rows, row)
		}
		v.Groups = append(v.Groups, gv)
	}
	v.Summary = summary(v)
	v.DocTitle = v.Summary + " — " + v.Title
	return v
}

func (p *page) buildRow(g health.Group, e entryData, now, start time.Time, details bool) rowView {
	c := e.result
	row := rowView{
		Name: c.Name, Kind: entryKind(g, c), Status: showStatus(c.Status), Pending: e.pending,
		Since: at(e.since, now), RanAt: at(c.Time, now),
		Changes: changesWithin(e.history, start),
	}
	if c.Duration > 0 {
		row.Duration = duration(c.Duration)
	}
	row.Flapping = row.Changes >= flapping
	open := false
	if b := c.Breaker; b != nil {
		state := b.State.String()
		open = state != "closed"
		row.Breaker = &breakerView{State: state, Class: state, LastSuccess: at(b.LastSuccess, now)}
		if state == "open" {
			row.Breaker.NextTrial = at(b.NextTrial, now)
		}
	}
	drawn := c.Status
	if e.pending {
		drawn = health.StatusUnknown
	}
	row.Timeline = draw(e.history, now, p.rec.started, drawn, open)
	if details && (c.Status == health.StatusWarn || c.Status == health.StatusFail) {
		row.Reason = reasonOf(c.Reason)
	}
	if c.Status == health.StatusPass {
		if f, ok := lastFailure(e.history); ok {
			row.LastFailure = at(time.Unix(0, f.at), now)
			if details {
				row.LastReason = f.reason
			}
		}
	}
	return row
}

// summary says what changes, first: "readiness fail · liveness pass", the
// start of the document's title so that a browser tab tells it.
func summary(v view) string {
	var parts []string
	if v.Draining {
		parts = append(parts, "draining")
	}
	for _, g := range v.Groups {
		if g.ID != health.Startup.String() || g.Status.Class != "pass" {
			parts = append(parts, g.ID+" "+g.Status.Word)
		}
	}
	return strings.Join(parts, " · ")
}
