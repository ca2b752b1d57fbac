package prommetrics_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScrapesRunNoChecks is the promise that monitoring adds no load: two
// scrapers hammering /metrics call neither a check that runs on request
// nor a background one.
func TestScrapesRunNoChecks(t *testing.T) {
	reg := openRegistry(t)
	m := serveMetrics(t, reg) // before the background check's first run
	var onRequest, background atomic.Int64
	require.NoError(t, reg.Register(health.Readiness, "on-request", health.CheckFunc(func(context.Context) error {
		onRequest.Add(1)
		return nil
	})))
	require.NoError(t, reg.Register(health.Readiness, "background", health.DependencyFunc(func(context.Context) error {
		background.Add(1)
		return nil
	}), health.CheckOptions{Every: time.Hour}))
	m.until("the background check's first run is counted", func(s scraped) bool {
		return s.runs("readiness", "background") == 1
	})

	const scrapers, scrapes = 2, 50
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() {
			for range scrapes {
				code, _, err := fetch(m.url)
				assert.NoError(t, err)
				assert.Equal(t, http.StatusOK, code)
			}
		})
	}
	wg.Wait()
	assert.Zero(t, onRequest.Load(), "%d scrapes ran the on-request check", scrapers*scrapes)
	assert.Equal(t, int64(1), background.Load(), "only the background check's own first run called it")

	s := m.scrape()
	assert.Zero(t, s.runs("readiness", "on-request"))
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", "group=readiness,name=on-request"), "never run: pending")
	assert.Equal(t, 1.0, s.value("probekit_healthcheck", "group=readiness,name=background"))
}

// A warning keeps the check at 1 (it is served with 200) and is visible
// as status="warn".
func TestWarn(t *testing.T) {
	reg := openRegistry(t)
	m := serveMetrics(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "cache",
		healthtest.Fixed(errors.New("cache unreachable: serving from the fallback")), health.CheckOptions{NonCritical: true}))
	require.NoError(t, reg.Register(health.Readiness, "cert",
		healthtest.Fixed(health.Warn(errors.New("certificate expires in 5 days")))))
	require.Equal(t, health.StatusWarn, run(t, reg))
	s := m.until("both runs are counted", func(s scraped) bool {
		return s.runs("readiness", "cache") == 1 && s.runs("readiness", "cert") == 1
	})
	for _, name := range []string{"cache", "cert"} {
		l := "group=readiness,name=" + name
		assert.Equal(t, 1.0, s.value("probekit_healthchecks_total", l+",result=warn"), name)
		assert.Equal(t, 1.0, s.value("probekit_healthcheck", l), name)
		assert.Equal(t, 1.0, s.value("probekit_healthcheck_status", l+",status=warn"), name)
		assert.Equal(t, 0.0, s.value("probekit_healthcheck_status", l+",status=pass"), name)
		assert.Equal(t, 0.0, s.value("probekit_healthcheck_status", l+",status=fail"), name)
		assert.Equal(t, -1.0, s.value("probekit_healthcheck_last_success_timestamp_seconds", l), "a warning is no success")
	}
	assert.Equal(t, 1.0, s.value("probekit_healthgroup", "group=readiness"))
	assert.Equal(t, 1.0, s.value("probekit_healthgroup_status", "group=readiness,status=warn"))
}

// The switches are entries of their groups, and why they are off (like
// any failure reason) appears nowhere in the exposition.
func TestSwitchesAndReasonsStayOutOfLabels(t *testing.T) {
	const secret = "password=hunter2"
	reg := openRegistry(t)
	m := serveMetrics(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "db",
		healthtest.Fixed(errors.New("postgres://app:"+secret+"@db/app: connection refused"))))
	run(t, reg)
	s := m.until("the run is counted", func(s scraped) bool { return s.runs("readiness", "db") == 1 })
	assert.Equal(t, 1.0, s.value("probekit_healthcheck", "group=readiness,name=ready"), "switch on")
	assert.Equal(t, 1.0, s.value("probekit_healthcheck", "group=liveness,name=alive"), "switch on")

	reg.MarkNotReady("maintenance: " + secret)
	reg.MarkBroken("wedged: " + secret)
	s = m.scrape()
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", "group=readiness,name=ready"), "readiness switch off")
	assert.Equal(t, 1.0, s.value("probekit_healthcheck_status", "group=readiness,name=ready,status=fail"))
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", "group=liveness,name=alive"), "liveness switch off")
	assert.Equal(t, 0.0, s.value("probekit_healthgroup", "group=liveness"))
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", "group=readiness,name=liveness"), "readiness's liveness gate")
	text := m.text()
	for _, leak := range []string{"hunter2", "maintenance", "wedged", "connection refused"} {
		assert.NotContains(t, text, leak)
	}

	reg.MarkReady()
	s = m.scrape()
	assert.Equal(t, 1.0, s.value("probekit_healthcheck", "group=readiness,name=ready"), "readiness switch on again")
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", "group=liveness,name=alive"), "MarkBroken is final")
}

