// Package alerts holds example Prometheus alerting rules for probekit's
// metrics (module github.com/probekit/probekit/prommetrics), in
// probekit.rules.yml, and their unit test, probekit_test.rules.yml:
//
//	promtool check rules probekit.rules.yml
//	promtool test rules probekit_test.rules.yml
//
// ProbekitNotReady fires when readiness has failed for 5 minutes,
// ProbekitBreakerOpen when a dependency's circuit breaker has not closed for
// 5 minutes. The package's tests run both promtool commands, check that
// every series the rules name is one prommetrics exposes, and that
// otelmetrics, through OpenTelemetry's Prometheus exporter, exposes the very
// same series, so the rules serve either module. It has no code.
package alerts
