package statuspage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// xAt is where time t falls on the timeline of the window that ends at now.
func xAt(t, now time.Time) string {
	f := float64(t.Sub(windowStart(now))) / float64(window) * svgWidth
	return num(float64(int(f*10+0.5)) / 10)
}

func statusEvent(at time.Time, name string, from, to health.Status) health.Event {
	ev := health.Event{Time: at, Group: health.Readiness, Check: name, From: from, To: to}
	if to == health.StatusFail {
		ev.Err = errors.New("down")
	}
	return ev
}

func TestTimelineBand(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 30, 0, time.UTC)
	known := now.Add(-3 * time.Hour)
	rec := newRecorder(known)
	rec.ObserveEvent(statusEvent(now.Add(-3*time.Hour), "db", health.StatusUnknown, health.StatusPass))
	failed := now.Add(-30 * time.Minute)
	rec.ObserveEvent(statusEvent(failed, "db", health.StatusPass, health.StatusFail))
	tl := draw(rec.get(key{health.Readiness, "db"}).snapshot(now), now, known, health.StatusFail, false)
	assert.Equal(t, "M0 26.5H"+xAt(failed, now), tl.Pass, "pass from the window's start to the failure")
	assert.Equal(t, "M"+xAt(failed, now)+" 26.5H"+xAt(now, now), tl.Fail, "fail since")
	assert.Empty(t, tl.Unknown+tl.Warn+tl.Breaker)
	assert.Equal(t, 1, tl.changes)
	assert.Equal(t, "Last hour: 1 status change.", tl.Label)
}

// A failure of two seconds in an hour is narrower than a pixel: it is
// drawn minSegment wide, so that no one misses it.
func TestTimelineShowsBlips(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 30, 0, time.UTC)
	rec := newRecorder(now.Add(-2 * time.Hour))
	blip := now.Add(-20 * time.Minute)
	rec.ObserveEvent(statusEvent(blip, "db", health.StatusPass, health.StatusFail))
	rec.ObserveEvent(statusEvent(blip.Add(2*time.Second), "db", health.StatusFail, health.StatusPass))
	tl := draw(rec.get(key{health.Readiness, "db"}).snapshot(now), now, now.Add(-2*time.Hour), health.StatusPass, false)
	x := xAt(blip, now)
	var x1, x2 float64
	_, err := fmt.Sscanf(tl.Fail, "M%g 26.5H%g", &x1, &x2)
	require.NoError(t, err, tl.Fail)
	assert.Equal(t, x, num(x1))
	assert.InDelta(t, minSegment, x2-x1, 0.01)
	assert.Equal(t, 2, tl.changes)
}

// Before the page began, nothing is known: the band starts there.
func TestTimelineStartsWithThePage(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 30, 0, time.UTC)
	known := now.Add(-10 * time.Minute)
	tl := draw(snapshot{buckets: make([]bucket, numBuckets)}, now, known, health.StatusPass, false)
	assert.Equal(t, "M"+xAt(known, now)+" 26.5H"+xAt(now, now), tl.Pass)
}

func TestTimelineBreaker(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 30, 0, time.UTC)
	rec := newRecorder(now.Add(-2 * time.Hour))
	opened, closed := now.Add(-20*time.Minute), now.Add(-10*time.Minute)
	for _, ev := range []health.Event{
		{Time: opened, Group: health.Readiness, Check: "db", Breaker: breakerStatus("open")},
		{Time: opened.Add(time.Minute), Group: health.Readiness, Check: "db", Breaker: breakerStatus("half-open")},
		{Time: opened.Add(time.Minute), Group: health.Readiness, Check: "db", Breaker: breakerStatus("open")},
		{Time: closed, Group: health.Readiness, Check: "db", Breaker: breakerStatus("closed")},
	} {
		rec.ObserveEvent(ev)
	}
	s := rec.get(key{health.Readiness, "db"}).snapshot(now)
	tl := draw(s, now, now.Add(-2*time.Hour), health.StatusPass, false)
	assert.Equal(t, "M"+xAt(opened, now)+" 21.5H"+xAt(closed, now), tl.Breaker)
	assert.Equal(t, "Last hour: 0 status changes; breaker open 1 time.", tl.Label)
	tl = draw(s, now, now.Add(-2*time.Hour), health.StatusFail, true)
	assert.Contains(t, tl.Breaker, "M"+xAt(now, now)+" 21.5H120", "open now, as the registry says: drawn from now, minSegment wide")
}

