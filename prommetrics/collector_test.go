package prommetrics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// breakerFailures is how many consecutive failures open the breakers of
// the tests' dependencies (the default, set explicitly).
const breakerFailures = 3

// switchable is a check whose verdict the test sets, counting its calls.
type switchable struct {
	fail  atomic.Bool
	calls atomic.Int64
}

func (s *switchable) Check(context.Context) error {
	s.calls.Add(1)
	if s.fail.Load() {
		return errors.New("dial tcp 10.0.0.7:5432: connection refused")
	}
	return nil
}

// run runs the readiness checks once, as a probe would, and returns the
// group's status.
func run(t *testing.T, reg *health.Registry) health.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	rep, err := reg.Check(ctx, health.Readiness)
	require.NoError(t, err)
	return rep.Status
}

// TestPassFailBreakerOpenRecovered follows one dependency through an
// outage over a real /metrics, asserting every series the package
// documents for it.
func TestPassFailBreakerOpenRecovered(t *testing.T) {
	reg := openRegistry(t)
	m := serveMetrics(t, reg)
	db := new(switchable)
	const open = time.Second // the open breaker's period before its trial
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(db.Check),
		health.CheckOptions{Breaker: health.BreakerSettings{Failures: breakerFailures, Open: open}}))
	const series = "group=readiness,name=db"
	runs := 0 // runs started by the test, each one probe of readiness
	probe := func() health.Status { runs++; return run(t, reg) }
	counted := func(s scraped) bool { return s.runs("readiness", "db") == float64(runs) }

	// Before any run: every series exists, the counters at zero.
	s := m.scrape()
	for _, r := range []string{"pass", "warn", "fail", "timeout", "panic", "breaker-open"} {
		assert.Zero(t, s.value("probekit_healthchecks_total", series+",result="+r), r)
	}
	for _, to := range []string{"closed", "half-open", "open"} {
		assert.Zero(t, s.value("probekit_breaker_state_changes_total", "name=db,to="+to), to)
	}
	count, _, ok := s.histogram("readiness", "db")
	assert.True(t, ok && count == 0, "empty histogram series before the first run")
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", series), "pending counts as failing in readiness")
	assert.Equal(t, -1.0, s.value("probekit_healthcheck_last_success_timestamp_seconds", series), "no success yet")

	// Pass.
	before := time.Now()
	require.Equal(t, health.StatusPass, probe())
	s = m.until("the first run is counted", counted)
	assert.Equal(t, 1.0, s.value("probekit_healthchecks_total", series+",result=pass"))
	assert.Equal(t, 1.0, s.value("probekit_healthcheck", series))
	assert.Equal(t, 1.0, s.value("probekit_healthcheck_status", series+",status=pass"))
	assert.Equal(t, 0.0, s.value("probekit_healthcheck_status", series+",status=fail"))
	assert.Equal(t, 1.0, s.value("probekit_healthgroup", "group=readiness"))
	assert.Equal(t, 1.0, s.value("probekit_healthgroup_status", "group=readiness,status=pass"))
	assert.Equal(t, 0.0, s.value("probekit_breaker_state", "name=db"), "closed")
	firstSuccess := s.value("probekit_healthcheck_last_success_timestamp_seconds", series)
	assert.InDelta(t, float64(before.UnixNano())/1e9, firstSuccess, time.Since(before).Seconds()+0.001)
	toFail := s.value("probekit_healthgroup_transitions_total", "group=readiness,to=fail")
	toPass := s.value("probekit_healthgroup_transitions_total", "group=readiness,to=pass")

	// Fail: readiness fails, the breaker is still closed.
	db.fail.Store(true)
	require.Equal(t, health.StatusFail, probe())
	s = m.until("the failed run is counted", counted)
	assert.Equal(t, 1.0, s.value("probekit_healthchecks_total", series+",result=fail"))
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", series))
	assert.Equal(t, 1.0, s.value("probekit_healthcheck_status", series+",status=fail"))
	assert.Equal(t, 0.0, s.value("probekit_healthgroup", "group=readiness"))
	assert.Equal(t, 1.0, s.value("probekit_healthgroup_status", "group=readiness,status=fail"))
	assert.Equal(t, toFail+1, s.value("probekit_healthgroup_transitions_total", "group=readiness,to=fail"))
	assert.Equal(t, 0.0, s.value("probekit_breaker_state", "name=db"), "one failure leaves the breaker closed")
	assert.Equal(t, firstSuccess, s.value("probekit_healthcheck_last_success_timestamp_seconds", series), "a failure is no success")

	// Breaker open: the breakerFailures-th consecutive failure trips it
	// (its counts never reset on a timer, so this does not depend on timing).
	for range breakerFailures - 1 {
		probe()
	}
	s = m.until("the breaker opens", func(s scraped) bool {
		return counted(s) && s.value("probekit_breaker_state_changes_total", "name=db,to=open") == 1
	})
	assert.Equal(t, float64(breakerFailures), s.value("probekit_healthchecks_total", series+",result=fail"))
	assert.Equal(t, 2.0, s.value("probekit_breaker_state", "name=db"), "open")

	// The next probe is answered by the open breaker without a call. Should
	// the machine stall past the open period, that probe is the trial
	// instead (it fails and reopens the breaker): try again.
	for i := 0; ; i++ {
		calls := db.calls.Load()
		probe()
		if db.calls.Load() == calls {
			break
		}
		require.Less(t, i, 10, "no probe met the open breaker")
	}
	s = m.until("the breaker-open answer is counted", counted)
	assert.GreaterOrEqual(t, s.value("probekit_healthchecks_total", series+",result=breaker-open"), 1.0)
	assert.Equal(t, 2.0, s.value("probekit_breaker_state", "name=db"))
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", series))
	calls := float64(db.calls.Load())
	assert.Equal(t, calls-1, s.value("probekit_healthchecks_total", series+",result=fail"), "every call but the first failed")
	count, _, _ = s.histogram("readiness", "db")
	assert.Equal(t, uint64(calls), count, "runs that met the open breaker are not timed")

	// Recovered: the trial after the open period passes and closes it.
	db.fail.Store(false)
	deadline := time.Now().Add(waitLimit)
	for probe() != health.StatusPass {
		require.True(t, time.Now().Before(deadline), "readiness did not pass again within %v", waitLimit)
		time.Sleep(open / 20)
	}
	s = m.until("recovery is counted", counted)
	calls = float64(db.calls.Load())
	assert.Equal(t, 2.0, s.value("probekit_healthchecks_total", series+",result=pass"))
	assert.Equal(t, float64(runs)-calls, s.value("probekit_healthchecks_total", series+",result=breaker-open"),
		"every run that did not call the check met the open breaker")
	assert.Equal(t, 0.0, s.value("probekit_breaker_state", "name=db"), "closed again")
	assert.Equal(t, 1.0, s.value("probekit_breaker_state_changes_total", "name=db,to=closed"))
	// A failed trial (after a stall) reopens the breaker: each opening
	// but the first followed a half-open trial.
	opens := s.value("probekit_breaker_state_changes_total", "name=db,to=open")
	assert.Equal(t, opens, s.value("probekit_breaker_state_changes_total", "name=db,to=half-open"))
	assert.Equal(t, 1.0, s.value("probekit_healthcheck", series))
	assert.Equal(t, 1.0, s.value("probekit_healthgroup", "group=readiness"))
	assert.Equal(t, toPass+1, s.value("probekit_healthgroup_transitions_total", "group=readiness,to=pass"))
	assert.Greater(t, s.value("probekit_healthcheck_last_success_timestamp_seconds", series), firstSuccess)
	count, _, _ = s.histogram("readiness", "db")
	assert.Equal(t, uint64(calls), count)
}
