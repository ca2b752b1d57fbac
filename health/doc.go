// Package health tells Kubernetes, Docker and load balancers the truth about
// a service's health.
//
// A Registry holds named checks in three groups, after the three probes
// Kubernetes knows:
//
//   - Liveness: is the process alive and making progress? Process-local
//     state only; failing it gets the container restarted.
//   - Readiness: may the process take traffic now? It also fails while
//     liveness fails, while startup has not completed, and while the
//     readiness switch is off (SetReady, MarkNotReady, Drain).
//   - Startup: has the process finished starting? It latches once passed.
//
// Handler serves a group on any router; Mount puts all three on an
// http.ServeMux (liveness at "/" and readiness at "/ready", plus /livez,
// /readyz, /startupz and one path per check).
//
// # Dependencies never cause restarts
//
// A check against something outside the process is registered with
// Dependency. It may only join readiness, and it runs behind a circuit
// breaker (github.com/sony/gobreaker/v2): after DefaultBreakerFailures
// consecutive failures the check stops calling the dependency and answers at
// once from the open breaker, until a jittered trial call is due. The
// application can send its own calls through the same breaker (Breaker,
// Call), so that real traffic and probes agree.
//
// # Probes are cheap and bounded
//
// Checks of a group run concurrently. Concurrent probes share one run of
// each check. Every run has a timeout (DefaultTimeout); a check that
// overruns it is reported failed at once and is not started again until it
// returns, so a hung dependency costs at most one goroutine per check. A
// panicking check is a failed check. Checks registered with Every run in the
// background and probes are served from their latest results: such a probe
// costs about as much as a handler writing a constant body, and allocates
// nothing.
//
// # Output
//
// Responses are 200 for pass and warn and 503 for fail, with a JSON body
// after the IETF health-check draft (application/health+json) or the
// Kubernetes text form (?verbose). Failure reasons are withheld from HTTP
// responses unless ShowDetails allows them; they always reach the logger
// (WithLogger) and the hooks (OnStatusChange).
package health
