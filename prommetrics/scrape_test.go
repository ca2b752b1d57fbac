package prommetrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitLimit bounds every wait: far above what any of them needs, so that
// it only ends a test that would otherwise hang.
const waitLimit = 10 * time.Second

// openRegistry returns a health registry closed when the test ends.
func openRegistry(t testing.TB, opts ...health.Options) *health.Registry {
	t.Helper()
	reg := health.New(opts...)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	return reg
}

// endpoint is a real /metrics over a loopback socket, served from a
// pedantic Prometheus registry (which also checks the collector's
// consistency at every scrape) holding one collector of reg.
type endpoint struct {
	t   testing.TB
	url string
}

func serveMetrics(t testing.TB, reg *health.Registry) *endpoint {
	t.Helper()
	pr := prometheus.NewPedanticRegistry()
	c := prommetrics.NewCollector(reg)
	t.Cleanup(c.Close)
	require.NoError(t, pr.Register(c))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(pr, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &endpoint{t: t, url: srv.URL + "/metrics"}
}

// text fetches the exposition, failing the test unless it is a 200.
func (e *endpoint) text() string {
	e.t.Helper()
	code, body, err := fetch(e.url)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, code, body)
	return body
}

func fetch(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// scrape fetches and parses the exposition with Prometheus' text parser.
func (e *endpoint) scrape() scraped {
	e.t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(e.text()))
	require.NoError(e.t, err)
	return scraped(fams)
}

// until scrapes until ok accepts a scrape, and returns that scrape. Runs
// reach the collector asynchronously, on the registry's delivery
// goroutine, so a scrape right after a run may not count it yet.
func (e *endpoint) until(what string, ok func(scraped) bool) scraped {
	e.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		s := e.scrape()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no scrape within %v where %s; last:\n%s", waitLimit, what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type scraped map[string]*dto.MetricFamily

// labels is "k=v,k=v", for brevity at the call sites.
func parseLabels(s string) map[string]string {
	m := make(map[string]string)
	if s == "" {
		return m
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// find returns the series of family name whose labels are exactly labels.
func (s scraped) find(name, labels string) (*dto.Metric, bool) {
	want := parseLabels(labels)
	f, ok := s[name]
	if !ok {
		return nil, false
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if want[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if match {
			return m, true
		}
	}
	return nil, false
}

// value is the value of a gauge or counter series, or -1 if it is absent.
func (s scraped) value(name, labels string) float64 {
	m, ok := s.find(name, labels)
	switch {
	case !ok:
		return -1
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

// runs sums probekit_healthchecks_total over the results of one check.
func (s scraped) runs(group, name string) float64 {
	var n float64
	for _, m := range s["probekit_healthchecks_total"].GetMetric() {
		l := labelMap(m)
		if l["group"] == group && l["name"] == name {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// histogram returns the sample count and sum of a check's duration series.
func (s scraped) histogram(group, name string) (count uint64, sum float64, ok bool) {
	m, ok := s.find("probekit_healthcheck_duration_seconds", "group="+group+",name="+name)
	if !ok {
		return 0, 0, false
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum(), true
}

func labelMap(m *dto.Metric) map[string]string {
	l := make(map[string]string)
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// String lists the series, for failure messages.
func (s scraped) String() string {
	var lines []string
	for name, f := range s {
		for _, m := range f.GetMetric() {
			v := "?"
			switch {
			case m.Gauge != nil:
				v = fmt.Sprint(m.Gauge.GetValue())
			case m.Counter != nil:
				v = fmt.Sprint(m.Counter.GetValue())
			case m.Histogram != nil:
				v = fmt.Sprintf("count=%d sum=%g", m.Histogram.GetSampleCount(), m.Histogram.GetSampleSum())
			}
			lines = append(lines, fmt.Sprintf("%s%v %s", name, labelMap(m), v))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
