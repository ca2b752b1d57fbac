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
//	err := reg.Register(health.Readiness, "postgres", checks.SQL(db), health.Dependency())
//	err = reg.Register(health.Liveness, "goroutines", checks.Goroutines(10000))
//	err = reg.Register(health.Liveness, "worker", hb.Check()) // hb := checks.NewHeartbeat(time.Minute)
//
// Constructors never panic and stay one expression: arguments that can
// never work (a nil client, an empty address, a limit that is not
// positive) yield a check made by health.Misconfigured, which Register
// refuses with an error matching health.ErrMisconfigured (errors.Is) and
// starting "checks: <kind>:", so that the mistake stops the start-up
// instead of failing every probe, or restarting a container in a loop.
// Run directly, such a check returns that error every time. Optional
// settings are functional options named after their check (HTTPHeader,
// DNSMinAddrs, SQLQuery); a nil option is ignored.
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
// A check returns when its context, which carries the registry's timeout,
// ends, whatever the server at the other end does. Network checks start no
// goroutine that outlives the run. Ping and SQL also return in time from a
// client that ignores its context, leaving one goroutine to finish when the
// client returns (and refusing to start another meanwhile). The calls that
// cannot be cancelled (statfs, reading a file) are noted where they occur.
//
// Errors start with "checks: <kind>:" and never contain credentials: the
// HTTP check shows its URL without userinfo, query or fragment and never a
// header value, and every error a client or driver returns goes through one
// redactor, which replaces with "xxxxx" URL passwords (split at the last
// '@', as net/url splits them), secret query parameters and key=value pairs
// (libpq quoting included), go-sql-driver/mysql DSN passwords and
// Authorization values, hiding too much where it cannot tell.
//
// Checks that measure something report it with health.Observe: latencies
// in "ms", sizes in "bytes", goroutines in "goroutines", certificate
// lifetimes in "days". Every check is safe for concurrent use.
package checks
