package health_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestReportListsEntriesSortedByName(t *testing.T) {
	r := openRegistry(t)
	for _, name := range []string{"zeta", "alpha", "m.id", "Beta"} {
		mustRegister(t, r, health.Readiness, name, passing)
	}
	mustRegister(t, r, health.Liveness, "loop", passing)
	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.Readiness, rep.Group)
	got := names(rep)
	assert.True(t, sort.StringsAreSorted(got), "%v", got)
	assert.ElementsMatch(t, []string{"zeta", "alpha", "m.id", "Beta", "ready", "liveness", "startup"}, got,
		"the group's checks and readiness's own entries; liveness's checks count through the liveness entry")
	assert.Equal(t, []string{"alive", "loop"}, names(report(t, r, health.Liveness)))
	assert.Empty(t, names(report(t, r, health.Startup)), "startup has no own entry")
	for _, c := range rep.Checks {
		assert.Nil(t, c.Breaker, "only dependencies have a breaker")
	}
}

func TestCheckWithNames(t *testing.T) {
	r := openRegistry(t)
	var db, cache checkSwitch
	db.set(true)
	var loop checkSwitch
	mustRegister(t, r, health.Readiness, "db", &db)
	mustRegister(t, r, health.Readiness, "cache", &cache)
	mustRegister(t, r, health.Liveness, "loop", &loop)
	ctx := context.Background()

	rep, err := r.Check(ctx, health.Readiness, "db")
	require.NoError(t, err)
	assert.Equal(t, []string{"db"}, names(rep))
	assert.Equal(t, health.StatusFail, rep.Status, "the status of the entries reported")
	assert.Equal(t, int32(1), db.runs.Load())
	assert.Zero(t, cache.runs.Load(), "only the named entries run")
	assert.Zero(t, loop.runs.Load())
	assert.Empty(t, rep.Excluded, "naming entries excludes nothing")

	rep, err = r.Check(ctx, health.Readiness, "cache", "ready")
	require.NoError(t, err)
	assert.Equal(t, []string{"cache", "ready"}, names(rep))
	assert.Equal(t, health.StatusPass, rep.Status)
	assert.Equal(t, int32(1), db.runs.Load())

	rep, err = r.Check(ctx, health.Readiness, "liveness")
	require.NoError(t, err)
	assert.Equal(t, int32(1), loop.runs.Load(), "the liveness entry runs liveness's checks")
	assert.Equal(t, health.StatusPass, rep.Status)

	for _, tc := range []struct {
		g    health.Group
		name string
	}{
		{health.Liveness, "db"}, {health.Readiness, "alive"}, {health.Readiness, "loop"}, {health.Readiness, "nosuch"},
		{health.Startup, "startup"}, {health.Liveness, ""},
	} {
		rep, err := r.Check(ctx, tc.g, tc.name)
		assert.ErrorIs(t, err, health.ErrUnknownCheck, "%s %q", tc.g, tc.name)
		assert.Empty(t, rep.Checks)
	}
	_, err = r.Check(ctx, health.Readiness, "cache", "nosuch")
	assert.ErrorIs(t, err, health.ErrUnknownCheck, "one unknown name is enough")
	_, err = r.Check(ctx, health.Group(0))
	assert.ErrorIs(t, err, health.ErrInvalidOption)
	_, err = r.Check(ctx, health.Group(7), "db")
	assert.ErrorIs(t, err, health.ErrInvalidOption)
}

