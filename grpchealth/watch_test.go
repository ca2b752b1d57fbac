package grpchealth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// The switch is pushed: no check runs for the flip to arrive.
func TestWatchSwitch(t *testing.T) {
	reg := openRegistry(t, health.Options{StartNotReady: "warming up"})
	e := serve(t, reg, grpchealth.Settings{})
	w := watch(t, e.client, "")
	live := watch(t, e.client, "liveness")
	assert.Equal(t, notServing, w.next(t))
	assert.Equal(t, serving, live.next(t))
	reg.MarkReady()
	assert.Equal(t, serving, w.next(t))
	reg.MarkNotReady("maintenance")
	assert.Equal(t, notServing, w.next(t))
	reg.MarkReady()
	assert.Equal(t, serving, w.next(t))
}

// A background check's change reaches watchers of its group and of its
// name.
func TestWatchBackgroundCheck(t *testing.T) {
	reg := openRegistry(t)
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "db", &sw, health.CheckOptions{Every: 10 * time.Millisecond}))
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	e := serve(t, reg, grpchealth.Settings{WatchPoll: time.Hour})
	group, byName := watch(t, e.client, "readiness"), watch(t, e.client, "db")
	assert.Equal(t, serving, group.next(t))
	assert.Equal(t, serving, byName.next(t))
	sw.Set(healthtest.ErrSwitchedOff)
	assert.Equal(t, notServing, group.next(t))
	assert.Equal(t, notServing, byName.next(t))
	sw.Set(nil)
	assert.Equal(t, serving, group.next(t))
	assert.Equal(t, serving, byName.next(t))
}

// An on-request check changes only when run: while watched, the server
// re-runs it every WatchPoll, without any probe.
func TestWatchPollsOnRequestCheck(t *testing.T) {
	reg := openRegistry(t)
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "db", &sw))
	e := serve(t, reg, grpchealth.Settings{WatchPoll: 10 * time.Millisecond})
	w := watch(t, e.client, "")
	assert.Equal(t, serving, w.next(t), "the first message is the status after a run, not the pending one")
	sw.Set(healthtest.ErrSwitchedOff)
	assert.Equal(t, notServing, w.next(t))
	sw.Set(nil)
	assert.Equal(t, serving, w.next(t))
}

// With an on-request check whose poll is far away, the switch, the
// breaker and the check's timeout still move the status at once.
func TestWatchOnRequestGroupMovesWithoutPoll(t *testing.T) {
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "upstream", health.DependencyFunc(healthtest.Fixed(nil))))
	e := serve(t, reg, grpchealth.Settings{WatchPoll: time.Hour})
	w := watch(t, e.client, "")
	require.Equal(t, serving, w.next(t))

	reg.MarkNotReady("switch")
	assert.Equal(t, notServing, w.next(t), "switch")
	reg.MarkReady()
	assert.Equal(t, serving, w.next(t))

	// Application traffic through the breaker opens it: readiness fails
	// at once, without a run of the check.
	b, err := reg.Breaker("upstream")
	require.NoError(t, err)
	for range defaultBreakerFailures {
		_ = b.Execute(func() error { return errors.New("refused") })
	}
	assert.Equal(t, notServing, w.next(t), "breaker")
}

func TestWatchTimeout(t *testing.T) {
	reg := openRegistry(t)
	var hang atomic.Bool
	release := make(chan struct{})
	defer close(release)
	require.NoError(t, reg.Register(health.Readiness, "upstream", health.CheckFunc(func(ctx context.Context) error {
		if hang.Load() {
			<-release // hung: ignores its context
		}
		return nil
	}), health.CheckOptions{Timeout: 20 * time.Millisecond}))
	e := serve(t, reg, grpchealth.Settings{WatchPoll: time.Hour})
	w := watch(t, e.client, "upstream")
	require.Equal(t, serving, w.next(t))
	hang.Store(true)
	// A probe's run times out: the watcher hears of it at once.
	assert.Equal(t, notServing, e.mustCheck(t, "readiness"))
	assert.Equal(t, notServing, w.next(t))
}

