// Package metrics measures what probekit's metrics modules cost (issue 19):
// BenchmarkProbe times a readiness probe with no metrics, with a no-op
// observer (the registry's delivery alone), with prommetrics and with
// otelmetrics attached, side by side; BenchmarkScrape times a Gather of
// prommetrics' collector for 1,000 checks next to client_golang's own vecs
// holding the same series. See ../README.md, section "Metrics", for the
// command and the latest figures. Nothing here asserts a time.
package metrics