// Check returns at once when its context ends, with the report as it
// stands and an error wrapping ctx.Err(); the runs go on.
func TestCheckReturnsWhenItsContextEnds(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	slow := newGate(true)
	defer slow.open()
	mustRegister(t, r, health.Readiness, "slow", slow, health.CheckOptions{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rep, err := r.Check(ctx, health.Readiness)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	e := entry(t, rep, "slow")
	assert.ErrorIs(t, e.Err, health.ErrPending, "the run has not finished")

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = r.Check(ctx, health.Readiness, "slow")
	require.ErrorIs(t, err, context.Canceled)
	slow.open()
	assert.Equal(t, health.RunPass, rec.runsOf(t, "slow", 1)[0].Result, "the run went on")
	assert.Equal(t, 1, slow.count(), "the second Check joined the run in flight")
	rep, err = r.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
	assert.Equal(t, health.StatusPass, rep.Status)
}

// Latest runs nothing: checks that run on request show their last
// verdict, or ErrPending.
func TestLatestRunsNothing(t *testing.T) {
	r := openRegistry(t)
	var db checkSwitch
	mustRegister(t, r, health.Readiness, "db", &db)
	rep := r.Latest(health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status, "pending until something runs it")
	assert.ErrorIs(t, entry(t, rep, "db").Err, health.ErrPending)
	assert.True(t, rep.LastProbed.IsZero(), "reading is not probing")
	assert.Zero(t, db.runs.Load())

	_ = report(t, r, health.Readiness)
	db.set(true)
	for range 100 {
		rep = r.Latest(health.Readiness)
	}
	assert.Equal(t, int32(1), db.runs.Load())
	assert.Equal(t, health.StatusPass, rep.Status, "the last verdict, not the check's current state")
	assert.Equal(t, health.StatusUnknown, r.Latest(health.Group(0)).Status)
	assert.Equal(t, health.StatusUnknown, r.Latest(health.Group(9)).Status)
	assert.Empty(t, r.Latest(health.Group(9)).Checks)
}

func TestLastProbed(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
		assert.True(t, r.Latest(g).LastProbed.IsZero(), "zero if nothing has probed %s", g)
	}
	before := time.Now()
	_ = report(t, r, health.Readiness)
	after := time.Now()
	at := r.Latest(health.Readiness).LastProbed
	assert.False(t, at.Before(before) || at.After(after), "Check is a probe")
	assert.True(t, r.Latest(health.Liveness).LastProbed.IsZero(), "per group")

	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	for _, tc := range []struct {
		target string
		g      health.Group
	}{
		{"/", health.Liveness}, {"/startupz/startup-none", health.Startup}, {"/readyz?verbose", health.Readiness},
		{"/readyz/db", health.Readiness}, {"/livez", health.Liveness},
	} {
		before := time.Now()
		serve(mux, http.MethodGet, tc.target)
		if tc.target == "/startupz/startup-none" { // a 404 asks nothing of the group
			continue
		}
		assert.False(t, r.Latest(tc.g).LastProbed.Before(before), tc.target)
	}
	assert.True(t, r.Latest(health.Startup).LastProbed.IsZero())
	serve(mux, http.MethodGet, "/startupz")
	assert.False(t, r.Latest(health.Startup).LastProbed.IsZero())
}

func TestChangedCloses(t *testing.T) {
	r := openRegistry(t)
	var db checkSwitch
	for _, tc := range []struct {
		name   string
		change func()
	}{
		{"MarkNotReady", func() { r.MarkNotReady("x") }},
		{"MarkReady", func() { r.MarkReady() }},
		{"a registration (pending: readiness fails)", func() { mustRegister(t, r, health.Readiness, "db", &db) }},
		{"a check's first result", func() { _ = report(t, r, health.Readiness) }},
		{"a check's status", func() { db.set(true); _ = report(t, r, health.Readiness) }},
		{"a breaker's state", func() {
			mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(passing), health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1}})
			b, err := r.Breaker("dep")
			require.NoError(t, err)
			_ = b.Execute(func() error { return errors.New("down") })
		}},
		{"MarkBroken", func() { r.MarkBroken("wedged") }},
	} {
		ch := r.Changed()
		select {
		case <-ch:
			t.Fatalf("%s: closed before any change", tc.name)
		default:
		}
		tc.change()
		select {
		case <-ch:
		case <-time.After(waitLimit):
			t.Fatalf("%s: not closed by the change", tc.name)
		}
	}
	_ = report(t, r, health.Readiness) // dep's first result: its reason is news
	ch := r.Changed()
	assert.Equal(t, ch, r.Changed(), "watchers share the channel until the next change")
	_ = report(t, r, health.Readiness) // no change
	_ = r.Latest(health.Readiness)
	select {
	case <-ch:
		t.Fatal("closed without a change")
	default:
	}
	require.NoError(t, r.Close())
	<-ch // closing is one too
	select {
	case <-r.Changed():
	default:
		t.Fatal("Changed after Close is not closed")
	}
}

func TestDoneClosesAtClose(t *testing.T) {
	r := health.New()
	select {
	case <-r.Done():
		t.Fatal("done before Close")
	default:
	}
	require.NoError(t, r.Close())
	<-r.Done()

	// WithContext is gone; context.AfterFunc does what it did.
	ctx, cancel := context.WithCancel(context.Background())
	r = health.New()
	stop := context.AfterFunc(ctx, func() { _ = r.Close() })
	defer stop()
	cancel()
	select {
	case <-r.Done():
	case <-time.After(waitLimit):
		t.Fatal("not done when the context ended")
	}
	require.NoError(t, r.Close(), "idempotent")
}