// An unknown name gets SERVICE_UNKNOWN, and the stream stays open until
// the name appears.
func TestWatchUnknownThenRegistered(t *testing.T) {
	reg := openRegistry(t)
	e := serve(t, reg, grpchealth.Settings{})
	w := watch(t, e.client, "late")
	assert.Equal(t, svcUnknown, w.next(t))
	// It runs on request: the server runs it before telling, rather than
	// send the failing status of a check that has never run.
	require.NoError(t, reg.Register(health.Readiness, "late", healthtest.Fixed(nil)))
	assert.Empty(t, w.until(t, serving), "no other status before it")
}

// Many watchers of services resting on one on-request check cost one run
// of it per WatchPoll, not one per watcher.
func TestWatchersShareRuns(t *testing.T) {
	reg := openRegistry(t)
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "db", &sw))
	const poll = 50 * time.Millisecond
	e := serve(t, reg, grpchealth.Settings{WatchPoll: poll})
	start := time.Now()
	var streams []*watchStream
	for i := range 30 {
		name := []string{"", "readiness", "db"}[i%3]
		w := watch(t, e.client, name)
		require.Equal(t, serving, w.next(t))
		streams = append(streams, w)
	}
	deadline := time.Now().Add(waitLimit)
	for sw.Runs() < 5 && time.Now().Before(deadline) {
		time.Sleep(poll)
	}
	runs, elapsed := sw.Runs(), time.Since(start)
	require.GreaterOrEqual(t, runs, 5, "the watched check is polled")
	// Runs are at least poll apart; the +1 is the first.
	assert.LessOrEqual(t, runs, int(elapsed/poll)+1, "%d runs in %v for 30 watchers", runs, elapsed)
	for _, w := range streams {
		w.cancel()
	}
}

// A watcher that goes away leaves no goroutine behind and no poll: the
// check is not run again.
func TestWatcherGoneCostsNothing(t *testing.T) {
	before := goleak.IgnoreCurrent()
	reg := openRegistry(t)
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "db", &sw))
	const poll = 5 * time.Millisecond
	e := serve(t, reg, grpchealth.Settings{WatchPoll: poll})
	require.Equal(t, serving, e.mustCheck(t, "")) // connects the client
	ignoreServer := goleak.IgnoreCurrent()        // the servers and the connection, until cleanup
	w := watch(t, e.client, "")
	require.Equal(t, serving, w.next(t))
	w.cancel()
	_, err := w.recv()
	require.Error(t, err)
	assert.NoError(t, goleak.Find(before, ignoreServer), "goroutines left after the watcher went away")
	runs := sw.Runs()
	time.Sleep(20 * poll) // polls would be due meanwhile
	assert.Equal(t, runs, sw.Runs(), "the check ran after its last watcher left")
}

// Watchers of different names come and go concurrently with changes; each
// ends up with the latest status, and nothing is left running.
func TestWatchChurn(t *testing.T) {
	reg := openRegistry(t)
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "db", &sw))
	e := serve(t, reg, grpchealth.Settings{WatchPoll: time.Millisecond})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			w := watch(t, e.client, []string{"", "db", "liveness", "nope"}[i%4])
			_ = w.next(t)
			w.cancel()
		})
		if i%5 == 0 {
			if i%10 == 0 {
				reg.MarkReady()
			} else {
				reg.MarkNotReady("churn")
			}
		}
	}
	wg.Wait()
	reg.MarkReady()
	w := watch(t, e.client, "")
	assert.Equal(t, serving, w.next(t))
	w.cancel()
}

func TestWatchAfterDrain(t *testing.T) {
	reg := openRegistry(t)
	e := serve(t, reg, grpchealth.Settings{})
	server, ready, live := watch(t, e.client, ""), watch(t, e.client, "readiness"), watch(t, e.client, "liveness")
	for _, w := range []*watchStream{server, ready, live} {
		require.Equal(t, serving, w.next(t))
	}
	require.NoError(t, reg.Drain(context.Background(), 0))
	assert.Equal(t, notServing, server.next(t))
	assert.Equal(t, notServing, ready.next(t))
	assert.Equal(t, serving, e.mustCheck(t, "liveness"), "liveness keeps passing while draining")
	reg.MarkReady() // ignored once draining
	assert.Equal(t, notServing, e.mustCheck(t, ""))
}
