package main

import (
	"net/http"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves /metrics: the registry's health metrics (see
// package prommetrics), the Go runtime's and the process's. A scrape runs
// no check, so Prometheus adds no load to Redis or PostgreSQL.
//
// The Prometheus registry is the server's own, not the global one, so that
// tests can build several servers in one process; a service with one
// registry would write prometheus.MustRegister(prommetrics.NewCollector(reg))
// and serve promhttp.Handler().
func metricsHandler(reg *health.Registry) http.Handler {
	pr := prometheus.NewRegistry()
	pr.MustRegister(
		prommetrics.NewCollector(reg), // stops observing when reg is closed
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(pr, promhttp.HandlerOpts{})
}
