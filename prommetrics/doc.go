// Package prommetrics exposes a health.Registry to Prometheus: whether each
// check, group, switch and circuit breaker is healthy now, and how checks
// have been running, counted and timed.
//
// Three lines set it up:
//
//	reg := health.New()
//	prometheus.MustRegister(prommetrics.NewCollector(reg))
//	http.Handle("GET /metrics", promhttp.Handler())
//
// # Scrapes run no checks
//
// Counters, the histogram and the last-success times are recorded as checks
// run and as states change, by an observer (health.Registry.AddObserver);
// the current-state gauges are read at scrape time from
// health.Registry.Latest, which runs nothing. A scrape therefore never calls
// a dependency: two Prometheus replicas scraping every 15 s add no load to
// any database, and a check that runs only on request is run by probes, never
// by Prometheus.
//
// # Series
//
// Labels are bounded: group is liveness, readiness or startup; name is a
// registered check's name or one of the registry's own entries (alive, ready,
// liveness, startup); status, result and to take the few values listed.
// Failure reasons never become labels (they are unbounded and may hold
// secrets): they are in the registry's log (health.WithLogger).
//
//	probekit_healthcheck{group,name}                      gauge: 1 while the entry passes or warns, 0 while it fails
//	probekit_healthcheck_status{group,name,status}        gauge: 1 for the entry's status (pass, warn, fail), 0 for the others
//	probekit_healthchecks_total{group,name,result}        counter: completed runs by result (pass, warn, fail, timeout, panic, breaker-open)
//	probekit_healthcheck_duration_seconds{group,name}     histogram: how long runs took, breaker-open answers excepted
//	probekit_healthcheck_last_success_timestamp_seconds{group,name}  gauge: Unix time of the last passing run
//	probekit_healthgroup{group}                           gauge: 1 while the group passes or warns (answers 200), 0 while it fails (503)
//	probekit_healthgroup_status{group,status}             gauge: 1 for the group's status, 0 for the others
//	probekit_healthgroup_transitions_total{group,to}      counter: status changes of the group, by the status it changed to
//	probekit_breaker_state{name}                          gauge: circuit breaker of a dependency, gobreaker's numbers: 0 closed, 1 half-open, 2 open
//	probekit_breaker_state_changes_total{name,to}         counter: breaker state changes, by the state changed to (closed, half-open, open)
//
// probekit_healthcheck and probekit_healthchecks_total have the shape of
// Kubernetes' component SLIs (kubernetes_healthcheck,
// kubernetes_healthchecks_total), with group in the role of their type.
// As there, probekit_healthcheck has one series per line of the group's
// ?verbose output, so the switches are entries too:
// probekit_healthcheck{group="readiness",name="ready"} is the readiness
// switch (0 while SetReady(false), MarkNotReady or Drain holds it off) and
// probekit_healthcheck{group="liveness",name="alive"} the liveness switch.
// Why a switch is off is in the log, never in a label.
//
// A warning is 1 in probekit_healthcheck, because it keeps the pod in
// service (HTTP 200), and shows as status="warn" in
// probekit_healthcheck_status, whose three series make every state, warn
// included, a plain equality in a query or an alert.
//
// The counters and the histogram have series for every registered check from
// the first scrape on, at zero, so that rate and increase see a check's first
// failure. The last-success time is absent for a check that has not passed
// since the collector was made (a check passing at that moment counts, at
// the time of its verdict). Runs that met an open breaker are counted but
// not timed: they call nothing and would only drag the histogram toward zero.
//
// The duration buckets run from 0.5 ms to 10 s: local checks take well under
// a millisecond, network checks milliseconds, and a run cannot exceed its
// timeout by much (health.DefaultTimeout is 0.5 s, the kubelet's default
// timeout 1 s, both bucket bounds).
package prommetrics
