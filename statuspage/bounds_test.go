package statuspage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// fillHistory gives entry name of group g a full history ending at now:
// maxChanges status changes between pass and fail within the last hour
// (the fail ones with a reason of maxReason bytes, each its own when
// distinct is set), and runs in every minute of the window.
func fillHistory(rec *recorder, g health.Group, name string, now time.Time, distinct bool) {
	step := window / maxChanges
	for i := range maxChanges {
		from, to := health.StatusPass, health.StatusFail
		var err error
		if i%2 == 1 {
			from, to = to, from
		} else {
			reason := strings.Repeat("x", maxReason)
			if distinct {
				reason = fmt.Sprintf("%s %06d", reason[:maxReason-7], i)
			}
			err = errors.New(reason)
		}
		rec.ObserveEvent(health.Event{Time: now.Add(-window + time.Duration(i)*step), Group: g, Check: name, From: from, To: to, Err: err})
	}
	for m := range numBuckets {
		start := now.Add(-time.Duration(m) * time.Minute)
		for r := range 3 {
			rec.ObserveRun(health.Run{Group: g, Check: name, Result: health.RunPass, Status: health.StatusPass,
				Start: start, Duration: time.Duration(r+1) * time.Millisecond})
		}
	}
}

// TestMemoryPerEntry measures the heap a full history takes: the bounds
// the package doc states (under 7 KiB an entry, 15 KiB when every change
// has a reason of its own of the longest kind) hold, and feeding an entry
// far more than its history keeps takes no more.
func TestMemoryPerEntry(t *testing.T) {
	const n = 1000
	now := time.Now()
	measure := func(distinct bool, rounds int) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rec := newRecorder(now)
		for i := range n {
			for range rounds {
				fillHistory(rec, health.Readiness, fmt.Sprintf("check-%04d", i), now, distinct)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(rec)
		return float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	typical, worst, fed3 := measure(false, 1), measure(true, 1), measure(true, 3)
	t.Logf("heap per entry with a full history: %.0f B with one reason repeated, %.0f B with %d distinct %d-byte reasons, %.0f B after three times as much",
		typical, worst, maxChanges/2, maxReason, fed3)
	assert.Less(t, typical, 7.0*1024, "typical history")
	assert.Less(t, worst, 15.0*1024, "worst history")
	assert.Less(t, fed3, 15.0*1024, "history after three times its size was fed")
}

// TestResponseSize: with 1,000 checks, every one failing with a reason and
// a full history, the page is under 3 MiB (the bound the package doc
// states), the JSON under 25 MiB, and a live update no bigger than the page.
func TestResponseSize(t *testing.T) {
	const n = 1000
	reg := newRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessDetails)})
	reason := errors.New(strings.Repeat(`<"&'>`, maxReason/5))
	for i := range n {
		register(t, reg, health.Readiness, fmt.Sprintf("check-%04d", i), health.DependencyFunc(healthtest.Fixed(reason)))
	}
	_, err := reg.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
	now := time.Now()
	for i := range n {
		fillHistory(p.rec, health.Readiness, fmt.Sprintf("check-%04d", i), now, true)
	}
	_, page := get(t, p, "/")
	_, js := get(t, p, "/history.json")
	live, _, err := p.renderLive(true)
	require.NoError(t, err)
	t.Logf("1,000 checks with full histories: page %d bytes (%.1f KiB a check), JSON %d bytes, live update %d bytes",
		len(page), float64(len(page))/n/1024, len(js), len(event(live)))
	assert.Less(t, len(page), 3<<20)
	assert.Less(t, len(js), 25<<20)
	assert.LessOrEqual(t, len(event(live)), len(page)+len(page)/10)
	assert.Equal(t, n, strings.Count(page, `<span class="name">check-`))
}

// TestHistoryIsBounded: an entry keeps its last maxChanges changes and the
// runs of the last hour, newest last, whatever it is fed.
func TestHistoryIsBounded(t *testing.T) {
	rec := newRecorder(time.Now())
	now := time.Now()
	for i := range 3 * maxChanges {
		from, to := health.StatusPass, health.StatusFail
		if i%2 == 1 {
			from, to = to, from
		}
		rec.ObserveEvent(health.Event{Time: now.Add(time.Duration(i-3*maxChanges) * time.Second), Group: health.Liveness, Check: "c", From: from, To: to})
	}
	rec.ObserveRun(health.Run{Group: health.Liveness, Check: "c", Status: health.StatusFail, Start: now.Add(-2 * window), Duration: time.Second})
	for m := range 2 * numBuckets {
		rec.ObserveRun(health.Run{Group: health.Liveness, Check: "c", Status: health.StatusPass, Start: now.Add(-time.Duration(m) * time.Minute), Duration: time.Millisecond})
	}
	s := rec.get(key{health.Liveness, "c"}).snapshot(now)
	require.Len(t, s.changes, maxChanges)
	assert.Equal(t, now.Add(-time.Second).UnixNano(), s.changes[maxChanges-1].at, "the newest change is kept last")
	assert.Equal(t, now.Add(-time.Duration(maxChanges)*time.Second).UnixNano(), s.changes[0].at, "the oldest kept is the 100th newest")
	require.Len(t, s.buckets, numBuckets)
	for i, b := range s.buckets {
		assert.EqualValues(t, 1, b.runs, "minute %d", i)
		assert.Zero(t, b.failed, "a run older than the window counts in no minute")
	}
}

// TestBreakerTrialsAreNotChanges: a breaker going open, half-open, open,
// half-open, closed is recorded as one opening and one closing.
func TestBreakerTrialsAreNotChanges(t *testing.T) {
	rec := newRecorder(time.Now())
	now := time.Now()
	for i, state := range []string{"open", "half-open", "open", "half-open", "closed", "closed"} {
		rec.ObserveEvent(health.Event{Time: now.Add(time.Duration(i) * time.Second), Group: health.Readiness, Check: "db", Breaker: breakerStatus(state)})
	}
	s := rec.get(key{health.Readiness, "db"}).snapshot(now)
	require.Len(t, s.changes, 2)
	assert.Equal(t, breakerOpened, s.changes[0].kind)
	assert.Equal(t, breakerClosed, s.changes[1].kind)
	assert.Equal(t, now.Add(4*time.Second).UnixNano(), s.changes[1].at)
}
