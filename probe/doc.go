// Package probe is the kubelet's side of the health-check conversation: it
// probes an endpoint the way Kubernetes does and decides, from a stream of
// results, whether a container is ready, alive or started.
//
// Three [Action]s mirror the three Kubernetes probe handlers:
//
//   - [HTTPGet]: a GET whose status in [200, 400) passes (3xx as a
//     [Warning]), on a fresh connection per probe, following redirects only
//     to the same host name and failing at the tenth, reading at most 10 KiB
//     of body, with TLS certificates not verified unless asked. It is the
//     same prober that package checks uses for its HTTP check.
//   - [TCPSocket]: a connection opened within the timeout, then closed.
//   - [Exec]: a command whose exit code 0 passes; it is killed, with its
//     children, when its timeout expires.
//
// A [Prober] repeats an Action with the kubelet's initial delay, period,
// timeout, thresholds and retries, and reports each change of state. For
// tests, [WaitReady] and [WaitStatus] poll an endpoint until it reaches the
// wanted state or the context ends.
//
// # Fidelity
//
// Each verdict is the one the kubelet (Kubernetes v1.37, pkg/probe and
// pkg/kubelet/prober) gives for the same exchange. Every probe returns
// within its timeout whatever the target does, where the kubelet's HTTP
// prober can be held longer: a 101 Switching Protocols is judged on its
// status (a Failure) without reading the connection it hands over. There
// are two deliberate differences in what is reported, not in the verdict: messages never
// contain a response body (the kubelet already withholds it on failure,
// per https://issue.k8s.io/99425, but not on a redirect warning); and the
// User-Agent also names probekit. The body is kept in [Outcome.Body] for
// callers that want it.
//
// The package uses only the standard library (and this module's internal
// HTTP prober, itself standard library only), so that cmd/healthprobe,
// built on it, stays a small static binary.
package probe