func TestTimeoutAndPanicResults(t *testing.T) {
	reg := openRegistry(t)
	m := serveMetrics(t, reg)
	require.NoError(t, reg.Register(health.Liveness, "slow", health.CheckFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}), health.CheckOptions{Timeout: 10 * time.Millisecond}))
	require.NoError(t, reg.Register(health.Liveness, "buggy", health.CheckFunc(func(context.Context) error {
		panic("nil map")
	})))
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, err := reg.Check(ctx, health.Liveness)
	require.NoError(t, err)
	s := m.until("both runs are counted", func(s scraped) bool {
		return s.runs("liveness", "slow") == 1 && s.runs("liveness", "buggy") == 1
	})
	assert.Equal(t, 1.0, s.value("probekit_healthchecks_total", "group=liveness,name=slow,result=timeout"))
	assert.Equal(t, 1.0, s.value("probekit_healthchecks_total", "group=liveness,name=buggy,result=panic"))
	count, sum, _ := s.histogram("liveness", "slow")
	assert.Equal(t, uint64(1), count)
	assert.GreaterOrEqual(t, sum, 0.010, "a timed-out run lasts at least its timeout")
	assert.Equal(t, 0.0, s.value("probekit_healthgroup", "group=liveness"))
	assert.NotContains(t, m.text(), "nil map")
}

// A check that passed before the collector was made counts as having
// succeeded at its latest verdict.
func TestLastSuccessOfEarlierRun(t *testing.T) {
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(nil)))
	run(t, reg)
	var verdict time.Time
	for _, e := range reg.Latest(health.Readiness).Checks {
		if e.Name == "db" {
			verdict = e.Time
		}
	}
	require.False(t, verdict.IsZero())
	s := serveMetrics(t, reg).scrape()
	assert.Equal(t, float64(verdict.UnixNano())/1e9, s.value("probekit_healthcheck_last_success_timestamp_seconds", "group=readiness,name=db"))
	assert.Zero(t, s.runs("readiness", "db"), "runs before the collector are not counted")
}

// After Close, runs are no longer counted, but the gauges still tell the
// current state.
func TestClose(t *testing.T) {
	reg := openRegistry(t)
	c := prommetrics.NewCollector(reg)
	pr := prometheus.NewPedanticRegistry()
	require.NoError(t, pr.Register(c))
	fail := atomic.Bool{}
	require.NoError(t, reg.Register(health.Readiness, "db", health.CheckFunc(func(context.Context) error {
		if fail.Load() {
			return errors.New("down")
		}
		return nil
	})))
	run(t, reg)
	waitGathered(t, pr, func(s scraped) bool { return s.runs("readiness", "db") == 1 })
	c.Close()
	c.Close() // idempotent
	fail.Store(true)
	for range 3 {
		run(t, reg)
	}
	s := gather(t, pr)
	assert.Equal(t, 1.0, s.runs("readiness", "db"), "runs after Close are not counted")
	assert.Equal(t, 0.0, s.value("probekit_healthcheck", "group=readiness,name=db"), "gauges follow the registry")
}

func TestNilRegistryFailsTheScrape(t *testing.T) {
	pr := prometheus.NewRegistry()
	c := prommetrics.NewCollector(nil)
	c.Close()
	require.NoError(t, pr.Register(c))
	_, err := pr.Gather()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil *health.Registry")
}

