package prommetrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The set-up: a collector of the registry on Prometheus' default
// registry, and its handler at /metrics. The readiness switch is an entry
// like the checks, so a pod held out of rotation shows which entry holds it.
func Example() {
	reg := health.New()
	defer reg.Close()
	prometheus.MustRegister(prommetrics.NewCollector(reg))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.Handler())

	_ = reg.Register(health.Readiness, "cache", health.CheckFunc(func(ctx context.Context) error { return nil }))
	_, _ = reg.Check(context.Background(), health.Readiness) // a probe runs the check
	reg.MarkNotReady("warming up")                           // the reason goes to the log, not to a label

	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "probekit_healthcheck{") || strings.HasPrefix(line, "probekit_healthgroup{") {
			fmt.Println(line)
		}
	}
	// Output:
	// probekit_healthcheck{group="liveness",name="alive"} 1
	// probekit_healthcheck{group="readiness",name="cache"} 1
	// probekit_healthcheck{group="readiness",name="liveness"} 1
	// probekit_healthcheck{group="readiness",name="ready"} 0
	// probekit_healthcheck{group="readiness",name="startup"} 1
	// probekit_healthgroup{group="liveness"} 1
	// probekit_healthgroup{group="readiness"} 0
	// probekit_healthgroup{group="startup"} 1
}
