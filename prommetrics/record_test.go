package prommetrics

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Recording a run of a check that has its entry allocates nothing: the
// observer's work per run stays off the garbage collector's books however
// often probes come.
func TestObserveRunAllocatesNothing(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	c := NewCollector(reg)
	defer c.Close()
	o := observer{c}
	start := time.Now()
	runs := []health.Run{
		{Group: health.Readiness, Check: "db", Result: health.RunPass, Status: health.StatusPass, Start: start, Duration: time.Millisecond},
		{Group: health.Readiness, Check: "db", Result: health.RunFail, Status: health.StatusFail, Start: start, Duration: 2 * time.Second},
		{Group: health.Readiness, Check: "db", Result: health.RunBreakerOpen, Status: health.StatusFail, Start: start},
	}
	o.ObserveRun(runs[0]) // makes the entry
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		o.ObserveRun(runs[i%len(runs)])
		i++
	})
	assert.Zero(t, allocs)
}

// A scrape sees each check's counters, histogram and last success as of
// one moment, even while the observer records: the runs counted always
// equal the histogram's count (no run of this check meets a breaker), and
// a passing run counted has its success time.
func TestScrapeIsConsistentWhileRecording(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	c := NewCollector(reg)
	defer c.Close()
	pr := prometheus.NewPedanticRegistry()
	require.NoError(t, pr.Register(c))
	// Never probed: its runs are the test's, recorded as the registry's
	// delivery goroutine would.
	require.NoError(t, reg.Register(health.Liveness, "x", new(countingCheck)))
	o := observer{c}
	start := time.Now()
	o.ObserveRun(health.Run{Group: health.Liveness, Check: "x", Result: health.RunFail, Status: health.StatusFail, Start: start})

	var stop atomic.Bool
	written := make(chan int, 2)
	defer func() { stop.Store(true); <-written }() // should the test fail first
	go func() {
		i := 0
		for ; !stop.Load(); i++ {
			r := health.Run{Group: health.Liveness, Check: "x", Result: health.RunFail, Status: health.StatusFail,
				Start: start, Duration: time.Duration(i%7) * time.Millisecond}
			if i%2 == 0 {
				r.Result, r.Status = health.RunPass, health.StatusPass
			}
			o.ObserveRun(r)
		}
		written <- i
		written <- i
	}()
	const scrapes = 300
	runs := -1
	for scrape := 0; scrape <= scrapes; scrape++ {
		if scrape == scrapes { // the last one, once the writer stopped
			stop.Store(true)
			runs = <-written
		}
		fams, err := pr.Gather()
		require.NoError(t, err)
		var counted, timed float64
		var passed, success bool
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				if labelValue(m, "name") != "x" {
					continue
				}
				switch f.GetName() {
				case "probekit_healthchecks_total":
					counted += m.GetCounter().GetValue()
					if labelValue(m, "result") == "pass" && m.GetCounter().GetValue() > 0 {
						passed = true
					}
				case "probekit_healthcheck_duration_seconds":
					timed = float64(m.GetHistogram().GetSampleCount())
					b := m.GetHistogram().GetBucket()
					assert.LessOrEqual(t, b[len(b)-1].GetCumulativeCount(), m.GetHistogram().GetSampleCount())
				case "probekit_healthcheck_last_success_timestamp_seconds":
					success = true
				}
			}
		}
		require.Equal(t, counted, timed, "scrape %d: runs counted vs timed", scrape)
		require.Equal(t, passed, success, "scrape %d: a pass counted comes with its success time, and only then", scrape)
		if runs >= 0 {
			require.Equal(t, float64(runs+1), counted, "every run is counted")
		}
	}
}
