// Package otelmetrics records a health.Registry's metrics through an
// OpenTelemetry metric.MeterProvider: the same instruments as package
// prommetrics, under OpenTelemetry's naming, for services that export with
// OTLP (or any other OpenTelemetry exporter) rather than a Prometheus
// client.
//
//	reg := health.New()
//	m, err := otelmetrics.New(reg, provider) // nil: otel.GetMeterProvider()
//	if err != nil { ... }
//	defer m.Close()
//
// # Nothing is measured by running checks
//
// Counters and the histogram are recorded as checks run and as states
// change, by an observer (health.Registry.AddObserver), on the registry's
// delivery goroutine, never a probe's; the attribute sets of each check are
// made once, so recording a run allocates nothing here (nor in the SDK's
// default aggregations). The run counter is observable: the observer counts
// runs itself and each collection reads the counts, which costs a run an
// atomic addition rather than the SDK's lookup. The gauges are observable
// too: at each collection their callback reads health.Registry.Latest,
// which runs nothing, so an export never calls a dependency, however often
// the reader collects.
//
// # Instruments
//
// Attributes are bounded as in prommetrics: group (liveness, readiness,
// startup), name (a registered check, or one of the registry's entries
// alive, ready, liveness, startup), status, result and to, with the values
// listed. Failure reasons are never attributes; they are in the registry's
// log.
//
//	probekit.healthcheck                          Int64ObservableGauge {group,name}: 1 while the entry passes or warns, 0 while it fails
//	probekit.healthcheck.status                   Int64ObservableGauge {group,name,status}: 1 for the entry's status (pass, warn, fail), 0 for the others
//	probekit.healthchecks                         Int64ObservableCounter {group,name,result}, unit {run}: completed runs by result (pass, warn, fail, timeout, panic, breaker-open)
//	probekit.healthcheck.duration                 Float64Histogram {group,name}, unit s: run durations, breaker-open answers excepted
//	probekit.healthcheck.last_success_timestamp   Float64ObservableGauge {group,name}, unit s: Unix time of the last passing run
//	probekit.healthgroup                          Int64ObservableGauge {group}: 1 while the group passes or warns, 0 while it fails
//	probekit.healthgroup.status                   Int64ObservableGauge {group,status}: 1 for the group's status, 0 for the others
//	probekit.healthgroup.transitions              Int64Counter {group,to}, unit {transition}: status changes of the group
//	probekit.group.last_probed_timestamp          Float64ObservableGauge {group}, unit s: Unix time of the group's last probe (Report.LastProbed); absent until probed
//	probekit.breaker.state                        Int64ObservableGauge {name}: 0 closed, 1 half-open, 2 open (gobreaker's numbering)
//	probekit.breaker.state_changes                Int64Counter {name,to}, unit {change}: breaker state changes, by the state changed to
//
// Through OpenTelemetry's Prometheus exporter (dots become underscores,
// unit s adds _seconds, monotonic counters _total, annotations in braces
// add nothing) these are exactly prommetrics' series, so dashboards and
// alerting rules written for one serve the other. The meanings, the
// treatment of warn, of the switches and of a group never probed, and the
// histogram's buckets are those of prommetrics; see its documentation.
//
// The counters of every registered check are recorded at zero from the
// first collection on, as prommetrics does, so that increase() sees a
// check's first failure; the histogram, which has no zero to record, starts
// at a check's first timed run.
package otelmetrics
