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
// Every constructor returns a health.Checker ready to register:
//
//	err := reg.Register(health.Readiness, "postgres", checks.SQL(db), health.CheckOptions{Every: 10 * time.Second})
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
// # Dependency checks and local checks
//
// The checks that call another process, TCP, HTTP, DNS, SQL, Ping, PingFunc
// and TLSCertEndpoint, are dependency checks by construction: each returns
// a health.DependencyFunc, which Register accepts only in readiness
// (health.ErrDependencyGroup elsewhere), since restarting a pod never fixes
// its database, and runs behind a circuit breaker (health.BreakerSettings)
// with nothing to write. Goroutines, Memory, Disk, TLSCertFile and the
// check of a Heartbeat look at the process itself and return a
// health.CheckFunc, which any group accepts; Goroutines, Memory and
// Heartbeat suit liveness, where a restart is the cure.
//
// # Contract of every check
//
// A check honours its context, which carries the registry's timeout:
// network checks return when it ends, whatever the server at the other end
// does, and start no goroutine that outlives the run. Ping and SQL hand the
// context to the client, and return when the client does. A client that
// ignores its context, like the calls that cannot be cancelled (statfs,
// reading a file), is bounded by the registry, not by the check: the
// registry reports the check failed at its timeout (health.ErrTimeout) and
// starts no other run of it until the hung call returns, so that a hung
// client costs one goroutine. Called directly, outside a registry, such a
// check waits for the client.
//
// Errors start with "checks: <kind>:". The checks' own words never contain
// credentials: the HTTP check shows its URL without userinfo, query or
// fragment and never a header value; TCP and TLSCertEndpoint never quote
// an address that looks like a URL; TLSCertFile never quotes the file. An
// error a client or driver returns is wrapped as it is (errors.Is and
// errors.As see it), and its text may echo a DSN or a password: the
// registry redacts every reason it logs or serves over HTTP, in one pass,
// replacing with "xxxxx" URL passwords, secret query parameters and
// key=value pairs, DSN passwords and Authorization values. The error value
// itself, returned by a direct call or carried in process by
// health.CheckResult.Err and health.Run.Err, keeps the client's text: keep
// it out of logs of your own.
//
// Every check is safe for concurrent use.
package checks
