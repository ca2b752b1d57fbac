// Package checks provides ready-made health checks for what Go services
// depend on: TCP, HTTP and DNS endpoints, SQL databases, any client with a
// Ping method, and the process's own goroutines, memory, disk space, work
// loops (Heartbeat) and TLS certificates.
//
// The package imports only the standard library and probekit's health
// package. Checks of a database or another server take the client the
// application already has (a *sql.DB, a Redis or Mongo client), so that
// importing probekit never pulls in a driver.
//
// Every constructor returns a health.CheckFunc ready to register:
//
//	reg.Register(health.Readiness, "postgres", checks.SQL(db), health.Dependency())
//	reg.Register(health.Liveness, "goroutines", checks.Goroutines(10000))
//
// Constructors never fail and never panic: an invalid configuration (a nil
// client, an empty address, a limit that is not positive) yields a check
// that fails on every run with an error starting "checks: <kind>:", where
// the health endpoint and the logs show it. Optional settings are functional
// options named after their check (HTTPHeader, DNSMinAddrs, SQLQuery); a nil
// option is ignored.
//
// # Groups
//
// TCP, HTTP, DNS, SQL and Ping check dependencies: register them in
// readiness with health.Dependency, since restarting a pod never fixes its
// database. Goroutines, Memory and Heartbeat look at the process itself and
// suit liveness, where a restart is the cure. Disk, TLSCertFile and
// TLSCertEndpoint (on the process's own listener) can go in either group.
//
// # Contract of every check
//
// A check honours its context, which carries the registry's timeout, and
// starts no goroutine that outlives it; the calls that cannot be cancelled
// (statfs, reading a file) are noted where they occur. Errors start with
// "checks: <kind>:" and never contain credentials: URL userinfo, query
// strings, header values and the passwords or tokens that drivers echo from
// their DSNs are removed or replaced with "xxxxx". Checks that measure
// something report it with health.Observe: latencies in "ms", sizes in
// "bytes", goroutines in "goroutines", certificate lifetimes in "days".
// Every check is safe for concurrent use.
package checks
