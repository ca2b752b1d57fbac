// Package benchmarks measures probekit side by side with
// github.com/alexliesenfeld/health and github.com/hellofresh/health-go/v5 on
// the same work, in one run: BenchmarkReadiness times the readiness
// handlers in-process, and cmd/loopback drives real http.Servers on
// 127.0.0.1 with wrk. cmd/benchall runs both and regenerates README.md's
// tables; see README.md for the command and the latest figures.
//
// It is a module of its own so that probekit's module requires none of the
// peers.
package benchmarks
