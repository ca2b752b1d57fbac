package statuspage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/probekit/probekit/health"
)

// The timeline's drawing, in SVG user units (its viewBox is 0 0 120 30):
// one column of two units per minute of the window, run duration bars
// above (up to barTop), the breaker's open spells on a thin line, and the
// status band at the bottom.
const (
	svgWidth   = 120.0
	barBase    = 19.0 // bars rise from here
	barHeight  = 18.0
	breakerY   = 21.5
	bandY      = 26.5
	minSegment = 1.0 // a spell of warn or fail shorter than this is drawn this wide
)

// timeline is the drawing of an entry's last hour: each field is the path
// data ("d" attribute) of one class of strokes, and Label says the same in
// words for screen readers.
type timeline struct {
	Unknown, Pass, Warn, Fail string // the status band
	Breaker                   string // the breaker's open spells
	Bars, WarnBars, FailBars  string // the longest run of each minute
	Label                     string

	changes        int // status changes within the window
	runs, bad      int // runs within the window, and those that warned or failed
	longest        time.Duration
	breakerSpells  int
	breakerCurrent bool
}

// windowStart returns where the window that ends with the minute of now
// begins: the start of the oldest minute of its run summaries.
func windowStart(now time.Time) time.Time {
	return time.Unix((now.Unix()/60-int64(numBuckets-1))*60, 0)
}

// draw computes the timeline of s up to now. current is the entry's status
// and breakerOpen its breaker's state now, as the registry reports them
// (newer than the history when an event is still on its way); known is
// when the page began to record, before which the status is unknown
// unless a change says otherwise.
func draw(s snapshot, now, known time.Time, current health.Status, breakerOpen bool) timeline {
	var tl timeline
	start := windowStart(now)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(start)) / float64(window) * svgWidth
		return math.Round(math.Max(0, math.Min(svgWidth, f))*10) / 10
	}

	// The status band: the status at the window's start, then each change.
	at, found := current, false // no change recorded: it never changed
	for _, c := range s.changes {
		if c.kind != statusChange {
			continue
		}
		if !time.Unix(0, c.at).After(start) {
			at, found = c.to, true
			if c.pending {
				at = health.StatusUnknown
			}
			continue
		}
		if !found {
			at = c.from // the first change kept is inside the window
		}
		break
	}
	tl.changes = changesWithin(s, start)
	var band [4]strings.Builder // by status
	t0, prev := start, at
	flush := func(t1 time.Time, st health.Status) {
		x1, x2 := x(t0), x(t1)
		if st == health.StatusWarn || st == health.StatusFail {
			x2 = math.Max(x2, math.Min(svgWidth, x1+minSegment))
		}
		if x2 > x1 {
			fmt.Fprintf(&band[st], "M%s %sH%s", num(x1), num(bandY), num(x2))
		}
	}
	if known.After(start) {
		t0 = known // nothing is known of the time before the page began: left blank
	}
	for _, c := range s.changes {
		ct := time.Unix(0, c.at)
		if c.kind != statusChange || !ct.After(t0) || ct.After(now) {
			continue
		}
		to := c.to
		if c.pending {
			to = health.StatusUnknown // drawn as what it is: no result yet
		}
		if to == prev {
			continue
		}
		flush(ct, prev)
		t0, prev = ct, to
	}
	flush(now, current)
	tl.Unknown, tl.Pass, tl.Warn, tl.Fail = band[0].String(), band[1].String(), band[2].String(), band[3].String()

	tl.Breaker = drawBreaker(s, start, now, known, breakerOpen, x, &tl)
	drawBars(s.buckets, &tl)
	tl.Label = tl.label()
	return tl
}

// drawBreaker draws the spells of the window during which the breaker was
// not closed.
func drawBreaker(s snapshot, start, now, known time.Time, openNow bool, x func(time.Time) float64, tl *timeline) string {
	var b strings.Builder
	open, found := false, false // at the window's start
	for _, c := range s.changes {
		if c.kind == statusChange {
			continue
		}
		if !time.Unix(0, c.at).After(start) {
			open, found = c.kind == breakerOpened, true
			continue
		}
		if !found {
			open = c.kind == breakerClosed // the first change kept closes it: it was open
		}
		found = true
		break
	}
	from := start
	spell := func(to time.Time) {
		x1, x2 := x(from), math.Max(x(to), math.Min(svgWidth, x(from)+minSegment))
		fmt.Fprintf(&b, "M%s %sH%s", num(x1), num(breakerY), num(x2))
		tl.breakerSpells++
	}
	for _, c := range s.changes {
		ct := time.Unix(0, c.at)
		if !ct.After(start) || ct.After(now) {
			continue
		}
		switch {
		case c.kind == breakerOpened && !open:
			open, from = true, ct
		case c.kind == breakerClosed && open:
			spell(ct)
			open = false
		}
	}
	if open || openNow {
		if !open && found {
			from = now // the registry says open; the event is on its way
		} else if !open {
			from = maxTime(start, known) // opened before the page began
		}
		spell(now)
		tl.breakerCurrent = true
	}
	return b.String()
}

// drawBars draws one bar per minute with runs, as tall as the minute's
// longest run relative to the window's longest, in the colour of the
// minute's worst result.
func drawBars(buckets []bucket, tl *timeline) {
	for _, b := range buckets {
		tl.runs += int(b.runs)
		tl.bad += int(b.failed + b.warned)
		tl.longest = max(tl.longest, b.maxDur)
	}
	var ok, warn, fail strings.Builder
	for i, b := range buckets {
		if b.runs == 0 {
			continue
		}
		h := barHeight
		if tl.longest > 0 {
			h = math.Max(1, math.Round(float64(b.maxDur)/float64(tl.longest)*barHeight))
		}
		w := &ok
		switch {
		case b.failed > 0:
			w = &fail
		case b.warned > 0:
			w = &warn
		}
		fmt.Fprintf(w, "M%d %sv-%s", 2*i+1, num(barBase), num(h))
	}
	tl.Bars, tl.WarnBars, tl.FailBars = ok.String(), warn.String(), fail.String()
}

func (tl *timeline) label() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Last hour: %s", plural(tl.changes, "status change"))
	if tl.runs > 0 {
		fmt.Fprintf(&b, "; %s, %d not passing, longest %s", plural(tl.runs, "run"), tl.bad, duration(tl.longest))
	}
	if tl.breakerSpells > 0 {
		fmt.Fprintf(&b, "; breaker open %s", plural(tl.breakerSpells, "time"))
	}
	return b.String() + "."
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
