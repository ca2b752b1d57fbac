package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/benchmarks/internal/discard"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/otelmetrics"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// probeChecks is the probe's workload: 10 instant checks, as in
// BenchmarkReadiness.
const probeChecks = 10

// An attachment is what watches the registry during a probe benchmark.
// attach starts it on reg before any check runs and returns how many runs
// it has recorded so far (nil: it records none).
type attachment struct {
	name   string
	attach func(b *testing.B, reg *health.Registry) (recorded func() int64)
}

var attachments = []attachment{
	{"none", func(*testing.B, *health.Registry) func() int64 { return nil }},
	{"noop", attachNoop},
	{"prommetrics", attachProm},
	{"otelmetrics", attachOtel},
}

// BenchmarkProbe times one readiness request (the handler's ServeHTTP with
// an allocation-free ResponseWriter) of 10 instant checks, with each
// attachment, in both modes. Compare the attachments with
//
//	go test -run '^$' -bench '^BenchmarkProbe$' -benchmem -count 6 . > probe.txt
//	go tool benchstat -col /metrics probe.txt
//
// lost/op is the share of runs the attachment never recorded (dropped by
// the registry because the observer fell behind): 0 means the observer
// keeps up with probes as fast as this machine serves them.
func BenchmarkProbe(b *testing.B) {
	for _, mode := range []string{"on-request", "background"} {
		for _, a := range attachments {
			b.Run(fmt.Sprintf("checks=%d/mode=%s/metrics=%s", probeChecks, mode, a.name), func(b *testing.B) {
				benchProbe(b, mode == "background", a)
			})
		}
	}
}

func benchProbe(b *testing.B, background bool, a attachment) {
	reg := health.New()
	defer func() {
		if err := reg.Close(); err != nil {
			b.Error(err)
		}
	}()
	var calls atomic.Int64
	check := health.CheckFunc(func(context.Context) error {
		calls.Add(1)
		return nil
	})
	var opts health.CheckOptions
	if background {
		opts.Every = 10 * time.Second
	}
	recorded := a.attach(b, reg)
	for i := range probeChecks {
		if err := reg.Register(health.Readiness, fmt.Sprintf("check-%02d", i), check, opts); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthtest.Wait(ctx, reg, health.Readiness, health.StatusPass); err != nil {
		b.Fatal(err)
	}
	h := reg.Handler(health.Readiness)
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	w := discard.New()
	h.ServeHTTP(w, req) // let the header map grow once
	bad := 0
	b.ReportAllocs()
	started := goroutinesCreated()
	for b.Loop() {
		w.Reset()
		h.ServeHTTP(w, req)
		if w.Code() != http.StatusOK {
			bad++
		}
	}
	b.ReportMetric(float64(goroutinesCreated()-started)/float64(b.N), "goroutines/op")
	if bad > 0 {
		b.Fatalf("%d of %d responses were not a 200", bad, b.N)
	}
	if recorded != nil {
		b.ReportMetric(float64(calls.Load()-settle(recorded, calls.Load()))/float64(b.N), "lost/op")
	}
}

// goroutinesCreated is how many goroutines the process has started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// settle waits until recorded reaches want, or stops moving for a second
// (runs the registry dropped never arrive), and returns it.
func settle(recorded func() int64, want int64) int64 {
	last, since := recorded(), time.Now()
	for last < want && time.Since(since) < time.Second {
		time.Sleep(time.Millisecond)
		if n := recorded(); n != last {
			last, since = n, time.Now()
		}
	}
	return last
}

// noop is an observer that only counts runs: what the registry's delivery
// costs by itself.
type noop struct{ runs atomic.Int64 }

func (o *noop) ObserveRun(health.Run)     { o.runs.Add(1) }
func (o *noop) ObserveEvent(health.Event) {}

func attachNoop(b *testing.B, reg *health.Registry) func() int64 {
	o := new(noop)
	b.Cleanup(reg.AddObserver(o))
	return o.runs.Load
}

func attachProm(b *testing.B, reg *health.Registry) func() int64 {
	c := prommetrics.NewCollector(reg)
	b.Cleanup(c.Close)
	pr := prometheus.NewRegistry()
	pr.MustRegister(c)
	return func() int64 {
		fams, err := pr.Gather()
		if err != nil {
			b.Fatal(err)
		}
		var n float64
		for _, f := range fams {
			if f.GetName() == "probekit_healthchecks_total" {
				for _, m := range f.GetMetric() {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return int64(n)
	}
}

func attachOtel(b *testing.B, reg *health.Registry) func() int64 {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := otelmetrics.New(reg, mp)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = m.Close()
		_ = mp.Shutdown(context.Background())
	})
	return func() int64 {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			b.Fatal(err)
		}
		var n int64
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "probekit.healthchecks" {
					for _, dp := range s.DataPoints {
						n += dp.Value
					}
				}
			}
		}
		return n
	}
}
