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
// the current-state gauges and the time of each group's last probe are read
// at scrape time from health.Registry.Latest, which runs nothing. A scrape
// therefore never calls a dependency: two Prometheus replicas scraping every
// 15 s add no load to any database, and a check that runs only on request is
// run by probes, never by Prometheus.
//
// # Cost
//
// The registry calls the observer on a goroutine of its own, never on a
// probe's, and an observer that falls behind loses runs instead of slowing
// probes. Recording a run costs a map lookup and a few atomic additions and
// allocates nothing (the collector keeps its own counters and histogram
// buckets per check). A scrape makes each kind of series in one slice and
// reuses label pairs made once per check, so that a registry of 1,000 checks
// scrapes faster, and with fewer allocations, than client_golang's own
// vectors holding the same series (benchmarks/README.md, "Metrics").
//
// # Series
//
// Labels are bounded: group is liveness, readiness or startup; name is a
// registered check's name or one of the registry's own entries (alive, ready,
// liveness, startup); status, result and to take the few values listed.
// Failure reasons never become labels (they are unbounded and may hold
// secrets): they are in the registry's log (health.Options.Logger).
//
//	probekit_healthcheck{group,name}                      gauge: 1 while the entry passes or warns, 0 while it fails
//	probekit_healthcheck_status{group,name,status}        gauge: 1 for the entry's status (pass, warn, fail), 0 for the others
//	probekit_healthchecks_total{group,name,result}        counter: completed runs by result (pass, warn, fail, timeout, panic, breaker-open)
//	probekit_healthcheck_duration_seconds{group,name}     histogram: how long runs took, breaker-open answers excepted
//	probekit_healthcheck_last_success_timestamp_seconds{group,name}  gauge: Unix time of the last passing run
//	probekit_healthgroup{group}                           gauge: 1 while the group passes or warns (answers 200), 0 while it fails (503)
//	probekit_healthgroup_status{group,status}             gauge: 1 for the group's status, 0 for the others
//	probekit_healthgroup_transitions_total{group,to}      counter: status changes of the group, by the status it changed to
//	probekit_group_last_probed_timestamp_seconds{group}   gauge: Unix time of the group's last probe (Report.LastProbed); absent until probed
//	probekit_breaker_state{name}                          gauge: circuit breaker of a dependency, gobreaker's numbers: 0 closed, 1 half-open, 2 open
//	probekit_breaker_state_changes_total{name,to}         counter: breaker state changes, by the state changed to (closed, half-open, open)
//
// probekit_healthcheck and probekit_healthchecks_total have the shape of
// Kubernetes' component SLIs (kubernetes_healthcheck,
// kubernetes_healthchecks_total), with group in the role of their type.
// As there, probekit_healthcheck has one series per line of the group's
// ?verbose output, so the switches are entries too:
// probekit_healthcheck{group="readiness",name="ready"} is the readiness
// switch (0 while MarkNotReady, Drain or Options.StartNotReady holds it
// off) and probekit_healthcheck{group="liveness",name="alive"} the liveness
// switch (0 for good after MarkBroken).
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
// A scrape reads each check's counters, histogram and last success as of one
// moment, so a run it counts has its duration and, if it passed, its
// success time.
//
// A group's last probe is when an HTTP request to one of its handlers, or
// health.Registry.Check, last asked for it; scrapes do not count. It is
// absent, rather than 0, until the group's first probe: a group the kubelet
// never probes (startup, with no startupProbe) has no series, so an alert
// such as time() - probekit_group_last_probed_timestamp_seconds > 60, which
// catches probes that stopped, does not fire for it. Alert on a group that
// should be probed but never was with absent().
//
// The duration buckets run from 0.5 ms to 10 s: local checks take well under
// a millisecond, network checks milliseconds, and a run cannot exceed its
// timeout by much (the default check timeout is 0.5 s, the kubelet's
// default timeout 1 s, both bucket bounds).
package prommetrics
