package metrics_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// scrapeChecks is how many checks the scrape benchmark's registry holds.
const scrapeChecks = 1000

// BenchmarkScrape times one Gather of a Prometheus registry holding
// prommetrics' collector of a health registry with 1,000 checks (every
// tenth a dependency, all run three times), next to the reference: a
// Prometheus registry holding client_golang's own GaugeVec, CounterVec and
// HistogramVec with the very same series (names, labels, values, built
// from the collector's own gather and compared with it before timing).
// Compare them with
//
//	go test -run '^$' -bench '^BenchmarkScrape$' -benchmem -count 6 . > scrape.txt
//	go tool benchstat -col /impl scrape.txt
//
// A scrape runs no check: the benchmark fails if a check was called while
// it gathered.
func BenchmarkScrape(b *testing.B) {
	reg := health.New()
	defer func() {
		if err := reg.Close(); err != nil {
			b.Error(err)
		}
	}()
	c := prommetrics.NewCollector(reg)
	defer c.Close()
	probekit := prometheus.NewRegistry()
	probekit.MustRegister(c)
	calls := registerMany(b, reg, scrapeChecks)
	want := familiesOf(b, probekit)
	reference := referenceOf(b, want)
	if diff := compareSeries(want, familiesOf(b, reference)); diff != "" {
		b.Fatalf("the reference does not hold prommetrics' series: %s", diff)
	}
	for _, impl := range []struct {
		name string
		g    prometheus.Gatherer
	}{{"prommetrics", probekit}, {"client_golang", reference}} {
		b.Run(fmt.Sprintf("checks=%d/impl=%s", scrapeChecks, impl.name), func(b *testing.B) {
			before := calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.g.Gather(); err != nil {
					b.Fatal(err)
				}
			}
			if n := calls.Load() - before; n != 0 {
				b.Fatalf("%d checks ran during the scrapes", n)
			}
		})
	}
}

// registerMany registers n readiness checks, every tenth a dependency, runs
// them three times (so that counters, histograms and last-success times
// hold values), and waits until the metrics have recorded every run. It
// returns the count of check calls.
func registerMany(b *testing.B, reg *health.Registry, n int) *atomic.Int64 {
	calls := new(atomic.Int64)
	local := health.CheckFunc(func(context.Context) error { calls.Add(1); return nil })
	dependency := health.DependencyFunc(func(context.Context) error { calls.Add(1); return nil })
	for i := range n {
		var check health.Checker = local
		if i%10 == 0 {
			check = dependency
		}
		if err := reg.Register(health.Readiness, fmt.Sprintf("check-%04d", i), check); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if rep, err := reg.Check(ctx, health.Readiness); err != nil || rep.Status != health.StatusPass {
			b.Fatalf("readiness %v, %v", rep.Status, err)
		}
	}
	return calls
}

// familiesOf gathers g once, waiting (for up to 10 s) until every run is
// counted: runs reach the collector on the registry's delivery goroutine.
func familiesOf(b *testing.B, g prometheus.Gatherer) []*dto.MetricFamily {
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams, err := g.Gather()
		if err != nil {
			b.Fatal(err)
		}
		var runs float64
		for _, f := range fams {
			if f.GetName() == "probekit_healthchecks_total" {
				for _, m := range f.GetMetric() {
					runs += m.GetCounter().GetValue()
				}
			}
		}
		if runs == 3*scrapeChecks {
			return fams
		}
		if time.Now().After(deadline) {
			b.Fatalf("%v runs counted, want %d", runs, 3*scrapeChecks)
		}
		time.Sleep(time.Millisecond)
	}
}

// referenceOf returns a Prometheus registry holding, in client_golang's own
// vecs, the series of fams with their values (a histogram's bucket counts
// and sample count; its sum may differ).
func referenceOf(b *testing.B, fams []*dto.MetricFamily) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	for _, f := range fams {
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		values := func(m *dto.Metric) []string {
			var v []string
			for _, l := range m.GetLabel() {
				v = append(v, l.GetValue())
			}
			return v
		}
		switch f.GetType() {
		case dto.MetricType_GAUGE:
			vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: f.GetName(), Help: f.GetHelp()}, labels)
			reg.MustRegister(vec)
			for _, m := range f.GetMetric() {
				vec.WithLabelValues(values(m)...).Set(m.GetGauge().GetValue())
			}
		case dto.MetricType_COUNTER:
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: f.GetName(), Help: f.GetHelp()}, labels)
			reg.MustRegister(vec)
			for _, m := range f.GetMetric() {
				vec.WithLabelValues(values(m)...).Add(m.GetCounter().GetValue())
			}
		case dto.MetricType_HISTOGRAM:
			var bounds []float64
			for _, bk := range f.GetMetric()[0].GetHistogram().GetBucket() {
				bounds = append(bounds, bk.GetUpperBound())
			}
			vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: f.GetName(), Help: f.GetHelp(), Buckets: bounds}, labels)
			reg.MustRegister(vec)
			for _, m := range f.GetMetric() {
				h := vec.WithLabelValues(values(m)...)
				var below uint64
				for _, bk := range m.GetHistogram().GetBucket() {
					for ; below < bk.GetCumulativeCount(); below++ {
						h.Observe(bk.GetUpperBound())
					}
				}
				for ; below < m.GetHistogram().GetSampleCount(); below++ {
					h.Observe(bounds[len(bounds)-1] * 2) // +Inf bucket
				}
			}
		default:
			b.Fatalf("%s: unexpected type %v", f.GetName(), f.GetType())
		}
	}
	return reg
}

// compareSeries describes how the series of got differ from want's (names,
// types, labels, values; not histogram sums), or returns "".
func compareSeries(want, got []*dto.MetricFamily) string {
	flat := func(fams []*dto.MetricFamily) []string {
		var out []string
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				var l []string
				for _, p := range m.GetLabel() {
					l = append(l, p.GetName()+"="+p.GetValue())
				}
				v := fmt.Sprint(m.GetGauge().GetValue(), m.GetCounter().GetValue(), m.GetHistogram().GetSampleCount())
				for _, bk := range m.GetHistogram().GetBucket() {
					v += fmt.Sprintf(" %g:%d", bk.GetUpperBound(), bk.GetCumulativeCount())
				}
				out = append(out, fmt.Sprintf("%s %s{%s} %s", f.GetType(), f.GetName(), strings.Join(l, ","), v))
			}
		}
		slices.Sort(out)
		return out
	}
	w, g := flat(want), flat(got)
	if slices.Equal(w, g) {
		return ""
	}
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("%d series vs %d; first difference: %q vs %q", len(w), len(g), w[i], g[i])
		}
	}
	return fmt.Sprintf("%d series vs %d", len(w), len(g))
}
