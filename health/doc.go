// Package health tells Kubernetes, Docker, load balancers and on-call
// humans the truth about a service's health.
//
// A Registry holds named checks in three groups, after the probes
// Kubernetes knows: Liveness (process-local state only; failing it gets
// the container restarted), Readiness (may the process take traffic now?)
// and Startup (latches once passed). Mount serves them on an
// http.ServeMux (liveness at "/", readiness at "/ready", plus /livez,
// /readyz, /startupz and one path per check); Routes gives the same set to
// other routers.
//
// A DependencyFunc (as every network check of package checks) may only
// join readiness, so that a database outage never restarts a pod, and runs
// behind a circuit breaker (github.com/sony/gobreaker/v2).
//
// Probes are bounded: checks run concurrently, concurrent probes share
// runs (whole groups through golang.org/x/sync/singleflight), every run has
// a timeout, and a check that hangs is not started again until it returns.
// Everything of the user's the registry calls (checks, their errors'
// methods, observers, the logger, ShowDetails) is contained: a panic or
// runtime.Goexit is a failed run or a logged call, and what hangs is
// abandoned at its bound. Failure reasons are withheld from responses
// unless Options.ShowDetails allows them, and redacted wherever they appear.
//
// Check evaluates in process as a probe does, Latest reads the latest
// results without running anything, Changed wakes watchers, AddObserver
// reports every run and change (grpchealth, prommetrics, otelmetrics and
// statuspage are built on these), and Contract describes the registry for
// tools that lint manifests against it.
package health
