package statuspage

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/probekit/probekit/health"
)

// The JSON the page serves at history.json: what the page shows, with
// each entry's recorded changes and per-minute runs in full. The package
// doc describes it; times are RFC 3339 in UTC, durations in seconds.
type jsonDoc struct {
	Title     string      `json:"title"`
	Generated string      `json:"generated"`
	Recording string      `json:"recordingSince"`
	Window    int         `json:"windowSeconds"`
	Details   bool        `json:"details"`
	Draining  bool        `json:"draining"`
	Groups    []jsonGroup `json:"groups"`
}

type jsonGroup struct {
	Group           string       `json:"group"`
	Status          string       `json:"status"`
	Since           string       `json:"since,omitempty"`
	LastProbed      string       `json:"lastProbed,omitempty"`
	ChangesInWindow int          `json:"changesInWindow"`
	Flapping        bool         `json:"flapping"`
	Changes         []jsonChange `json:"changes"`
	Entries         []jsonEntry  `json:"entries"`
}

type jsonEntry struct {
	Name            string       `json:"name"`
	Kind            string       `json:"kind"`
	Status          string       `json:"status"`
	Pending         bool         `json:"pending,omitempty"`
	Since           string       `json:"since,omitempty"`
	Time            string       `json:"time,omitempty"`
	Duration        float64      `json:"durationSeconds"`
	Reason          string       `json:"reason,omitempty"`
	Breaker         *jsonBreaker `json:"breaker,omitempty"`
	ChangesInWindow int          `json:"changesInWindow"`
	Flapping        bool         `json:"flapping"`
	Changes         []jsonChange `json:"changes"`
	Runs            []jsonMinute `json:"runs"`
}

type jsonBreaker struct {
	State       string `json:"state"`
	LastSuccess string `json:"lastSuccess,omitempty"`
	NextTrial   string `json:"nextTrial,omitempty"`
}

// jsonChange is a status change (from, to, and with details the reason
// for a change to warn or fail) or a breaker's opening or closing
// (breaker: "open" or "closed").
type jsonChange struct {
	Time    string `json:"time"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Breaker string `json:"breaker,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

type jsonMinute struct {
	Minute string  `json:"minute"`
	Runs   int     `json:"runs"`
	Failed int     `json:"failed"`
	Warned int     `json:"warned"`
	Max    float64 `json:"maxSeconds"`
	Mean   float64 `json:"meanSeconds"`
}

func (p *page) serveJSON(w http.ResponseWriter, details bool) {
	now := p.now()
	doc := p.jsonDoc(p.collect(now), now, details)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // served as application/json with nosniff: never read as HTML
	if err := enc.Encode(doc); err != nil {
		plain(w, http.StatusInternalServerError, "statuspage: "+err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
}

func (p *page) jsonDoc(data []groupData, now time.Time, details bool) jsonDoc {
	start := windowStart(now)
	doc := jsonDoc{Title: p.title, Generated: iso(now), Recording: iso(p.rec.started), Window: int(window / time.Second), Details: details}
	for _, gd := range data {
		n := changesWithin(gd.history, start)
		jg := jsonGroup{
			Group: gd.report.Group.String(), Status: gd.report.Status.String(),
			Since: isoOrEmpty(gd.since), LastProbed: isoOrEmpty(gd.report.LastProbed),
			ChangesInWindow: n, Flapping: n >= flapping,
			Changes: jsonChanges(gd.history, details), Entries: make([]jsonEntry, 0, len(gd.entries)),
		}
		doc.Draining = doc.Draining || gd.report.Draining
		for _, e := range gd.entries {
			jg.Entries = append(jg.Entries, jsonEntryOf(gd.report.Group, e, start, details))
		}
		doc.Groups = append(doc.Groups, jg)
	}
	return doc
}

func jsonEntryOf(g health.Group, e entryData, start time.Time, details bool) jsonEntry {
	c := e.result
	n := changesWithin(e.history, start)
	je := jsonEntry{
		Name: c.Name, Kind: entryKind(g, c), Status: c.Status.String(), Pending: e.pending,
		Since: isoOrEmpty(e.since), Time: isoOrEmpty(c.Time), Duration: c.Duration.Seconds(),
		ChangesInWindow: n, Flapping: n >= flapping,
		Changes: jsonChanges(e.history, details), Runs: []jsonMinute{},
	}
	if details && (c.Status == health.StatusWarn || c.Status == health.StatusFail) {
		je.Reason = reasonOf(c.Reason)
	}
	if b := c.Breaker; b != nil {
		je.Breaker = &jsonBreaker{State: b.State.String(), LastSuccess: isoOrEmpty(b.LastSuccess), NextTrial: isoOrEmpty(b.NextTrial)}
	}
	for _, b := range e.history.buckets {
		if b.runs == 0 {
			continue
		}
		je.Runs = append(je.Runs, jsonMinute{
			Minute: iso(time.Unix(b.minute*60, 0)), Runs: int(b.runs), Failed: int(b.failed), Warned: int(b.warned),
			Max: b.maxDur.Seconds(), Mean: (b.sum / time.Duration(b.runs)).Seconds(),
		})
	}
	return je
}

func jsonChanges(s snapshot, details bool) []jsonChange {
	out := make([]jsonChange, 0, len(s.changes))
	for _, c := range s.changes {
		jc := jsonChange{Time: iso(time.Unix(0, c.at))}
		switch c.kind {
		case breakerOpened:
			jc.Breaker = "open"
		case breakerClosed:
			jc.Breaker = "closed"
		default:
			jc.From, jc.To = c.from.String(), c.to.String()
			if details {
				jc.Reason = c.reason
			}
		}
		out = append(out, jc)
	}
	return out
}

func isoOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return iso(t)
}