// One collector per Prometheus registry; several go through
// WrapRegistererWith, each with its own value of the same label.
func TestSecondCollector(t *testing.T) {
	a, b := openRegistry(t), openRegistry(t)
	pr := prometheus.NewPedanticRegistry()
	ca, cb := prommetrics.NewCollector(a), prommetrics.NewCollector(b)
	defer ca.Close()
	defer cb.Close()
	plain := prometheus.NewRegistry()
	require.NoError(t, plain.Register(ca))
	var dup prometheus.AlreadyRegisteredError
	require.ErrorAs(t, plain.Register(cb), &dup)

	require.NoError(t, prometheus.WrapRegistererWith(prometheus.Labels{"registry": "a"}, pr).Register(ca))
	require.NoError(t, prometheus.WrapRegistererWith(prometheus.Labels{"registry": "b"}, pr).Register(cb))
	a.MarkNotReady("maintenance")
	s := gather(t, pr)
	assert.Equal(t, 0.0, s.value("probekit_healthgroup", "group=readiness,registry=a"))
	assert.Equal(t, 1.0, s.value("probekit_healthgroup", "group=readiness,registry=b"))
}

// gather collects pr without HTTP, in the form scrape returns.
func gather(t *testing.T, pr *prometheus.Registry) scraped {
	t.Helper()
	fams, err := pr.Gather()
	require.NoError(t, err)
	s := make(scraped)
	for _, f := range fams {
		s[f.GetName()] = f
	}
	return s
}

func waitGathered(t *testing.T, pr *prometheus.Registry, ok func(scraped) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for s := gather(t, pr); !ok(s); s = gather(t, pr) {
		require.True(t, time.Now().Before(deadline), "condition not met within %v:\n%s", waitLimit, s)
		time.Sleep(5 * time.Millisecond)
	}
}

// Every family is documented in the package documentation, with its type.
func TestDocumentedSeries(t *testing.T) {
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(nil))))
	run(t, reg)
	m := serveMetrics(t, reg)
	s := m.until("a pass is recorded", func(s scraped) bool {
		return s.value("probekit_healthcheck_last_success_timestamp_seconds", "group=readiness,name=db") > 0
	})
	want := map[string]string{
		"probekit_healthcheck":                                "GAUGE",
		"probekit_healthcheck_status":                         "GAUGE",
		"probekit_healthchecks_total":                         "COUNTER",
		"probekit_healthcheck_duration_seconds":               "HISTOGRAM",
		"probekit_healthcheck_last_success_timestamp_seconds": "GAUGE",
		"probekit_healthgroup":                                "GAUGE",
		"probekit_healthgroup_status":                         "GAUGE",
		"probekit_healthgroup_transitions_total":              "COUNTER",
		"probekit_group_last_probed_timestamp_seconds":        "GAUGE",
		"probekit_breaker_state":                              "GAUGE",
		"probekit_breaker_state_changes_total":                "COUNTER",
	}
	got := make(map[string]string)
	for name, f := range s {
		got[name] = f.GetType().String()
		assert.NotEmpty(t, f.GetHelp(), name)
		assert.True(t, strings.HasPrefix(name, "probekit_"), name)
	}
	assert.Equal(t, want, got)
}

// The label pairs a collector reuses across scrapes are never changed by
// a wrapping registry that adds its own: one collector gathered through
// WrapRegistererWith and plainly gives each its own labels, scrape after
// scrape.
func TestWrappedScrapesLeaveLabelsAlone(t *testing.T) {
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(nil))))
	run(t, reg)
	c := prommetrics.NewCollector(reg)
	defer c.Close()
	plain, wrapped := prometheus.NewPedanticRegistry(), prometheus.NewPedanticRegistry()
	require.NoError(t, plain.Register(c))
	require.NoError(t, prometheus.WrapRegistererWith(prometheus.Labels{"registry": "a"}, wrapped).Register(c))
	for range 3 {
		for _, f := range gather(t, wrapped) {
			for _, m := range f.GetMetric() {
				assert.Equal(t, "a", labelMap(m)["registry"], "%s", f.GetName())
			}
		}
		s := gather(t, plain)
		for _, f := range s {
			for _, m := range f.GetMetric() {
				assert.NotContains(t, labelMap(m), "registry", "%s", f.GetName())
			}
		}
		assert.Equal(t, 0.0, s.value("probekit_healthchecks_total", "group=readiness,name=db,result=pass"), "present, labels intact")
	}
}
