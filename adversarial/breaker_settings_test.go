package adversarial_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/health"
)

// TestOddBreakerSettings: WithBreaker settings far from the defaults are
// accepted or refused with ErrInvalidOption; Register does not panic or
// allocate without bound; an accepted breaker answers probes within the
// check's timeout (no rolling-window walk under its lock), trips after
// repeated failures when its window is long, and a background check
// behind it does not run in a busy loop. Each in a child process: some of
// these allocate terabytes.
func TestOddBreakerSettings(t *testing.T) {
	for _, c := range []struct {
		name  string
		st    gobreaker.Settings
		trips bool // counts are kept long enough that 10 consecutive failures must open it
	}{
		{name: "Interval_MaxInt64_BucketPeriod_1ns", st: gobreaker.Settings{Interval: math.MaxInt64, BucketPeriod: 1}, trips: true},
		{name: "Interval_24h_BucketPeriod_1ns", st: gobreaker.Settings{Interval: 24 * time.Hour, BucketPeriod: 1}, trips: true},
		{name: "Interval_1s_BucketPeriod_1us", st: gobreaker.Settings{Interval: time.Second, BucketPeriod: time.Microsecond}, trips: true},
		{name: "Interval_MaxInt64_BucketPeriod_2ns", st: gobreaker.Settings{Interval: math.MaxInt64, BucketPeriod: 2}, trips: true},
		{name: "Interval_MaxInt64", st: gobreaker.Settings{Interval: math.MaxInt64}, trips: true},
		{name: "Interval_1ns_BucketPeriod_MaxInt64", st: gobreaker.Settings{Interval: 1, BucketPeriod: math.MaxInt64}},
		{name: "Timeout_MaxInt64", st: gobreaker.Settings{Timeout: math.MaxInt64}, trips: true},
		{name: "Timeout_1ns", st: gobreaker.Settings{Timeout: 1}},
		{name: "MaxRequests_MaxUint32", st: gobreaker.Settings{MaxRequests: math.MaxUint32, Timeout: time.Millisecond}, trips: true},
		{name: "ReadyToTrip_always", st: gobreaker.Settings{ReadyToTrip: func(gobreaker.Counts) bool { return true }}, trips: true},
		{name: "IsSuccessful_never", st: gobreaker.Settings{IsSuccessful: func(error) bool { return false }}, trips: true},
		{name: "IsExcluded_always", st: gobreaker.Settings{IsExcluded: func(error) bool { return true }}},
		{name: "negative_Interval", st: gobreaker.Settings{Interval: -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			knownBrokenRow(t)
			inChild(t, func(t *testing.T) { oddBreaker(t, c.st, c.trips) })
		})
	}
}

func oddBreaker(t *testing.T, st gobreaker.Settings, trips bool) {
	rg := newRig(t)
	var failing atomic.Bool
	failing.Store(true)
	var runs atomic.Int64
	fn := func(context.Context) error {
		runs.Add(1)
		if failing.Load() {
			return errCheckFailed
		}
		return nil
	}
	var before, after heapStats
	before.read()
	var errOn, errBg error
	e := within(answerBound, func() {
		errOn = rg.reg.Register(health.Readiness, "on-request", fn, health.Dependency(), health.WithBreaker(st), health.Timeout(checkTimeout))
		errBg = rg.reg.Register(health.Readiness, "background", fn, health.Dependency(), health.WithBreaker(st), health.Timeout(checkTimeout), health.Every(10*time.Millisecond))
	})
	after.read()
	if !e.returned {
		t.Fatalf("Register: %v", e)
	}
	for _, err := range []error{errOn, errBg} {
		if err != nil && !errors.Is(err, health.ErrInvalidOption) {
			t.Fatalf("Register refused the settings with %v, want ErrInvalidOption", err)
		}
	}
	if grown := after.total - before.total; grown > 64<<20 {
		t.Errorf("registering two checks with these settings allocated %d MiB", grown>>20)
	}
	if errOn != nil {
		return // refused, as it may be
	}
	time.Sleep(50 * time.Millisecond) // let a rolling window age
	opened := false
	for range 10 {
		res, ok := rg.result(t, health.Readiness, "on-request")
		if !ok {
			return
		}
		opened = opened || safeIs(res.Err, health.ErrBreakerOpen)
	}
	if trips && !opened {
		t.Errorf("10 consecutive failures did not open the breaker: these settings disable it")
	}
	rg.probeAll(t, "on-request", http.StatusServiceUnavailable)
	n := runs.Load()
	time.Sleep(window)
	if extra := runs.Load() - n; extra > int64(window/(9*time.Millisecond))+2 {
		t.Errorf("the background dependency check ran %d times in %v with an interval of 10ms: a busy loop", extra, window)
	}
}

type heapStats struct{ total uint64 }

func (h *heapStats) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.total = ms.TotalAlloc
}
