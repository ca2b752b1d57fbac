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
// Mount puts the three groups on an http.ServeMux (liveness at "/" and
// readiness at "/ready", plus /livez, /readyz, /startupz and one path per
// check), optionally under a prefix; Routes gives the same set to any other
// router, and Handler and CheckHandler serve one group or one entry
// wherever they are mounted.
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
// Checks of a group run concurrently, each on a goroutine of its own.
// Concurrent probes share one run of each check. Every run has a timeout
// (DefaultTimeout); a check that overruns it is reported failed at once and
// is not started again until it returns, so a hung dependency costs at most
// one goroutine per check. Checks registered with Every run in the
// background and probes are served from their latest results: such a probe
// costs about as much as a handler writing a constant body, and allocates
// nothing. A probe's cost grows linearly with the number of checks it runs.
//
// # User code is contained
//
// Every piece of user code the registry calls is contained: a check, the
// methods of the error it returns, the MarshalJSON of what it observes, the
// callbacks of WithBreaker, OnStatusChange hooks, observers, the logger's
// handler and ShowDetails. A panic or runtime.Goexit in any of them is a
// failed run (ErrPanic) or a logged, recovered call, never a crash, and
// nothing that hangs can stop a probe from answering at its checks'
// timeouts. Hooks, observers and the logger each run on a goroutine of
// their own with a bounded queue (DefaultQueueLen), so a stuck one costs
// bounded memory and holds up nobody else.
//
// # Output
//
// Responses are 200 for pass and warn and 503 for fail, never a redirect,
// with a JSON body after the IETF health-check draft
// (application/health+json) or the Kubernetes text form (?verbose), always
// under 10 KiB. Failure reasons are withheld from HTTP responses unless
// ShowDetails allows them; they always reach the logger (WithLogger) and
// the hooks (OnStatusChange).
//
// # Beyond HTTP
//
// The same registry feeds other consumers, so that every one of them sees
// one truth: Check, CheckEntry and WaitFor evaluate in process as a probe
// does; Latest reads the latest results without running anything; Changed
// wakes watchers at every change; AddObserver reports every run and every
// change (the probekit modules grpchealth, prommetrics and otelmetrics are
// built on these); Checks lists what is registered.
package health