func TestTimelineBars(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 30, 0, time.UTC)
	rec := newRecorder(now.Add(-2 * time.Hour))
	run := func(ago time.Duration, s health.Status, d time.Duration) {
		rec.ObserveRun(health.Run{Group: health.Readiness, Check: "db", Status: s, Start: now.Add(-ago), Duration: d})
	}
	run(0, health.StatusPass, 10*time.Millisecond)            // this minute: the longest
	run(time.Minute, health.StatusFail, 5*time.Millisecond)   // a minute ago: failed, half as long
	run(2*time.Minute, health.StatusWarn, time.Millisecond/2) // warned, shorter than a pixel
	tl := draw(rec.get(key{health.Readiness, "db"}).snapshot(now), now, now.Add(-2*time.Hour), health.StatusPass, false)
	assert.Equal(t, "M119 19v-18", tl.Bars)
	assert.Equal(t, "M117 19v-9", tl.FailBars)
	assert.Equal(t, "M115 19v-1", tl.WarnBars)
	assert.Equal(t, "Last hour: 0 status changes; 3 runs, 2 not passing, longest 10.0 ms.", tl.Label)
}

// TestFlapping: four status changes within the hour make an entry
// flapping, on the page and in the JSON; a first result after none does
// not count.
func TestFlapping(t *testing.T) {
	reg := newRegistry(t)
	register(t, reg, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return nil }))
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	now := time.Now()
	p.rec.ObserveEvent(health.Event{Time: now.Add(-50 * time.Minute), Group: health.Readiness, Check: "db", From: health.StatusUnknown, To: health.StatusFail, Err: health.ErrPending})
	p.rec.ObserveEvent(statusEvent(now.Add(-49*time.Minute), "db", health.StatusFail, health.StatusPass))
	for i, to := range []health.Status{health.StatusFail, health.StatusPass, health.StatusFail} {
		from := health.StatusPass
		if to == health.StatusPass {
			from = health.StatusFail
		}
		p.rec.ObserveEvent(statusEvent(now.Add(time.Duration(i-40)*time.Minute), "db", from, to))
	}
	_, body := get(t, p, "/")
	assert.Contains(t, rowOf(t, body, "db"), "<td>3</td>", "three changes: the first result does not count")
	assert.NotContains(t, rowOf(t, body, "db"), "flapping")
	p.rec.ObserveEvent(statusEvent(now.Add(-time.Minute), "db", health.StatusFail, health.StatusPass))
	res, body := get(t, p, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, rowOf(t, body, "db"), `<td>4 <span class="flap">flapping</span></td>`)
}

func TestSince(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s := snapshot{changes: []change{
		{at: t0.UnixNano(), kind: statusChange, from: health.StatusUnknown, to: health.StatusFail, pending: true},
		{at: t0.Add(time.Second).UnixNano(), kind: statusChange, from: health.StatusFail, to: health.StatusFail},
		{at: t0.Add(2 * time.Second).UnixNano(), kind: breakerOpened},
	}}
	assert.True(t, t0.Equal(since(s, health.StatusFail, time.Time{})), "failing since it was announced")
	fallback := t0.Add(time.Hour)
	assert.True(t, fallback.Equal(since(s, health.StatusPass, fallback)), "the change to pass is on its way")
	assert.True(t, since(snapshot{}, health.StatusPass, fallback).IsZero(), "no change recorded")
}
